import { deserialize, serialize } from 'node:v8';
import type { ArenaTable } from './arena.js';
import type { ActorRef } from './ref.js';

/** Tags of {@link WireWriter.value}. */
const enum V {
  Undefined,
  Null,
  False,
  True,
  Uint,
  NegInt,
  F64,
  Str,
  Arr,
  Obj,
  Bytes,
  Clone,
}
/** Past this depth `value` hands the rest to structured clone (messages are depth-checked anyway). */
const MAX_VALUE_DEPTH = 32;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A growable little-endian byte writer for binary message codecs. */
export class WireWriter {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  /**
   * Shared arenas (the ring transport's writer): large byte values go there and travel by
   * reference (see arena.ts). Null: bytes are always written inline.
   */
  arenas: ArenaTable | null = null;

  constructor(initialBytes = 4096) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }
  i32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, v, true);
    this.pos += 4;
  }
  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }
  bool(v: boolean): void {
    this.u8(v ? 1 : 0);
  }

  /** A non-negative safe integer in 1-8 bytes (LEB128). */
  uvar(v: number): void {
    this.ensure(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  /** A UTF-8 string with its byte length in front. */
  string(s: string): void {
    const n = s.length;
    // Short ASCII strings are common in messages: copy them without TextEncoder.
    if (n < 128) {
      this.ensure(n + 1);
      const start = this.pos;
      this.buf[this.pos++] = n;
      let ascii = true;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) {
          ascii = false;
          break;
        }
        this.buf[this.pos++] = c;
      }
      if (ascii) return;
      this.pos = start;
    }
    this.ensure(n * 3 + 5);
    const lenPos = this.pos;
    this.pos += 5; // room for the longest uvar of a length
    const { written } = encoder.encodeInto(s, this.buf.subarray(this.pos));
    // Move the bytes back over the unused part of the length field.
    const tmpEnd = this.pos + written;
    this.pos = lenPos;
    this.uvar(written);
    this.buf.copyWithin(this.pos, lenPos + 5, tmpEnd);
    this.pos += written;
  }

  /** Bytes, read back by {@link WireReader.bytes} (with arenas: by reference when large). */
  bytes(b: Uint8Array): void {
    if (this.arenas !== null) this.arenas.write(this, b);
    else this.inline(b);
  }

  /** Bytes copied in, their length in front. */
  inline(b: Uint8Array): void {
    this.uvar(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** An actor ref as node and id; the reader names it through the directory. */
  ref(r: ActorRef<any>): void {
    this.u16(r.node);
    this.u32(r.id);
  }

  /** Any JSON value (slower; for rare fields). */
  json(v: unknown): void {
    this.string(JSON.stringify(v) ?? 'null');
  }

  /**
   * Any plain-data value, compactly: numbers, strings, booleans, null, undefined, arrays, plain
   * objects and Uint8Arrays directly; anything else (Map, Set, Date, bigint, other typed arrays)
   * as a structured clone. What {@link WireReader.value} gives back equals what structured clone
   * would have given.
   */
  value(v: unknown, depth = 0): void {
    switch (typeof v) {
      case 'undefined':
        this.u8(V.Undefined);
        return;
      case 'boolean':
        this.u8(v ? V.True : V.False);
        return;
      case 'string':
        this.u8(V.Str);
        this.string(v);
        return;
      case 'number':
        if (Number.isSafeInteger(v) && !Object.is(v, -0)) {
          if (v >= 0) {
            this.u8(V.Uint);
            this.uvar(v);
          } else {
            this.u8(V.NegInt);
            this.uvar(-v);
          }
        } else {
          this.u8(V.F64);
          this.f64(v);
        }
        return;
      case 'object': {
        if (v === null) {
          this.u8(V.Null);
          return;
        }
        if (depth < MAX_VALUE_DEPTH) {
          if (Array.isArray(v)) {
            this.u8(V.Arr);
            this.uvar(v.length);
            for (let i = 0; i < v.length; i++) this.value(v[i], depth + 1);
            return;
          }
          if (v instanceof Uint8Array && v.constructor === Uint8Array) {
            this.u8(V.Bytes);
            this.bytes(v);
            return;
          }
          const proto = Object.getPrototypeOf(v);
          if (proto === Object.prototype || proto === null) {
            const keys = Object.keys(v);
            this.u8(V.Obj);
            this.uvar(keys.length);
            for (const k of keys) {
              this.string(k);
              this.value((v as Record<string, unknown>)[k], depth + 1);
            }
            return;
          }
        }
        break;
      }
    }
    this.u8(V.Clone);
    this.inline(serialize(v));
  }

  /** Copies out what was written and starts over. */
  take(): ArrayBuffer {
    const out = this.buf.slice(0, this.pos).buffer;
    this.pos = 0;
    return out;
  }
}

/** Strings up to this length are looked up in (and added to) the reader's string cache. */
const MAX_CACHED_STRING = 32;
const STRING_CACHE_SIZE = 4096;
/** Recently read short ASCII strings, by a hash of their bytes (per thread, shared by all readers). */
const stringCache: (string | undefined)[] = new Array(STRING_CACHE_SIZE).fill(undefined);

/** Reads what a {@link WireWriter} wrote. */
export class WireReader {
  buf: Uint8Array = new Uint8Array(0);
  view: DataView = new DataView(this.buf.buffer);
  pos = 0;
  /** Turns a (node, id) pair back into a ref. */
  resolveRef: (node: number, id: number) => ActorRef<any> = (node, id) => ({ name: `#${node}.${id}`, node, id });

  /**
   * The bytes being read are reused once the message is handled (a ring's memory): every
   * Uint8Array this reader hands out is then a copy (or an arena view), never a view of them.
   */
  volatile = false;
  /** Shared arenas, as the writer had them (see {@link WireWriter.arenas}). */
  arenas: ArenaTable | null = null;
  /**
   * The buffer being read holds this one message and nothing else will use it (a large record
   * sent apart): {@link bytes} hands out views of it rather than copies.
   */
  ownsMessage = false;

  reset(buffer: ArrayBuffer): void {
    this.buf = new Uint8Array(buffer);
    this.view = new DataView(buffer);
    this.pos = 0;
  }

  /** Reads from a view (`pos` is relative to it). */
  resetView(bytes: Uint8Array, pos = 0): void {
    if (this.buf !== bytes) {
      this.buf = bytes;
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    this.pos = pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  u8(): number {
    return this.buf[this.pos++]!;
  }
  u16(): number {
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(): number {
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  i32(): number {
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  f64(): number {
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  bool(): boolean {
    return this.buf[this.pos++] !== 0;
  }

  uvar(): number {
    let result = 0;
    let mul = 1;
    for (;;) {
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 0x80;
    }
  }

  string(): string {
    const n = this.uvar();
    const start = this.pos;
    this.pos += n;
    if (n <= MAX_CACHED_STRING) {
      // Short ASCII strings repeat (field names, keys, tags): hand out the same string again
      // rather than building a new one, which also keeps property keys internalized.
      const buf = this.buf;
      let h = n;
      let ascii = true;
      for (let i = start; i < start + n; i++) {
        const b = buf[i]!;
        if (b > 0x7f) {
          ascii = false;
          break;
        }
        h = Math.imul(h ^ b, 0x01000193);
      }
      if (ascii) {
        const slot = (h >>> 0) & (STRING_CACHE_SIZE - 1);
        const cached = stringCache[slot];
        if (cached !== undefined && cached.length === n) {
          let same = true;
          for (let i = 0; i < n; i++)
            if (cached.charCodeAt(i) !== buf[start + i]) {
              same = false;
              break;
            }
          if (same) return cached;
        }
        const s = n === 0 ? '' : String.fromCharCode.apply(null, buf.subarray(start, start + n) as unknown as number[]);
        stringCache[slot] = s;
        return s;
      }
    }
    return decoder.decode(this.buf.subarray(start, start + n));
  }

  /** What {@link WireWriter.bytes} wrote: a copy, or with arenas a view of the shared memory (no copy). Either may be kept. */
  bytes(): Uint8Array {
    if (this.arenas !== null && this.buf[this.pos++] === 1) return this.arenas.readRef(this);
    const n = this.uvar();
    const out = this.ownsMessage ? this.buf.subarray(this.pos, this.pos + n) : this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  ref<M = unknown>(): ActorRef<M> {
    const node = this.u16();
    const id = this.u32();
    return this.resolveRef(node, id);
  }

  json(): unknown {
    return JSON.parse(this.string());
  }

  /**
   * The bytes of a {@link WireWriter.bytes} without a copy where that is safe: a view into the
   * received message when this reader owns its buffer (a port batch, kept alive by the view), a
   * copy when the buffer is reused after the message ({@link volatile}: a ring). Either way the
   * result may be kept.
   */
  bytesView(): Uint8Array {
    if (this.volatile || this.arenas !== null) return this.bytes();
    const n = this.uvar();
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** What {@link WireWriter.value} wrote. */
  value(): unknown {
    switch (this.buf[this.pos++]) {
      case V.Undefined:
        return undefined;
      case V.Null:
        return null;
      case V.False:
        return false;
      case V.True:
        return true;
      case V.Uint:
        return this.uvar();
      case V.NegInt:
        return -this.uvar();
      case V.F64:
        return this.f64();
      case V.Str:
        return this.string();
      case V.Arr: {
        const n = this.uvar();
        const a = new Array<unknown>(n);
        for (let i = 0; i < n; i++) a[i] = this.value();
        return a;
      }
      case V.Obj: {
        const n = this.uvar();
        const o: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const k = this.string();
          if (k === '__proto__') Object.defineProperty(o, k, { value: this.value(), enumerable: true, writable: true, configurable: true });
          else o[k] = this.value();
        }
        return o;
      }
      case V.Bytes:
        return this.bytes();
      case V.Clone: {
        const n = this.uvar();
        const at = this.pos;
        this.pos += n;
        return deserialize(this.buf.subarray(at, at + n)); // deserialize copies out what it keeps
      }
      default:
        throw new RangeError(`corrupt value tag at byte ${this.pos - 1}`);
    }
  }
}
