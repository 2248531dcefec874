/**
 * The state machine behind `ReplicatedMap`, on bytes: string keys, values in the canonical
 * encoding (@synod/canonical), kept as the very bytes the client sent. Replicas never decode a
 * value: `set` stores its bytes, `get` answers them, `compareAndSet` compares bytes (so equality
 * is canonical: object key order and Map/Set insertion order do not matter, types do; the
 * checker's `replicatedMapModel` compares the same way). A replica finds a key by its bytes
 * (key-index.ts) and keeps values in cells (value-store.ts): applying a command makes no string
 * and allocates nothing the state keeps.
 *
 *   set     u8 1 | string key | value
 *   delete  u8 2 | string key
 *   cas     u8 3 | string key | uvar length | expected (empty: absent) | value
 *   result  u8 0 | 1 (set: it existed before; delete: it existed; cas: it swapped)
 *
 *   get     u8 1 | string key      → the value, or nothing when absent
 *   has     u8 2 | string key      → u8 0 | 1
 *   size    u8 3                   → uvar
 *   entries u8 4 | u8 flags | [string prefix] | [uvar limit] → uvar n | (string key, bytes value)*, by key
 */
import { CanonicalWriter, decode, hashBytes } from '@synod/canonical';
import { WireWriter, maxAlignedRunBytes, putRun, runBytes, uninitializedBytes } from '@synod/actors/internals';
import { ByteReader, registerMachine, type AppliedBytes, type MachineCore, type SnapshotSource } from '@synod/smr';
import { KeyIndex } from './key-index.js';
import { ValueStore } from './value-store.js';

export type MapCommand =
  | { op: 'set'; key: string; value: unknown }
  | { op: 'delete'; key: string }
  | { op: 'cas'; key: string; expected: unknown; value: unknown };

export type MapQuery = { op: 'get'; key: string } | { op: 'has'; key: string } | { op: 'size' } | { op: 'entries'; prefix?: string; limit?: number };

/** Bounds a map command must respect, checked where it enters. */
export const mapLimits = {
  /** Longest key, in UTF-16 code units. */
  maxKeyLength: 1024,
};

const enum Op {
  Set = 1,
  Delete = 2,
  Cas = 3,
}
const enum Q {
  Get = 1,
  Has = 2,
  Size = 3,
  Entries = 4,
}
/** Bytes counted per entry besides its key and value (for `maxStateBytes`). */
const ENTRY_OVERHEAD = 48;

/** A map replica's state: the entries and what they add up to. */
export interface MapState {
  /** Each key (its UTF-8 bytes in a cell of `values`) and the handle of its value (see key-index.ts). */
  keys: KeyIndex;
  /** The values' bytes, and the digest (see value-store.ts). */
  values: ValueStore;
  /** Keys' UTF-8 bytes + values' bytes + a per-entry overhead. */
  bytes: number;
  /**
   * What changed since the last snapshot, for `snapshotChanges`: the keys set (`setIn[k]` is the
   * snapshot `epoch` in which the key whose cell's handle is k was last set) and the keys deleted
   * (their UTF-8 bytes). A stamp per key, not a set of keys: a `set` then costs one store, and
   * starting over one increment. `changesKnown` is false once deletions
   * passed MAX_TRACKED_DELETIONS: the next snapshot is then a whole one.
   */
  setIn: Uint32Array;
  epoch: number;
  deleted: Uint8Array[];
  changesKnown: boolean;
}

/**
 * Deletions remembered between snapshots, at most: past this the map forgets what changed (the
 * memory a key each) and its next snapshot is whole.
 */
const MAX_TRACKED_DELETIONS = 65536;
/** The count word of a snapshot chunk that lists deleted keys (changes since a snapshot), not entries. */
const DELETIONS = 0x80000000;

/** Starts tracking changes afresh: a snapshot now holds everything before. */
function resetChanges(s: MapState): void {
  if (++s.epoch === 0xffffffff) {
    s.setIn.fill(0);
    s.epoch = 1;
  }
  s.deleted = [];
  s.changesKnown = true;
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new TypeError(`keys must be strings, got ${typeof key}`);
  if (key.length === 0) throw new TypeError('keys must not be empty');
  if (key.length > mapLimits.maxKeyLength) throw new TypeError(`keys must be at most ${mapLimits.maxKeyLength} characters, got ${key.length}`);
}

const TRUE = Uint8Array.of(1);
const FALSE = Uint8Array.of(0);
const EMPTY = new Uint8Array(0);
const reader = new ByteReader();

