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

import { uninitializedBytes } from './shared-copy.js';

/** Arrays up to this size come from a slab (Node's Buffer pool takes up to 4 KiB of 8). */
const MAX_SMALL_BYTES = 2048;
/** The slab's size: a bound on the memory one live view can keep. */
const SLAB_BYTES = 32 * 1024;

let slab: ArrayBuffer | null = null;
let used = SLAB_BYTES;

/**
 * A fresh array of `n` bytes for a caller that writes every one of them. Up to 2 KiB
 * (`MAX_SMALL_BYTES`), a view (8-byte aligned) into a slab shared with other such arrays:
 * never transfer its `buffer`, and read it through its offset. Larger, an array of its own, not
 * zeroed past 64 KiB (see `uninitializedBytes`).
 */
export function freshBytes(n: number): Uint8Array {
  if (n > MAX_SMALL_BYTES) return uninitializedBytes(n);
  let at = (used + 7) & ~7;
  if (slab === null || at + n > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    at = 0;
  }
  used = at + n;
  return new Uint8Array(slab, at, n);
}
