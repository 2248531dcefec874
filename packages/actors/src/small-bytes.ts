/**
 * Fresh small byte arrays without an ArrayBuffer each.
 *
 * V8 keeps a typed array of at most 64 bytes on the heap; a larger one gets a buffer of its own
 * from the system allocator, tracked as external memory, and costs about 600 ns where a view
 * into an existing buffer costs 40 (measured on this project's machines, 200 bytes). A client's
 * request and a slot of one command are a few dozen to a few hundred bytes, made once per
 * command: they come from here, carved out of a shared slab, as Node's `Buffer` pool does.
 *
 * A view keeps its whole slab alive, so only arrays that live about as long as their neighbours
 * (messages, slots until truncation) should come from here, not values a state machine keeps.
 */

/** Arrays up to this size come from a slab (Node's Buffer pool takes up to 4 KiB of 8). */
export const MAX_SMALL_BYTES = 2048;
/** The slab's size: a bound on the memory one live view can keep. */
const SLAB_BYTES = 32 * 1024;

let slab: ArrayBuffer | null = null;
let used = SLAB_BYTES;

/**
 * A fresh array of `n` zeroed bytes, starting `shift` bytes (0-7) past an 8-byte boundary (a
 * copy to or from shared memory is word by word only at equal alignment: shared-copy.ts). Up to
 * {@link MAX_SMALL_BYTES}, a view into a slab shared with other such arrays: never transfer its
 * `buffer`, and read it through its offset.
 */
export function smallBytes(n: number, shift = 0): Uint8Array {
  if (n > MAX_SMALL_BYTES) return new Uint8Array(n + shift).subarray(shift);
  let at = ((used + 7) & ~7) + shift;
  if (slab === null || at + n > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    at = shift;
  }
  used = at + n;
  return new Uint8Array(slab, at, n);
}