/**
 * The key last read from bytes: where its UTF-8 bytes lie, and their hash (module state: no
 * object per command). Replicas never make a string of a key to apply a command (key-index.ts).
 */
let keySource: Uint8Array = new Uint8Array(0);
let keyStart = 0;
let keyBytes = 0;
let keyHash = 0;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads a key at the reader's position into keySource, keyStart, keyBytes and keyHash. */
function readKey(r: ByteReader): void {
  const n = r.skipRun();
  const buf = r.buf;
  const start = r.runStart;
  // Keys are UTF-8 (the client encodes strings): bytes that are not are a corrupt command.
  for (let i = start; i < start + n; i++) {
    if (buf[i]! < 0x80) continue;
    try {
      strictUtf8.decode(buf.subarray(start, start + n));
    } catch {
      throw new RangeError(`corrupt key at byte ${start} (not UTF-8)`);
    }
    break;
  }
  keySource = buf;
  keyStart = start;
  keyBytes = n;
  keyHash = hashBytes(buf, 0, start, start + n);
}

/** The slot of the key just read by readKey, or -1. */
function findKey(s: MapState): number {
  return s.keys.find(keyHash, keySource, keyStart, keyStart + keyBytes);
}

/**
 * Sets the key just read by readKey to `src[start, end)`: `keep` when they are bytes nothing
 * changes or reuses (a command, see `MachineCore.apply`), so a large value may be kept as a view
 * (unless they lie in shared memory: see `ValueStore.set`); whether it existed.
 */
function put(s: MapState, src: Uint8Array, start: number, end: number, keep: boolean): boolean {
  const slot = findKey(s);
  const n = end - start;
  if (slot >= 0) {
    const h = s.keys.valueAt(slot);
    s.bytes += n - s.values.size(h);
    const next = s.values.set(h, src, start, end, keep);
    if (next !== h) s.keys.setValueAt(slot, next);
    if (s.changesKnown) markSet(s, s.keys.keyAt(slot));
    return true;
  }
  s.bytes += keyBytes + n + ENTRY_OVERHEAD;
  const key = s.values.addKey(keySource, keyStart, keyStart + keyBytes);
  s.keys.insert(keyHash, key, s.values.add(keyHash, src, start, end, keep));
  if (s.changesKnown) markSet(s, key);
  return false;
}

/** The key whose cell's handle is `key` was set in this snapshot epoch. */
function markSet(s: MapState, key: number): void {
  if (key >= s.setIn.length) {
    const grown = new Uint32Array(Math.max(2 * s.setIn.length, key + 1));
    grown.set(s.setIn);
    s.setIn = grown;
  }
  s.setIn[key] = s.epoch;
}

/** Deletes the key just read by readKey; whether it existed. */
function remove(s: MapState): boolean {
  const slot = findKey(s);
  if (slot < 0) return false;
  const h = s.keys.valueAt(slot);
  const key = s.keys.keyAt(slot);
  if (s.changesKnown) {
    // Its cell may go to another key (which is then set, and stamped): the deletion is
    // remembered by the key's bytes.
    if (s.deleted.length < MAX_TRACKED_DELETIONS) s.deleted.push(s.values.copy(key));
    else s.changesKnown = false;
  }
  s.keys.removeAt(slot);
  s.bytes -= keyBytes + s.values.size(h) + ENTRY_OVERHEAD;
  s.values.delete(h);
  s.values.deleteKey(key);
  return true;
}

/**
 * Chunks up to this size are written into one buffer per thread, reused by every chunk of every map
 * snapshot (a chunk is valid until the next `next`: see SnapshotSource). A fresh array of a MiB
 * costs page faults and collections several times the copy into it (measured: a third of a 4 KiB
 * value workload's snapshot time).
 */
const MAX_REUSED_CHUNK_BYTES = 4 << 20;
let reusedChunk: Uint8Array | null = null;

/** Room for a chunk of `size` bytes, every one of which the caller writes. */
function chunkBuffer(size: number): Uint8Array {
  // Not zeroed: fresh zeroed pages cost more than the copy.
  if (size > MAX_REUSED_CHUNK_BYTES) return uninitializedBytes(size);
  if (reusedChunk === null || reusedChunk.length < size) reusedChunk = uninitializedBytes(Math.max(size, 64 * 1024));
  return reusedChunk.subarray(0, size);
}

/** Snapshots never read to their end (or never closed): their cells are reused once they are collected. */
const abandoned = new FinalizationRegistry<{ values: ValueStore; epoch: number }>(({ values, epoch }) => values.closeSnapshot(epoch));

