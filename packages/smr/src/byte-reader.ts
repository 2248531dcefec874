/**
 * Reads what a `WireWriter` wrote (varints, strings, byte runs) from a view of a byte array,
 * with every length checked against the bytes left: log entries and client messages are read
 * by replicas, and a corrupt one must fail with an error, not read past its end.
 */
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * A view of `buf[start, end)` made by the plain `Uint8Array` method, whatever `buf` is: a
 * received value may be a view of shared memory whose own `subarray` also keeps that memory
 * alive (a cost per call), which a transient view read at once does not need.
 */
const plainSubarray = Uint8Array.prototype.subarray;

/** Strings up to this many bytes are looked up in a small cache of recent ones. */
const MAX_CACHED = 32;
const CACHE_SIZE = 4096;
const cache: (string | undefined)[] = new Array(CACHE_SIZE);

export class ByteReader {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  end = 0;
  /** Where the bytes of the last string or run read begin (they end at `pos`). */
  runStart = 0;

  reset(buf: Uint8Array, start = 0, end = buf.length): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  private corrupt(what: string): never {
    throw new RangeError(`corrupt ${what} at byte ${this.pos} of ${this.end}`);
  }

  u8(): number {
    if (this.pos >= this.end) this.corrupt('byte');
    return this.buf[this.pos++]!;
  }

  uvar(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) this.corrupt('varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 0x80;
    }
    return this.corrupt('varint');
  }

  /**
   * A length-prefixed run of bytes, as a view (no copy), valid while the bytes read are: copy what
   * must outlive them.
   */
  bytesView(): Uint8Array {
    const n = this.uvar();
    if (n > this.end - this.pos) this.corrupt(`run of ${n} bytes`);
    this.runStart = this.pos;
    const out = plainSubarray.call(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Skips a length-prefixed run; returns its length (it starts at `runStart`). */
  skipRun(): number {
    const n = this.uvar();
    if (n > this.end - this.pos) this.corrupt(`run of ${n} bytes`);
    this.runStart = this.pos;
    this.pos += n;
    return n;
  }

  string(): string {
    const n = this.uvar();
    if (n > this.end - this.pos) this.corrupt(`string of ${n} bytes`);
    const start = this.pos;
    this.runStart = start;
    this.pos += n;
    const buf = this.buf;
    if (n <= MAX_CACHED) {
      // Short ASCII strings repeat (keys, client ids): hand out the same string again.
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
        const slot = (h >>> 0) & (CACHE_SIZE - 1);
        const cached = cache[slot];
        if (cached !== undefined && cached.length === n) {
          let same = true;
          for (let i = 0; i < n; i++)
            if (cached.charCodeAt(i) !== buf[start + i]) {
              same = false;
              break;
            }
          if (same) return cached;
        }
        let s = '';
        for (let i = start; i < start + n; i++) s += String.fromCharCode(buf[i]!);
        cache[slot] = s;
        return s;
      }
    }
    try {
      return decoder.decode(plainSubarray.call(buf, start, start + n));
    } catch {
      this.pos = start;
      return this.corrupt('string (not UTF-8)');
    }
  }
}
