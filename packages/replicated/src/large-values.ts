/**
 * Memory for the map's large values (past 16 KiB; shorter ones are copied into cells of
 * value-store.ts). A large value is kept where it lies, no copy:
 *
 * - a value applied from the log is kept as a view of the command it came in, when the slot is
 *   bytes of the replica's own that nothing changes or reuses (`MachineCore.apply`);
 * - a value in a slot still in shared memory (the map `copiesCommands`: the executor leaves slots
 *   where they lie), or restored from a snapshot chunk (valid during the call only), is copied into
 *   an array of its own.
 *
 * Buffers are never changed (snapshots being written keep the views they took). A buffer lives
 * while any value in it does, so overwritten values leave garbage behind, and a slot's buffer
 * holds its other bytes too. Each buffer's live bytes are counted, and with them the bytes of the
 * buffers still holding a live value: once those pass three times the live bytes (and a slot or
 * two), a compaction pass copies the live values of buffers more than half garbage into arrays of
 * their own, a few at a time ({@link LargeValues.step}: about twice the bytes of each value
 * stored, so no single command pays for the whole state), after which those buffers are garbage.
 * Buffers whose values are all overwritten (hot keys) cost nothing and need no pass; a buffer
 * mostly live stays as it is. Value memory stays within about three times the live bytes and a
 * slot or two (four and a half during a pass).
 */

import { uninitializedBytes } from '@synod/actors/internals';

/** Slack besides three times the live bytes before a compaction pass starts. */
const SLACK_BYTES = 64 * 1024;
/**
 * The most bytes of freed copies kept for reuse (see `LargeValues.recycle`). While a snapshot is
 * written no value is written over in place, so each overwrite takes a fresh array, and the old
 * ones are freed together when it finishes: kept, they serve the next snapshot's overwrites.
 */
export const MAX_RECYCLED_BYTES = 64 * 1024 * 1024;

const plainSubarray = Uint8Array.prototype.subarray;
const plainSlice = Uint8Array.prototype.slice;

/**
 * A copy of `src[start, end)` in an array of its own: a typed-array `slice` (a Buffer's own
 * `slice` would make a view), except out of shared memory, where it goes at the source's
 * alignment modulo 8, in a buffer 7 bytes longer than the value: only then is a copy out of
 * shared memory word by word rather than byte by byte (@synod/actors shared-copy.ts), and the next
 * value of the key, wherever it lies, can be written over it at its own alignment (see `realign`).
 */
export function ownCopy(src: Uint8Array, start: number, end: number, recycled?: ArrayBuffer): Uint8Array {
  if (!(src.buffer instanceof SharedArrayBuffer)) return plainSlice.call(src, start, end);
  const n = end - start;
  const own = new Uint8Array(recycled ?? uninitializedBytes(n + 7).buffer, (src.byteOffset + start) & 7, n);
  own.set(plainSubarray.call(src, start, end));
  return own;
}

/**
 * `n` bytes of `copy`'s buffer (one `ownCopy` made) placed at `sourceOffset`'s alignment modulo 8:
 * `copy` itself when it is, else a view of the same buffer shifted into its slack; null when the
 * buffer has no slack (a copy of a plain array).
 */
export function realign(copy: Uint8Array, n: number, sourceOffset: number): Uint8Array | null {
  const at = sourceOffset & 7;
  if ((copy.byteOffset & 7) === at && copy.length === n) return copy;
  // Own buffers start 8-aligned: offset `at` in one has the source's alignment.
  if (copy.buffer.byteLength < at + n) return null;
  return new Uint8Array(copy.buffer, at, n);
}

/** What a buffer holding values holds: live bytes of values, of its size. */
interface BufferUse {
  live: number;
  size: number;
}

/** The views and copies of a map's large values, and the pass that compacts them. */
export class LargeValues {
  /** Bytes of values kept here now. */
  private liveBytes = 0;
  /** Bytes of the buffers holding live values (whole buffers: a slot's other bytes count). */
  private heldBytes = 0;
  /** Live bytes of each buffer holding values, so a pass moves values only out of buffers mostly garbage. */
  private uses = new WeakMap<ArrayBufferLike, BufferUse>();
  /** The buffer a value was last kept in as a view, and its use (a slot's values come one after another). */
  private lastKept: ArrayBufferLike | null = null;
  private lastUse: BufferUse = { live: 0, size: 0 };
  /** The one before (a key overwritten a slot later drops a value of it: no lookup then). */
  private prevKept: ArrayBufferLike | null = null;
  private prevUse: BufferUse = { live: 0, size: 0 };
  /** The compaction pass under way: where it is in the values, and the buffers that took values since it began (not moved again). */
  private pass: Iterator<[unknown, Uint8Array]> | null = null;
  private fresh = new WeakSet<ArrayBufferLike>();
  /** Buffers of copies made here (`copyOut`): each holds one value and nothing else. */
  private owned = new WeakSet<ArrayBufferLike>();

  /** Counts `n` more live bytes in the buffer of `use`. */
  private add(use: BufferUse, n: number): void {
    if (use.live === 0) this.heldBytes += use.size;
    use.live += n;
    this.liveBytes += n;
  }

