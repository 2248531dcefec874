/**
 * `shared` snapshots: the region on its own (recovery from the buffer, a host that dies
 * mid-write or mid-publish, two hosts on one buffer), and through actors: a snapshot that does
 * not fit fails with an error naming the option, and nothing is left behind to make the actor
 * fail again.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSystem, StorageError, StoreFullError } from '@synod/actors';
import { SharedSnapshots } from '@synod/actors/internals';
import { Snapper, chunkOf, metaOf, readSnapshot, type ReadView } from './fixtures/snapper.ts';
import { until } from './store-helpers.ts';

const opts = { storeName: 'h', maxChunkBytes: 1 << 20 };
const alive = { alive: true };

function write(s: SharedSnapshots, id: string, seed: number, chunks: number, chunkBytes: number): void {
  const w = s.create('a', id, alive);
  for (let i = 0; i < chunks; i++) w.append(chunkOf(seed, i, chunkBytes));
  w.finish(metaOf({ seed, chunks, chunkBytes }));
}

function view(s: SharedSnapshots) {
  return {
    create: () => {
      throw new Error('unused');
    },
    delete: () => {},
    list: () => s.list('a').sort(),
    open: (id: string) => s.open('a', id),
  };
}

test('finished snapshots are in the buffer: a new host on it finds them whole; unfinished ones vanish and their space comes back', () => {
  const region = new SharedArrayBuffer(1 << 20);
  const s = SharedSnapshots.open(region, opts);
  write(s, 'one', 1, 10, 30_000);
  write(s, 'two', 2, 3, 7);
  const w = s.create('a', 'partial', alive);
  for (let i = 0; i < 20; i++) w.append(chunkOf(3, i, 30_000)); // 600 kB, never finished: the host "dies"
  const next = SharedSnapshots.open(region, opts);
  assert.equal(next.list('a').sort(), ['one', 'two']);
  for (const id of ['one', 'two']) assert.is(readSnapshot(view(next), id).intact, true);
  // 300 kB kept + 600 kB more fit in 1 MiB only if the dead host's partial bytes are free again.
  write(next, 'three', 4, 20, 30_000);
  assert.is(readSnapshot(view(next), 'three').intact, true);
  assert.is(readSnapshot(view(SharedSnapshots.open(region, opts)), 'one').intact, true);
});

test('a chunk written into the space reserve gives is stored where it lies, mixed with appended ones, and reads back whole', () => {
  const region = new SharedArrayBuffer(4 << 20);
  const s = SharedSnapshots.open(region, opts);
  const free = s.freeBytes;
  const w = s.create('a', 'mixed', alive);
  const sizes = [30_000, 7, 1 << 20, 13, 600_000, 1];
  for (let i = 0; i < sizes.length; i++) {
    const chunk = chunkOf(5, i, sizes[i]!);
    if (i % 2 === 1) {
      w.append(chunk);
      continue;
    }
    const space = w.reserve(chunk.length)!;
    assert.ok(space.buffer === region, `chunk ${i}: the space is the region's own memory`);
    space.set(chunk);
    w.append(space);
  }
  // Reserved and then not used (a source that filled a buffer of its own instead): nothing is lost.
  w.reserve(5000);
  w.append(chunkOf(5, sizes.length, 5000));
  assert.is(w.reserve((1 << 20) + 1), null, 'more than a chunk: no space');
  w.finish(metaOf({ seed: 5, chunks: sizes.length + 1, chunkBytes: 0 }));
  const r = s.open('a', 'mixed')!;
  const want = [...sizes, 5000];
  assert.is(r.chunks, want.length);
  for (let i = 0; i < want.length; i++) assert.equal(Buffer.from(r.chunk(i)), chunkOf(5, i, want[i]!), `chunk ${i}`);
  // Deleting it gives every byte back, the unused reservations' included.
  s.delete('a', 'mixed');
  assert.is(s.freeBytes, free);
});

test('a host that dies while publishing a directory leaves the previous one in force', () => {
  const region = new SharedArrayBuffer(256 * 1024);
  const s = SharedSnapshots.open(region, opts);
  write(s, 'kept', 1, 4, 1000);
  const words = new Uint32Array(region, 0, 16);
  const active = Atomics.load(words, 1);
  // The other slot filled with nonsense (a directory half written, never flipped to).
  const base = 2 + 3 * (1 - active);
  Atomics.store(words, base, 100_000);
  Atomics.store(words, base + 1, 5000);
  Atomics.store(words, base + 2, 12345);
  new Uint8Array(region, 100_000, 5000).fill(0x77);
  const next = SharedSnapshots.open(region, opts);
  assert.equal(next.list('a'), ['kept']);
  assert.is(readSnapshot(view(next), 'kept').intact, true);
});

test('deleting frees the space; replacing keeps the old snapshot until the new one finishes', () => {
  const region = new SharedArrayBuffer(256 * 1024);
  const s = SharedSnapshots.open(region, opts);
  const free0 = s.freeBytes;
  write(s, 'x', 1, 10, 10_000);
  const w = s.create('a', 'x', alive);
  for (let i = 0; i < 5; i++) w.append(chunkOf(2, i, 10_000));
  assert.is(readSnapshot(view(s), 'x').meta?.seed, 1, 'the old one, while the new one is written');
  const old = s.open('a', 'x')!;
  w.finish(metaOf({ seed: 2, chunks: 5, chunkBytes: 10_000 }));
  assert.is(readSnapshot(view(s), 'x').meta?.seed, 2);
  assert.throws(
    () => old.chunk(0),
    (e: Error) => e instanceof StorageError && /deleted or replaced/.test(e.message),
  );
  s.delete('a', 'x');
  assert.equal(s.list('a'), []);
  assert.is(s.freeBytes, free0, 'every byte given back');
});

test('a snapshot that does not fit fails append with StoreFullError naming sharedSnapshotBytes; what was finished stays whole', () => {
  const region = new SharedArrayBuffer(128 * 1024);
  const s = SharedSnapshots.open(region, opts);
  write(s, 'kept', 1, 5, 10_000);
  const free = s.freeBytes;
  const w = s.create('a', 'big', alive);
  let err: unknown;
  try {
    for (let i = 0; i < 20; i++) w.append(chunkOf(2, i, 10_000));
  } catch (e) {
    err = e;
  }
  assert.instance(err, StoreFullError);
  assert.match((err as Error).message, 'storage.sharedSnapshotBytes 131072');
  assert.match((err as Error).message, 'raise storage.sharedSnapshotBytes');
  assert.is(w.open, false, 'the writer is discarded');
  assert.is(s.freeBytes, free, 'and its space given back');
  assert.equal(s.list('a'), ['kept']);
  assert.is(readSnapshot(view(SharedSnapshots.open(region, opts)), 'kept').intact, true);
});

test('a host that is no longer the newest on a buffer stops writing to it', () => {
  const region = new SharedArrayBuffer(128 * 1024);
  const old = SharedSnapshots.open(region, opts);
  const w = old.create('a', 'x', alive);
  SharedSnapshots.open(region, opts);
  assert.throws(
    () => w.append(new Uint8Array(10)),
    (e: Error) => e instanceof StorageError && /another host/.test(e.message),
  );
});

test('workers: too big for the buffer crashes the turn with StoreFullError, once; stale partial snapshots never make the actor fail again', async () => {
  const sys = await ActorSystem.start({
    mode: 'workers',
    statsIntervalMs: 0,
    logLevel: 'silent',
    spareWorkers: 0,
    heartbeat: { timeoutMs: 30_000 },
    storage: { sharedSnapshotBytes: 1024 * 1024 },
  });
  const crashes: { name: string; message: string }[] = [];
  sys.events.on('actor:crashed', (e) => crashes.push(e.error));
  try {
    const a = await sys.spawn(Snapper, { name: 'a', storage: 'shared' });
    const kb = 1000;
    await sys.ask(a, { type: 'write', id: 's1', seed: 1, chunks: 300, chunkBytes: kb, perTurn: 50 });
    // 2 MB into a 1 MiB buffer.
    sys.send(a, { type: 'write', id: 's2', seed: 2, chunks: 2000, chunkBytes: kb, perTurn: 50 });
    await until('the crash', () => crashes.length === 1);
    assert.is(crashes[0]!.name, 'StoreFullError');
    assert.match(crashes[0]!.message, 'storage.sharedSnapshotBytes 1048576');
    const back = async () => {
      await until('the restart', async () => (await sys.ask<string[]>(a, { type: 'list' }, { timeoutMs: 200 }).catch(() => null)) !== null);
    };
    await back();
    assert.equal(await sys.ask(a, { type: 'list' }), ['s1']);
    // 300 kB finished + 300 kB: fits, as the failed 2 MB writer left nothing behind.
    await sys.ask(a, { type: 'write', id: 's2', seed: 2, chunks: 300, chunkBytes: kb, perTurn: 50 });
    // A partial snapshot of an incarnation that then crashes for another reason...
    await sys.ask(a, { type: 'begin', id: 's3' });
    await sys.ask(a, { type: 'append', seed: 3, from: 0, count: 300, chunkBytes: kb });
    sys.send(a, { type: 'boom' });
    await until('the second crash', () => crashes.length === 2);
    await back();
    // ...does not hold its 300 kB: 300 + 300 + 300 kB fit in 1 MiB only without it.
    await sys.ask(a, { type: 'write', id: 's4', seed: 4, chunks: 300, chunkBytes: kb, perTurn: 50 });
    assert.equal(await sys.ask(a, { type: 'list' }), ['s1', 's2', 's4']);
    for (const id of ['s1', 's2', 's4']) assert.is((await sys.ask<ReadView>(a, { type: 'read', id })).intact, true, id);
    await new Promise((r) => setTimeout(r, 100));
    assert.is(crashes.length, 2, 'no crash loop');
  } finally {
    await sys.shutdown();
  }
});

test.run();
