/**
 * Equality, order and hashes on canonical encodings. Two values are equal when their encodings
 * are: object key order, Map and Set insertion order do not matter; types do (`1` is not `1n`,
 * `0` is not `-0`, a Map is not an object).
 */
import { encode } from './encode.js';

/** Byte equality of two encodings. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Byte-lexicographic order of two encodings (negative, 0, positive). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Whether two values have the same canonical encoding (throws `CanonicalError` for one that has none). */
export function equal(a: unknown, b: unknown): boolean {
  if (a === b && (typeof a !== 'number' || a !== 0 || Object.is(a, b))) return true;
  return bytesEqual(encode(a), encode(b));
}

/**
 * A 32-bit hash of bytes (MurmurHash3 x86_32), seeded: the running digest of a replica's log
 * chains it (`hashBytes(next, previous)`). Deterministic on every platform.
 */
export function hashBytes(bytes: Uint8Array, seed = 0, start = 0, end = bytes.length): number {
  let h = seed | 0;
  let i = start;
  const blocks = start + ((end - start) & ~3);
  for (; i < blocks; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = end - i;
  if (tail > 0) {
    let k = bytes[i]!;
    if (tail > 1) k ^= bytes[i + 1]! << 8;
    if (tail > 2) k ^= bytes[i + 2]! << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= end - start;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The hash of a value's canonical encoding. */
export function hash(value: unknown, seed = 0): number {
  return hashBytes(encode(value), seed);
}