/** What `apply` returns: one object, reused (read at once, as `MachineCore.apply` allows). */
const appliedOut: AppliedBytes<MapState> = { state: undefined as unknown as MapState, result: FALSE };

function applied(s: MapState, result: Uint8Array): AppliedBytes<MapState> {
  appliedOut.state = s;
  appliedOut.result = result;
  return appliedOut;
}

/**
 * A snapshot of `pairs` (key and value handles, see KeyIndex.pairs), after a chunk of the keys in
 * `deleted` if there are any. The keys and values of this moment stay where they are until the
 * snapshot is closed (see value-store.ts), whatever is applied meanwhile.
 * A chunk: u32 count | (string key, bytes value)*; or u32 (DELETIONS | count) | (string key)*. A
 * key's bytes are those of its string.
 */
function snapshotOf(values: ValueStore, pairs: Int32Array, deleted: Uint8Array[]): SnapshotSource {
  const epoch = values.openSnapshot();
  let closed = false;
  let i = 0;
  let first = true;
  let d = 0;
  const source: SnapshotSource = {
    next(maxBytes, space) {
      if (d < deleted.length) {
        const from = d;
        let size = 4;
        while (d < deleted.length && (d === from || size < maxBytes)) size += runBytes(deleted[d++]!.length);
        const out = space?.(size) ?? chunkBuffer(size);
        new DataView(out.buffer, out.byteOffset, 4).setUint32(0, (DELETIONS | (d - from)) >>> 0, true);
        let p = 4;
        for (let j = from; j < d; j++) p = putRun(out, p, deleted[j]!);
        // A snapshot of changes with deletions only still has its (empty) chunk of entries next.
        return out;
      }
      if (i >= pairs.length && !first) return null;
      first = false;
      // The chunk's size first (at most: long runs are placed at their alignment, see putRunOf),
      // then one array of that: each byte of the state is copied once per snapshot (not into a
      // growing writer, then out of it).
      const start = i;
      let end = i;
      let size = 4;
      while (end < pairs.length && (end === start || size < maxBytes)) {
        size += maxAlignedRunBytes(values.size(pairs[end]!)) + maxAlignedRunBytes(values.size(pairs[end + 1]!));
        end += 2;
      }
      // Straight into the snapshot store where it offers room (one copy of each byte, not two).
      const out = space?.(size) ?? chunkBuffer(size);
      new DataView(out.buffer, out.byteOffset, 4).setUint32(0, (end - start) / 2, true);
      let p = 4;
      for (; i < end; i++) p = values.putRunOf(pairs[i]!, out, p);
      if (p > size) throw new Error(`map snapshot: wrote ${p} bytes into ${size}`); // a bug in maxAlignedRunBytes
      // Every value is read: the cells may be reused from now on.
      if (i >= pairs.length) source.close!();
      return p === size ? out : out.subarray(0, p);
    },
    close() {
      if (closed) return;
      closed = true;
      abandoned.unregister(source);
      values.closeSnapshot(epoch);
    },
  };
  abandoned.register(source, { values, epoch }, source);
  return source;
}

