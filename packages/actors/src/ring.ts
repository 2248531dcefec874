/**
 * A bounded single-producer, single-consumer ring of variable-length records in a
 * SharedArrayBuffer: how two hosts (threads) hand each other bytes without a postMessage.
 *
 * The models: the LMAX Disruptor (producer and consumer cursors on cache lines of their own,
 * each written by one side only), Aeron's IPC log buffers (length-prefixed records aligned to
 * 8 bytes, a padding record where a record would straddle the end), and ringbuf.js (a
 * SharedArrayBuffer ring for JavaScript).
 *
 * Publication: the writer copies a record's payload in, then its length, and only then
 * advances the write cursor with `Atomics.store`. The reader loads that cursor with
 * `Atomics.load` and reads nothing beyond it, so it never sees a record that is not whole: a
 * writer that dies mid-copy leaves bytes past the cursor that no one reads. Several records can
 * be published by one store (a turn's sends leave together). The reader frees space by
 * advancing the read cursor after it has decoded (copied out) what it read.
 *
 * Cursors are free-running 32-bit byte counts; a position in the data is `cursor & mask`.
 */
import { assert } from './errors.js';
import { copySharedBytes } from './shared-copy.js';

/**
 * Bytes before the data, three 64-byte lines: the write cursor (written by the writer), the read
 * cursor (written by the reader), and the writer's "waiting for room" flag (rarely touched).
 */
export const RING_HEADER_BYTES = 192;
const WRITE = 0; // Int32 index of the write cursor
const READ = 16; // Int32 index of the read cursor (byte 64)
const WAITING = 32; // Int32 index of the writer's flag (byte 128)
/** A record's length word: payload bytes, or PAD (skip to the end of the data). */
const LENGTH_BYTES = 4;
const PAD = -1;
export const MIN_RING_BYTES = 4 * 1024;
export const MAX_RING_BYTES = 1 << 30;

/** The payload bytes a ring of `capacity` bytes takes in one record: a quarter of it. */
export function maxRecordPayload(capacity: number): number {
  return (capacity >> 2) - LENGTH_BYTES;
}

/** Bytes a record of `n` payload bytes takes (length word, payload, padding to 8). */
export function recordBytes(n: number): number {
  return (LENGTH_BYTES + n + 7) & ~7;
}

/**
 * Lays out a record in ring format at `at` of `out` (8-aligned): its length, then `n` bytes of
 * `payload`; returns the bytes it takes. For queues that move runs of records in one copy.
 */
export function formatRecord(out: Uint8Array, outWords: DataView, at: number, payload: Uint8Array, n: number): number {
  outWords.setInt32(at, n, true);
  copyBytes(payload, 0, out, at + LENGTH_BYTES, n);
  return recordBytes(n);
}

/** Copies `n` bytes; a plain loop for the small records most messages are (TypedArray.set costs more to call than to copy them). */
export function copyBytes(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void {
  if (n > 64) {
    copySharedBytes(dst, to, src.subarray(from, from + n)); // fast however the two are aligned (shared-copy.ts)
    return;
  }
  for (let i = 0; i < n; i++) dst[to + i] = src[from + i]!;
}

/**
 * A new ring with `capacity` bytes of data (a power of two, at least 4 KiB); hand the buffer
 * to one {@link RingWriter} and one {@link RingReader}.
 */
export function createRing(capacity: number): SharedArrayBuffer {
  if (!Number.isInteger(capacity) || capacity < MIN_RING_BYTES || capacity > MAX_RING_BYTES || (capacity & (capacity - 1)) !== 0) {
    throw new RangeError(`a ring's capacity must be a power of two from ${MIN_RING_BYTES} to ${MAX_RING_BYTES} bytes, got ${capacity}`);
  }
  return new SharedArrayBuffer(RING_HEADER_BYTES + capacity);
}

class RingBase {
  readonly capacity: number;
  protected readonly mask: number;
  protected readonly header: Int32Array;
  /** The record area (views over the shared buffer). */
  readonly data: Uint8Array;
  protected readonly words: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.capacity = buffer.byteLength - RING_HEADER_BYTES;
    if (this.capacity < MIN_RING_BYTES || (this.capacity & (this.capacity - 1)) !== 0) throw new RangeError('not a ring buffer (see createRing)');
    this.mask = this.capacity - 1;
    this.header = new Int32Array(buffer, 0, RING_HEADER_BYTES >> 2);
    this.data = new Uint8Array(buffer, RING_HEADER_BYTES, this.capacity);
    this.words = new Int32Array(buffer, RING_HEADER_BYTES, this.capacity >> 2);
  }

  /** Published bytes not yet consumed (0 when empty). */
  get used(): number {
    return (Atomics.load(this.header, WRITE) - Atomics.load(this.header, READ)) >>> 0;
  }
}

