/**
 * Decoding canonical bytes back to plain data: fresh objects every time (a replica that keeps or
 * mutates what it decoded shares nothing with another). Bounded by the input: every count is
 * checked against the bytes left before anything is allocated for it.
 */
import { CanonicalError } from './errors.js';
import { Tag } from './tags.js';

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Reads canonical values one after another from a byte range. */
export class CanonicalReader {
  buf: Uint8Array;
  pos: number;
  end: number;
  private depth = 0;

  constructor(buf: Uint8Array = new Uint8Array(0), start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  reset(buf: Uint8Array, start = 0, end = buf.length): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.depth = 0;
    return this;
  }

  private corrupt(detail: string): never {
    throw new CanonicalError('corrupt', '', `not a canonical encoding: ${detail} at byte ${this.pos}`);
  }

  private need(n: number): void {
    if (this.pos + n > this.end) this.corrupt(`${n} more bytes needed, ${this.end - this.pos} left`);
  }

  varint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      this.need(1);
      const b = this.buf[this.pos++]!;
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
    }
    return this.corrupt('varint longer than 8 bytes');
  }

  /** A count of items each at least `minBytes` long: refused when the bytes left cannot hold them. */
  private count(minBytes: number): number {
    const n = this.varint();
    if (n * minBytes > this.end - this.pos) this.corrupt(`a count of ${n} does not fit in ${this.end - this.pos} bytes`);
    return n;
  }

  private float(): number {
    this.need(8);
    const p = this.pos;
    if (LITTLE_ENDIAN) for (let i = 0; i < 8; i++) F64_BYTES[7 - i] = this.buf[p + i]!;
    else F64_BYTES.set(this.buf.subarray(p, p + 8));
    this.pos = p + 8;
    return F64[0]!;
  }

  /** A string without its tag. */
  string(): string {
    const n = this.count(1);
    const buf = this.buf;
    const start = this.pos;
    this.pos += n;
    if (n < 64) {
      let s = '';
      let i = start;
      for (; i < start + n; i++) {
        const c = buf[i]!;
        if (c >= 0x80) break;
        s += String.fromCharCode(c);
      }
      if (i === start + n) return s;
    }
    try {
      return textDecoder.decode(buf.subarray(start, start + n));
    } catch {
      this.pos = start;
      return this.corrupt('a string is not valid UTF-8');
    }
  }

  /** The next value. */
  value(): unknown {
    this.need(1);
    const tag = this.buf[this.pos++]! as Tag;
    switch (tag) {
      case Tag.Undefined:
        return undefined;
      case Tag.Null:
        return null;
      case Tag.False:
        return false;
      case Tag.True:
        return true;
      case Tag.Int: {
        const z = this.varint();
        return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      }
      case Tag.Float:
        return this.float();
      case Tag.BigInt: {
        this.need(1);
        const negative = this.buf[this.pos++] === 1;
        const n = this.count(1);
        let v = 0n;
        for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(this.buf[this.pos++]!);
        return negative ? -v : v;
      }
      case Tag.String:
        return this.string();
      case Tag.Bytes: {
        const n = this.count(1);
        const out = this.buf.slice(this.pos, this.pos + n);
        this.pos += n;
        return out;
      }
      case Tag.Date:
        return new Date(this.float());
      case Tag.Array:
      case Tag.Object:
      case Tag.Map:
      case Tag.Set:
        return this.container(tag);
      default:
        this.pos--;
        return this.corrupt(`unknown tag ${tag}`);
    }
  }

  private container(tag: Tag): unknown {
    if (++this.depth > 1024) this.corrupt('nested more than 1024 levels');
    let out: unknown;
    switch (tag) {
      case Tag.Array: {
        const n = this.count(1);
        const a = new Array(n);
        for (let i = 0; i < n; i++) a[i] = this.value();
        out = a;
        break;
      }
      case Tag.Object: {
        const n = this.count(2);
        const o: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const k = this.string();
          const v = this.value();
          // A key named __proto__ is data, never the prototype.
          if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
          else o[k] = v;
        }
        out = o;
        break;
      }
      case Tag.Map: {
        const n = this.count(2);
        const m = new Map<unknown, unknown>();
        for (let i = 0; i < n; i++) {
          const k = this.value();
          m.set(k, this.value());
        }
        out = m;
        break;
      }
      default: {
        const n = this.count(1);
        const s = new Set<unknown>();
        for (let i = 0; i < n; i++) s.add(this.value());
        out = s;
      }
    }
    this.depth--;
    return out;
  }
}

const shared = new CanonicalReader();

/**
 * The value whose canonical encoding is `bytes` (fresh objects). Throws `CanonicalError`
 * (problem `corrupt`) when the bytes are not one whole encoding.
 */
export function decode(bytes: Uint8Array): unknown {
  const r = shared.reset(bytes);
  const v = r.value();
  if (r.pos !== r.end) throw new CanonicalError('corrupt', '', `not a canonical encoding: ${r.end - r.pos} bytes after the value`);
  return v;
}
