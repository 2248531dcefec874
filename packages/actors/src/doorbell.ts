/**
 * How a host that reads rings sleeps, and how writers wake it: one Int32 in a
 * SharedArrayBuffer per reading host. The reader announces that it is about to sleep
 * (`SLEEPING`), checks its rings once more, and only then waits on the word; a writer that has
 * published a record loads the word and, only if the reader sleeps, flips it back and calls
 * `Atomics.notify`. Sequentially consistent atomics make this race-free: either the reader's
 * last check sees the record, or the writer sees `SLEEPING`. A reader that is awake (working or
 * spinning) costs its writers one atomic load per flush and no system call.
 */

const STATE = 0;
const AWAKE = 0;
const SLEEPING = 1;

/** `Atomics.waitAsync` (Node 16+, ES2024; the project's lib is ES2023). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(a: Int32Array, i: number, v: number, t?: number): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

/** Bytes of a doorbell's buffer. */
export const DOORBELL_BYTES = 64;

export function createDoorbell(): SharedArrayBuffer {
  return new SharedArrayBuffer(DOORBELL_BYTES);
}

/** The writer's side: rings a reader's doorbell. */
export function ring(word: Int32Array): void {
  if (claimRing(word)) Atomics.notify(word, STATE);
}

/**
 * The writer's side, for a reader woken some other way (the main thread, by a message): whether
 * the reader sleeps and this writer is the one to wake it (it flipped the word back to awake).
 */
export function claimRing(word: Int32Array): boolean {
  return Atomics.load(word, STATE) === SLEEPING && Atomics.compareExchange(word, STATE, SLEEPING, AWAKE) === SLEEPING;
}

/** What a writer posts to wake the main thread (large records, the port's other traffic, are ArrayBuffers). */
export const DOORBELL_MESSAGE = 0;

export function doorbellWord(buffer: SharedArrayBuffer): Int32Array {
  if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < DOORBELL_BYTES) throw new TypeError('not a doorbell buffer (see createDoorbell)');
  return new Int32Array(buffer, 0, 1);
}

/** The reader's side: its own doorbell. */
export class Doorbell {
  readonly word: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.word = doorbellWord(buffer);
  }

  /**
   * Blocks this thread until a writer rings or `timeoutMs` passes, unless `hasWork` (checked
   * after announcing sleep) finds something. Worker threads only: the main thread must never
   * block. Returns whether it was woken (or found work) rather than timed out.
   */
  sleep(timeoutMs: number, hasWork: () => boolean): boolean {
    Atomics.store(this.word, STATE, SLEEPING);
    if (hasWork()) {
      Atomics.store(this.word, STATE, AWAKE);
      return true;
    }
    const r = Atomics.wait(this.word, STATE, SLEEPING, timeoutMs);
    Atomics.store(this.word, STATE, AWAKE);
    return r !== 'timed-out';
  }

  /**
   * Sleeps without blocking the thread (for the main thread, and for idle workers): `onWake`
   * runs in a later task once a writer rings. Returns false, without waiting, when `hasWork`
   * finds something after the announcement. `cancel()` of the result stops the wait (onWake
   * does not run).
   */
  sleepAsync(hasWork: () => boolean, onWake: () => void): { cancel(): void } | false {
    Atomics.store(this.word, STATE, SLEEPING);
    if (hasWork()) {
      Atomics.store(this.word, STATE, AWAKE);
      return false;
    }
    let cancelled = false;
    const r = waitAsync(this.word, STATE, SLEEPING);
    const wake = () => {
      if (cancelled) return;
      cancelled = true;
      Atomics.store(this.word, STATE, AWAKE);
      onWake();
    };
    if (r.async) void r.value.then(wake);
    else queueMicrotask(wake);
    return {
      cancel: () => {
        if (cancelled) return;
        cancelled = true;
        // Wakes the pending waitAsync so it does not linger (its callback is now a no-op).
        Atomics.store(this.word, STATE, AWAKE);
        Atomics.notify(this.word, STATE);
      },
    };
  }

  /**
   * Announces sleep for a reader that writers wake by message (the main thread): false when
   * `hasWork`, checked after the announcement, finds something (it stays awake). A writer that
   * finds it sleeping flips it back and posts `DOORBELL_MESSAGE`.
   */
  sleepUntilMessage(hasWork: () => boolean): boolean {
    Atomics.store(this.word, STATE, SLEEPING);
    if (hasWork()) {
      Atomics.store(this.word, STATE, AWAKE);
      return false;
    }
    return true;
  }

  /** Marks this host awake (a sleep was abandoned). */
  awake(): void {
    Atomics.store(this.word, STATE, AWAKE);
  }
}
