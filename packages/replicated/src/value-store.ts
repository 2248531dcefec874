/**
 * Where a map replica keeps its values, and each value's term of the state's digest.
 *
 * A `set` must not allocate an object the state keeps: a fresh value array stored in a long-lived
 * Map survives the young generation and is collected only by a full GC, which made a small `set`
 * cost about ten times a Map update (16-byte values, 16,000 keys, three replicas on one thread:
 * 0.35 us against 0.04 us each, most of it the collector). So a value is a handle, a small
 * integer; the key index (key-index.ts) maps a key's bytes to it, and the bytes of values (and of
 * keys) up to 16 KiB lie in cells of shared blocks, one size class per block (16, 32, 48, 64, 96,
 * 128 ... 4096, 6144, 8192, 12288, 16384 bytes: at most a third of a cell unused past 64 bytes).
 * A value overwritten by one of the same class is written over in place: the handle stays,
 * nothing is allocated. Longer values are kept as views or arrays of their own (large-values.ts),
 * which cost little beside their bytes. (Cells stopped at 4 KiB once: a "4 KiB" value, 4,096
 * bytes and its encoding's header, then took an array of its own per `set`, and at 4 KiB a
 * replica spent more time allocating and collecting those than on the rest of the command.)
 *
 * Snapshots read values after later commands are applied, so a cell a snapshot may still read is
 * not reused: while a snapshot is open, a value replaced goes to a new cell, and the old one is
 * freed only once every snapshot opened before that is closed. Cells freed are reused by the next
 * value of their class; blocks are not given back (the memory is that of the most values a
 * class ever held at once).
 *
 * Digest terms (the hash of a value seeded with its key's) are computed lazily: a value written is
 * hashed when the digest is next read, so a key written a thousand times in between costs one hash
 * of its value. No clocks, no randomness: which cell a value lands in may depend on when an
 * abandoned snapshot is collected (map-machine.ts), never what any read or digest sees.
 */
import { hashBytes } from '@synod/canonical';
import { alignedRunPrefix, copySharedBytes, putAlignedRun } from '@synod/actors/internals';
import { LargeValues, realign } from './large-values.js';

/** Cell sizes of the size classes. */
const CLASS_BYTES = [16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384];
/** Longest value kept in a cell; longer ones are large values. */
export const MAX_CELL_BYTES = 16384;
/** The class of a value of n bytes (n <= MAX_CELL_BYTES), by ceil(n / 16). */
const CLASS_BY_16 = new Uint8Array(MAX_CELL_BYTES / 16 + 1);
for (let i = 0, c = 0; i < CLASS_BY_16.length; i++) {
  while (CLASS_BYTES[c]! < i * 16) c++;
  CLASS_BY_16[i] = c;
}
/** Values up to this long are copied by hand (a view to `set` from costs more), at the cell's start. */
const MAX_BY_HAND = 64;

/**
 * Bytes of cell a value of `n` bytes needs: 7 more past MAX_BY_HAND out of shared memory, to be
 * copied at the source's alignment (see `copyIn`).
 */
function roomFor(n: number, shared: boolean): number {
  return shared && n > MAX_BY_HAND ? n + 7 : n;
}

/** The class of large values (no cell). */
const LARGE = 255;

/** The class of a value that needs `room` bytes of cell. */
function classOf(room: number): number {
  return room <= MAX_CELL_BYTES ? CLASS_BY_16[(room + 15) >> 4]! : LARGE;
}
/** Bytes of one block of cells. */
const BLOCK_BYTES = 64 * 1024;

/** The fields of a handle's record (see `ValueStore.meta`). */
const enum F {
  Block = 0,
  Offset = 1,
  Length = 2,
  Class = 3,
  Life = 4,
  Term = 5,
  KeyHash = 6,
}
const FIELDS = 8;

/** Where a handle is in its life. */
const enum Life {
  /** Free, or freed and waiting for open snapshots to close. */
  Free = 0,
  /** Held, its value not in the digest yet. */
  Unhashed = 1,
  /** Held, its term in the digest. */
  Hashed = 2,
  /** A key's bytes (key-index.ts): not in the digest (it seeds its value's term). */
  Key = 3,
}

const plainSubarray = Uint8Array.prototype.subarray;

/** A growable stack of handles. */
class Handles {
  items = new Int32Array(64);
  length = 0;
  push(h: number): void {
    if (this.length === this.items.length) {
      const more = new Int32Array(this.items.length * 2);
      more.set(this.items);
      this.items = more;
    }
    this.items[this.length++] = h;
  }
  pop(): number {
    return this.items[--this.length]!;
  }
}

