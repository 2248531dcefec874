/**
 * `file` snapshots on disk: what recovery does with unfinished and damaged files, persist before
 * send for finish and delete (commits slowed down, the host killed: a worker, then a process),
 * and a worker killed in the middle of writing one.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync, writeSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ActorSystem, DuplicateNameError, FileStore, SnapshotDamagedError, workerStoreName, type ActorRef, type SnapshotStore } from '@synod/actors';
import { Probe } from './fixtures/keeper.ts';
import { FileWitness, Snapper, chunkOf, metaOf, readSnapshot, type ReadView, type SnapperMsg } from './fixtures/snapper.ts';
import { startChild, tempDir, until } from './store-helpers.ts';

const alive = { alive: true };

/** The snapshots of one actor of an opened store, as ctx.snapshots would show them (for checks). */
function viewOf(store: FileStore, actor: string): SnapshotStore {
  const s = store.snapshots;
  return {
    create: (id) => s.create(actor, id, alive),
    open: (id) => s.open(actor, id),
    list: () => s.list(actor).sort(),
    delete: (id) => {
      s.discard(actor, id);
      s.delete(actor, id);
    },
  };
}

/** Writes snapshot `id` of actor `a` through the store alone, and closes the store (everything durable). */
async function writeDirect(dir: string, id: string, chunks: number, chunkBytes: number): Promise<string> {
  const store = FileStore.open({ dir, storeName: 'h' });
  const w = store.snapshots.create('a', id, alive);
  for (let i = 0; i < chunks; i++) w.append(chunkOf(5, i, chunkBytes));
  w.finish(metaOf({ seed: 5, chunks, chunkBytes }));
  await store.close();
  const snapDir = join(dir, 'h.snap');
  const name = readdirSync(snapDir).find((n) => n.includes(`=${id}.snap`))!;
  return join(snapDir, name);
}

function reopen(dir: string): FileStore {
  return FileStore.open({ dir, storeName: 'h' });
}

