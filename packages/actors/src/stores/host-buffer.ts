/**
 * The header of the SharedArrayBuffer the main thread keeps for one host's store name. It
 * outlives the worker, so the next worker with that store name (a restart) finds the same
 * header: the `shared` log's pointers, and an owner token that says "same system, same store
 * name" to the `file` store's lock (see log-lock.ts). The rest of the buffer is the `shared` log.
 *
 * Int32 words:
 *   0 state (0 blank, 1 being set up, 2 ready) · 1..4 owner token · 6 shared store generation
 *   7 active half of the shared log · 8, 9 bytes used in half 0, 1
 */
import { randomBytes } from 'node:crypto';
import { StorageError } from './errors.js';

export const HOST_BUFFER_HEADER_BYTES = 64;
/** Smallest buffer worth having: the header and two halves of a few KiB. */
export const MIN_HOST_BUFFER_BYTES = 16 * 1024;
/** Offsets into an Int32Array are int32: keep each half addressable. */
export const MAX_HOST_BUFFER_BYTES = 2 ** 31;

const enum W {
  State = 0,
  Token = 1,
  SharedGen = 6,
  Active = 7,
  Used0 = 8,
}
const BLANK = 0;
const SETTING_UP = 1;
const READY = 2;
/** How long to wait for another thread that is setting the header up (it takes microseconds). */
const SETUP_WAIT_MS = 1_000;

export class HostBuffer {
  readonly words: Int32Array;
  /** Identifies this buffer: every host that attaches it gets the same token. */
  readonly token: string;

  private constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer, 0, HOST_BUFFER_HEADER_BYTES / 4);
    const w = this.words;
    if (Atomics.compareExchange(w, W.State, BLANK, SETTING_UP) === BLANK) {
      const t = randomBytes(16);
      for (let i = 0; i < 4; i++) w[W.Token + i] = t.readInt32LE(i * 4);
      Atomics.store(w, W.Active, 0);
      Atomics.store(w, W.Used0, 0);
      Atomics.store(w, W.Used0 + 1, 0);
      Atomics.store(w, W.State, READY);
      Atomics.notify(w, W.State);
    } else if (Atomics.load(w, W.State) !== READY) {
      Atomics.wait(w, W.State, SETTING_UP, SETUP_WAIT_MS);
      if (Atomics.load(w, W.State) !== READY) throw new StorageError('the shared buffer of this host was left half set up; restart the actor system');
    }
    const t = Buffer.alloc(16);
    for (let i = 0; i < 4; i++) t.writeInt32LE(Atomics.load(w, W.Token + i), i * 4);
    this.token = t.toString('hex');
  }

  static attach(buffer: SharedArrayBuffer): HostBuffer {
    if (buffer.byteLength < MIN_HOST_BUFFER_BYTES || buffer.byteLength > MAX_HOST_BUFFER_BYTES) {
      throw new StorageError(`storage.sharedBytes must be between ${MIN_HOST_BUFFER_BYTES} and ${MAX_HOST_BUFFER_BYTES}, got ${buffer.byteLength}`);
    }
    return new HostBuffer(buffer);
  }

  /** Claims the `shared` log of this buffer: returns a generation that only the newest claimant holds. */
  claimShared(): number {
    return Atomics.add(this.words, W.SharedGen, 1) + 1;
  }

  /** Whether `generation` is still the newest claim (no other host took the `shared` log over since). */
  holdsShared(generation: number): boolean {
    return Atomics.load(this.words, W.SharedGen) === generation;
  }

  get activeHalf(): number {
    return Atomics.load(this.words, W.Active);
  }
  set activeHalf(h: number) {
    Atomics.store(this.words, W.Active, h);
  }
  used(half: number): number {
    return Atomics.load(this.words, W.Used0 + half);
  }
  setUsed(half: number, bytes: number): void {
    Atomics.store(this.words, W.Used0 + half, bytes);
  }
}