/** The producing end of a ring. One per ring, used by one thread. */
export class RingWriter extends RingBase {
  /** Where the next record goes (ahead of the published cursor while records are unpublished). */
  private tail: number;
  private published: number;
  /** The read cursor as last seen: space is checked against it, and it is reloaded only when short. */
  private headSeen: number;
  readonly maxPayload: number;

  constructor(buffer: SharedArrayBuffer) {
    super(buffer);
    this.tail = Atomics.load(this.header, WRITE) >>> 0;
    this.published = this.tail;
    this.headSeen = Atomics.load(this.header, READ) >>> 0;
    this.maxPayload = maxRecordPayload(this.capacity);
  }

  /**
   * Room for one record of `n` payload bytes: returns the offset in {@link data} where its
   * payload goes, or -1 when the ring has no room now (the reader is behind). The record is
   * whole once the caller has written the payload; it is published by {@link publish}.
   * `n` must be at most {@link maxPayload}.
   */
  claim(n: number): number {
    const size = recordBytes(n);
    let pos = this.tail & this.mask;
    const toEnd = this.capacity - pos;
    const need = toEnd < size ? toEnd + size : size;
    if (((this.tail - this.headSeen) >>> 0) + need > this.capacity) {
      this.headSeen = Atomics.load(this.header, READ) >>> 0;
      if (((this.tail - this.headSeen) >>> 0) + need > this.capacity) return -1;
    }
    if (toEnd < size) {
      // Does not fit before the end: a padding record fills the rest, the record starts at 0.
      this.words[pos >> 2] = PAD;
      this.tail = (this.tail + toEnd) >>> 0;
      pos = 0;
    }
    this.words[pos >> 2] = n;
    this.tail = (this.tail + size) >>> 0;
    return pos + LENGTH_BYTES;
  }

  /**
   * Room for a run of whole records already in ring format (`u32 length | payload | padding to
   * 8`, as {@link formatRecord} lays them out): returns the offset in {@link data} to copy them
   * to, contiguous, or -1. When the run does not fit before the end of the data but would after a
   * wrap, a padding record fills the end first. The run is published by {@link publish}.
   */
  claimRun(bytes: number): number {
    let pos = this.tail & this.mask;
    const toEnd = this.capacity - pos;
    const need = toEnd < bytes ? toEnd + bytes : bytes;
    if (((this.tail - this.headSeen) >>> 0) + need > this.capacity) {
      this.headSeen = Atomics.load(this.header, READ) >>> 0;
      if (((this.tail - this.headSeen) >>> 0) + need > this.capacity) return -1;
    }
    if (toEnd < bytes) {
      this.words[pos >> 2] = PAD;
      this.tail = (this.tail + toEnd) >>> 0;
      pos = 0;
    }
    this.tail = (this.tail + bytes) >>> 0;
    return pos;
  }

  /** Whether records were claimed since the last publish. */
  get pending(): boolean {
    return this.tail !== this.published;
  }