const core: MachineCore<MapState> = {
  initial: () => {
    const values = new ValueStore();
    return { keys: new KeyIndex(values), values, bytes: 0, setIn: new Uint32Array(64), epoch: 1, deleted: [], changesKnown: true };
  },
  // Values are copied into cells (or, from shared memory, into arrays of their own): the slot's
  // bytes can stay where they lie.
  copiesCommands: true,
  apply: (s, command) => core.applyRange!(s, command, 0, command.length),
  // The executor hands over where the command lies in its slot: no view per command.
  applyRange(s, source, start, end) {
    const r = reader.reset(source, start, end);
    const op = r.u8();
    readKey(r);
    switch (op) {
      case Op.Set:
        // A value up to 16 KiB is copied into a cell; a longer one is kept where it lies, in the
        // slot, unless that is shared memory (the executor leaves slots there: copiesCommands).
        return applied(s, put(s, source, r.pos, end, true) ? TRUE : FALSE);
      case Op.Delete:
        return applied(s, remove(s) ? TRUE : FALSE);
      case Op.Cas: {
        const expected = r.bytesView();
        const slot = findKey(s);
        const matches = expected.length === 0 ? slot < 0 : slot >= 0 && s.values.equals(s.keys.valueAt(slot), expected);
        if (!matches) return applied(s, FALSE);
        put(s, source, r.pos, end, true);
        return applied(s, TRUE);
      }
    }
    throw new RangeError(`unknown map command ${op}`);
  },
  query(s, query) {
    const r = reader.reset(query);
    switch (r.u8()) {
      case Q.Get: {
        readKey(r);
        const slot = findKey(s);
        return slot < 0 ? EMPTY : s.values.copy(s.keys.valueAt(slot));
      }
      case Q.Has:
        readKey(r);
        return findKey(s) >= 0 ? TRUE : FALSE;
      case Q.Size: {
        const w = new WireWriter(8);
        w.uvar(s.keys.size);
        return w.buf.slice(0, w.pos);
      }
      case Q.Entries: {
        const flags = r.u8();
        const prefix = flags & 1 ? r.string() : undefined;
        const limit = flags & 2 ? r.uvar() : Infinity;
        const pairs = s.keys.pairs();
        const found: { key: string; value: number }[] = [];
        for (let i = 0; i < pairs.length; i += 2) {
          const key = strictUtf8.decode(s.values.view(pairs[i]!));
          if (prefix === undefined || key.startsWith(prefix)) found.push({ key, value: pairs[i + 1]! });
        }
        found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        const w = new WireWriter(256);
        const n = Math.min(found.length, limit);
        w.uvar(n);
        for (let i = 0; i < n; i++) {
          w.string(found[i]!.key);
          w.bytes(s.values.view(found[i]!.value));
        }
        return w.buf.slice(0, w.pos);
      }
    }
    throw new RangeError('unknown map query');
  },
  snapshot(s): SnapshotSource {
    resetChanges(s);
    return snapshotOf(s.values, s.keys.pairs(), []);
  },
  // Only the entries set and the keys deleted since the last snapshot: restored after it, they give
  // the state as it is now. A large state that changes in part then costs what changed, not all of it.
  snapshotChanges(s) {
    if (!s.changesKnown) return null;
    const all = s.keys.pairs();
    const { setIn, epoch } = s;
    let n = 0;
    for (let i = 0; i < all.length; i += 2) {
      if (setIn[all[i]!] !== epoch) continue;
      all[n++] = all[i]!;
      all[n++] = all[i + 1]!;
    }
    const deleted = s.deleted;
    resetChanges(s);
    return snapshotOf(s.values, all.subarray(0, n), deleted);
  },
  restore() {
    const s = core.initial();
    return {
      add(chunk) {
        // The chunk is a view valid during this call only (and may be a Buffer, whose `slice`
        // copies nothing): `put` copies each value into memory the state owns.
        const r = new ByteReader().reset(chunk, 4);
        const count = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength).getUint32(0, true);
        if (count & DELETIONS) {
          // Keys deleted since the snapshot restored before (see snapshotChanges).
          for (let j = 0; j < (count & ~DELETIONS); j++) {
            readKey(r);
            remove(s);
          }
          return;
        }
        for (let j = 0; j < count; j++) {
          readKey(r);
          const v = r.bytesView();
          put(s, v, 0, v.length, false);
        }
      },
      finish: () => {
        // The state is what the snapshot holds: changes count from here.
        resetChanges(s);
        return s;
      },
    };
  },
  size: (s) => s.bytes,
  frees: (command) => command[0] === Op.Delete,
  keys: (command) => {
    const r = reader.reset(command);
    r.u8();
    return [r.string()];
  },
  digest: (s) => s.values.digest() >>> 0,
};

const writer = new CanonicalWriter(256);
const head = new WireWriter(256);

/** Writes `op | key` then the canonical value, bounded so the whole command fits `maxBytes`. */
function command(op: Op, key: string, maxBytes: number, extra?: (w: CanonicalWriter) => void): Uint8Array {
  head.pos = 0;
  head.u8(op);
  head.string(key);
  const room = maxBytes - head.pos;
  if (room < 0) throw new TypeError(`the key alone is ${head.pos} bytes, over maxCommandBytes (${maxBytes})`);
  writer.reset({ maxBytes: room });
  extra?.(writer);
  const n = head.pos;
  const m = writer.pos;
  const out = new Uint8Array(n + m);
  // Short runs copied by hand: a typed-array view to `set` from costs more than the copy.
  const hb = head.buf;
  for (let i = 0; i < n; i++) out[i] = hb[i]!;
  const wb = writer.buf;
  if (m <= 64) for (let i = 0; i < m; i++) out[n + i] = wb[i]!;
  else out.set(wb.subarray(0, m), n);
  return out;
}

function valueOf(v: unknown, what: string): unknown {
  if (v === undefined) throw new TypeError(`${what} must not be undefined (use delete to remove a key)`);
  return v;
}

