import type { WireReader, WireWriter } from '@synod/actors/internals';

/**
 * A proposed value: any plain data. `null` is the value a recovery proposal carries (6.6: a
 * learner that missed the outcome starts a proposal of its own; if nothing was accepted, the
 * instance decides "no value").
 */
export type Value = unknown;

/** Equality of values that may have crossed threads (copies of one value compare equal). */
export function sameValue(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  // Bytes (often views of one shared value, see the actors' arenas): compare them, not their JSON.
  if (a instanceof Uint8Array && b instanceof Uint8Array) return sameBytes(a, b);
  return stableKey(a) === stableKey(b);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if (a.buffer === b.buffer && a.byteOffset === b.byteOffset) return true;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Keys of object values already computed: values are immutable once proposed, and invariant checks ask again and again. */
const objectKeys = new WeakMap<object, string>();

/** A string that identifies a value (for sets of values in invariant checks). */
export function valueKey(v: Value): string {
  if (typeof v === 'string') return `s${v}`;
  if (typeof v === 'number') return `n${v}`;
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  // Bytes (Multi-Paxos slot values): one character per byte, exact and native.
  if (v instanceof Uint8Array) return `b${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1')}`;
  if (typeof v === 'object') {
    let k = objectKeys.get(v);
    if (k === undefined) {
      k = `j${stableKey(v)}`;
      objectKeys.set(v, k);
    }
    return k;
  }
  return `j${stableKey(v)}`;
}

function stableKey(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? Array.from(x) : x));
  } catch {
    return String(v);
  }
}

const enum Tag {
  Null = 0,
  String = 1,
  Number = 2,
  True = 3,
  False = 4,
  Bytes = 5,
}

/**
 * Whether a value has an exact binary form. Others (objects, Maps, Dates...) make their message
 * travel by structured clone, which keeps every plain-data type intact.
 */
export function isWireValue(v: Value): boolean {
  const t = typeof v;
  return t === 'string' || t === 'number' || t === 'boolean' || v === null || v === undefined || v instanceof Uint8Array;
}

/** Binary form of a value inside a message codec: strings, numbers, booleans and bytes. */
export function writeValue(w: WireWriter, v: Value): void {
  switch (typeof v) {
    case 'string':
      w.u8(Tag.String);
      w.string(v);
      return;
    case 'number':
      w.u8(Tag.Number);
      w.f64(v);
      return;
    case 'boolean':
      w.u8(v ? Tag.True : Tag.False);
      return;
  }
  if (v === null || v === undefined) {
    w.u8(Tag.Null);
    return;
  }
  if (v instanceof Uint8Array) {
    w.u8(Tag.Bytes);
    w.bytes(v);
    return;
  }
  throw new TypeError('writeValue: not a wire value (check isWireValue first)');
}

export function readValue(r: WireReader): Value {
  switch (r.u8() as Tag) {
    case Tag.Null:
      return null;
    case Tag.String:
      return r.string();
    case Tag.Number:
      return r.f64();
    case Tag.True:
      return true;
    case Tag.False:
      return false;
    case Tag.Bytes:
      return r.bytes();
  }
  throw new RangeError('corrupt value tag');
}
