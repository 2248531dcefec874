/**
 * The `file` store on its own: recovery from a log cut at every byte offset, damage in the
 * middle, group commit, compaction, and the errors a user meets.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore, LogDamagedError, RecordTooLargeError, StorageError, type Recovered } from '@synod/actors';
import { type PersistOp } from '@synod/actors/internals';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'synod-file-'));
}

/** Resolves once writes up to `want` are durable. */
function durable(store: FileStore, want: number): Promise<void> {
  if (store.durableSeq >= want) return Promise.resolve();
  return new Promise((resolve) => {
    const prev = store.onDurable;
    store.onDurable = (seq) => {
      prev?.(seq);
      if (seq >= want) {
        store.onDurable = prev;
        resolve();
      }
    };
  });
}

function view(r: Recovered | undefined): unknown {
  return r && { hasState: r.hasState, state: r.state, entries: [...r.entries] };
}

const state = (value: unknown): PersistOp => ({ key: null, value });
const entry = (key: string | number, value: unknown): PersistOp => ({ key, value });

/** Six commits over two actors, with entries set, replaced and deleted. */
const commits: [string, PersistOp[]][][] = [
  [['a', [state({ n: 1 })]]],
  [
    ['a', [entry('x', 'one'), entry(7, [1, 2, 3])]],
    ['b', [state('b-first')]],
  ],
  [['a', [state({ n: 2 }), entry('x', undefined)]]],
  [
    ['b', [entry('k', new Map([[1, 'm']]))]],
    ['a', [entry(7, 'seven')]],
  ],
  [['a', [state(undefined)]]],
  [['b', [state('b-last'), entry('k', undefined), entry('z', { deep: { list: [new Date(0)] } })]]],
];

/** Builds the log commit by commit; returns its bytes, where each commit ends, and the state after each. */
async function buildLog(dir: string) {
  const store = FileStore.open({ dir, storeName: 'log' });
  const ends: number[] = [0];
  const states: unknown[][] = [[undefined, undefined]];
  for (const c of commits) {
    let last = 0;
    for (const [actor, ops] of c) last = store.write(actor, ops);
    await durable(store, last);
    ends.push(statSync(store.paths.log).size);
    states.push([view(store.load('a')), view(store.load('b'))]);
  }
  assert.is(store.stats.commits, commits.length, 'one commit per batch');
  await store.close();
  return { bytes: readFileSync(join(dir, 'log.log')), ends, states };
}

