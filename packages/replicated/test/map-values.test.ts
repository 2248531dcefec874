/**
 * The map machine's values as a replica keeps them: up to 16 KiB in cells written over in place
 * (but never while a snapshot that may read them is open), longer ones as views of the command
 * compacted as they are overwritten, with each value's term of the digest kept so an overwrite
 * or delete does not hash the old value again. Whatever the sizes and the order of sets, deletes
 * and compare-and-sets: every value reads back as the bytes set, a snapshot taken earlier still
 * holds the values of its moment, and size and digest equal those computed from scratch.
 *
 * Randomised: a failure prints its seed; SEED=<n> replays it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encode, hashBytes } from '@synod/canonical';
import { mapMachine, type MapState } from '@synod/replicated';

const core = mapMachine.core;
const enc = (c: Parameters<typeof mapMachine.client.encodeCommand>[0]) => mapMachine.client.encodeCommand(c, 1 << 20);
const utf8 = new TextEncoder();

/** A small seeded generator (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Digest and size of entries, computed from scratch as the machine defines them. */
function expected(model: Map<string, Uint8Array>): { digest: number; bytes: number } {
  let digest = 0;
  let bytes = 0;
  for (const [k, v] of model) {
    const key = utf8.encode(k);
    digest = (digest + hashBytes(v, hashBytes(key))) | 0;
    bytes += key.length + v.length + 48;
  }
  return { digest: digest >>> 0, bytes };
}

/** Restores `s` as a replica restores its own snapshot: every chunk through one reused Buffer (whose `slice` copies nothing). */
function restoreFrom(s: MapState): MapState {
  const source = core.snapshot(s);
  const sink = core.restore();
  const staging = Buffer.alloc(64 * 1024);
  for (let chunk = source.next(4096); chunk !== null; chunk = source.next(4096)) {
    staging.fill(0xee);
    staging.set(chunk);
    sink.add(staging.subarray(0, chunk.length));
  }
  staging.fill(0xee);
  return sink.finish() as MapState;
}

/** The bytes of `key`'s value, as a read gets them. */
function valueOf(s: MapState, key: string): Uint8Array {
  return core.query(s, mapMachine.client.encodeQuery({ op: 'get', key }, 1 << 20));
}

function sameEntries(s: MapState, model: Map<string, Uint8Array>, what: string): void {
  assert.is(s.keys.size, model.size, `${what}: entries`);
  for (const [k, v] of model) assert.equal(Buffer.from(valueOf(s, k)), Buffer.from(v), `${what}: value of ${k}`);
}

const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);

/**
 * Applies `command` as the executor hands it over: either bytes of the replica's own, or (the map
 * `copiesCommands`) a view of shared memory at any alignment, which is overwritten right after, as
 * an arena's reused block would be: the map must have copied what it keeps.
 */
function applyFrom(s: MapState, command: Uint8Array, random: () => number): Uint8Array {
  if (random() < 0.5) return core.apply(s, command).result;
  const shared = new Uint8Array(new SharedArrayBuffer(command.length + 16));
  const at = Math.floor(random() * 16);
  shared.set(command, at);
  const result = core.apply(s, shared.subarray(at, at + command.length)).result.slice();
  shared.fill(0xee);
  return result;
}

test('sets, deletes and compare-and-sets of values of every size, from own or shared memory: values, size, digest and an earlier snapshot hold', () => {
  const random = prng(seed);
  const why = `seed ${seed} (replay: SEED=${seed} npx -y pnpm@12.4.2 test map-values)`;
  try {
    const s = core.initial() as MapState;
    const model = new Map<string, Uint8Array>();
    // Sizes on both sides of the thresholds: of size classes of cells (<= 16384), large (> 16384).
    const sizes = [1, 14, 16, 17, 63, 64, 65, 100, 256, 1000, 4094, 4095, 4096, 4097, 9000, 16_370, 16_380, 16_381, 16_400, 30_000];
    let early: { source: ReturnType<typeof core.snapshot>; model: Map<string, Uint8Array> } | null = null;
    for (let i = 0; i < 20_000; i++) {
      const key = `k${Math.floor(random() * 300)}`;
      const n = sizes[Math.floor(random() * sizes.length)]!;
      const value = String.fromCharCode(97 + (i % 26)).repeat(n) + i;
      const roll = random();
      if (roll < 0.7) {
        const out = applyFrom(s, enc({ op: 'set', key, value }), random);
        assert.is(out[0] === 1, model.has(key), `set ${key} says whether it existed`);
        model.set(key, encode(value));
      } else if (roll < 0.85) {
        const out = applyFrom(s, enc({ op: 'delete', key }), random);
        assert.is(out[0] === 1, model.delete(key), `delete ${key} says whether it existed`);
      } else {
        const current = model.get(key);
        const expectedValue = current === undefined || random() < 0.3 ? null : mapMachine.client.decodeAnswer(current, { op: 'get', key });
        const out = applyFrom(s, enc({ op: 'cas', key, expected: expectedValue, value }), random);
        const swaps = expectedValue === null ? current === undefined : true;
        assert.is(out[0] === 1, swaps, `cas ${key}`);
        if (swaps) model.set(key, encode(value));
      }
      if (i === 5_000) early = { source: core.snapshot(s), model: new Map(model) };
    }
    sameEntries(s, model, 'after every command');
    const e = expected(model);
    assert.is(core.digest!(s), e.digest, 'digest as computed from scratch');
    assert.is(core.size!(s), e.bytes, 'size as computed from scratch');
    // The snapshot taken at command 5000 is written only now, after many compactions.
    const sink = core.restore();
    for (let chunk = early!.source.next(4096); chunk !== null; chunk = early!.source.next(4096)) sink.add(chunk);
    sameEntries(sink.finish() as MapState, early!.model, 'the snapshot of command 5000');
    const r = restoreFrom(s);
    sameEntries(r, model, 'restored');
    assert.is(core.digest!(r), e.digest, 'restored digest');
    assert.is(core.size!(r), e.bytes, 'restored size');
  } catch (err) {
    console.error(`map-values failed with ${why}`);
    throw err;
  }
});