export class ValueStore {
  /**
   * Per handle, in one record of `FIELDS` ints (a value's fields share a cache line: a replica
   * touching a few of them for each of thousands of keys misses the cache once, not once per field).
   */
  private meta = new Int32Array(64 * FIELDS);
  private handles = 0;

  private blocks: Uint8Array[] = [];
  /** Per class: free handles (each with its cell), and the block cells are cut from next. */
  private free: Handles[] = CLASS_BYTES.map(() => new Handles());
  private freeLarge = new Handles();
  private cutBlock = new Int32Array(CLASS_BYTES.length).fill(-1);
  private cutAt = new Int32Array(CLASS_BYTES.length);

  private large = new Map<number, Uint8Array>();
  private largeMemory = new LargeValues();
  /** Large values freed while snapshots that may read them are open. */
  private retiredLarge = new Map<number, Uint8Array>();

  /** Sum (mod 2^32) of the terms of the values hashed. */
  private sum = 0;
  /** Handles written since the digest was last read (some maybe freed or hashed since). */
  private unhashed = new Handles();
  private live = 0;

  /** Snapshots open (by the epoch each was opened in), and handles freed meanwhile, by epoch. */
  private epoch = 0;
  private open: number[] = [];
  private retired: number[] = [];
  private retiredEpoch: number[] = [];
  private retiredHead = 0;

  /** The handle of a new value `src[start, end)` of a key whose UTF-8 bytes hash to `keyHash`; `keep`: see `set`. */
  add(keyHash: number, src: Uint8Array, start: number, end: number, keep: boolean): number {
    const shared = src.buffer instanceof SharedArrayBuffer;
    const h = this.alloc(roomFor(end - start, shared));
    this.meta[h * FIELDS + F.KeyHash] = keyHash;
    this.write(h, src, start, end, keep && !shared, shared);
    this.live++;
    return h;
  }

  /**
   * Makes `src[start, end)` the value of the key whose value is `h`; the handle to keep for it
   * (`h` itself when written over in place). `keep`: `src` is bytes nothing changes or reuses (a
   * command), so a large value may be kept as a view of it, unless they lie in shared memory (a
   * slot left where it lies: `MachineCore.copiesCommands`); otherwise everything is copied.
   */
  set(h: number, src: Uint8Array, start: number, end: number, keep: boolean): number {
    const shared = src.buffer instanceof SharedArrayBuffer;
    const c = this.meta[h * FIELDS + F.Class]!;
    const room = roomFor(end - start, shared);
    if (this.open.length === 0 && c !== LARGE && classOf(room) === c) {
      this.write(h, src, start, end, false, shared);
      return h;
    }
    if (this.open.length === 0 && c === LARGE && shared) {
      // A large value out of a slot in shared memory over one of the same length that is a copy of
      // our own: written over in place, as cells are. A fresh array of a MiB per `set` cost page
      // faults and collections (a fifth of a cluster writing 1 MiB values was the collector).
      // Placed at the new value's alignment (the buffer has the slack: ownCopy), so that the copy
      // out of shared memory goes word by word.
      const old = this.large.get(h)!;
      const into = old.length === end - start && this.largeMemory.isOwnCopy(old) ? realign(old, end - start, src.byteOffset + start) : null;
      if (into !== null) {
        if (into !== old) this.large.set(h, into);
        copySharedBytes(into, 0, plainSubarray.call(src, start, end));
        this.unhash(h);
        return h;
      }
    }
    const next = this.alloc(room);
    this.meta[next * FIELDS + F.KeyHash] = this.meta[h * FIELDS + F.KeyHash]!;
    this.write(next, src, start, end, keep && !shared, shared);
    this.release(h);
    return next;
  }

  /** The handle of a copy of the key bytes `src[start, end)` (at most 4 KiB), kept out of the digest. */
  addKey(src: Uint8Array, start: number, end: number): number {
    const shared = src.buffer instanceof SharedArrayBuffer;
    const h = this.alloc(roomFor(end - start, shared));
    this.copyIn(h, src, start, end, false, shared);
    this.meta[h * FIELDS + F.Life] = Life.Key;
    return h;
  }

  /** The key whose cell is `h` is gone. */
  deleteKey(h: number): void {
    this.release(h);
  }

  /** The key whose value is `h` is gone. */
  delete(h: number): void {
    this.release(h);
    this.live--;
  }

  /** Bytes of `h`'s value. */
  size(h: number): number {
    return this.meta[h * FIELDS + F.Length]!;
  }

  /** Bytes of the blocks of cells (values up to 16 KiB, their cells free or not). */
  get cellBytes(): number {
    return this.blocks.length * BLOCK_BYTES;
  }

