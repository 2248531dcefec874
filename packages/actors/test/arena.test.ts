/**
 * Shared arenas: large byte values cross threads without a copy per hop, and their memory is
 * reused only once nothing holds them (no reader, no actor, no message).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { ActorSystem, type ActorRef, type HostStats } from '@synod/actors';
import { Arena, ArenaAllocator, createArena } from '../dist/arena.js';
import { BlobActor, bytesCodecs, type BlobReport } from './fixtures/bytes.ts';

test('the allocator splits and merges blocks, refuses when full, and takes back blocks freed on another thread', async () => {
  const buffer = createArena(64 * 1024, 1024);
  const arena = new Arena(1, buffer);
  const alloc = new ArenaAllocator(arena);
  const big = alloc.alloc(16 * 1024); // a quarter: the largest allowed
  assert.ok(big >= 0);
  assert.is(alloc.alloc(16 * 1024 + 1), -1, 'more than a quarter of the arena is never placed');
  const small: number[] = [];
  for (let b = alloc.alloc(1000); b >= 0; b = alloc.alloc(1000)) small.push(b);
  assert.is(small.length, 48, 'the other 48 KiB in 1 KiB blocks, then full');
  assert.is(new Set(small).size, 48);
  assert.is(alloc.usedBytes, 64 * 1024);
  // Release every block on another thread: the owner finds them on its freed stack.
  const arenaUrl = new URL('../dist/arena.js', import.meta.url).href;
  const src = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.arenaUrl).then(({ Arena }) => {
      const a = new Arena(1, workerData.buffer);
      for (const b of workerData.blocks) a.release(b);
      parentPort.postMessage('done');
    });`;
  const w = new Worker(src, { eval: true, workerData: { buffer, blocks: [big, ...small], arenaUrl } });
  await new Promise((r) => w.once('message', r));
  await w.terminate();
  alloc.reclaim();
  assert.is(alloc.usedBytes, 0, 'all freed');
  assert.ok(
    alloc.alloc(16 * 1024) >= 0 && alloc.alloc(16 * 1024) >= 0 && alloc.alloc(16 * 1024) >= 0 && alloc.alloc(16 * 1024) >= 0,
    'and merged back: four quarter-size blocks fit again',
  );
});

test('a run just past a power of two takes its own blocks, not twice them: the rest of its power of two stays free, and merges back', () => {
  const arena = new Arena(2, createArena(256 * 1024, 1024));
  const alloc = new ArenaAllocator(arena);
  const runs: number[] = [];
  for (let i = 0; i < 4; i++) runs.push(alloc.alloc(32 * 1024 + 100)); // 33 blocks, cut from 64
  assert.ok(runs.every((b) => b >= 0));
  assert.is(alloc.usedBytes, 4 * 33 * 1024, 'each run takes its 33 blocks');
  assert.is(alloc.alloc(32 * 1024 + 100), -1, 'no aligned 64 blocks are left for a fifth');
  const small: number[] = [];
  for (let b = alloc.alloc(1000); b >= 0; b = alloc.alloc(1000)) small.push(b);
  assert.is(small.length, 256 - 4 * 33, "the rest of each run's 64 blocks holds small values");
  for (const b of [...runs, ...small]) {
    Atomics.store(arena.counts, b, 1);
    arena.release(b);
  }
  assert.is(alloc.usedBytes, 0);
  const quarters = [0, 1, 2, 3].map(() => alloc.alloc(64 * 1024));
  assert.ok(
    quarters.every((b) => b >= 0),
    'merged back whole: four quarters fit again',
  );
});

async function hostStats(sys: ActorSystem, node: number): Promise<HostStats> {
  return (await sys.stats()).find((h) => h.node === node)!;
}

/** One blob actor per name, spawned in order (the system places each as it comes). */
async function spawnBlobs(sys: ActorSystem, ...names: string[]): Promise<ActorRef<any>[]> {
  const refs: ActorRef<any>[] = [];
  for (const name of names) refs.push(await sys.spawn(BlobActor, { name }));
  return refs;
}

