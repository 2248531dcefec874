/**
 * `ReplicatedMap.watch()` survives the restarts of the replica it watches: the worker of replica
 * 0 is killed (its acceptor, leader and replica crash and are restarted by their supervisor), and
 * the changes made afterwards still arrive, each once, in log order.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sameRef } from '@synod/actors';
import { ReplicatedMap, type MapChange } from '@synod/replicated';

async function until(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('watchers survive a killed worker of the watched replica; no change is delivered twice', async () => {
  const map = await ReplicatedMap.start<number>({ mode: 'workers', replicas: 3 });
  try {
    const changes: MapChange[] = [];
    map.watch().events.on('change', (c) => changes.push(c));
    await map.set('before', 1);
    await map.set('before', 2);
    await until('the changes before the kill', () => changes.length === 2);

    const replica0 = map.rsm.cluster.replicas[0]!;
    let restarted = false;
    map.system.events.on('actor:restarted', (e) => {
      if (sameRef(e.ref, replica0)) restarted = true;
    });
    await map.system.killWorker(replica0.node);
    await until('replica 0 to restart', () => restarted);

    await map.set('after', 3);
    await map.delete('before');
    await until('the changes after the restart', () => changes.length >= 4);
    // Give a late duplicate (the restarted replica applies the log again) time to show up.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(
      changes.map((c) => [c.type, c.key]),
      [
        ['set', 'before'],
        ['set', 'before'],
        ['set', 'after'],
        ['delete', 'before'],
      ],
    );
    assert.ok(
      changes.every((c, i) => i === 0 || c.slot > changes[i - 1]!.slot),
      'in log order, each slot once',
    );
  } finally {
    await map.shutdown();
  }
});

test.run();