  /** A view of `h`'s value, valid until the store next changes. */
  view(h: number): Uint8Array {
    const m = this.meta;
    const r = h * FIELDS;
    if (m[r + F.Class] === LARGE) return (this.large.get(h) ?? this.retiredLarge.get(h))!;
    const at = m[r + F.Offset]!;
    return plainSubarray.call(this.blocks[m[r + F.Block]!]!, at, at + m[r + F.Length]!);
  }

  /**
   * Writes `h`'s value with its length in front at `out[p]` (room made by `maxAlignedRunBytes(size(h))`),
   * a long value at its own alignment modulo 8 (see `alignedRunPrefix`: a snapshot goes into shared
   * memory, where a copy between unequal alignments takes a detour through scratch buffers); returns
   * the position after it. A short value is copied by hand, without the view: a snapshot of a map
   * of small entries made two views per entry, most of what writing it cost.
   */
  putRunOf(h: number, out: Uint8Array, p: number): number {
    const m = this.meta;
    const r = h * FIELDS;
    const n = m[r + F.Length]!;
    if (n > MAX_BY_HAND || m[r + F.Class] === LARGE) {
      const v = this.view(h);
      // alignedRunPrefix counts from the start of `out`'s buffer.
      return putAlignedRun(out, p, v, alignedRunPrefix(out.byteOffset + p, v));
    }
    out[p++] = n; // n < 0x80: a one-byte uvar
    const b = this.blocks[m[r + F.Block]!]!;
    const at = m[r + F.Offset]!;
    for (let i = 0; i < n; i++) out[p + i] = b[at + i]!;
    return p + n;
  }

  /** A copy of `h`'s value of its own. */
  copy(h: number): Uint8Array {
    return this.view(h).slice();
  }

  /** Whether `h`'s bytes are `src[start, end)`. */
  equalsRange(h: number, src: Uint8Array, start: number, end: number): boolean {
    const m = this.meta;
    const r = h * FIELDS;
    if (m[r + F.Length] !== end - start) return false;
    // A cell's bytes in place; a large value's from its own array.
    const large = m[r + F.Class] === LARGE;
    const b = large ? this.view(h) : this.blocks[m[r + F.Block]!]!;
    const at = (large ? 0 : m[r + F.Offset]!) - start;
    for (let i = start; i < end; i++) if (b[at + i] !== src[i]) return false;
    return true;
  }

  /** Whether `h`'s value is `bytes`. */
  equals(h: number, bytes: Uint8Array): boolean {
    return this.equalsRange(h, bytes, 0, bytes.length);
  }

  /** The digest: the sum (mod 2^32) of every value's term; hashes the values written since it was last read. */
  digest(): number {
    const pending = this.unhashed;
    for (let i = 0; i < pending.length; i++) {
      const h = pending.items[i]!;
      const m = this.meta;
      const r = h * FIELDS;
      if (m[r + F.Life] !== Life.Unhashed) continue;
      const at = m[r + F.Offset]!;
      const t =
        m[r + F.Class] === LARGE
          ? hashBytes(this.large.get(h)!, m[r + F.KeyHash]!)
          : hashBytes(this.blocks[m[r + F.Block]!]!, m[r + F.KeyHash]!, at, at + m[r + F.Length]!);
      m[r + F.Term] = t;
      m[r + F.Life] = Life.Hashed;
      this.sum = (this.sum + t) | 0;
    }
    pending.length = 0;
    return this.sum;
  }

  /**
   * Opens a snapshot: until `close` is called with what this returns, no value the store holds
   * now is written over or its cell reused.
   */
  openSnapshot(): number {
    this.open.push(++this.epoch);
    return this.epoch;
  }

  /** Closes a snapshot `openSnapshot` opened (again: nothing); frees what only it could still read. */
  closeSnapshot(epoch: number): void {
    const i = this.open.indexOf(epoch);
    if (i < 0) return;
    this.open.splice(i, 1);
    // A handle freed in epoch e may be read by snapshots opened in epochs up to e.
    let oldest = Infinity;
    for (const e of this.open) oldest = Math.min(oldest, e);
    while (this.retiredHead < this.retired.length && this.retiredEpoch[this.retiredHead]! < oldest) this.reuse(this.retired[this.retiredHead++]!);
    if (this.retiredHead === this.retired.length) {
      this.retired.length = 0;
      this.retiredEpoch.length = 0;
      this.retiredHead = 0;
    }
  }