test('FileStore.fence runs once everything written before it is durable; nothing written after it is committed before it is done', async () => {
  const dir = tempDir();
  const store = FileStore.open({ dir, storeName: 'f' });
  try {
    const before = store.write('a', [{ key: null, value: 1 }]);
    let release: ((e: Error | null) => void) | undefined;
    let durableWhenRun = -1;
    const fence = store.fence((done) => {
      durableWhenRun = store.durableSeq;
      release = done;
    });
    const after = store.write('a', [{ key: null, value: 2 }]);
    await until('the fence to run', () => release !== undefined);
    assert.is(durableWhenRun, before);
    const size = statSync(store.paths.log).size;
    await new Promise((r) => setTimeout(r, 50));
    assert.is(statSync(store.paths.log).size, size, 'the record after the fence waits for it');
    assert.ok(store.durableSeq < fence);
    release!(null);
    await until('the record after the fence to be durable', () => store.durableSeq >= after);
    assert.ok(statSync(store.paths.log).size > size);
    assert.ok(fence > before && after > fence);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('recovery removes unfinished files, indexes finished ones without reading their data, and reads them back whole', async () => {
  const dir = tempDir();
  try {
    const path = await writeDirect(dir, 'one', 20, 50_000);
    assert.ok(statSync(path).size > 1_000_000);
    // What a crash mid-write leaves: a temp file that never got its final name.
    writeFileSync(`${path.replace(/\.snap$/, '')}.snap.deadbeef.tmp`, 'half a snapshot');
    const store = reopen(dir);
    try {
      assert.equal(store.recovery.snapshots.removedUnfinished.length, 1);
      assert.equal(store.recovery.snapshots.finished, 1);
      assert.ok(!readdirSync(join(dir, 'h.snap')).some((n) => n.endsWith('.tmp')), 'no temp file left');
      const r = readSnapshot(viewOf(store, 'a'), 'one');
      assert.equal([r.intact, r.chunks, r.bytes], [true, 20, 1_000_000]);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('finish then delete before the finish is durable: the file is gone after both, and so is the temp file', async () => {
  const dir = tempDir();
  try {
    const store = FileStore.open({ dir, storeName: 'h', commitDelayMs: 20 });
    const w = store.snapshots.create('a', 'x', alive);
    w.append(chunkOf(1, 0, 1000));
    const finished = w.finish(metaOf({ seed: 1, chunks: 1, chunkBytes: 1000 }));
    const deleted = store.snapshots.delete('a', 'x');
    assert.ok(deleted > finished && store.durableSeq < finished);
    await store.close();
    assert.equal(readdirSync(join(dir, 'h.snap')), []);
    const again = reopen(dir);
    try {
      assert.equal(again.snapshots.list('a'), []);
    } finally {
      await again.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a truncated snapshot file is listed but refused by open with SnapshotDamagedError naming the file', async () => {
  const dir = tempDir();
  try {
    const path = await writeDirect(dir, 'torn', 10, 1000);
    truncateSync(path, statSync(path).size - 7);
    const store = reopen(dir);
    try {
      assert.equal(store.snapshots.list('a'), ['torn']);
      assert.is(store.recovery.snapshots.damaged.length, 1);
      assert.is(store.recovery.snapshots.damaged[0]!.id, 'torn');
      let err: unknown;
      try {
        store.snapshots.open('a', 'torn');
      } catch (e) {
        err = e;
      }
      assert.instance(err, SnapshotDamagedError);
      assert.match((err as Error).message, path);
      assert.match((err as Error).message, 'delete it');
      // Deleting it works, and removes the file.
      viewOf(store, 'a').delete('torn');
      assert.equal(store.snapshots.list('a'), []);
    } finally {
      await store.close();
    }
    assert.ok(!readdirSync(join(dir, 'h.snap')).includes(path.split('/').pop()!), 'the damaged file is gone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a damaged chunk is found when it is read (never used silently); the others read fine', async () => {
  const dir = tempDir();
  try {
    const path = await writeDirect(dir, 'flip', 10, 1000);
    // Chunk 3's data: after the header frame, three chunk frames and chunk 3's own frame header.
    const bytes = readFileSync(path);
    const headerBytes = 8 + bytes.readUInt32LE(0);
    const at = headerBytes + 3 * (8 + 1000) + 8 + 500;
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.from([bytes[at]! ^ 0xff]), 0, 1, at);
    closeSync(fd);
    const store = reopen(dir);
    try {
      assert.equal(store.recovery.snapshots.damaged, [], 'the index is intact: the damage is in the data, not read at open');
      const r = store.snapshots.open('a', 'flip')!;
      for (const i of [0, 1, 2, 4, 9]) assert.ok(Buffer.from(r.chunk(i)).equals(chunkOf(5, i, 1000)));
      assert.throws(
        () => r.chunk(3),
        (e: Error) => e instanceof SnapshotDamagedError && /chunk 3 at byte offset \d+: CRC32C mismatch/.test(e.message),
      );
      // The uncopied view (what a replica restores through) is checked the same way.
      for (const i of [0, 1, 2, 4, 9]) assert.ok(Buffer.from(r.chunkView(i)).equals(chunkOf(5, i, 1000)));
      assert.throws(
        () => r.chunkView(3),
        (e: Error) => e instanceof SnapshotDamagedError && /chunk 3 at byte offset \d+: CRC32C mismatch/.test(e.message),
      );
      // A copy stays what it was when the next chunk is read; a view need not.
      const copy = r.chunk(0);
      r.chunkView(1);
      assert.ok(Buffer.from(copy).equals(chunkOf(5, 0, 1000)));
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a damaged index or header is reported, naming the snapshot from the part that is still readable', async () => {
  const dir = tempDir();
  try {
    const index = await writeDirect(dir, 'index', 4, 100);
    const header = await writeDirect(dir, 'header', 4, 100);
    for (const [path, at] of [
      [index, statSync(index).size - 24 - 10],
      [header, 12],
    ] as const) {
      const fd = openSync(path, 'r+');
      writeSync(fd, Buffer.from([0x55]), 0, 1, at);
      closeSync(fd);
    }
    const store = reopen(dir);
    try {
      const damaged = store.recovery.snapshots.damaged.map((d) => [d.id, d.reason]).sort();
      assert.equal(
        damaged.map((d) => d[0]),
        ['header', 'index'],
      );
      assert.match(damaged[0]![1]!, 'header');
      assert.match(damaged[1]![1]!, 'CRC32C');
      for (const id of ['index', 'header'])
        assert.throws(
          () => store.snapshots.open('a', id),
          (e: Error) => e instanceof SnapshotDamagedError,
        );
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("embedded: a turn's messages leave only after the snapshot it finished has its final name, and the one it deleted is gone", async () => {
  const dir = tempDir();
  // Big unsynced tails (snapshotSyncBytes) make each finish wait for a long fdatasync, and the
  // delete after it is quick: a message released early would find the file not renamed yet.
  const sys = await ActorSystem.start({ mode: 'embedded', statsIntervalMs: 0, logLevel: 'silent', storage: { dir, snapshotSyncBytes: 1024 ** 3 } });
  try {
    const k = await sys.spawn(Snapper, { name: 'k', storage: 'file' });
    const w = await sys.spawn(FileWitness, { name: 'w', args: { snapDir: join(dir, 'main.snap') } });
    sys.send(k, { type: 'cycle', probe: w as ActorRef<any>, chunks: 16, chunkBytes: 512 * 1024 });
    let got = { max: 0, violations: [] as string[] };
    await until('10 snapshots announced', async () => (got = await sys.ask(w, { type: 'get' })).max >= 10, 60_000);
    assert.equal(got.violations, []);
  } finally {
    await sys.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Checks what a crash left of a cycling Snapper (see fixtures/snapper.ts; its turn for n
 * finishes s<n>, persists n, deletes s<n-1>, in that order of durability): the state persisted
 * (n) never without its snapshot s<n>, whole; every n the probe saw durable, with its turn's
 * delete of s<n-1>; besides s<n>, at most s<n-1> (its delete lost) and s<n+1> (finished, the
 * state after it lost).
 */
function checkCycle(reads: ReadView[], persisted: number, seen: number): void {
  const ids = reads.map((r) => r.id).sort();
  const why = `the probe saw ${seen}; state n = ${persisted}; snapshots ${ids.join(', ')}`;
  assert.ok(persisted >= seen, `the state persisted is older than what the probe saw: ${why}`);
  assert.ok(ids.includes(`s${persisted}`), `state n = ${persisted} is durable, so s${persisted} must be: ${why}`);
  for (const id of ids) {
    const m = Number(id.slice(1));
    assert.ok(m >= persisted - 1 && m <= persisted + 1 && m >= seen, `unexpected snapshot ${id}: ${why}`);
  }
  for (const r of reads) assert.ok(r.intact, `${r.id} is whole: ${JSON.stringify(r)}`);
}

test("workers: a finish or delete is durable before its turn's messages leave and before the state persisted after it (worker killed)", async () => {
  const dir = tempDir();
  const sys = await ActorSystem.start({
    mode: 'workers',
    statsIntervalMs: 0,
    logLevel: 'silent',
    spareWorkers: 0,
    heartbeat: { timeoutMs: 30_000 },
    storage: { dir, commitDelayMs: 20, snapshotSyncBytes: 256 * 1024 },
  });
  try {
    const k = await sys.spawn(Snapper, { name: 'k', storage: 'file', restart: 'temporary' });
    const p = await sys.spawn(Probe, { name: 'p' });
    sys.send(k, { type: 'cycle', probe: p as ActorRef<any>, chunks: 8, chunkBytes: 64 * 1024 });
    let seen = 0;
    await until('the probe to see 12 snapshots', async () => (seen = await sys.ask<number>(p, { type: 'max' })) >= 12, 60_000);
    await sys.killWorker(k.node);
    // Messages the dead worker had already released may still be on their way: let them land.
    for (let last = -1; last !== seen; ) {
      last = seen;
      await new Promise((r) => setTimeout(r, 50));
      seen = await sys.ask<number>(p, { type: 'max' });
    }
    let again: ActorRef<SnapperMsg> | undefined;
    for (let i = 0; !again; i++) {
      try {
        again = await sys.spawn(Snapper, { name: 'k', storage: 'file', restart: 'temporary' });
      } catch (e) {
        if (!(e instanceof DuplicateNameError) || i > 100) throw e;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    const found = await sys.ask<{ n: number; snapshots: string[] }>(again, { type: 'recovered' });
    const reads: ReadView[] = [];
    for (const id of found.snapshots) reads.push(await sys.ask<ReadView>(again, { type: 'read', id }));
    checkCycle(reads, found.n, seen);
    assert.ok(
      !readdirSync(join(dir, `${workerStoreName(undefined, 'k')}.snap`)).some((n) => n.endsWith('.tmp')),
      'the unfinished snapshot of the killed worker was removed',
    );
  } finally {
    await sys.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('process killed (SIGKILL) while cycling through snapshots: state, snapshots and what the probe saw agree', async () => {
  const dir = tempDir();
  let seen = 0;
  const { child, ready, exited } = startChild(dir, 'snapshots', (m) => {
    if (typeof m.saw === 'number' && m.saw > seen) seen = m.saw;
  });
  try {
    await ready;
    await until('the probe to see 12 snapshots', () => seen >= 12, 60_000);
    child.kill('SIGKILL');
    await exited;
    const store = FileStore.open({ dir, storeName: 'main' });
    try {
      assert.is(store.recovery.predecessor, 'dead-process');
      const persisted = (store.load('k')!.state as { n: number }).n;
      const view = viewOf(store, 'k');
      checkCycle(
        view.list().map((id) => readSnapshot(view, id)),
        persisted,
        seen,
      );
      assert.ok(!readdirSync(join(dir, 'main.snap')).some((n) => n.endsWith('.tmp')), 'no unfinished file left after recovery');
    } finally {
      await store.close();
    }
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const storage of ['file', 'shared'] as const) {
  test(`${storage}: a worker killed in the middle of a snapshot leaves the previous one whole and no partial one`, async () => {
    const dir = tempDir();
    const sys = await ActorSystem.start({
      mode: 'workers',
      statsIntervalMs: 0,
      logLevel: 'silent',
      spareWorkers: 0,
      heartbeat: { timeoutMs: 30_000 },
      storage: { dir },
    });
    try {
      const a = await sys.spawn(Snapper, { name: 'a', storage });
      await sys.ask(a, { type: 'write', id: 'prev', seed: 1, chunks: 16, chunkBytes: 100_000, perTurn: 4 });
      await sys.ask(a, { type: 'begin', id: 'next' });
      await sys.ask(a, { type: 'append', seed: 2, from: 0, count: 30, chunkBytes: 100_000 });
      // Replacing `prev` itself must not touch it either, until finished.
      await sys.ask(a, { type: 'begin', id: 'prev' });
      await sys.ask(a, { type: 'append', seed: 3, from: 0, count: 5, chunkBytes: 100_000 });
      // A state holding a writer can still be inspected from another thread (it clones as its id).
      assert.equal((await sys.inspect(a)).state, { writer: { id: 'prev' }, job: null, cycle: null, recoveredN: 0, startedWith: [] });
      await sys.killWorker(a.node);
      let ids: string[] | undefined;
      await until('the actor to be back', async () => {
        ids = await sys.ask<string[]>(a, { type: 'list' }, { timeoutMs: 200 }).catch(() => undefined);
        return ids !== undefined;
      });
      assert.equal(ids, ['prev']);
      const r = await sys.ask<ReadView>(a, { type: 'read', id: 'prev' });
      assert.equal([r.intact, r.meta?.seed, r.bytes], [true, 1, 1_600_000]);
      if (storage === 'file') {
        assert.ok(!readdirSync(join(dir, `${workerStoreName(undefined, 'a')}.snap`)).some((n) => n.endsWith('.tmp')), 'no partial file');
      }
      // And writing goes on.
      await sys.ask(a, { type: 'write', id: 'next', seed: 4, chunks: 3, chunkBytes: 1000 });
      assert.equal(await sys.ask(a, { type: 'list' }), ['next', 'prev']);
    } finally {
      await sys.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

const BIG_BYTES = process.env.SYNOD_SLOW_TESTS ? 1024 ** 3 : 64 * 1024 ** 2;
test(`${BIG_BYTES >> 20} MiB written in 1 MiB chunks over many turns and read back whole after a restart${process.env.SYNOD_SLOW_TESTS ? ' (slow: SYNOD_SLOW_TESTS)' : ' (1 GiB with SYNOD_SLOW_TESTS=1)'}`, async () => {
  const dir = tempDir();
  try {
    const chunkBytes = 1024 * 1024;
    const chunks = BIG_BYTES / chunkBytes;
    let sys = await ActorSystem.start({ mode: 'embedded', statsIntervalMs: 0, logLevel: 'silent', storage: { dir } });
    const a = await sys.spawn(Snapper, { name: 'a', storage: 'file' });
    await sys.ask(a, { type: 'write', id: 'big', seed: 11, chunks, chunkBytes, perTurn: 4 }, { timeoutMs: 600_000 });
    await sys.shutdown();
    sys = await ActorSystem.start({ mode: 'embedded', statsIntervalMs: 0, logLevel: 'silent', storage: { dir } });
    try {
      const b = await sys.spawn(Snapper, { name: 'a', storage: 'file' });
      const r = await sys.ask<ReadView>(b, { type: 'read', id: 'big' }, { timeoutMs: 600_000 });
      assert.equal([r.intact, r.chunks, r.bytes], [true, chunks, BIG_BYTES]);
    } finally {
      await sys.shutdown();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
