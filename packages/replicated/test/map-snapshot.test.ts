/**
 * The map machine's snapshot, written and restored in chunks as a replica does it: a replica
 * restores its own snapshot through one reused buffer (`chunkView`), so the restored values must
 * be copies, never views of that buffer (a Buffer's `slice` copies nothing). Snapshots of changes
 * (`snapshotChanges`), restored after the whole one before them, rebuild the state as it is.
 *
 * Randomised: a failure prints its seed; SEED=<n> replays it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Prng } from '@synod/actors/internals';
import type { SnapshotSource } from '@synod/smr';
import { mapMachine, type MapState } from '@synod/replicated';

const core = mapMachine.core;
const enc = (c: Parameters<typeof mapMachine.client.encodeCommand>[0]) => mapMachine.client.encodeCommand(c, 1 << 20);

test('restored through one reused Buffer, every value is its own copy, and size and digest are those of the original', () => {
  const s = core.initial() as MapState;
  for (let i = 0; i < 200; i++) core.apply(s, enc({ op: 'set', key: `k${i}`, value: `value ${i} `.repeat(20) }));
  const source = core.snapshot(s);
  const staging = Buffer.alloc(4096);
  const sink = core.restore();
  let chunks = 0;
  for (let chunk = source.next(512); chunk !== null; chunk = source.next(512)) {
    staging.fill(0xee);
    staging.set(chunk);
    sink.add(staging.subarray(0, chunk.length));
    chunks++;
  }
  staging.fill(0xee); // what a next read would do to the buffer
  const r = sink.finish() as MapState;
  assert.ok(chunks > 10, `many chunks (${chunks})`);
  assert.is(r.keys.size, 200);
  const get = (m: MapState, key: string) => Buffer.from(core.query(m, mapMachine.client.encodeQuery({ op: 'get', key }, 1 << 20)));
  for (let i = 0; i < 200; i++) assert.equal(get(r, `k${i}`), get(s, `k${i}`), `value of k${i}`);
  assert.is(core.size!(r), core.size!(s));
  assert.is(core.digest!(r), core.digest!(s));
});

const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
const why = `seed ${seed} (replay: SEED=${seed} npx -y pnpm@12.4.2 test map-snapshot)`;

/** Reads a source to its end into copies (as a store keeps them), applying `between` after each chunk. */
function readAll(source: SnapshotSource, maxBytes: number, between: () => void = () => {}): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let chunk = source.next(maxBytes); chunk !== null; chunk = source.next(maxBytes)) {
    out.push(chunk.slice());
    between();
  }
  return out;
}

function entries(m: MapState): unknown {
  return core.query(m, mapMachine.client.encodeQuery({ op: 'entries' }, 1 << 20));
}

test('snapshots of changes, restored in order after the whole one, rebuild the state: sets, overwrites, deletes, keys deleted and set again', () => {
  const rng = new Prng(seed);
  const s = core.initial() as MapState;
  const random = () => {
    const key = `k${rng.int(300)}`;
    if (rng.int(4) === 0) core.apply(s, enc({ op: 'delete', key }));
    else core.apply(s, enc({ op: 'set', key, value: 'v'.repeat(rng.int(3) === 0 ? 20_000 : rng.int(40)) + rng.int(1000) }));
  };
  for (let i = 0; i < 400; i++) random();
  // The chain as a replica keeps it: a whole snapshot, then snapshots of changes. Commands go on
  // being applied while each is read (they must not show in it: they belong to the next).
  let chain = readAll(core.snapshot(s), 4096, random);
  const restore = (chunks: Uint8Array[]) => {
    const sink = core.restore();
    for (const c of chunks) sink.add(c);
    return sink.finish() as MapState;
  };
  for (let round = 0; round < 12; round++) {
    const at = { entries: entries(s), size: core.size!(s), digest: core.digest!(s) };
    const changes = core.snapshotChanges!(s);
    assert.ok(changes !== null, why);
    chain = [...chain, ...readAll(changes!, 4096, random)];
    const r = restore(chain);
    assert.equal(entries(r), at.entries, `round ${round}: the restored entries; ${why}`);
    assert.is(core.size!(r), at.size, why);
    assert.is(core.digest!(r), at.digest, why);
    for (let i = rng.int(60); i > 0; i--) random();
  }
});

test('a snapshot of changes holds what changed, not the whole state', () => {
  const s = core.initial() as MapState;
  for (let i = 0; i < 100; i++) core.apply(s, enc({ op: 'set', key: `k${i}`, value: 'x'.repeat(10_000) }));
  const whole = readAll(core.snapshot(s), 1 << 20).reduce((n, c) => n + c.length, 0);
  core.apply(s, enc({ op: 'set', key: 'k1', value: 'y'.repeat(10_000) }));
  core.apply(s, enc({ op: 'delete', key: 'k2' }));
  const changes = readAll(core.snapshotChanges!(s)!, 1 << 20).reduce((n, c) => n + c.length, 0);
  assert.ok(changes > 10_000 && changes < 10_100, `one value and one key (${changes} bytes; the whole state is ${whole})`);
  // Nothing changed since: an empty snapshot of changes (its one chunk of no entries).
  assert.equal(
    readAll(core.snapshotChanges!(s)!, 1 << 20).map((c) => c.length),
    [4],
  );
});

test('past 65,536 deletions between snapshots the map stops tracking them, and says so: the next snapshot must be whole', () => {
  const s = core.initial() as MapState;
  for (let i = 0; i < 65_537; i++) {
    core.apply(s, enc({ op: 'set', key: `k${i}`, value: 1 }));
    core.apply(s, enc({ op: 'delete', key: `k${i}` }));
  }
  assert.is(core.snapshotChanges!(s), null);
  readAll(core.snapshot(s), 1 << 20);
  assert.ok(core.snapshotChanges!(s) !== null, 'a whole snapshot starts the tracking again');
});

test.run();