  /**
   * Takes `h`'s old value out of the digest (its term is kept) and marks its new one, now in
   * place, to be hashed in when the digest is next read.
   */
  private unhash(h: number): void {
    const m = this.meta;
    const r = h * FIELDS;
    if (m[r + F.Life] === Life.Hashed) this.sum = (this.sum - m[r + F.Term]!) | 0;
    if (m[r + F.Life] !== Life.Unhashed) {
      m[r + F.Life] = Life.Unhashed;
      this.unhashed.push(h);
      // Never read (a machine without digests): hash now and then, so the list stays bounded.
      if (this.unhashed.length > 2 * this.live + 4096) this.digest();
    }
  }

  /** A free handle whose cell (if any) has `room` bytes (see `roomFor`). */
  private alloc(room: number): number {
    const c = classOf(room);
    const free = c === LARGE ? this.freeLarge : this.free[c]!;
    if (free.length > 0) return free.pop();
    const h = this.grow();
    const m = this.meta;
    const r = h * FIELDS;
    m[r + F.Class] = c;
    if (c === LARGE) return h;
    const cell = CLASS_BYTES[c]!;
    if (this.cutBlock[c]! < 0 || this.cutAt[c]! + cell > BLOCK_BYTES) {
      this.cutBlock[c] = this.blocks.length;
      this.blocks.push(new Uint8Array(BLOCK_BYTES));
      this.cutAt[c] = 0;
    }
    m[r + F.Block] = this.cutBlock[c]!;
    m[r + F.Offset] = this.cutAt[c]!; // the cell's start (values past MAX_BY_HAND may start up to 7 bytes in)
    this.cutAt[c]! += cell;
    return h;
  }

  /** Writes `src[start, end)` into `h` (whose cell, if any, fits it) and marks it unhashed. */
  private write(h: number, src: Uint8Array, start: number, end: number, keep: boolean, shared: boolean): void {
    this.copyIn(h, src, start, end, keep, shared);
    this.unhash(h);
  }

  /** Puts `src[start, end)` (`shared`: in shared memory) in `h`, whose cell, if any, fits it; `keep`: a large value as a view. */
  private copyIn(h: number, src: Uint8Array, start: number, end: number, keep: boolean, shared: boolean): void {
    const n = end - start;
    const m = this.meta;
    const r = h * FIELDS;
    m[r + F.Length] = n;
    if (m[r + F.Class] === LARGE) {
      const memory = this.largeMemory;
      this.large.set(h, keep ? memory.keep(src, start, end) : memory.copyOut(src, start, end));
      memory.step(this.large, n, (k, copy) => this.large.set(k, copy));
    } else {
      const b = this.blocks[m[r + F.Block]!]!;
      // Cells start at multiples of 16, in blocks whose memory starts 8-aligned.
      const cell = m[r + F.Offset]! & ~15;
      // Out of shared memory, past MAX_BY_HAND: at the source's alignment modulo 8 in the cell
      // (which has room: roomFor), for a copy out of shared memory goes word by word only then.
      const at = shared && n > MAX_BY_HAND ? cell + ((src.byteOffset + start - cell) & 7) : cell;
      m[r + F.Offset] = at;
      // Short runs by hand: a view to `set` from costs more than the copy.
      if (n <= MAX_BY_HAND) for (let i = 0; i < n; i++) b[at + i] = src[start + i]!;
      else b.set(plainSubarray.call(src, start, end), at);
    }
  }

  /** `h`'s value is no longer held: out of the digest, and its cell reused once no open snapshot may read it. */
  private release(h: number): void {
    const m = this.meta;
    const r = h * FIELDS;
    if (m[r + F.Life] === Life.Hashed) this.sum = (this.sum - m[r + F.Term]!) | 0;
    m[r + F.Life] = Life.Free;
    if (m[r + F.Class] === LARGE) {
      const v = this.large.get(h)!;
      this.large.delete(h);
      this.largeMemory.drop(v);
      if (this.open.length > 0) this.retiredLarge.set(h, v);
      else this.largeMemory.recycle(v);
    }
    if (this.open.length === 0) this.reuse(h);
    else {
      this.retired.push(h);
      this.retiredEpoch.push(this.epoch);
    }
  }

  private reuse(h: number): void {
    const c = this.meta[h * FIELDS + F.Class]!;
    if (c === LARGE) {
      const v = this.retiredLarge.get(h);
      if (v !== undefined) {
        this.retiredLarge.delete(h);
        this.largeMemory.recycle(v);
      }
      this.freeLarge.push(h);
    } else this.free[c]!.push(h);
  }

  /** A new handle, its record room made if need be. */
  private grow(): number {
    const h = this.handles++;
    if ((h + 1) * FIELDS > this.meta.length) {
      const wider = new Int32Array(2 * this.meta.length);
      wider.set(this.meta);
      this.meta = wider;
    }
    return h;
  }
}
