/**
 * Persist before send, with commits slowed down (storage.commitDelayMs): a `file` actor persists
 * n and tells a probe n in the same turn, over and over; its host is killed at some moment; the
 * state recovered afterwards must be at least every n the probe saw. Had a message left before
 * its turn's state was durable, the probe would have seen an n that the crash lost (with 20 ms
 * commits, hundreds of turns are always in flight).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { ActorSystem, DuplicateNameError, FileStore, type ActorRef } from '@synod/actors';
import { Keeper, Probe, type KeeperMsg, type KeeperView } from './fixtures/keeper.ts';
import { startChild, tempDir, until } from './store-helpers.ts';

test('workers: no message of a turn is seen before its state is durable', async () => {
  const dir = tempDir();
  const sys = await ActorSystem.start({
    mode: 'workers',
    statsIntervalMs: 0,
    logLevel: 'silent',
    spareWorkers: 0,
    heartbeat: { timeoutMs: 30_000 },
    storage: { dir, commitDelayMs: 20 },
  });
  try {
    const k = await sys.spawn(Keeper, { name: 'k', storage: 'file', restart: 'temporary' });
    const p = await sys.spawn(Probe, { name: 'p' });
    const ticker = setInterval(() => {
      for (let i = 0; i < 20; i++) sys.send(k, { type: 'tick', probe: p });
    }, 1);
    let seen = 0;
    try {
      await until('the probe to see 300 turns', async () => (seen = await sys.ask<number>(p, { type: 'max' })) >= 300);
    } finally {
      clearInterval(ticker);
    }
    await sys.killWorker(k.node);
    // Messages the dead worker had already released may still be on their way: let them land.
    for (let last = -1; last !== seen; ) {
      last = seen;
      await new Promise((r) => setTimeout(r, 50));
      seen = await sys.ask<number>(p, { type: 'max' });
    }
    let again: ActorRef<KeeperMsg> | undefined;
    for (let i = 0; !again; i++) {
      try {
        again = await sys.spawn(Keeper, { name: 'k', storage: 'file', restart: 'temporary' });
      } catch (e) {
        if (!(e instanceof DuplicateNameError) || i > 100) throw e;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    const recovered = (await sys.ask<KeeperView>(again, { type: 'get' })).n;
    assert.ok(recovered >= seen, `the probe saw n = ${seen}, but only ${recovered} was durable`);
  } finally {
    await sys.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('embedded: no message of a turn is seen before its state is durable (the process is killed)', async () => {
  const dir = tempDir();
  let seen = 0;
  const { child, ready, exited } = startChild(dir, 'probe', (m) => {
    if (typeof m.saw === 'number' && m.saw > seen) seen = m.saw;
  });
  try {
    await ready;
    await until('the probe to see 300 turns', () => seen >= 300, 30_000);
    child.kill('SIGKILL');
    await exited;
    const store = FileStore.open({ dir, storeName: 'main' });
    try {
      const recovered = (store.load('k')!.state as { n: number }).n;
      assert.ok(recovered >= seen, `the probe saw n = ${seen}, but only ${recovered} was durable`);
    } finally {
      await store.close();
    }
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