test('a log cut at every byte offset recovers exactly the commits that are whole, and the tail is cut off', async () => {
  const dir = tempDir();
  try {
    const { bytes, ends, states } = await buildLog(dir);
    const path = join(dir, 'log.log');
    for (let cut = 0; cut <= bytes.length; cut++) {
      writeFileSync(path, bytes.subarray(0, cut));
      const store = FileStore.open({ dir, storeName: 'log' });
      let k = 0;
      while (k + 1 < ends.length && ends[k + 1]! <= cut) k++;
      assert.equal([view(store.load('a')), view(store.load('b'))], states[k], `cut at ${cut}: the first ${k} commits`);
      assert.is(store.recovery.frames, k);
      assert.is(store.recovery.truncatedBytes, cut - ends[k]!);
      assert.is(statSync(path).size, ends[k], `cut at ${cut}: torn tail removed`);
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a zero-filled or garbage tail is cut; the log stays usable after it', async () => {
  const dir = tempDir();
  try {
    const { bytes, states } = await buildLog(dir);
    const path = join(dir, 'log.log');
    for (const tail of [Buffer.alloc(4096), Buffer.from('not a frame at all, just a torn write')]) {
      writeFileSync(path, Buffer.concat([bytes, tail]));
      const store = FileStore.open({ dir, storeName: 'log' });
      assert.equal([view(store.load('a')), view(store.load('b'))], states[commits.length]);
      assert.is(store.recovery.truncatedBytes, tail.length);
      store.write('a', [state('after')]);
      await store.close();
      const again = FileStore.open({ dir, storeName: 'log' });
      assert.is(again.load('a')!.state, 'after');
      assert.is(again.recovery.truncatedBytes, 0);
      await again.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a flipped bit in a middle commit refuses to start, naming the file and the offset', async () => {
  const dir = tempDir();
  try {
    const { bytes, ends } = await buildLog(dir);
    const path = join(dir, 'log.log');
    const target = 2; // the third commit: whole commits follow it
    const start = ends[target]!;
    for (let byte = start; byte < ends[target + 1]!; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const damaged = Buffer.from(bytes);
        damaged[byte]! ^= 1 << bit;
        writeFileSync(path, damaged);
        try {
          FileStore.open({ dir, storeName: 'log' }).close();
          assert.unreachable(`flip of bit ${bit} at byte ${byte} was not noticed`);
        } catch (e) {
          assert.instance(e, LogDamagedError);
          const err = e as LogDamagedError;
          assert.is(err.source, path);
          assert.is(err.offset, start);
          assert.match(err.message, path);
          assert.match(err.message, `offset ${start}`);
        }
        assert.equal(readFileSync(path), damaged, 'a refused log is left as it was');
      }
    }
    // The lock was released by every refused open.
    writeFileSync(path, bytes);
    await FileStore.open({ dir, storeName: 'log' }).close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('group commit: records written while a commit is in flight share the next write and fdatasync', async () => {
  const dir = tempDir();
  try {
    const store = FileStore.open({ dir, storeName: 'g' });
    let last = 0;
    for (let i = 0; i < 2000; i++) {
      last = store.write(`actor${i % 3}`, [state({ i })]);
      if (i % 100 === 0) await new Promise((r) => setImmediate(r));
    }
    await durable(store, last);
    assert.is(store.stats.records, 2000);
    assert.ok(store.stats.commits < 2000 / 10, `${store.stats.commits} commits for 2000 records`);
    await store.close();

    const single = FileStore.open({ dir, storeName: 's', groupCommit: false });
    for (let i = 0; i < 20; i++) last = single.write('a', [state({ i })]);
    await durable(single, last);
    assert.is(single.stats.commits, 20, 'one commit per record without group commit');
    await single.close();
    const back = FileStore.open({ dir, storeName: 's' });
    assert.equal(back.load('a')!.state, { i: 19 });
    await back.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('durableSeq advances only after the commit holding a write completes, and covers it', async () => {
  const dir = tempDir();
  try {
    const store = FileStore.open({ dir, storeName: 'd', commitDelayMs: 30 });
    const seen: number[] = [];
    store.onDurable = (s) => seen.push(s);
    const t1 = store.write('a', [state(1)]);
    const t2 = store.write('a', [state(2)]);
    assert.is(store.durableSeq, 0, 'nothing is durable when write returns');
    await durable(store, t2);
    assert.ok(store.durableSeq >= t2 && t2 > t1);
    assert.equal(seen, [t2]);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('values are captured when written: later mutation does not change what is stored', async () => {
  const dir = tempDir();
  try {
    const store = FileStore.open({ dir, storeName: 'm' });
    const s = { list: [1] };
    const bytes = { ballot: 1, value: new Uint8Array(4096).fill(1) };
    store.write('a', [state(s), entry('e', s), entry('b', bytes)]);
    s.list.push(2);
    bytes.value.fill(0);
    bytes.ballot = 2;
    assert.equal(store.load('a')!.state, { list: [1] });
    await store.close();
    const back = FileStore.open({ dir, storeName: 'm' });
    assert.equal(back.load('a')!.state, { list: [1] });
    assert.equal(back.load('a')!.entries.get('e'), { list: [1] });
    assert.equal(back.load('a')!.entries.get('b'), { ballot: 1, value: new Uint8Array(4096).fill(1) });
    await back.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('values of every plain-data kind come back exactly as persisted', async () => {
  const dir = tempDir();
  try {
    const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
    const nullProto = Object.assign(Object.create(null), { a: 1 });
    const values: unknown[] = [
      { ballot: { round: 3, id: 'p1' }, slot: 12, value: 'v', list: [1, 'two', null, true, { deep: [[]] }] },
      'ünïcødé ✓ \ud800 lone surrogate',
      0,
      -0,
      NaN,
      Infinity,
      2 ** 53,
      1.5e-300,
      null,
      undefined,
      true,
      { missing: undefined, n: 1 },
      sparse,
      [undefined],
      10n ** 30n,
      new Date(1234567),
      new Map<unknown, unknown>([
        [1, 'a'],
        ['k', { m: new Set([1, 2]) }],
      ]),
      new Uint8Array([1, 2, 255]),
      new Float64Array([0.5, -1]),
      nullProto,
      { __proto__key: 1, ['__proto__']: 2 },
      [],
      {},
      // Records with large byte arrays (written in a form of their own, not by v8): one array, two
      // arrays among other fields, a view into a larger buffer, and a prototype-less record.
      { ballot: 7, value: new Uint8Array(5000).fill(9) },
      { a: new Uint8Array(2000).fill(1), nested: { x: [1, 'y', null] }, b: Uint8Array.of(1, 2, 3), n: -1.5 },
      { view: new Uint8Array(10_000).fill(3).subarray(17, 4000) },
      Object.assign(Object.create(null), { ballot: 1, value: new Uint8Array(1500).fill(2) }),
    ];
    const store = FileStore.open({ dir, storeName: 'v' });
    values.forEach((v, i) => store.write('a', [entry(i, v)]));
    await store.close();
    const back = FileStore.open({ dir, storeName: 'v' });
    const got = back.load('a')!.entries;
    values.forEach((v, i) => {
      const expected = structuredClone(v); // what a message carrying it would deliver
      assert.equal(got.get(i), expected, `value ${i}`);
      if (typeof v === 'number') assert.ok(Object.is(got.get(i), v), `value ${i}: ${String(v)} kept exactly`);
    });
    assert.is((got.get(values.indexOf(sparse)) as unknown[]).hasOwnProperty(1), false, 'a hole stays a hole');
    assert.ok(Object.hasOwn(got.get(values.length - 7) as object, '__proto__'), 'an own __proto__ key stays data');
    await back.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compaction keeps every live record, drops the rest, and leftovers of an interrupted one are removed', async () => {
  const dir = tempDir();
  try {
    const store = FileStore.open({ dir, storeName: 'c', maxLogBytes: 4096 });
    let last = 0;
    for (let i = 0; i < 3000; i++) {
      last = store.write(`a${i % 5}`, [state({ i }), entry(i % 40, `v${i}`), ...(i % 7 === 0 ? [entry((i + 1) % 40, undefined)] : [])]);
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    await durable(store, last);
    assert.ok(store.stats.compactions > 0, 'compacted');
    const expected = ['a0', 'a1', 'a2', 'a3', 'a4'].map((a) => view(store.load(a)));
    await store.close();
    const size = statSync(join(dir, 'c.log')).size;
    assert.ok(size < store.stats.bytes, `log of ${size} bytes after ${store.stats.bytes} appended: earlier commits were dropped`);
    writeFileSync(join(dir, 'c.log.compact-123456'), 'half a snapshot');
    const back = FileStore.open({ dir, storeName: 'c' });
    assert.equal(
      ['a0', 'a1', 'a2', 'a3', 'a4'].map((a) => view(back.load(a))),
      expected,
    );
    assert.equal(
      readdirSync(dir).filter((f) => f.includes('compact')),
      [],
      'leftover temp file removed',
    );
    await back.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('errors say what to do: missing dir, record over maxRecordBytes, value that cannot be stored', async () => {
  try {
    FileStore.open({ dir: '', storeName: 'x' });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, StorageError);
    assert.match((e as Error).message, 'storage: { dir');
  }
  const dir = tempDir();
  try {
    const store = FileStore.open({ dir, storeName: 'e', maxRecordBytes: 1000 });
    try {
      store.write('big', [state('x'.repeat(2000))]);
      assert.unreachable();
    } catch (e) {
      assert.instance(e, RecordTooLargeError);
      assert.match((e as Error).message, '"big"');
      assert.match((e as Error).message, 'maxRecordBytes (1000)');
    }
    try {
      store.write('fn', [state({ f: () => 1 })]);
      assert.unreachable();
    } catch (e) {
      assert.instance(e, StorageError);
      assert.match((e as Error).message, 'ctx.persist of actor "fn"');
    }
    assert.is(store.load('big'), undefined, 'a refused write changes nothing');
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('store names become safe, distinct file names', async () => {
  const dir = tempDir();
  try {
    for (const name of ['a:b', 'a_b', '../up', '.']) {
      const s = FileStore.open({ dir, storeName: name });
      s.write('x', [state(name)]);
      await s.close();
    }
    const logs = readdirSync(dir)
      .filter((f) => f.endsWith('.log'))
      .sort();
    assert.is(logs.length, 4);
    for (const f of logs) assert.ok(!f.startsWith('.') && !f.includes('/'), f);
    for (const name of ['a:b', 'a_b', '../up', '.']) {
      const s = FileStore.open({ dir, storeName: name });
      assert.is(s.load('x')!.state, name);
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a write error stops the store: later writes throw it, nothing is acknowledged', async () => {
  const dir = tempDir();
  try {
    const store = FileStore.open({ dir, storeName: 'io' });
    let acked = 0;
    store.onDurable = (s) => {
      acked = s;
    };
    // Fault injection: point the store at a descriptor that is not open, so its append fails (EBADF).
    const inner = store as unknown as { fd: number };
    const real = inner.fd;
    inner.fd = 0x7ffffff0;
    store.write('a', [state(1)]);
    const failed = () => (store as unknown as { failure: Error | null }).failure !== null;
    while (!failed()) await new Promise((r) => setTimeout(r, 5));
    assert.is(acked, 0);
    assert.throws(
      () => store.write('a', [state(2)]),
      (e: Error) => e instanceof StorageError && /failed appending a commit/.test(e.message),
    );
    inner.fd = real;
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
