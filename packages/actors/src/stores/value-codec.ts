/**
 * How a persisted value is turned into bytes. `v8.serialize` keeps everything structured clone
 * keeps (Map, Set, Date, bigint, typed arrays, undefined, -0, NaN, ...) but costs several
 * microseconds per call, which alone would cap a thread at ~100 k persisted turns per second.
 * Most durable state (ballots, slots, values: plain objects, arrays, strings, finite numbers)
 * survives JSON exactly, at a fraction of the cost. So: JSON when the value round-trips exactly
 * through it, v8 otherwise.
 *
 * A third form is for what protocols persist most, by bytes: a record whose fields are plain
 * data and large byte arrays (a slot: `{ ballot, value: Uint8Array }`). v8 serializes those
 * through a growing buffer and a JavaScript hook per array; here the JSON of the other fields and
 * the arrays' bytes are written once into a buffer of the exact size:
 *
 *     u8 0xFE | u32 JSON bytes | JSON of the other fields | u16 arrays | (u16 name bytes | name | u32 bytes | bytes)*
 *
 * (the arrays come back as Uint8Arrays, as the object's last fields).
 *
 * An encoded value is a string (JSON text, written as UTF-8) or a Buffer (v8, or the form above).
 * The first byte says which: v8's format always starts with its version tag 0xFF, the form above
 * with 0xFE, and UTF-8 text contains neither. Holding JSON as a string also keeps the live index
 * from pinning Buffer pool slabs.
 */
import { deserialize, serialize } from 'node:v8';
import { copySharedBytes, uninitializedBytes } from '../shared-copy.js';

/** A serialized value: JSON text, or v8 bytes. */
export type EncodedValue = string | Buffer;

const V8_VERSION_TAG = 0xff;
const BYTES_TAG = 0xfe;
/** Records whose arrays hold fewer bytes go to v8 (its fixed cost does not matter there). */
const MIN_BYTES_FORM = 1024;
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

/**
 * The names of `v`'s Uint8Array fields when `v` is a plain object whose other fields survive JSON
 * exactly and whose arrays hold at least MIN_BYTES_FORM bytes; null otherwise.
 */
function bytesFields(v: unknown): string[] | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return null;
  let names: string[] | null = null;
  let bytes = 0;
  for (const k in v) {
    if (k === '__proto__' || k.length > 0x3fff) return null; // would set a prototype; or too long for a u16 of UTF-8
    const f = (v as Record<string, unknown>)[k];
    // Exactly Uint8Array (a Buffer or a subclass would come back as something else).
    if (f instanceof Uint8Array && Object.getPrototypeOf(f) === Uint8Array.prototype) {
      (names ??= []).push(k);
      bytes += f.length;
    } else if (!jsonExact(f, MAX_JSON_DEPTH - 1)) return null;
  }
  return bytes >= MIN_BYTES_FORM && names!.length <= 0xffff ? names : null;
}

/**
 * A value in the bytes form, sized but not yet written: the `shared` log writes it straight into
 * its frame (shared-store.ts), so its arrays' bytes are copied once, not into a buffer of their
 * own and then into the log. It holds the value's arrays (views, perhaps of shared memory) and
 * the JSON of its other fields, taken when it was made: it must be written before those arrays
 * may change (in the same `write`).
 */
export class PendingBytesForm {
  /** Bytes of the form. */
  readonly length: number;
  /** Where the form would start modulo 8 for its first array to land at that array's own alignment. */
  readonly byteOffset: number;
  private readonly json: string;

  constructor(
    private readonly v: Record<string, unknown>,
    private readonly names: string[],
  ) {
    const rest: Record<string, unknown> = {};
    for (const k in v) if (!names.includes(k)) rest[k] = v[k];
    this.json = JSON.stringify(rest);
    const head = 1 + 4 + Buffer.byteLength(this.json, 'utf8') + 2;
    let size = head;
    for (const k of names) size += 2 + Buffer.byteLength(k, 'utf8') + 4 + (v[k] as Uint8Array).length;
    this.length = size;
    // A copy out of shared memory is word by word only at the source's alignment (shared-copy.ts).
    const first = v[names[0]!] as Uint8Array;
    this.byteOffset = (first.byteOffset - (head + 2 + Buffer.byteLength(names[0]!, 'utf8') + 4)) & 7;
  }

