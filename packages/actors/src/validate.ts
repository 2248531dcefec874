import { MessageEncodingError, messageType } from './errors.js';

/**
 * Refuses values that a worker could not receive: functions, symbols, class instances and
 * other things structured clone rejects or silently mangles. Run on every send (unless turned
 * off with `validateMessages: false`), so a bad message fails at the sender, in every mode, with
 * a path to the offending field.
 */
export function assertPlainData(msg: unknown, depthLimit = 64): void {
  // The fast check builds no strings; only a failure pays for the path in the error.
  if (isPlain(msg, depthLimit)) return;
  const problem = findProblem(msg, depthLimit);
  if (problem !== undefined) {
    throw new MessageEncodingError(
      `message "${messageType(msg)}" cannot be sent: ${problem}. Messages must be plain data ` +
        `(objects, arrays, strings, numbers, booleans, null, bigint, Date, Map, Set, typed arrays)`,
    );
  }
}

/**
 * Large arrays already found plain. Messages are immutable once sent, and one array is often sent
 * many times (a batch of commands goes to every acceptor and replica): check it once.
 */
const plainArrays = new WeakSet<object>();
const CACHE_FROM_LENGTH = 16;

function isPlain(v: unknown, depth: number): boolean {
  const t = typeof v;
  if (t === 'string' || t === 'number' || t === 'boolean' || t === 'undefined' || t === 'bigint' || v === null) return true;
  if (t !== 'object' || depth <= 0) return false;
  if (Array.isArray(v)) {
    const big = v.length >= CACHE_FROM_LENGTH;
    if (big && plainArrays.has(v)) return true;
    for (let i = 0; i < v.length; i++) if (!isPlain(v[i], depth - 1)) return false;
    if (big) plainArrays.add(v);
    return true;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    for (const key in v as Record<string, unknown>) {
      if (!isPlain((v as Record<string, unknown>)[key], depth - 1)) return false;
    }
    return true;
  }
  return findProblem(v, depth) === undefined;
}

function findProblem(v: unknown, depth: number, path = 'message'): string | undefined {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return undefined;
    case 'function':
      return `${path} is a function`;
    case 'symbol':
      return `${path} is a symbol`;
  }
  if (v === null) return undefined;
  if (depth <= 0) return `${path} is nested too deeply (or is cyclic)`;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = findProblem(v[i], depth - 1, path);
      if (p !== undefined) return p.startsWith(path) ? `${path}[${i}]${p.slice(path.length)}` : p;
    }
    return undefined;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    for (const key in v as Record<string, unknown>) {
      const p = findProblem((v as Record<string, unknown>)[key], depth - 1, `${path}.${key}`);
      if (p !== undefined) return p;
    }
    return undefined;
  }
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Date || v instanceof RegExp) return undefined;
  if (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer) return undefined;
  if (v instanceof Map) {
    for (const [k, val] of v) {
      const p = findProblem(k, depth - 1, `${path}<key>`) ?? findProblem(val, depth - 1, `${path}.get(${String(k)})`);
      if (p !== undefined) return p;
    }
    return undefined;
  }
  if (v instanceof Set) {
    for (const item of v) {
      const p = findProblem(item, depth - 1, `${path}<item>`);
      if (p !== undefined) return p;
    }
    return undefined;
  }
  if (v instanceof Error) return undefined;
  const ctorName = (proto && proto.constructor && proto.constructor.name) || 'unknown';
  return `${path} is an instance of class ${ctorName} (its methods and prototype would be lost)`;
}