/** The command a `change` event describes (for watchers: they get the bytes the replicas applied). */
export function decodeMapCommand(bytes: Uint8Array): MapCommand {
  const r = new ByteReader().reset(bytes);
  const op = r.u8();
  const key = r.string();
  if (op === Op.Delete) return { op: 'delete', key };
  if (op === Op.Set) return { op: 'set', key, value: decode(bytes.subarray(r.pos)) };
  const expected = r.bytesView();
  return { op: 'cas', key, expected: expected.length === 0 ? null : decode(expected), value: decode(bytes.subarray(r.pos)) };
}

/** The ReplicatedMap's state machine (its module is loaded by every replica's worker). */
export const mapMachine = registerMachine<MapState, MapCommand, boolean, MapQuery, unknown>({
  module: import.meta.url,
  name: 'replicated-map',
  core,
  client: {
    encodeCommand(c, maxBytes) {
      if (typeof c !== 'object' || c === null) throw new TypeError('a map command must be an object');
      checkKey(c.key);
      switch (c.op) {
        case 'set':
          return command(Op.Set, c.key, maxBytes, (w) => w.value(valueOf(c.value, 'a value')));
        case 'delete':
          return command(Op.Delete, c.key, maxBytes);
        case 'cas': {
          if (c.expected === undefined) throw new TypeError('compareAndSet: expected must not be undefined (use null for "absent")');
          valueOf(c.value, 'a value');
          // expected, then the value, each canonical; the expected run carries its length.
          const expected = c.expected === null ? EMPTY : new CanonicalWriter().reset({ maxBytes }).value(c.expected).copy();
          return command(Op.Cas, c.key, maxBytes, (w) => {
            const lenW = new WireWriter(8);
            lenW.uvar(expected.length);
            w.buf.set(lenW.buf.subarray(0, lenW.pos), 0);
            w.pos = lenW.pos;
            raw(w, expected);
            w.value(c.value);
          });
        }
      }
      throw new TypeError(`unknown map command ${JSON.stringify((c as { op?: unknown }).op)} (set, delete, cas)`);
    },
    decodeResult: (bytes) => bytes[0] === 1,
    encodeQuery(q, maxBytes) {
      if (typeof q !== 'object' || q === null) throw new TypeError('a map query must be an object');
      const w = new WireWriter(64);
      switch (q.op) {
        case 'get':
          checkKey(q.key);
          w.u8(Q.Get);
          w.string(q.key);
          break;
        case 'has':
          checkKey(q.key);
          w.u8(Q.Has);
          w.string(q.key);
          break;
        case 'size':
          w.u8(Q.Size);
          break;
        case 'entries':
          if (q.prefix !== undefined && typeof q.prefix !== 'string') throw new TypeError('entries: prefix must be a string');
          if (q.limit !== undefined && !(Number.isInteger(q.limit) && q.limit > 0)) throw new TypeError('entries: limit must be a positive integer');
          w.u8(Q.Entries);
          w.u8((q.prefix !== undefined ? 1 : 0) | (q.limit !== undefined ? 2 : 0));
          if (q.prefix !== undefined) w.string(q.prefix);
          if (q.limit !== undefined) w.uvar(q.limit);
          break;
        default:
          throw new TypeError(`unknown map query ${JSON.stringify((q as { op?: unknown }).op)} (get, has, size, entries)`);
      }
      if (w.pos > maxBytes) throw new TypeError(`the query is ${w.pos} bytes, over maxQueryBytes (${maxBytes})`);
      return w.buf.slice(0, w.pos);
    },
    decodeAnswer: (bytes, q) => decodeMapAnswer(q, bytes),
    decodeCommand: decodeMapCommand,
  },
});

/** Appends raw bytes to a canonical writer (the already-encoded expected value). */
function raw(w: CanonicalWriter, bytes: Uint8Array): void {
  if (w.buf.length < w.pos + bytes.length) {
    const next = new Uint8Array(Math.max(w.buf.length * 2, w.pos + bytes.length + 64));
    next.set(w.buf.subarray(0, w.pos));
    w.buf = next;
  }
  w.buf.set(bytes, w.pos);
  w.pos += bytes.length;
}

/** Decodes a map query's answer (its shape depends on the query). */
export function decodeMapAnswer(q: MapQuery, bytes: Uint8Array): unknown {
  switch (q.op) {
    case 'get':
      return bytes.length === 0 ? undefined : decode(bytes);
    case 'has':
      return bytes[0] === 1;
    case 'size':
      return new ByteReader().reset(bytes).uvar();
    case 'entries': {
      const r = new ByteReader().reset(bytes);
      const n = r.uvar();
      const out: [string, unknown][] = [];
      for (let i = 0; i < n; i++) out.push([r.string(), decode(r.bytesView())]);
      return out;
    }
  }
}
