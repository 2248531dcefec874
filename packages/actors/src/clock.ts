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
  cancel(handle) { clearTimeout(handle as NodeJS.Timeout); },
};
