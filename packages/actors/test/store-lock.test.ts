/**
 * A `file` log is locked: a second process, or a second actor system in this process, cannot
 * open it; a lock left by a dead process or by a crashed worker of the same host is taken over.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ActorSystem, FileStore, StorageError, StoreLockedError } from '@synod/actors';
import { Keeper, type KeeperView } from './fixtures/keeper.ts';
import { startChild, tempDir, until } from './store-helpers.ts';

for (const mode of ['workers', 'embedded'] as const) {
  test(`${mode}: a second system in this process cannot open a log the first one holds`, async () => {
    const dir = tempDir();
    const a = await ActorSystem.start({ mode, statsIntervalMs: 0, logLevel: 'silent', spareWorkers: 0, heartbeat: { timeoutMs: 30_000 }, storage: { dir } });
    const b = await ActorSystem.start({ mode, statsIntervalMs: 0, logLevel: 'silent', spareWorkers: 0, heartbeat: { timeoutMs: 30_000 }, storage: { dir } });
    try {
      const ka = await a.spawn(Keeper, { name: 'k', storage: 'file' });
      await a.ask(ka, { type: 'put', key: 'from', value: 'a' });
      try {
        await b.spawn(Keeper, { name: 'k', storage: 'file' });
        assert.unreachable('the second system must not open the log');
      } catch (e) {
        assert.is((e as Error).name, 'StoreLockedError');
        assert.match((e as Error).message, 'another actor system in this process');
        assert.match((e as Error).message, dir);
      }
      await a.shutdown(); // releases the lock
      const kb = await b.spawn(Keeper, { name: 'k', storage: 'file' });
      assert.equal((await b.ask<KeeperView>(kb, { type: 'get' })).entries, [['from', 'a']]);
    } finally {
      await a.shutdown();
      await b.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("a system whose worker died and stayed dead releases that log's lock when it shuts down", async () => {
  const dir = tempDir();
  try {
    const a = await ActorSystem.start({
      mode: 'workers',
      statsIntervalMs: 0,
      logLevel: 'silent',
      spareWorkers: 0,
      heartbeat: { timeoutMs: 30_000 },
      storage: { dir },
    });
    const k = await a.spawn(Keeper, { name: 'k', storage: 'file', restart: 'temporary' });
    await a.ask(k, { type: 'put', key: 'kept', value: 1 });
    await a.killWorker(k.node); // never restarted: its lock stays behind...
    await a.shutdown(); // ...until the system is gone
    const b = await ActorSystem.start({
      mode: 'workers',
      statsIntervalMs: 0,
      logLevel: 'silent',
      spareWorkers: 0,
      heartbeat: { timeoutMs: 30_000 },
      storage: { dir },
    });
    try {
      const kb = await b.spawn(Keeper, { name: 'k', storage: 'file' });
      assert.equal((await b.ask<KeeperView>(kb, { type: 'get' })).entries, [['kept', 1]]);
    } finally {
      await b.shutdown();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('another process holds the log: refused, naming its pid; once it is killed, the stale lock is taken over', async () => {
  const dir = tempDir();
  const { child, ready, exited } = startChild(dir, 'hold', () => {});
  try {
    await ready;
    try {
      FileStore.open({ dir, storeName: 'k' });
      assert.unreachable('the log is held by the child');
    } catch (e) {
      assert.instance(e, StoreLockedError);
      assert.match((e as Error).message, `process ${child.pid}`);
      assert.match((e as Error).message, 'which is running');
      assert.match((e as Error).message, join(dir, 'k.lock'));
    }
    child.kill('SIGKILL');
    await exited;
    const s = FileStore.open({ dir, storeName: 'k' });
    assert.is(s.recovery.predecessor, 'dead-process');
    await s.close();
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a lock left by a crashed host with the same owner is taken over; the old host can write no more', async () => {
  const dir = tempDir();
  try {
    const old = FileStore.open({ dir, storeName: 's', owner: 'slot-1' });
    let acked = 0;
    old.onDurable = (n) => {
      acked = n;
    };
    const t = old.write('a', [{ key: null, value: 'before the crash' }]);
    await until('durable', () => acked >= t);
    // `old` is never closed: its worker "died". Its successor has the same owner token.
    try {
      FileStore.open({ dir, storeName: 's', owner: 'slot-2' });
      assert.unreachable('a different owner in this process must be refused');
    } catch (e) {
      assert.instance(e, StoreLockedError);
    }
    const next = FileStore.open({ dir, storeName: 's', owner: 'slot-1' });
    assert.is(next.recovery.predecessor, 'same-owner');
    assert.is(next.load('a')!.state, 'before the crash');
    assert.match(readFileSync(join(dir, 's.lock'), 'utf8'), `"pid":${process.pid}`);

    // Had the old host lived on (a store name used twice), it would be stopped at its next commit.
    old.write('a', [{ key: null, value: 'from beyond' }]);
    await new Promise((r) => setTimeout(r, 30));
    assert.throws(
      () => old.write('a', [{ key: null, value: 'again' }]),
      (e: Error) => e instanceof StorageError && /taken over/.test(e.message),
    );
    next.write('a', [{ key: null, value: 'after' }]);
    await next.close();
    const check = FileStore.open({ dir, storeName: 's', owner: 'slot-1' });
    assert.is(check.load('a')!.state, 'after');
    assert.is(check.recovery.predecessor, 'none', 'closed cleanly: lock released');
    await check.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
