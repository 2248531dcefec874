/**
 * Copying bytes to or from shared memory at full speed.
 *
 * V8 copies between typed arrays with `memmove`, except when either side is a SharedArrayBuffer:
 * then it copies with relaxed atomic loads and stores, word by word only when source and
 * destination are equally aligned modulo 8, and byte by byte otherwise. Measured on this project's
 * machines: 10-20 GB/s aligned, 1.3-1.7 GB/s not, for 4 KiB to 64 KiB. A value's offset in a slot,
 * a ring or a store record is arbitrary, so most copies were the slow kind.
 *
 * Where the caller picks where the bytes go, it should place them at the source's alignment
 * (`alignedStart`). Where it cannot, {@link copySharedBytes} goes through a plain scratch buffer:
 * the copy touching shared memory is aligned, and the shift happens between plain memory, where
 * `memmove` does not care. Two fast copies beat one slow one from about 1 KiB; below that the
 * bytes are copied directly.
 */

/** Below this, the direct copy costs less than the detour (measured: even at 1 KiB, better at 4 KiB). */
const MIN_DETOUR_BYTES = 2048;
/** The scratch buffers' size: bigger copies go through them in parts (a bound on the memory kept). */
const SCRATCH_BYTES = 64 * 1024;

const subarray = Uint8Array.prototype.subarray;
let scratchA: Uint8Array | null = null;
let scratchB: Uint8Array | null = null;

function isShared(a: Uint8Array): boolean {
  return a.buffer instanceof SharedArrayBuffer;
}

/**
 * The first offset at or after `from` with the same alignment modulo 8 as `src[srcStart]`: placing a
 * copy there makes it a word-by-word copy (see above). At most 7 bytes past `from`.
 */
export function alignedStart(from: number, src: Uint8Array, srcStart = 0): number {
  return from + ((src.byteOffset + srcStart - from) & 7);
}

/** `dst.set(src, dstOffset)`, fast whichever way the two are aligned (see above). */
export function copySharedBytes(dst: Uint8Array, dstOffset: number, src: Uint8Array): void {
  const n = src.length;
  const dstShared = isShared(dst);
  const srcShared = isShared(src);
  if (n < MIN_DETOUR_BYTES || (!dstShared && !srcShared) || ((dst.byteOffset + dstOffset - src.byteOffset) & 7) === 0) {
    dst.set(src, dstOffset);
    return;
  }
  scratchA ??= new Uint8Array(SCRATCH_BYTES + 8);
  const srcShift = srcShared ? src.byteOffset & 7 : 0;
  const dstShift = (dst.byteOffset + dstOffset) & 7;
  for (let o = 0; o < n; o += SCRATCH_BYTES) {
    const m = Math.min(SCRATCH_BYTES, n - o);
    const part = m === n ? src : subarray.call(src, o, o + m);
    if (!srcShared) {
      // Plain source: shift it to the destination's alignment, then one aligned copy into shared memory.
      scratchA.set(part, dstShift);
      dst.set(subarray.call(scratchA, dstShift, dstShift + m), dstOffset + o);
    } else if (!dstShared) {
      // Shared source: an aligned copy out of it, then the shift in plain memory.
      scratchA.set(part, srcShift);
      dst.set(subarray.call(scratchA, srcShift, srcShift + m), dstOffset + o);
    } else {
      // Both shared: aligned out, shifted in plain memory, aligned in.
      scratchB ??= new Uint8Array(SCRATCH_BYTES + 8);
      scratchA.set(part, srcShift);
      scratchB.set(subarray.call(scratchA, srcShift, srcShift + m), dstShift);
      dst.set(subarray.call(scratchB, dstShift, dstShift + m), dstOffset + o);
    }
  }
}

/** Below this, a zeroed array costs no more (it comes from memory the allocator already has). */
const MIN_UNINITIALIZED_BYTES = 64 * 1024;

/**
 * A fresh array of `n` bytes, starting `shift` bytes (0-7) into a buffer of its own, for a caller
 * that writes every one of them: past 64 KiB its bytes are garbage until then (the `shift` bytes
 * before it are zeroed). A zeroed array of a few hundred KiB comes from fresh pages the system
 * must fault in and clear, which costs several times the copy itself (measured: 35-70 us against
 * 3-9 us for 290 KiB, and 13 us to copy it).
 */
export function uninitializedBytes(n: number, shift = 0): Uint8Array {
  if (n < MIN_UNINITIALIZED_BYTES) return new Uint8Array(n + shift).subarray(shift);
  const b = Buffer.allocUnsafeSlow(n + shift);
  if (shift > 0) b.fill(0, 0, shift);
  // A plain Uint8Array, not the Buffer: a Buffer's `slice` makes a view, not a copy.
  return new Uint8Array(b.buffer, b.byteOffset + shift, n);
}
