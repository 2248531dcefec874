/**
 * The canonical encoding of plain data: one byte string per value, whatever the order its
 * object keys, Map entries or Set elements were inserted in. It is what a command is turned into
 * where it enters, and those bytes are what is checked against limits, sent, stored and applied.
 *
 * Bounded for any input: the output is checked against `maxBytes` as it is written, so the time
 * spent is proportional to the bytes produced (at most `maxBytes`), whatever the input. A value
 * shared by several places in a tree is written at each of them, as JSON would (the bound stops a
 * small DAG that expands exponentially); a cycle is refused as soon as it closes.
 */
import { CanonicalError, type CanonicalProblem } from './errors.js';
import { Tag } from './tags.js';

/** Bounds of one encoding. */
export interface EncodeOptions {
  /** Largest encoding, in bytes; a bigger one is refused with problem `too-large`. Default 64 MiB. */
  maxBytes?: number;
  /** Deepest nesting of arrays, objects, Maps and Sets. Default 128. */
  maxDepth?: number;
}

export const defaultMaxBytes = 64 << 20;
export const defaultMaxDepth = 128;

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
/** Platform byte order: floats are written big-endian whatever it is. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const textEncoder = new TextEncoder();

/**
 * Writes canonical encodings into one growing buffer. Reusable: `reset` starts a new value and
 * keeps the buffer, so a hot path allocates only the bytes it keeps (`take`, `copy`).
 */
export class CanonicalWriter {
  buf: Uint8Array;
  pos = 0;
  private max = defaultMaxBytes;
  private maxDepth = defaultMaxDepth;
  /** The containers being written and the key or index inside each, for cycles and error paths. */
  private readonly ancestors: object[] = [];
  private readonly keys: (string | number)[] = [];

  constructor(initialBytes = 256) {
    this.buf = new Uint8Array(initialBytes);
  }

  /** Starts over (the buffer is kept). */
  reset(options?: EncodeOptions): this {
    this.pos = 0;
    this.max = options?.maxBytes ?? defaultMaxBytes;
    this.maxDepth = options?.maxDepth ?? defaultMaxDepth;
    if (this.ancestors.length !== 0) this.ancestors.length = 0;
    if (this.keys.length !== 0) this.keys.length = 0;
    return this;
  }

