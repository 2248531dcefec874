/**
 * Time as the runtime sees it. Real hosts use {@link realClock}; the simulator supplies a
 * virtual one. Behaviours never see this directly: they use `ctx.now()` and `ctx.setTimer`.
 */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Calls `fn` after `delayMs`; returns a handle for {@link Clock.cancel}. */
  schedule(delayMs: number, fn: () => void): unknown;
  cancel(handle: unknown): void;
}

import { randomInt } from 'node:crypto';

const origin = performance.timeOrigin;

/** A random start for ask numbers: distinct across processes and restarts (see HostConfig.corrBase). */
export function randomCorrBase(): number {
  // Ask numbers travel as u32: start in the lower half so wrapping stays rare.
  return randomInt(1, 2 ** 31);
}

export const realClock: Clock = {
  now: () => origin + performance.now(),
  schedule(delayMs, fn) {
    return setTimeout(fn, Math.max(0, delayMs));
  },
  cancel(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

interface Deadline {
  at: number;
  done: boolean;
}
interface TrackedTimer {
  timer: NodeJS.Timeout;
  deadline: Deadline;
}

/**
 * The real clock, keeping the deadlines of what it schedules in a heap, so a worker that blocks
 * waiting for messages can wake in time for its next timer (see ring-loop.ts).
 */
export class TrackingClock implements Clock {
  private heap: Deadline[] = [];
  /** Timers pending (the heap also holds done ones until they reach its top, or a rebuild). */
  private live = 0;

  now(): number {
    return origin + performance.now();
  }

  schedule(delayMs: number, fn: () => void): unknown {
    const ms = Math.max(0, delayMs);
    const deadline: Deadline = { at: this.now() + ms, done: false };
    const timer = setTimeout(() => {
      this.settle(deadline);
      fn();
    }, ms);
    this.live++;
    if (this.heap.length > 1024 && this.heap.length > 4 * this.live) this.rebuild();
    this.push(deadline);
    return { timer, deadline } satisfies TrackedTimer;
  }

  cancel(handle: unknown): void {
    const t = handle as TrackedTimer | undefined;
    if (!t) return;
    clearTimeout(t.timer);
    this.settle(t.deadline);
  }

  private settle(d: Deadline): void {
    if (d.done) return;
    d.done = true;
    this.live--;
  }

  /** Drops the done deadlines (many timers set and cancelled long before they are due). */
  private rebuild(): void {
    const pending = this.heap.filter((d) => !d.done);
    this.heap = [];
    for (const d of pending) this.push(d);
  }

  /** Milliseconds until the earliest pending timer is due (0 when one is due; Infinity when none is pending). */
  msUntilNext(): number {
    const h = this.heap;
    while (h.length > 0 && h[0]!.done) this.pop();
    if (h.length === 0) return Number.POSITIVE_INFINITY;
    return Math.max(0, h[0]!.at - this.now());
  }

  private push(d: Deadline): void {
    const h = this.heap;
    let i = h.length;
    h.push(d);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.at <= d.at) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = d;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && h[r]!.at < h[l]!.at ? r : l;
      if (h[c]!.at >= last.at) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
  }
}
