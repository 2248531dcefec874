/**
 * How a persisted value is turned into bytes. `v8.serialize` keeps everything structured clone
 * keeps (Map, Set, Date, bigint, typed arrays, undefined, -0, NaN, ...) but costs several
 * microseconds per call, which alone would cap a thread at ~100 k persisted turns per second.
 * Most durable state (ballots, slots, values: plain objects, arrays, strings, finite numbers)
 * survives JSON exactly, at a fraction of the cost. So: JSON when the value round-trips exactly
 * through it, v8 otherwise.
 *
 * An encoded value is a string (JSON text, written as UTF-8) or a Buffer (v8). The bytes say
 * which: v8's format always starts with its version tag 0xFF, which UTF-8 text never contains.
 * Holding JSON as a string also keeps the live index from pinning Buffer pool slabs.
 */
import { deserialize, serialize } from 'node:v8';
import { copySharedBytes } from '../shared-copy.js';

/** A serialized value: JSON text, or v8 bytes. */
export type EncodedValue = string | Buffer;

const V8_VERSION_TAG = 0xff;
/** Deeper values go to v8 (which also refuses what is too deep for it). */
const MAX_JSON_DEPTH = 64;

/** Whether JSON.parse(JSON.stringify(v)) gives back exactly `v` (as v8 would). */
function jsonExact(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0);
    case 'object': {
      if (v === null) return true;
      if (depth <= 0) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!(i in v) || !jsonExact(v[i], depth - 1)) return false; // holes read back as null
        return true;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return false; // Date, Map, class instances, ...
      for (const k in v) if (!jsonExact((v as Record<string, unknown>)[k], depth - 1)) return false;
      return true;
    }
    default:
      return false; // undefined (dropped by JSON), bigint, function, symbol
  }
}

/** Serializes a value. Throws (v8's DataCloneError) for what cannot be stored at all. */
export function encodeValue(v: unknown): EncodedValue {
  return jsonExact(v, MAX_JSON_DEPTH) ? JSON.stringify(v) : serialize(v);
}

export function encodedBytes(v: EncodedValue): number {
  return typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
}

/** Writes an encoded value of `bytes` bytes at `offset`. */
export function writeEncoded(v: EncodedValue, target: Buffer, offset: number, bytes: number): void {
  if (typeof v === 'string')
    target.write(v, offset, 'utf8'); // exactly `bytes` fit: measured by encodedBytes
  else copySharedBytes(target, offset, v); // the target may be shared memory: see shared-copy.ts
}

/** Reads an encoded value out of `b[start..end)`, copying it (so `b` may be reused or collected). */
export function readEncoded(b: Buffer, start: number, end: number): EncodedValue {
  if (end > start && b[start] === V8_VERSION_TAG) {
    const own = Buffer.allocUnsafeSlow(end - start); // not a pool slice: the index may keep it for long
    copySharedBytes(own, 0, b.subarray(start, end)); // `b` may be shared memory: see shared-copy.ts
    return own;
  }
  return b.toString('utf8', start, end);
}

export function decodeValue(v: EncodedValue): unknown {
  return typeof v === 'string' ? JSON.parse(v) : deserialize(v);
}