test('a large value out of shared memory over one of the same length: written over in place, never while a snapshot may still read the old one', () => {
  const s = core.initial() as MapState;
  const shared = new Uint8Array(new SharedArrayBuffer(64 * 1024));
  const set = (value: string) => {
    const command = enc({ op: 'set', key: 'big', value });
    shared.set(command, 3);
    core.apply(s, shared.subarray(3, 3 + command.length));
    shared.fill(0xee); // the slot's block is reused
  };
  const big = (c: string) => c.repeat(40_000);
  set(big('a'));
  set(big('b')); // in place
  const snapshot = core.snapshot(s); // reads 'b' from now on, whatever is applied
  set(big('c'));
  set(big('d'));
  const sink = core.restore();
  for (let chunk = snapshot.next(4096); chunk !== null; chunk = snapshot.next(4096)) sink.add(chunk);
  const model = (v: string) => new Map([['big', encode(v)]]);
  sameEntries(sink.finish() as MapState, model(big('b')), 'the snapshot taken before');
  sameEntries(s, model(big('d')), 'the map');
  set(big('e')); // the snapshot is closed: in place again
  sameEntries(s, model(big('e')), 'the map after');
  assert.is(core.digest!(s), expected(model(big('e'))).digest, 'digest as computed from scratch');
});

test('overwritten large values do not pin their buffers: the memory the values hold stays a small multiple of their bytes', () => {
  // Ten hot keys written over and over, and now and then a cold key written once, 16 commands
  // to a slot: without compaction every cold value would keep its whole slot alive.
  const s = core.initial() as MapState;
  const value = (i: number) => `${i}:`.padEnd(5000, 'x');
  for (let i = 0; i < 20_000; i += 16) {
    const commands: Uint8Array[] = [];
    for (let j = i; j < i + 16; j++) commands.push(enc({ op: 'set', key: j % 100 === 0 ? `cold${j}` : `hot${j % 10}`, value: value(j) }));
    // One buffer per slot, as the executor hands them over; each command a view of it.
    const slot = new Uint8Array(commands.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of commands) {
      slot.set(c, at);
      core.apply(s, slot.subarray(at, at + c.length));
      at += c.length;
    }
  }
  let live = 0;
  const buffers = new Set<ArrayBufferLike>();
  const pairs = s.keys.pairs();
  for (let i = 1; i < pairs.length; i += 2) {
    const v = s.values.view(pairs[i]!);
    live += v.length;
    buffers.add(v.buffer);
  }
  let held = 0;
  for (const b of buffers) held += b.byteLength;
  assert.ok(held <= 5 * live + 2 * 16 * 5100 + 64 * 1024, `values of ${live} bytes hold ${buffers.size} buffers (${held} bytes)`);
});

test('cells are written over in place, and reused once the snapshots that could read them are closed: memory stays that of the values', () => {
  const s = core.initial() as MapState;
  const set = (key: string, value: string) => core.apply(s, enc({ op: 'set', key, value }));
  for (let k = 0; k < 1000; k++) set(`k${k}`, `${k}`.padEnd(100, 'v'));
  const base = s.values.cellBytes;
  // Overwrites with no snapshot open: in place.
  for (let i = 0; i < 50_000; i++) set(`k${i % 1000}`, `${i}`.padEnd(100, 'w'));
  assert.is(s.values.cellBytes, base, 'no cell more for overwrites in place');
  // Overwrites while snapshots are open, each read to its end (or closed, or abandoned) before the next.
  for (let round = 0; round < 20; round++) {
    const source = core.snapshot(s);
    for (let i = 0; i < 1000; i++) set(`k${(i * 7) % 1000}`, `${round}.${i}`.padEnd(100, 'x'));
    if (round % 2 === 0) while (source.next(4096) !== null);
    else source.close!();
  }
  assert.ok(s.values.cellBytes <= 3 * base, `cells freed while a snapshot was open are reused (${s.values.cellBytes} bytes held, ${base} at first)`);
  for (let k = 0; k < 1000; k++) assert.ok(valueOf(s, `k${k}`).length > 0);
});

test('a value up to 16 KiB is copied into a cell; a longer one is a view of the command; a value restored from a snapshot is a copy: the chunk may be reused', () => {
  const s = core.initial() as MapState;
  const small = enc({ op: 'set', key: 's', value: 'v'.repeat(200) });
  const large = enc({ op: 'set', key: 'k', value: 'v'.repeat(20_000) });
  core.apply(s, small);
  core.apply(s, large);
  const handle = (key: string) => s.keys.valueAt(s.keys.slotOf(key));
  assert.is.not(s.values.view(handle('s')).buffer, small.buffer, 'copied into a cell');
  small.fill(0);
  assert.is(s.values.view(handle('k')).buffer, large.buffer, 'kept where it lies');
  const sink = core.restore();
  const source = core.snapshot(s);
  for (let chunk = source.next(4096); chunk !== null; chunk = source.next(4096)) {
    sink.add(chunk);
    chunk.fill(0);
  }
  const r = sink.finish() as MapState;
  assert.equal(mapMachine.client.decodeAnswer(valueOf(r, 'k'), { op: 'get', key: 'k' }), 'v'.repeat(20_000));
  assert.equal(mapMachine.client.decodeAnswer(valueOf(r, 's'), { op: 'get', key: 's' }), 'v'.repeat(200));
});

test.run();