  /** Writes the form at `b[at]` (`length` bytes). */
  writeTo(b: Buffer, at: number): void {
    let o = b.writeUInt8(BYTES_TAG, at);
    const jsonBytes = b.write(this.json, o + 4, 'utf8');
    o = b.writeUInt32LE(jsonBytes, o) + jsonBytes;
    o = b.writeUInt16LE(this.names.length, o);
    for (const k of this.names) {
      const nameBytes = b.write(k, o + 2, 'utf8');
      o = b.writeUInt16LE(nameBytes, o) + nameBytes;
      const a = this.v[k] as Uint8Array;
      o = b.writeUInt32LE(a.length, o);
      copySharedBytes(b, o, a); // the array may be a view of shared memory
      o += a.length;
    }
  }
}

function encodeBytesForm(v: Record<string, unknown>, names: string[]): Buffer {
  const form = new PendingBytesForm(v, names);
  // The form starts 0-7 bytes into its buffer so that the first array's bytes land at the array's
  // own offset modulo 8. A buffer of its own, not a pool slice: the index may keep it for long.
  const own = uninitializedBytes(form.length, form.byteOffset);
  const b = Buffer.from(own.buffer, own.byteOffset, form.length);
  form.writeTo(b, 0);
  return b;
}

function decodeBytesForm(b: Buffer): unknown {
  let o = 1;
  const jsonBytes = b.readUInt32LE(o);
  o += 4;
  const out = JSON.parse(b.toString('utf8', o, o + jsonBytes)) as Record<string, unknown>;
  o += jsonBytes;
  const count = b.readUInt16LE(o);
  o += 2;
  for (let i = 0; i < count; i++) {
    const nameBytes = b.readUInt16LE(o);
    const name = b.toString('utf8', o + 2, o + 2 + nameBytes);
    o += 2 + nameBytes;
    const n = b.readUInt32LE(o);
    o += 4;
    // A Uint8Array of its own (the actor may change it), through a plain view: a Buffer's species would make a Buffer.
    out[name] = new Uint8Array(b.buffer, b.byteOffset + o, n).slice();
    o += n;
  }
  return out;
}

/** Serializes a value. Throws (v8's DataCloneError) for what cannot be stored at all. */
export function encodeValue(v: unknown): EncodedValue {
  if (jsonExact(v, MAX_JSON_DEPTH)) return JSON.stringify(v);
  const names = bytesFields(v);
  return names !== null ? encodeBytesForm(v as Record<string, unknown>, names) : serialize(v);
}

/** A value on its way into a log: encoded, or in the bytes form to be written in place. */
export type LogValue = EncodedValue | PendingBytesForm;

/** As `encodeValue`, but a value of the bytes form is left to be written where it goes (see `PendingBytesForm`). */
export function encodeValueForLog(v: unknown): LogValue {
  if (jsonExact(v, MAX_JSON_DEPTH)) return JSON.stringify(v);
  const names = bytesFields(v);
  return names !== null ? new PendingBytesForm(v as Record<string, unknown>, names) : serialize(v);
}

export function encodedBytes(v: LogValue): number {
  return typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
}

/** Writes an encoded value of `bytes` bytes at `offset`. */
export function writeEncoded(v: LogValue, target: Buffer, offset: number, bytes: number): void {
  if (typeof v === 'string')
    target.write(v, offset, 'utf8'); // exactly `bytes` fit: measured by encodedBytes
  else if (v instanceof PendingBytesForm) v.writeTo(target, offset);
  else copySharedBytes(target, offset, v); // the target may be shared memory: see shared-copy.ts
}

/** Reads an encoded value out of `b[start..end)`, copying it (so `b` may be reused or collected). */
export function readEncoded(b: Buffer, start: number, end: number): EncodedValue {
  if (end > start && (b[start] === V8_VERSION_TAG || b[start] === BYTES_TAG)) {
    const own = Buffer.allocUnsafeSlow(end - start); // not a pool slice: the index may keep it for long
    copySharedBytes(own, 0, b.subarray(start, end)); // `b` may be shared memory: see shared-copy.ts
    return own;
  }
  return b.toString('utf8', start, end);
}

export function decodeValue(v: EncodedValue): unknown {
  if (typeof v === 'string') return JSON.parse(v);
  return v[0] === BYTES_TAG ? decodeBytesForm(v) : deserialize(v);
}
