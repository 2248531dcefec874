/**
 * Embedded, the replicas run on the caller's thread: a caller awaiting one command after another
 * drains the actors from microtask to microtask, and the event loop must still run (the caller's
 * own timers, the actors' heartbeats and elections). The host yields once it has worked
 * `maxDrainMs` in one event-loop turn.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ReplicatedMap } from '@synod/replicated';

test('embedded: a caller awaiting set after set does not starve the event loop: a timer fires meanwhile', async () => {
  const map = await ReplicatedMap.start<number>({ mode: 'embedded', replicas: 3, storage: 'memory' });
  try {
    await map.set('warm', 0);
    let fired = false;
    setTimeout(() => {
      fired = true;
    }, 20);
    // Without a yield this loop runs to its bound (many seconds) before the timer may fire.
    let sets = 0;
    while (!fired && sets < 100_000) await map.set('k', sets++);
    assert.ok(fired, `the timer fired while the caller was setting (after ${sets} sets)`);
    assert.is(await map.get('k'), sets - 1);
  } finally {
    await map.shutdown();
  }
});

test.run();