/** `holder`'s report once it got `n` blobs (or after about two seconds, to fail on what it got). */
async function reportOnceGot(sys: ActorSystem, holder: ActorRef<any>, n: number): Promise<BlobReport> {
  for (let t = 0; ; t++) {
    const got = await sys.ask<BlobReport>(holder, { type: 'report' });
    if (got.got >= n || t > 200) return got;
    await new Promise((res) => setTimeout(res, 10));
  }
}

/**
 * The arena bytes still in use on `node` once the `holders` have dropped their views: each runs a
 * full collection (finalizers release references only then), retried until nothing is left or
 * about a second has passed.
 */
async function arenaUsedOnceCollected(sys: ActorSystem, node: number, holders: ActorRef<any>[]): Promise<number> {
  let used = -1;
  for (let t = 0; t < 100 && used !== 0; t++) {
    for (const h of holders) await sys.ask(h, { type: 'gc' });
    await new Promise((r) => setTimeout(r, 10));
    used = (await hostStats(sys, node)).transport!.arena!.usedBytes;
  }
  return used;
}

test('a large value is placed in an arena once and forwarded by reference: every hop gets a view of the same memory, intact', async () => {
  const sys = await ActorSystem.start({ mode: 'workers', statsIntervalMs: 0, codecs: [bytesCodecs], transport: 'rings' });
  try {
    const [a, b, c] = await spawnBlobs(sys, 'a', 'b', 'c');
    await sys.ask(b, { type: 'forward-to', to: c });
    await sys.ask(a, { type: 'emit', to: b, from: 0, count: 20, size: 60 * 1024 }); // not a power of two: its run has room to place it aligned
    const rc = await reportOnceGot(sys, c, 20);
    const rb = await sys.ask<BlobReport>(b, { type: 'report' });
    assert.equal([rb.got, rb.shared, rb.damaged], [20, 20, []], 'b got views, intact');
    assert.equal([rc.got, rc.shared, rc.damaged], [20, 20, []], 'c got views, intact');
    assert.is(rc.aligned, 20, "each placed at its source's alignment modulo 8 (a word-by-word copy into shared memory)");
    const sa = (await hostStats(sys, a.node)).transport!.arena!;
    const sb = (await hostStats(sys, b.node)).transport!.arena!;
    assert.is(sa.placed, 20, "copied once, into the sender's arena");
    assert.is(sb.forwarded, 20, 'passed on by reference');
    assert.is(sb.placed, 0, 'and not copied again');
  } finally {
    await sys.shutdown();
  }
});

test('a value sent to several hosts in one turn is placed once: every record refers to the same block, and it is reclaimed when all are dropped', async () => {
  const sys = await ActorSystem.start({ mode: 'workers', statsIntervalMs: 0, codecs: [bytesCodecs], transport: 'rings' });
  try {
    const [a, b, c] = await spawnBlobs(sys, 'a', 'b', 'c');
    await sys.ask(a, { type: 'emit-all', to: [b, c], from: 0, count: 20, size: 60 * 1024 });
    for (const r of [b, c]) {
      const got = await reportOnceGot(sys, r, 20);
      assert.equal([got.got, got.shared, got.aligned, got.damaged], [20, 20, 20, []], `${r.name} got views at their alignment, intact`);
    }
    const sa = (await hostStats(sys, a.node)).transport!.arena!;
    assert.is(sa.placed, 20, 'each value copied once');
    assert.is(sa.forwarded, 20, 'the second record refers to the same block');
    // A small one after them: a reader keeps the last message of each link (see REPEAT_TAG).
    await sys.ask(a, { type: 'emit-all', to: [b, c], from: 20, count: 1, size: 16 });
    assert.is(await arenaUsedOnceCollected(sys, a.node, [b, c]), 0, 'every reference released: nothing left in use');
  } finally {
    await sys.shutdown();
  }
});

