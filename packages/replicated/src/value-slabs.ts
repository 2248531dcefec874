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
 * garbage behind: once the slabs written since the last compaction hold twice the live bytes, the
 * owner copies every live value into fresh slabs ({@link ValueSlabs.compact}). Slab memory stays
 * within about three times the live bytes, for at most half a copy more per byte written.
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

export class ValueSlabs {
  private slab = new Uint8Array(0);
  private used = 0;
  /** Bytes of values in slabs now (the map tells: `live(+n)` as it keeps one, `live(-n)` as it drops one). */
  liveBytes = 0;
  /** Bytes copied into slabs since the last compaction, live or not. */
  private writtenBytes = 0;

  /** A copy of `src[start, end)` that stays valid and unchanged for as long as it is held. */
  copy(src: Uint8Array, start: number, end: number): Uint8Array {
    const n = end - start;
    if (!inSlab(n)) {
      // Not `src.slice`: on a Buffer that is a view, not a copy.
      const own = new Uint8Array(n);
      own.set(plainSubarray.call(src, start, end));
      return own;
    }
    if (this.used + n > this.slab.length) {
      this.slab = new Uint8Array(SLAB_BYTES);
      this.used = 0;
    }
    const at = this.used;
    const slab = this.slab;
    // Through a plain view: `src` may be a view of shared memory whose own `subarray` costs more.
    slab.set(plainSubarray.call(src, start, end), at);
    this.used = at + n;
    this.writtenBytes += n;
    return slab.subarray(at, at + n);
  }

  /** Whether the owner should compact now: the slabs hold more than twice the live bytes (and more than one slab). */
  get wasteful(): boolean {
    return this.writtenBytes > 2 * this.liveBytes + SLAB_BYTES;
  }

  /**
   * Copies every value in slabs that `values` holds into fresh slabs, through `replace(key, copy)`;
   * the old slabs are collected once nothing else holds them.
   */
  compact<K>(values: Iterable<[K, Uint8Array]>, replace: (key: K, copy: Uint8Array) => void): void {
    this.slab = new Uint8Array(0);
    this.used = 0;
    this.writtenBytes = 0;
    for (const [k, v] of values) if (inSlab(v.length)) replace(k, this.copy(v, 0, v.length));
  }
}