  /** Makes every record claimed (and written) so far visible to the reader, at once. */
  publish(): void {
    if (this.tail === this.published) return;
    // The write cursor only moves forward, and never more than a ring ahead of the reader.
    assert(
      (this.tail - this.published) >>> 0 <= this.capacity && (this.tail - this.headSeen) >>> 0 <= this.capacity,
      () => `ring write cursor out of order: publishing ${this.tail} after ${this.published}, read cursor ${this.headSeen}, capacity ${this.capacity}`,
    );
    this.published = this.tail;
    Atomics.store(this.header, WRITE, this.tail | 0);
  }

  /**
   * Asks the reader to ring this writer's doorbell when it next frees space (the writer holds
   * records that did not fit). Claim again after calling it: space may have been freed since.
   * The reader rings only a writer that sleeps: before sleeping, check {@link roomAsked} after
   * announcing the sleep (the reader may have answered while the writer was still awake).
   */
  wantRoom(): void {
    Atomics.store(this.header, WAITING, 1);
  }

  /** Whether a {@link wantRoom} request is still unanswered (the reader has freed no space since). */
  get roomAsked(): boolean {
    return Atomics.load(this.header, WAITING) !== 0;
  }
}

/**
 * The consuming end of a ring. One per ring, used by one thread. Read records with
 * {@link next} and {@link advance}; the space they took is freed by {@link release}.
 */
export class RingReader extends RingBase {
  private head: number;
  /** The write cursor as last loaded. */
  private tailSeen: number;
  /** The current record's payload: offset in {@link data} and length. */
  offset = 0;
  length = 0;

  constructor(buffer: SharedArrayBuffer) {
    super(buffer);
    this.head = Atomics.load(this.header, READ) >>> 0;
    this.tailSeen = this.head;
  }

  /** Whether the writer has published records not read yet (loads the write cursor). */
  hasData(): boolean {
    if (this.head !== this.tailSeen) return true;
    this.tailSeen = Atomics.load(this.header, WRITE) >>> 0;
    return this.head !== this.tailSeen;
  }

  /**
   * Moves to the next published record, setting {@link offset} and {@link length}; false when
   * there is none. The record stays readable until {@link release}.
   */
  next(): boolean {
    for (;;) {
      if (this.head === this.tailSeen) {
        this.tailSeen = Atomics.load(this.header, WRITE) >>> 0;
        if (this.head === this.tailSeen) return false;
        // The writer never runs more than a ring ahead (a corrupt or foreign cursor otherwise).
        assert(
          (this.tailSeen - this.head) >>> 0 <= this.capacity,
          () => `ring write cursor ${this.tailSeen} is more than a ring (${this.capacity} bytes) ahead of the read cursor ${this.head}`,
        );
      }
      const pos = this.head & this.mask;
      const n = this.words[pos >> 2]!;
      if (n === PAD) {
        this.head = (this.head + this.capacity - pos) >>> 0;
        continue;
      }
      if (n < 0 || n > this.capacity) throw new RangeError(`corrupt ring record length ${n} at ${pos}`);
      this.offset = pos + LENGTH_BYTES;
      this.length = n;
      return true;
    }
  }

  /** Steps past the current record (found by {@link next}). */
  advance(): void {
    this.head = (this.head + recordBytes(this.length)) >>> 0;
  }

  /**
   * Gives the space of every record stepped past back to the writer. Copy out what you keep
   * first. Returns true when the writer asked to hear of it (see {@link RingWriter.wantRoom}):
   * ring its doorbell.
   */
  release(): boolean {
    // The read cursor only moves forward, and never past what the writer published.
    assert(
      (this.tailSeen - this.head) >>> 0 <= this.capacity && (this.head - (Atomics.load(this.header, READ) >>> 0)) >>> 0 <= this.capacity,
      () => `ring read cursor out of order: releasing to ${this.head}, write cursor seen ${this.tailSeen}, capacity ${this.capacity}`,
    );
    Atomics.store(this.header, READ, this.head | 0);
    if (Atomics.load(this.header, WAITING) === 0) return false;
    Atomics.store(this.header, WAITING, 0);
    return true;
  }

  /** Whether every record published has been stepped past. */
  get drained(): boolean {
    return this.head === Atomics.load(this.header, WRITE) >>> 0;
  }
}