test('bytes from ctx.sharedBytes are written in place: every send, in any turn, refers to them, none copies them, and they are reclaimed when dropped', async () => {
  const sys = await ActorSystem.start({ mode: 'workers', statsIntervalMs: 0, codecs: [bytesCodecs], transport: 'rings' });
  try {
    const [a, b, c] = await spawnBlobs(sys, 'a', 'b', 'c');
    const inArena = await sys.ask(a, { type: 'emit-shared', to: [b, c], from: 0, count: 10, size: 60 * 1024 });
    assert.is(inArena, true, 'the arrays lie in shared memory');
    await sys.ask(a, { type: 'emit-shared-again' }); // a later turn: after the first sends were flushed
    for (const r of [b, c]) {
      const got = await reportOnceGot(sys, r, 20);
      assert.equal([got.got, got.shared, got.damaged], [20, 20, []], `${r.name} got views, intact`);
    }
    const sa = (await hostStats(sys, a.node)).transport!.arena!;
    assert.equal([sa.allocated, sa.placed, sa.forwarded], [10, 0, 40], 'ten arrays handed out, none copied, four sends of each by reference');
    // A small one after them: a reader keeps the last message of each link (see REPEAT_TAG).
    await sys.ask(a, { type: 'emit-all', to: [b, c], from: 20, count: 1, size: 16 });
    assert.is(await arenaUsedOnceCollected(sys, a.node, [a, b, c]), 0, 'every reference released: nothing left in use');
  } finally {
    await sys.shutdown();
  }
});

test('sharedBytes is a plain array where there is no arena (embedded), and refuses a bad size', async () => {
  const sys = await ActorSystem.start({ mode: 'embedded', statsIntervalMs: 0, codecs: [bytesCodecs] });
  try {
    const [a, b] = await spawnBlobs(sys, 'a', 'b');
    assert.is(await sys.ask(a, { type: 'emit-shared', to: [b], from: 0, count: 2, size: 4096 }), false, 'plain memory');
    const got = await reportOnceGot(sys, b, 2);
    assert.equal([got.got, got.damaged], [2, []]);
    assert.is(await sys.ask(a, { type: 'shared-bytes-error', size: -1 }), 'sharedBytes: n must be an integer >= 0, got -1');
    assert.is(await sys.ask(a, { type: 'shared-bytes-error', size: 1.5 }), 'sharedBytes: n must be an integer >= 0, got 1.5');
    assert.is(await sys.ask(a, { type: 'shared-bytes-error', size: 0 }), null);
  } finally {
    await sys.shutdown();
  }
});

test('arena memory is reused only once nothing holds it: kept values stay intact while many more pass, and all is reclaimed when dropped', async () => {
  // A small arena (1 MiB, 64 KiB values: 16 at most at once) pushed through 400 values.
  const sys = await ActorSystem.start({
    mode: 'workers',
    statsIntervalMs: 0,
    codecs: [bytesCodecs],
    transport: 'rings',
    rings: { arenaBytes: 1024 * 1024 },
  });
  try {
    const a = await sys.spawn(BlobActor, { name: 'a' });
    const b = await sys.spawn(BlobActor, { name: 'b' });
    await sys.ask(b, { type: 'keep', seqs: [3, 7] });
    for (let i = 0; i < 400; i += 20) {
      await sys.ask(a, { type: 'emit', to: b, from: i, count: 20, size: 64 * 1024 });
      for (let t = 0; t < 500 && (await sys.ask<BlobReport>(b, { type: 'report' })).got < i + 20; t++) await new Promise((r) => setTimeout(r, 5));
      await sys.ask(b, { type: 'gc' }); // let the receiver's dropped views go
      await new Promise((r) => setTimeout(r, 5));
    }
    const r = await sys.ask<BlobReport>(b, { type: 'report' });
    assert.equal([r.got, r.damaged], [400, []], 'every value arrived intact');
    assert.equal([r.kept, r.keptIntact], [2, true], 'the two kept values were never overwritten');
    const during = (await hostStats(sys, a.node)).transport!.arena!;
    assert.ok(during.placed > 100, `the arena was reused: ${during.placed} of 400 values placed (16 fit at once)`);
    // Drop the kept values too: everything comes back. A small value last, since a reader keeps
    // the last message of each link (see REPEAT_TAG).
    await sys.ask(b, { type: 'drop-kept' });
    await sys.ask(a, { type: 'emit', to: b, from: 400, count: 1, size: 16 });
    assert.is(await arenaUsedOnceCollected(sys, a.node, [b]), 0, 'nothing left in use');
  } finally {
    await sys.shutdown();
  }
});

test.run();