  /**
   * Keeps `src[start, end)` as a view, no copy: `src` must be bytes that nothing changes or
   * reuses, for as long as the view is held (see the top of this file).
   */
  keep(src: Uint8Array, start: number, end: number): Uint8Array {
    const buffer = src.buffer;
    if (buffer !== this.lastKept) {
      this.prevKept = this.lastKept;
      this.prevUse = this.lastUse;
      this.lastKept = buffer;
      let use = this.uses.get(buffer);
      if (use === undefined) {
        use = { live: 0, size: buffer.byteLength };
        this.uses.set(buffer, use);
        if (this.pass !== null) this.fresh.add(buffer);
      }
      this.lastUse = use;
    }
    this.add(this.lastUse, end - start);
    return plainSubarray.call(src, start, end);
  }

  /** Freed copies' buffers out of shared memory, by size (see `recycle`), and their bytes. */
  private recycled = new Map<number, ArrayBuffer[]>();
  private recycledBytes = 0;

  /** A copy of `src[start, end)` in an array of its own, that stays valid for as long as it is held. */
  copyOut(src: Uint8Array, start: number, end: number): Uint8Array {
    let buffer: ArrayBuffer | undefined;
    if (this.recycledBytes > 0 && src.buffer instanceof SharedArrayBuffer) {
      buffer = this.recycled.get(end - start + 7)?.pop();
      if (buffer !== undefined) this.recycledBytes -= buffer.byteLength;
    }
    const own = ownCopy(src, start, end, buffer);
    const use = { live: 0, size: own.buffer.byteLength };
    this.uses.set(own.buffer, use);
    this.owned.add(own.buffer);
    this.add(use, end - start);
    if (this.pass !== null) this.fresh.add(own.buffer);
    return own;
  }

  /**
   * Whether `value` is a copy made here (not a view of a command), so that its bytes may be
   * written over in place once nothing else can read them (see `ValueStore.set`).
   */
  isOwnCopy(value: Uint8Array): boolean {
    return this.owned.has(value.buffer);
  }

  /**
   * `value`, which the owner dropped, can no longer be read by anyone (no snapshot open since):
   * a copy of our own out of shared memory gives its buffer to a later `copyOut` of the same
   * length, up to {@link MAX_RECYCLED_BYTES}, instead of to the collector.
   */
  recycle(value: Uint8Array): void {
    const buffer = value.buffer;
    if (!this.owned.has(buffer) || buffer instanceof SharedArrayBuffer || buffer.byteLength !== value.length + 7) return;
    if (this.recycledBytes + buffer.byteLength > MAX_RECYCLED_BYTES) return;
    let list = this.recycled.get(buffer.byteLength);
    if (list === undefined) this.recycled.set(buffer.byteLength, (list = []));
    list.push(buffer);
    this.recycledBytes += buffer.byteLength;
  }

  /** The owner no longer holds `value` (from `keep` or `copyOut`). */
  drop(value: Uint8Array): void {
    this.liveBytes -= value.length;
    const buffer = value.buffer;
    const use = buffer === this.lastKept ? this.lastUse : buffer === this.prevKept ? this.prevUse : this.uses.get(buffer);
    if (use === undefined) return;
    use.live -= value.length;
    if (use.live === 0) this.heldBytes -= use.size;
  }

  /**
   * After the owner stored a value of `n` bytes in `values`: starts a compaction pass when the
   * buffers holding live values hold more than three times the live bytes (and a slot or two), and,
   * while one is under way, moves about `2 n` bytes of live values out of older buffers that are
   * more than half garbage (a buffer mostly live would only be copied whole), each through
   * `replace(key, copy)`. Buffers whose values are all gone cost nothing: no pass is needed for them.
   */
  step<K>(values: Map<K, Uint8Array>, n: number, replace: (key: K, copy: Uint8Array) => void): void {
    if (this.pass === null) {
      // Besides three times the live bytes: the slot being applied and the one before, and some slack.
      if (this.heldBytes <= 3 * this.liveBytes + 2 * this.lastUse.size + SLACK_BYTES) return;
      // From here on values go to fresh buffers; the pass moves the others there too.
      this.pass = values[Symbol.iterator]() as Iterator<[unknown, Uint8Array]>;
      this.fresh = new WeakSet();
      // The slot being applied is still filling: its buffer counts as fresh.
      if (this.lastKept !== null) this.fresh.add(this.lastKept);
    }
    const pass = this.pass;
    for (let moved = 0; moved < 2 * n; ) {
      const next = pass.next();
      if (next.done) {
        this.pass = null;
        return;
      }
      const [k, v] = next.value;
      // A visit costs something too: a pass over values it leaves is paced as well.
      moved += 64;
      if (this.fresh.has(v.buffer)) continue;
      const use = this.uses.get(v.buffer);
      if (use === undefined || 2 * use.live >= use.size) continue;
      replace(k as K, this.copyOut(v, 0, v.length));
      this.drop(v);
      moved += v.length;
    }
  }
}
