/**
 * ctx.snapshots in each storage kind and in the simulator: round trips, replacement, deletes,
 * what a restart finds, and the errors a user can meet.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { ActorSystem, FileStore, MemorySnapshotStore, RecordTooLargeError, StorageError, type ActorRef, type StorageKind } from '@synod/actors';
import { Simulation } from '@synod/actors/sim';
import { Snapper, chunkOf, readSnapshot, type ReadView } from './fixtures/snapper.ts';
import { Probe } from './fixtures/keeper.ts';
import { tempDir } from './store-helpers.ts';

const kinds: StorageKind[] = ['memory', 'shared', 'file'];

for (const storage of kinds) {
  test(`${storage}: a snapshot written over many turns reads back whole; a restarted actor finds it; delete forgets it`, async () => {
    const dir = tempDir();
    const sys = await ActorSystem.start({ mode: 'embedded', statsIntervalMs: 0, logLevel: 'silent', storage: { dir } });
    try {
      const a = await sys.spawn(Snapper, { name: 'a', storage });
      const wrote = await sys.ask<{ bytes: number; chunks: number }>(a, { type: 'write', id: 'one', seed: 7, chunks: 40, chunkBytes: 10_000, perTurn: 3 });
      assert.equal(wrote, { id: 'one', bytes: 400_000, chunks: 40 });
      const r = await sys.ask<ReadView>(a, { type: 'read', id: 'one' });
      assert.equal([r.found, r.intact, r.chunks, r.bytes], [true, true, 40, 400_000]);
      await sys.ask(a, { type: 'write', id: 'two', seed: 8, chunks: 3, chunkBytes: 5 });
      assert.equal(await sys.ask(a, { type: 'list' }), ['one', 'two']);
      // A new snapshot of the same id replaces the old one when it finishes.
      await sys.ask(a, { type: 'write', id: 'one', seed: 9, chunks: 2, chunkBytes: 100 });
      const again = await sys.ask<ReadView>(a, { type: 'read', id: 'one' });
      assert.equal([again.intact, again.meta?.seed, again.chunks], [true, 9, 2]);
      // An actor restart (not a worker crash): what was finished is there.
      await sys.crash(a);
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(await sys.ask(a, { type: 'list' }), ['one', 'two']);
      assert.is((await sys.ask<ReadView>(a, { type: 'read', id: 'two' })).intact, true);
      await sys.ask(a, { type: 'delete', id: 'two' });
      assert.equal(await sys.ask(a, { type: 'list' }), ['one']);
      assert.is((await sys.ask<ReadView>(a, { type: 'read', id: 'two' })).found, false);
    } finally {
      await sys.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('file: snapshots survive a restart of the system, and a new process reads them lazily from their files', async () => {
  const dir = tempDir();
  try {
    let sys = await ActorSystem.start({ mode: 'embedded', statsIntervalMs: 0, logLevel: 'silent', storage: { dir } });
    const a = await sys.spawn(Snapper, { name: 'a', storage: 'file' });
    await sys.ask(a, { type: 'write', id: 'big', seed: 3, chunks: 64, chunkBytes: 64 * 1024, perTurn: 4 });
    await sys.shutdown();
    sys = await ActorSystem.start({ mode: 'embedded', statsIntervalMs: 0, logLevel: 'silent', storage: { dir } });
    try {
      const b = await sys.spawn(Snapper, { name: 'a', storage: 'file' });
      const r = await sys.ask<ReadView>(b, { type: 'read', id: 'big' });
      assert.equal([r.intact, r.bytes], [true, 64 * 64 * 1024]);
    } finally {
      await sys.shutdown();
    }
    const store = FileStore.open({ dir, storeName: 'main' });
    try {
      assert.equal(store.snapshots.list('a'), ['big']);
      assert.equal(store.recovery.snapshots.damaged, []);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a chunk or meta larger than maxSnapshotChunkBytes is refused by name; bad arguments are refused', async () => {
  const sys = await ActorSystem.start({ mode: 'embedded', statsIntervalMs: 0, logLevel: 'silent', storage: { maxSnapshotChunkBytes: 1000 } });
  const crashes: { name: string; message: string }[] = [];
  sys.events.on('actor:crashed', (e) => crashes.push(e.error));
  try {
    const a = await sys.spawn(Snapper, { name: 'a', storage: 'memory', restart: 'temporary' });
    await sys.ask(a, { type: 'begin', id: 'x' });
    await sys.ask(a, { type: 'append', seed: 1, from: 0, count: 1, chunkBytes: 1001 }).catch(() => {});
    await new Promise((res) => setTimeout(res, 20));
    assert.is(crashes[0]?.name, 'RecordTooLargeError');
    assert.match(crashes[0]!.message, 'storage.maxSnapshotChunkBytes (1000)');
  } finally {
    await sys.shutdown();
  }
  const s = new MemorySnapshotStore({ maxChunkBytes: 10 });
  assert.throws(
    () => s.create(''),
    (e: Error) => e instanceof TypeError && /non-empty string/.test(e.message),
  );
  const w = s.create('a');
  assert.throws(
    () => w.append('abc' as unknown as Uint8Array),
    (e: Error) => e instanceof TypeError,
  );
  assert.throws(
    () => w.append(new Uint8Array(11)),
    (e: Error) => e instanceof RecordTooLargeError,
  );
  w.append(new Uint8Array(10));
  w.finish(new Uint8Array(0));
  assert.throws(
    () => w.append(new Uint8Array(1)),
    (e: Error) => e instanceof StorageError && /finished/.test(e.message),
  );
  assert.throws(
    () => s.open('a')!.chunk(1),
    (e: Error) => e instanceof RangeError,
  );
  assert.equal(s.list(), ['a']);
});

test('bad snapshot options are refused when the system starts, naming the option', async () => {
  for (const [k, v] of [
    ['sharedSnapshotBytes', 1000],
    ['maxSnapshotChunkBytes', 0],
    ['snapshotQueueBytes', -1],
    ['snapshotSyncBytes', 1.5],
  ] as const) {
    let err: unknown;
    try {
      await ActorSystem.start({ mode: 'embedded', statsIntervalMs: 0, storage: { [k]: v } });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof Error && err.name === 'InvalidOptionError' && err.message.includes(`storage.${k}`), `${k}: ${String(err)}`);
  }
  assert.throws(
    () => new Simulation({ seed: 1, sharedSnapshotBytes: 0 }),
    (e: Error) => /sharedSnapshotBytes/.test(e.message),
  );
});

test('the caller may reuse its buffer after append; readers get copies of their own', () => {
  const s = new MemorySnapshotStore();
  const w = s.create('a');
  const buf = Buffer.from('first');
  w.append(buf);
  buf.write('XXXXX');
  w.finish(Buffer.from('m'));
  const r = s.open('a')!;
  const c = r.chunk(0);
  assert.is(Buffer.from(c).toString(), 'first');
  c[0] = 0;
  assert.is(Buffer.from(r.chunk(0)).toString(), 'first');
  s.delete('a');
  assert.throws(
    () => r.chunk(0),
    (e: Error) => /deleted or replaced/.test(e.message),
  );
});

for (const storage of kinds) {
  test(`simulator, ${storage}: the same round trip under virtual time`, async () => {
    const sim = new Simulation({ seed: 5, plan: { disk: { syncDelay: { kind: 'fixed', ms: 3 } } } });
    const a = await sim.spawn(Snapper, { name: 'a', storage });
    assert.equal(await sim.call(a, { type: 'write', id: 'one', seed: 2, chunks: 10, chunkBytes: 100, perTurn: 2 }), { id: 'one', bytes: 1000, chunks: 10 });
    const r = await sim.call<ReadView>(a, { type: 'read', id: 'one' });
    assert.equal([r.intact, r.chunks], [true, 10]);
    await sim.call(a, { type: 'delete', id: 'one' });
    assert.equal(await sim.call(a, { type: 'list' }), []);
  });
}

test('simulator, file: a crash keeps a finished and synced snapshot, loses one not synced, and never keeps a partial one', async () => {
  const sim = new Simulation({ seed: 5, plan: { disk: { syncDelay: { kind: 'fixed', ms: 30 } } } });
  const a = await sim.spawn(Snapper, { name: 'a', storage: 'file' });
  await sim.call(a, { type: 'write', id: 'synced', seed: 1, chunks: 4, chunkBytes: 64 });
  // Finished but not synced when the node crashes (the sync takes 30 ms): lost, and its answer never left.
  const answer = sim.ask(a, { type: 'write', id: 'unsynced', seed: 2, chunks: 4, chunkBytes: 64 }, { timeoutMs: 500 }).then(
    () => 'answered',
    (e: Error) => e.name,
  );
  await sim.run({ forMs: 5 });
  // And one being written.
  sim.send(a, { type: 'begin', id: 'partial' });
  sim.send(a, { type: 'append', seed: 3, from: 0, count: 2, chunkBytes: 64 });
  await sim.run({ forMs: 5 });
  sim.fault({ kind: 'crash-node', node: 'a' });
  await sim.run({ forMs: 600 });
  assert.is(await answer, 'AskTimeoutError');
  assert.equal(await sim.call(a, { type: 'list' }), ['synced']);
  assert.is((await sim.call<ReadView>(a, { type: 'read', id: 'synced' })).intact, true);
  assert.equal(sim.state<{ startedWith: string[] }>('a')!.startedWith, ['synced']);
});

test('simulator, shared: snapshots outlive a node crash; a partial one does not, and its space comes back', async () => {
  const sim = new Simulation({ seed: 5, sharedSnapshotBytes: 10_000 });
  const a = await sim.spawn(Snapper, { name: 'a', storage: 'shared' });
  await sim.call(a, { type: 'write', id: 'kept', seed: 1, chunks: 4, chunkBytes: 1000 });
  await sim.call(a, { type: 'begin', id: 'partial' });
  await sim.call(a, { type: 'append', seed: 3, from: 0, count: 5, chunkBytes: 1000 });
  sim.fault({ kind: 'crash-node', node: 'a' });
  await sim.run({ forMs: 100 });
  assert.equal(await sim.call(a, { type: 'list' }), ['kept']);
  // 4 kB kept + 5 kB: fits only if the crashed writer's 5 kB were given back.
  assert.equal(await sim.call(a, { type: 'write', id: 'next', seed: 4, chunks: 5, chunkBytes: 1000 }), { id: 'next', bytes: 5000, chunks: 5 });
  assert.is((await sim.call<ReadView>(a, { type: 'read', id: 'kept' })).intact, true);
});

test('simulator, file: crashes at random moments (random-prefix, torn writes) never leave state without its snapshot, nor a snapshot the probe saw deleted', async () => {
  for (let seed = 1; seed <= 40; seed++) {
    const sim = new Simulation({
      seed,
      plan: { disk: { syncDelay: { kind: 'uniform', minMs: 1, maxMs: 8 }, unsyncedOnCrash: 'random-prefix', tornWriteRate: 0.3 } },
    });
    const k = await sim.spawn(Snapper, { name: 'k', storage: 'file' });
    const p = await sim.spawn(Probe, { name: 'p' });
    sim.send(k, { type: 'cycle', probe: p as ActorRef<any>, chunks: 3, chunkBytes: 16 });
    await sim.run({ forMs: 20 + ((seed * 37) % 150) });
    sim.fault({ kind: 'crash-node', node: 'k' });
    await sim.run({ forMs: 200 });
    const seen = await sim.call<number>(p, { type: 'max' });
    const found = await sim.call<{ n: number; snapshots: string[] }>(k, { type: 'recovered' });
    const why = `seed ${seed}: the probe saw ${seen}; after the crash, state n = ${found.n}, snapshots ${found.snapshots.join(', ')}`;
    assert.ok(seen > 0, why);
    assert.ok(found.n >= seen, why);
    assert.ok(found.snapshots.includes(`s${found.n}`), why);
    for (const id of found.snapshots) {
      // s<n-1> may remain (its delete comes after the state n), s<n+1> may be there (finished,
      // the state n+1 after it lost); nothing the probe was told is deleted.
      const m = Number(id.slice(1));
      assert.ok(m >= found.n - 1 && m <= found.n + 1 && m >= seen, why);
      assert.is((await sim.call<ReadView>(k, { type: 'read', id })).intact, true, why);
    }
  }
});

test('simulator: a run with snapshots replays to the same fingerprint', async () => {
  const run = async () => {
    const sim = new Simulation({ seed: 9, plan: { disk: { syncDelay: { kind: 'uniform', minMs: 1, maxMs: 9 }, unsyncedOnCrash: 'random-prefix' } } });
    const a = await sim.spawn(Snapper, { name: 'a', storage: 'file' });
    for (let i = 0; i < 5; i++)
      await sim.call(a, { type: 'write', id: `s${i}`, seed: i, chunks: 3, chunkBytes: 32, perTurn: 1, deleteAfter: i > 0 ? `s${i - 1}` : undefined });
    return { fp: sim.fingerprint, list: await sim.call(a, { type: 'list' }) };
  };
  const [x, y] = [await run(), await run()];
  assert.equal(x, y);
  assert.equal(x.list, ['s4']);
});

test('MemorySnapshotStore: chunkOf is what the fixture writes', () => {
  assert.is(chunkOf(1, 2, 8).readUInt32LE(4), 2);
  assert.is(readSnapshot(new MemorySnapshotStore(), 'none').found, false);
});

test.run();