  /** The bytes written since `reset`, as a view of this writer's buffer (valid until the next write). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of the bytes written since `reset`. */
  copy(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** Appends one value's encoding. Throws `CanonicalError` when it has none (the writer is then unusable until `reset`). */
  value(v: unknown): this {
    this.write(v);
    return this;
  }

  private fail(problem: CanonicalProblem, detail: string): never {
    throw new CanonicalError(problem, this.path(), detail);
  }

  /** `$`, `$.a`, `$[2].b`: where the value being written sits. */
  private path(): string {
    let p = '$';
    for (const k of this.keys) p += typeof k === 'number' ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
    return p;
  }

  private ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    if (need > this.max) this.fail('too-large', `the encoding passes ${this.max} bytes`);
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(Math.min(size, Math.max(need, this.max)));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  private varint(n: number): void {
    this.ensure(8);
    const buf = this.buf;
    let p = this.pos;
    while (n >= 0x80) {
      buf[p++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    buf[p++] = n;
    this.pos = p;
  }

  private float(x: number): void {
    this.ensure(8);
    if (Number.isNaN(x)) x = NaN; // one bit pattern for every NaN
    F64[0] = x;
    const buf = this.buf;
    const p = this.pos;
    if (LITTLE_ENDIAN) for (let i = 0; i < 8; i++) buf[p + i] = F64_BYTES[7 - i]!;
    else buf.set(F64_BYTES, p);
    this.pos = p + 8;
  }

  /** varint byte length | UTF-8, without a tag. */
  private string(s: string): void {
    const n = s.length;
    // Short ASCII strings (most keys and values) without a native call.
    if (n < 128) {
      this.ensure(1 + 3 * n);
      const buf = this.buf;
      const start = this.pos;
      let p = start + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      if (i === n) {
        buf[start] = n;
        this.pos = p;
        return;
      }
    }
    if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed())
      this.fail('unpaired-surrogate', 'a string holds an unpaired UTF-16 surrogate, which has no UTF-8 form');
    const bytes = Buffer.byteLength(s, 'utf8');
    this.varint(bytes);
    this.ensure(bytes);
    if (bytes > 64) textEncoder.encodeInto(s, this.buf.subarray(this.pos, this.pos + bytes));
    else utf8Write(s, this.buf, this.pos);
    this.pos += bytes;
  }

  private write(v: unknown): void {
    switch (typeof v) {
      case 'string':
        this.ensure(1);
        this.buf[this.pos++] = Tag.String;
        this.string(v);
        return;
      case 'number':
        if (Number.isSafeInteger(v) && !Object.is(v, -0)) {
          this.ensure(1);
          this.buf[this.pos++] = Tag.Int;
          this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
        } else {
          this.ensure(1);
          this.buf[this.pos++] = Tag.Float;
          this.float(v);
        }
        return;
      case 'boolean':
        this.ensure(1);
        this.buf[this.pos++] = v ? Tag.True : Tag.False;
        return;
      case 'undefined':
        this.ensure(1);
        this.buf[this.pos++] = Tag.Undefined;
        return;
      case 'bigint':
        this.bigint(v);
        return;
      case 'object':
        if (v === null) {
          this.ensure(1);
          this.buf[this.pos++] = Tag.Null;
          return;
        }
        this.object(v);
        return;
      default:
        this.fail('unsupported-type', `a ${typeof v} is not plain data`);
    }
  }

  private bigint(v: bigint): void {
    const negative = v < 0n;
    let hex = (negative ? -v : v).toString(16);
    if (hex === '0') hex = '';
    if (hex.length % 2) hex = `0${hex}`;
    const n = hex.length / 2;
    this.ensure(2);
    this.buf[this.pos++] = Tag.BigInt;
    this.buf[this.pos++] = negative ? 1 : 0;
    this.varint(n);
    this.ensure(n);
    for (let i = 0; i < n; i++) this.buf[this.pos++] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }

  private object(v: object): void {
    if (v instanceof Uint8Array) {
      if (v.constructor !== Uint8Array && !Buffer.isBuffer(v)) this.fail('class-instance', `a ${v.constructor.name} is not plain data (use a Uint8Array)`);
      this.ensure(1);
      this.buf[this.pos++] = Tag.Bytes;
      this.varint(v.length);
      this.ensure(v.length);
      this.buf.set(v, this.pos);
      this.pos += v.length;
      return;
    }
    const ancestors = this.ancestors;
    if (ancestors.length >= this.maxDepth) this.fail('too-deep', `nested more than ${this.maxDepth} levels deep (maxDepth)`);
    if (ancestors.includes(v)) this.fail('cycle', 'the value contains itself (a circular reference)');
    ancestors.push(v);
    if (Array.isArray(v)) this.array(v);
    else {
      const proto = Object.getPrototypeOf(v);
      if (proto === Object.prototype || proto === null) this.plain(v as Record<string, unknown>);
      else if (v instanceof Map) this.map(v);
      else if (v instanceof Set) this.set(v);
      else if (v instanceof Date) {
        this.ensure(1);
        this.buf[this.pos++] = Tag.Date;
        this.float(v.getTime());
      } else {
        const name = typeof proto?.constructor === 'function' && proto.constructor.name ? proto.constructor.name : 'object with a prototype';
        this.fail(
          'class-instance',
          `a ${name} instance is not plain data (plain objects, arrays, Map, Set, Date, Uint8Array, strings, numbers, bigints, booleans, null and undefined are)`,
        );
      }
    }
    ancestors.pop();
  }

  private array(a: unknown[]): void {
    this.ensure(1);
    this.buf[this.pos++] = Tag.Array;
    const n = a.length;
    this.varint(n);
    const keys = this.keys;
    keys.push(0);
    const top = keys.length - 1;
    for (let i = 0; i < n; i++) {
      keys[top] = i;
      this.write(a[i]);
    }
    keys.pop();
  }

  private plain(o: Record<string, unknown>): void {
    const names = Object.keys(o);
    if (names.length > 1) names.sort();
    this.ensure(1);
    this.buf[this.pos++] = Tag.Object;
    this.varint(names.length);
    const keys = this.keys;
    keys.push('');
    const top = keys.length - 1;
    for (let i = 0; i < names.length; i++) {
      const k = names[i]!;
      keys[top] = k;
      this.string(k);
      this.write(o[k]);
    }
    keys.pop();
  }

  private map(m: Map<unknown, unknown>): void {
    this.ensure(1);
    this.buf[this.pos++] = Tag.Map;
    this.varint(m.size);
    const start = this.pos;
    const keyStarts: number[] = [];
    const keyEnds: number[] = [];
    const keys = this.keys;
    keys.push('<map key>');
    const top = keys.length - 1;
    let i = 0;
    for (const [k, value] of m) {
      keys[top] = `<map key ${i}>`;
      keyStarts.push(this.pos);
      this.write(k);
      keyEnds.push(this.pos);
      keys[top] = `<map value ${i}>`;
      this.write(value);
      i++;
    }
    keys.pop();
    this.sortRuns(start, keyStarts, keyEnds, 'two Map keys have the same canonical form');
  }

  private set(s: Set<unknown>): void {
    this.ensure(1);
    this.buf[this.pos++] = Tag.Set;
    this.varint(s.size);
    const start = this.pos;
    const starts: number[] = [];
    const ends: number[] = [];
    const keys = this.keys;
    keys.push(0);
    const top = keys.length - 1;
    let i = 0;
    for (const x of s) {
      keys[top] = `<set element ${i++}>`;
      starts.push(this.pos);
      this.write(x);
      ends.push(this.pos);
    }
    keys.pop();
    this.sortRuns(start, starts, ends, 'two Set elements have the same canonical form');
  }

  /**
   * Reorders the runs written from `start` (run i begins at `starts[i]` and ends where run i+1
   * begins, or at `pos`) by the bytes of their sort keys (`starts[i]`..`keyEnds[i]`).
   */
  private sortRuns(start: number, starts: number[], keyEnds: number[], duplicate: string): void {
    const n = starts.length;
    if (n < 2) return;
    const buf = this.buf;
    const end = this.pos;
    const order = Array.from({ length: n }, (_, i) => i);
    const cmp = (a: number, b: number): number => compareBytes(buf, starts[a]!, keyEnds[a]!, starts[b]!, keyEnds[b]!);
    order.sort(cmp);
    let sorted = true;
    for (let i = 0; i < n; i++) {
      if (i > 0 && cmp(order[i - 1]!, order[i]!) === 0) this.fail('duplicate-key', duplicate);
      if (order[i] !== i) sorted = false;
    }
    if (sorted) return;
    const copy = buf.slice(start, end);
    let p = start;
    for (const i of order) {
      const runEnd = i + 1 < n ? starts[i + 1]! : end;
      buf.set(copy.subarray(starts[i]! - start, runEnd - start), p);
      p += runEnd - starts[i]!;
    }
  }
}

/** Byte-lexicographic order of two ranges of one buffer. */
function compareBytes(buf: Uint8Array, a0: number, a1: number, b0: number, b1: number): number {
  const n = Math.min(a1 - a0, b1 - b0);
  for (let i = 0; i < n; i++) {
    const d = buf[a0 + i]! - buf[b0 + i]!;
    if (d !== 0) return d;
  }
  return a1 - a0 - (b1 - b0);
}

/** UTF-8 of a well-formed string, by hand (short strings: cheaper than a native call). */
function utf8Write(s: string, buf: Uint8Array, p: number): void {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) buf[p++] = c;
    else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 63);
    } else if (c >= 0xd800 && c <= 0xdbff) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      buf[p++] = 0xf0 | (c >> 18);
      buf[p++] = 0x80 | ((c >> 12) & 63);
      buf[p++] = 0x80 | ((c >> 6) & 63);
      buf[p++] = 0x80 | (c & 63);
    } else {
      buf[p++] = 0xe0 | (c >> 12);
      buf[p++] = 0x80 | ((c >> 6) & 63);
      buf[p++] = 0x80 | (c & 63);
    }
  }
}

const shared = new CanonicalWriter(4096);
let sharedBusy = false;

/**
 * The canonical encoding of `value` (a fresh copy). Throws `CanonicalError` naming the problem
 * and where it is: a function or symbol, a class instance, a cycle, nesting past `maxDepth`, an
 * encoding past `maxBytes`, a string with an unpaired surrogate, two equal Map keys.
 *
 * ```ts
 * encode({ b: 1, a: [1n, new Set(['x'])] }); // the same bytes as encode({ a: [1n, new Set(['x'])], b: 1 })
 * ```
 */
export function encode(value: unknown, options?: EncodeOptions): Uint8Array {
  // A getter that encodes while this call encodes gets a writer of its own.
  if (sharedBusy) return new CanonicalWriter().reset(options).value(value).copy();
  sharedBusy = true;
  const w = shared.reset(options);
  try {
    w.value(value);
    return w.copy();
  } finally {
    sharedBusy = false;
    // A huge value must not keep a huge buffer alive in this thread.
    if (shared.buf.length > 1 << 20) shared.buf = new Uint8Array(4096);
  }
}
