/**
 * Small, fast 32-bit hashes for model states. They only need to spread well: the memo compares
 * states with `equal` whenever hashes match.
 */

/** FNV-1a over the UTF-16 code units of a string. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** A number: integers are mixed directly, anything else through its decimal form. */
export function hashNumber(x: number): number {
  if ((x | 0) === x) return mix32(x);
  return hashString(String(x));
}

/** A finaliser (from MurmurHash3) so that nearby integers land far apart. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) | 0;
}

/**
 * A JSON-like value: null, undefined, booleans, numbers and strings by value, arrays and plain
 * objects by their canonical form (keys sorted).
 */
export function hashValue(v: unknown): number {
  switch (typeof v) {
    case 'number':
      return hashNumber(v);
    case 'string':
      return hashString(v);
    case 'boolean':
      return v ? 0x2f0b3e1d : 0x5a4c9e27;
    case 'undefined':
      return 0x1b873593;
    default:
      return v === null ? 0x0e6546b6 : hashString(canonicalJson(v));
  }
}

/**
 * A canonical JSON form: object keys sorted, `undefined` members dropped, so that equal values
 * give equal strings. Non-JSON values (bigint, Map, Date …) use their `String` form.
 */
export function canonicalJson(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    return JSON.stringify(v) ?? String(v);
  }
  if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']';
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return JSON.stringify(String(v));
  const keys = Object.keys(v)
    .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
    .sort();
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson((v as Record<string, unknown>)[k])).join(',') + '}';
}

/** Deep equality for JSON-like values (see {@link canonicalJson}). */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  }
  return canonicalJson(a) === canonicalJson(b);
}
