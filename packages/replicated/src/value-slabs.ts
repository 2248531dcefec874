/**
 * Memory for the map's values. A replica keeps a copy of every value it stores (the command's
 * bytes belong to the slot they arrived in). A Uint8Array of its own is cheap only up to 64 bytes:
 * past V8's `typed_array_max_size_in_heap` its bytes live off the heap, and making and collecting
 * one costs about ten times as much (about 1 us against 0.1), on every replica, for every `set`.
 * So mid-sized values are copied into large blocks (slabs) and kept as views of them, which cost
 * what a small array does.
 *
 * Slabs are append-only: a view, once handed out, never changes (snapshots being written keep
 * the views they took). A slab lives while any value in it does, so overwritten values leave
 * garbage behind: once the slabs hold more than twice the live bytes, a compaction pass moves
 * every live value into fresh slabs, a few at a time ({@link ValueSlabs.step}: about twice the
 * bytes of each value stored, so no single command pays for the whole state), after which the old
 * slabs are garbage. Slab memory stays within a small multiple of the live bytes (about three
 * times, four and a half during a pass), for about half a copy more per byte written.
 */

/** Values this long or shorter get an array of their own: it sits on V8's heap (see above). */
const MAX_HEAP_BYTES = 64;
/** Bytes of one slab. */
const SLAB_BYTES = 64 * 1024;
/** Longer values get an array of their own (its off-heap cost is small beside the copy): at most this is left unused at a slab's end. */
const MAX_SLAB_VALUE_BYTES = 4096;

const plainSubarray = Uint8Array.prototype.subarray;

/** Whether a value of `n` bytes is kept in a slab. */
export function inSlab(n: number): boolean {
  return n > MAX_HEAP_BYTES && n <= MAX_SLAB_VALUE_BYTES;
}

const plainSlice = Uint8Array.prototype.slice;

/**
 * A copy of `src[start, end)` in an array of its own: a typed-array `slice` (one allocation; a
 * Buffer's own `slice` would make a view), except past 4 KiB out of shared memory, where it goes
 * at the source's alignment modulo 8 (a view of an array 1-7 bytes longer): only then is a copy out
 * of shared memory word by word rather than byte by byte (@synod/actors shared-copy.ts).
 */
export function ownCopy(src: Uint8Array, start: number, end: number): Uint8Array {
  const n = end - start;
  const shift = n > MAX_SLAB_VALUE_BYTES && src.buffer instanceof SharedArrayBuffer ? (src.byteOffset + start) & 7 : 0;
  if (shift === 0) return plainSlice.call(src, start, end);
  const own = new Uint8Array(n + shift).subarray(shift);
  own.set(plainSubarray.call(src, start, end));
  return own;
}

export class ValueSlabs {
  private slab = new Uint8Array(0);
  private used = 0;
  /** Bytes of values in slabs now (the map tells: `liveBytes += n` as it keeps one, `-= n` as it drops one). */
  liveBytes = 0;
  /** Bytes copied into slabs since the last pass began, live or not. */
  private writtenBytes = 0;
  /** The compaction pass under way: where it is in the entries, and the slabs made since it began (not moved again). */
  private pass: Iterator<[unknown, Uint8Array]> | null = null;
  private fresh = new WeakSet<ArrayBufferLike>();

  /** A copy of `src[start, end)` (its length `inSlab`) that stays valid and unchanged for as long as it is held. */
  copy(src: Uint8Array, start: number, end: number): Uint8Array {
    const n = end - start;
    // At the source's offset modulo 8: a copy out of shared memory (the slot's arena) is done word by
    // word only when both ends are equally aligned, byte by byte (about ten times slower) otherwise.
    let at = this.used + ((src.byteOffset + start - this.used) & 7);
    if (at + n > this.slab.length) {
      this.slab = new Uint8Array(SLAB_BYTES);
      this.used = 0;
      if (this.pass !== null) this.fresh.add(this.slab.buffer);
      at = (src.byteOffset + start) & 7;
    }
    const slab = this.slab;
    // Through a plain view: `src` may be a view of shared memory whose own `subarray` costs more.
    slab.set(plainSubarray.call(src, start, end), at);
    this.used = at + n;
    this.writtenBytes += n;
    return slab.subarray(at, at + n);
  }

  /**
   * After the owner stored a value of `n` bytes in `entries`: starts a compaction pass when the
   * slabs hold more than twice the live bytes, and moves about `2 n` bytes of live values out of
   * old slabs while one is under way, each through `replace(key, copy)`.
   */
  step<K>(entries: Map<K, Uint8Array>, n: number, replace: (key: K, copy: Uint8Array) => void): void {
    if (this.pass === null) {
      if (this.writtenBytes <= 2 * this.liveBytes + SLAB_BYTES) return;
      // From here on values go to fresh slabs; the pass moves the others there too.
      this.pass = entries[Symbol.iterator]() as Iterator<[unknown, Uint8Array]>;
      this.fresh = new WeakSet();
      this.slab = new Uint8Array(0);
      this.used = 0;
      this.writtenBytes = 0;
    }
    const pass = this.pass;
    for (let moved = 0; moved < 2 * n; ) {
      const next = pass.next();
      if (next.done) {
        this.pass = null;
        return;
      }
      const [k, v] = next.value;
      if (!inSlab(v.length) || this.fresh.has(v.buffer)) {
        moved += MAX_HEAP_BYTES; // a visit costs something too: a pass over small values is paced as well
        continue;
      }
      replace(k as K, this.copy(v, 0, v.length));
      moved += v.length;
    }
  }
}
