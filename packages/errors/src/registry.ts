/**
 * Errors that cross a thread (a worker's control-plane answer, a crash event) as plain data and
 * come back as instances of their own class, with their code and their fields: a registry of
 * error classes by name, filled by each package for its own classes as it loads.
 */
import { SynodError } from './synod-error.js';

/** An error as plain data (structured-clone safe): what crosses a thread. */
export interface SerializedError {
  name: string;
  message: string;
  /** The `code` of a {@link SynodError} (or a Node.js system error), when it has one. */
  code?: string;
  stack?: string;
  cause?: SerializedError;
  /** Its other own fields that are plain data (the target of a timeout, a file and an offset, ...). */
  fields?: Record<string, unknown>;
}

/** A class whose instances can be re-created from a {@link SerializedError}. */
export type ErrorClass = abstract new (...args: any[]) => Error;

const registry = new Map<string, ErrorClass>();
const builtins: Record<string, ErrorClass> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/**
 * Registers error classes by name (give them as an object: `registerErrors({ A, B })`), so an
 * error of one of them thrown in another thread is re-created here as an instance of its class.
 * A name registered twice with another class is refused: names must be unique.
 */
export function registerErrors(classes: Record<string, ErrorClass>): void {
  for (const [name, cls] of Object.entries(classes)) {
    if (typeof cls !== 'function') throw new TypeError(`registerErrors: ${name} is not a class`);
    const known = registry.get(name);
    if (known !== undefined && known !== cls) throw new TypeError(`registerErrors: another class is registered as "${name}"`);
    registry.set(name, cls);
  }
}

/** The class registered under `name`, if any. */
export function errorClass(name: string): ErrorClass | undefined {
  return registry.get(name) ?? builtins[name];
}

const reserved = new Set(['name', 'message', 'stack', 'code', 'cause']);
const maxCauseDepth = 8;

/** An error (or any thrown value) as plain data. Never throws. */
export function serializeError(e: unknown, depth = 0): SerializedError {
  if (!(e instanceof Error)) return { name: 'Error', message: describe(e) };
  const out: SerializedError = { name: safe(() => String(e.name), 'Error'), message: safe(() => String(e.message), '') };
  const stack = safe(() => e.stack, undefined);
  if (typeof stack === 'string') out.stack = stack;
  const code = safe(() => (e as { code?: unknown }).code, undefined);
  if (typeof code === 'string') out.code = code;
  const cause = safe(() => e.cause, undefined);
  if (cause !== undefined && depth < maxCauseDepth) out.cause = serializeError(cause, depth + 1);
  let fields: Record<string, unknown> | undefined;
  for (const key of safe(() => Object.keys(e), [] as string[])) {
    if (reserved.has(key)) continue;
    const v = safe(() => (e as unknown as Record<string, unknown>)[key], undefined);
    if (isPlain(v)) (fields ??= {})[key] = v;
  }
  if (fields !== undefined) out.fields = fields;
  return out;
}

/**
 * Re-creates an error from {@link serializeError}'s data: an instance of its registered class
 * (or of the built-in one), with its name, code, message, stack, cause and fields; its class's
 * constructor is not run. An unknown name with a code gives a {@link SynodError} carrying that
 * name and code; an unknown one without, an `Error` carrying the name.
 */
export function deserializeError(s: SerializedError): Error {
  const cls = errorClass(s.name) ?? (s.code !== undefined ? SynodError : Error);
  const e = Reflect.construct(Error, [s.message], cls) as Error & Record<string, unknown>;
  define(e, 'name', s.name);
  if (s.code !== undefined) define(e, 'code', s.code);
  if (s.stack !== undefined) define(e, 'stack', s.stack);
  if (s.cause !== undefined) define(e, 'cause', deserializeError(s.cause));
  for (const [k, v] of Object.entries(s.fields ?? {})) define(e, k, v);
  return e;
}

function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: key !== 'stack' && key !== 'message' && key !== 'cause' });
}

function isPlain(v: unknown, depth = 0): boolean {
  if (v === null) return true;
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
      return true;
    case 'object':
      if (depth > 2) return false;
      if (Array.isArray(v)) return v.length <= 64 && v.every((x) => isPlain(x, depth + 1));
      return Object.getPrototypeOf(v) === Object.prototype && Object.values(v as object).every((x) => isPlain(x, depth + 1));
    default:
      return false;
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return v;
  return safe(() => JSON.stringify(v) ?? String(v), 'a value that cannot be described');
}

function safe<T, F>(fn: () => T, fallback: F): T | F {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
