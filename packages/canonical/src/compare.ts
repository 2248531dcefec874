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

/** Whether this platform stores integers little-endian: word reads then see MurmurHash3's blocks. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Below this, making a word view costs more than the byte loads it saves. */
const MIN_WORD_READ_BYTES = 256;

/** One 4-byte block of MurmurHash3 x86_32 mixed into `h`. */
function mixBlock(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/**
 * A 32-bit hash of bytes (MurmurHash3 x86_32), seeded: the running digest of a replica's log
 * chains it (`hashBytes(next, previous)`). Deterministic on every platform.
 */
export function hashBytes(bytes: Uint8Array, seed = 0, start = 0, end = bytes.length): number {
  let h = seed | 0;
  let i = start;
  const blocks = start + ((end - start) & ~3);
  if (LITTLE_ENDIAN && blocks - start >= MIN_WORD_READ_BYTES && (bytes.byteOffset + start) % 4 === 0) {
    // Large and aligned (a replica's values): one load per block, not four (the same blocks, so the same hash).
    const words = new Int32Array(bytes.buffer, bytes.byteOffset + start, (blocks - start) >>> 2);
    for (let w = 0; w < words.length; w++) h = mixBlock(h, words[w]!);
    i = blocks;
  }
  for (; i < blocks; i += 4) h = mixBlock(h, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
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
