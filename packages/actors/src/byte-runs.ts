/**
 * Length-prefixed byte runs (`uvar length | bytes`, as `WireWriter.bytes` writes them inline)
 * written straight into an array sized beforehand: for builders that know every part before they
 * write, so each byte is copied once, into the array that is sent or kept.
 */
import { copySharedBytes } from './shared-copy.js';

/** Short runs are copied by hand: a call to `set` costs more than the copy. */
const MAX_BY_HAND = 64;

/** Bytes of `v` as a uvar. */
export function uvarBytes(v: number): number {
  let k = 1;
  for (; v >= 0x80; v = Math.floor(v / 0x80)) k++;
  return k;
}

/** Bytes of a run of `n` bytes with its length in front. */
export function runBytes(n: number): number {
  return uvarBytes(n) + n;
}

/** Writes `v` as a uvar at `out[p]` (room made by the caller); returns the position after it. */
export function putUvar(out: Uint8Array, p: number, v: number): number {
  return putUvarOf(out, p, v, uvarBytes(v));
}

/** Writes `v` as a uvar of exactly `bytes` bytes (`uvarBytes(v)` or more, at most 8: the rest is padding, see `alignedRunPrefix`). */
export function putUvarOf(out: Uint8Array, p: number, v: number, bytes: number): number {
  for (let k = 1; k < bytes; k++) {
    out[p++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[p++] = v;
  return p;
}

/**
 * Writes `run` with its length in front at `out[p]` (room made by `runBytes`); returns the position
 * after it. `run` may lie in shared memory at any alignment (see shared-copy.ts).
 */
export function putRun(out: Uint8Array, p: number, run: Uint8Array): number {
  return putAlignedRun(out, p, run, uvarBytes(run.length));
}

/** The longest uvar the readers take (`ByteReader.uvar` in @synod/smr). */
const MAX_UVAR_BYTES = 8;

/**
 * Runs longer than this are placed at their source's alignment modulo 8 (see `alignedRunPrefix`):
 * shorter ones are copied by hand, where alignment does not matter.
 */
const MIN_ALIGNED_RUN_BYTES = MAX_BY_HAND + 1;

/**
 * Bytes of the length prefix of `run` written at offset `p` of an array that starts at a multiple
 * of 8 in its buffer, such that the run's bytes land at the same alignment modulo 8 as `run`'s
 * own: the shortest uvar, padded when needed with up to 7 more bytes (a longer encoding of the same
 * number, as WebAssembly's padded LEB128; every uvar reader here takes it), up to 8 bytes in all
 * (past that the run stays where the shortest prefix puts it). A copy into or out of
 * shared memory goes word by word only between equally aligned ends, and byte by byte, about ten
 * times slower, otherwise (shared-copy.ts); this way neither that nor a detour through a buffer is needed.
 */
export function alignedRunPrefix(p: number, run: Uint8Array): number {
  const n = run.length;
  const min = uvarBytes(n);
  if (n < MIN_ALIGNED_RUN_BYTES) return min;
  const padded = min + ((run.byteOffset - p - min) & 7);
  // Readers take at most MAX_UVAR_BYTES (a bound against corrupt input): past it, unaligned.
  return padded <= MAX_UVAR_BYTES ? padded : min;
}

/** The most bytes a run of `n` bytes takes with the prefix `alignedRunPrefix` gives it. */
export function maxAlignedRunBytes(n: number): number {
  const min = uvarBytes(n);
  return n + (n < MIN_ALIGNED_RUN_BYTES ? min : Math.max(min, MAX_UVAR_BYTES));
}

/** Writes `run` at `out[p]` behind a length prefix of `prefix` bytes (from `alignedRunPrefix`); returns the position after it. */
export function putAlignedRun(out: Uint8Array, p: number, run: Uint8Array, prefix: number): number {
  const n = run.length;
  p = putUvarOf(out, p, n, prefix);
  if (n <= MAX_BY_HAND) for (let k = 0; k < n; k++) out[p + k] = run[k]!;
  else copySharedBytes(out, p, run);
  return p + n;
}
