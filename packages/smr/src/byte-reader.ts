/**
 * Reads what a `WireWriter` wrote (varints, strings, byte runs) from a view of a byte array,
 * with every length checked against the bytes left: log entries and client messages are read
 * by replicas, and a corrupt one must fail with an error, not read past its end.
 */
const decoder = new TextDecoder('utf-8', { fatal: true });

export class ByteReader {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  end = 0;

  reset(buf: Uint8Array, start = 0, end = buf.length): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  get done(): boolean { return this.pos >= this.end; }

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

  /** A length-prefixed run of bytes, as a view (no copy). */
  bytesView(): Uint8Array {
    const n = this.uvar();
    if (n > this.end - this.pos) this.corrupt(`run of ${n} bytes`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Skips a length-prefixed run; returns its start (after the length) and length. */
  skipRun(): number {
    const n = this.uvar();
    if (n > this.end - this.pos) this.corrupt(`run of ${n} bytes`);
    this.pos += n;
    return n;
  }

  string(): string {
    const n = this.uvar();
    if (n > this.end - this.pos) this.corrupt(`string of ${n} bytes`);
    const start = this.pos;
    this.pos += n;
    const buf = this.buf;
    if (n <= 64) {
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
      return decoder.decode(buf.subarray(start, start + n));
    } catch {
      this.pos = start;
      return this.corrupt('string (not UTF-8)');
    }
  }
}
