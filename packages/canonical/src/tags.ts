/**
 * The first byte of every encoded value. Values of different types never share an encoding, so
 * equality of encodings is equality of values (see `equal` in compare.ts).
 */
export const enum Tag {
  Undefined = 0,
  Null = 1,
  False = 2,
  True = 3,
  /** A safe integer other than -0: zigzag varint. */
  Int = 4,
  /** Any other number (fractions, -0, ±Infinity, NaN with one canonical bit pattern): 8 bytes, big-endian. */
  Float = 5,
  /** u8 sign (0 positive, 1 negative) | varint byte count | magnitude, big-endian, no leading zeros. */
  BigInt = 6,
  /** varint byte count | UTF-8. */
  String = 7,
  /** varint byte count | bytes (a Uint8Array or Buffer). */
  Bytes = 8,
  /** varint count | elements (holes as undefined). */
  Array = 9,
  /** varint count | (key as String without its tag, value)…, keys in code-unit order. */
  Object = 10,
  /** varint count | (key, value)…, entries in byte order of the encoded keys; no two equal keys. */
  Map = 11,
  /** varint count | elements in byte order of their encodings; no two equal elements. */
  Set = 12,
  /** 8 bytes: the time value as a float, big-endian. */
  Date = 13,
}
