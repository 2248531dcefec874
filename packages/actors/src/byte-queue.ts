/**
 * What waits for room in a full ring: records already in ring format (`u32 length | payload |
 * padding to 8`, see ring.ts) in one growable buffer, so they go into the ring in runs of one
 * copy each, and queueing costs no allocation per record.
 */
import { formatRecord, recordBytes } from './ring.js';

export class ByteQueue {
  private buf = new Uint8Array(4096);
  private view = new DataView(this.buf.buffer);
  private head = 0;
  private tail = 0;
  /** Records queued. */
  count = 0;
  /** Payload bytes queued (without length words and padding). */
  bytes = 0;

  /** Appends `n` bytes of `src` as one record. */
  push(src: Uint8Array, n: number): void {
    const size = recordBytes(n);
    this.room(size);
    this.tail += formatRecord(this.buf, this.view, this.tail, src, n);
    this.count++;
    this.bytes += n;
  }

  /** The oldest record's payload (a view, valid until the next change). */
  peek(): Uint8Array {
    const n = this.view.getInt32(this.head, true);
    return this.buf.subarray(this.head + 4, this.head + 4 + n);
  }

  /**
   * The longest run of whole records from the front that takes at most `max` bytes in ring
   * format: its size in bytes (0 when even the first is larger).
   */
  runBytes(max: number): number {
    let at = this.head;
    let k = 0;
    while (at < this.tail) {
      const size = recordBytes(this.view.getInt32(at, true));
      if (at + size - this.head > max) break;
      at += size;
      k++;
    }
    return at - this.head;
  }

  /** The bytes of the first `bytes` of records (a run from {@link runBytes}), as a view. */
  run(bytes: number): Uint8Array {
    return this.buf.subarray(this.head, this.head + bytes);
  }

  /** Ring-format size of the oldest record (-1 when empty). */
  firstBytes(): number {
    return this.count === 0 ? -1 : recordBytes(this.view.getInt32(this.head, true));
  }

  /** Drops the records of a run of `bytes` from the front. */
  drop(bytes: number): void {
    const end = this.head + bytes;
    while (this.head < end) {
      const n = this.view.getInt32(this.head, true);
      this.head += recordBytes(n);
      this.count--;
      this.bytes -= n;
    }
    if (this.count === 0) {
      this.head = 0;
      this.tail = 0;
      if (this.buf.length > 1 << 20) this.clear(); // give a burst's memory back
    }
  }

  /** Drops the oldest record. */
  shift(): void {
    this.drop(recordBytes(this.view.getInt32(this.head, true)));
  }

  /** Forgets everything. */
  clear(): void {
    this.buf = new Uint8Array(4096);
    this.view = new DataView(this.buf.buffer);
    this.head = 0;
    this.tail = 0;
    this.count = 0;
    this.bytes = 0;
  }

  private room(n: number): void {
    if (this.tail + n <= this.buf.length) return;
    // Move what is queued to the front, and grow if it still does not fit.
    const used = this.tail - this.head;
    let size = this.buf.length;
    while (used + n > size) size *= 2;
    if (size === this.buf.length && this.head > 0) {
      this.buf.copyWithin(0, this.head, this.tail);
    } else {
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(this.head, this.tail));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.head = 0;
    this.tail = used;
  }
}
