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

const origin = performance.timeOrigin;

export const realClock: Clock = {
  now: () => origin + performance.now(),
  schedule(delayMs, fn) {
    return setTimeout(fn, Math.max(0, delayMs));
  },
  cancel(handle) { clearTimeout(handle as NodeJS.Timeout); },
};
