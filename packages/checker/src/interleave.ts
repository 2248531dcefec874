/**
 * Checking the partitions of a history in one thread, side by side: each in turn searches for a
 * slice of steps, so a partition that is quick to refute is found after a few slices whatever
 * the partitions before it cost, and the check ends there (as Porcupine stops its goroutines
 * when one partition fails). A linearizable history still needs every partition to the end.
 */
import { explain, type ExplainOptions, type Explanation } from './explain.js';
import type { Model } from './model.js';
import type { Partition } from './partition.js';
import { PartitionSearch } from './search.js';

/** Steps one partition searches before the next one's turn. */
export const SLICE_STEPS = 4096;

/** The answer for one partition. `unknown` means a bound was reached first: it is never a guess. */
export type PartitionVerdict = 'linearizable' | 'not-linearizable' | 'unknown';

/** The result for one partition (one key, or the whole history). */
export interface PartitionResult {
  readonly key?: string | number;
  readonly verdict: PartitionVerdict;
  /** Operations searched (failed ones excluded). */
  readonly operations: number;
  /** Search steps taken (candidates tried). */
  readonly steps: number;
  /** (linearized set, state) pairs memoised. */
  readonly states: number;
  readonly elapsedMs: number;
  /** Why the verdict is `unknown`. */
  readonly reason?: string;
  /** Why the verdict is `not-linearizable`. */
  readonly explanation?: Explanation;
}

/** Bounds of one thread's share of a check, in a form that can cross to a worker thread. */
export interface PartitionLimits {
  /** Time left for the check from now, ms (`Infinity`: no time limit). */
  readonly timeLeftMs: number;
  /** Search steps each partition may take (`Infinity`: no step budget). */
  readonly maxSteps: number;
  readonly maxMemoBytes: number;
  readonly explain: boolean;
  readonly explainOptions?: ExplainOptions;
  /** For messages: the time limit the user set, ms. */
  readonly totalTimeLimitMs: number;
  /**
   * Shared between the threads of one check: set to 1 by the first that finds a violation, so
   * the others stop. Word 0 of an `Int32Array` over a `SharedArrayBuffer`.
   */
  readonly stop?: Int32Array;
}

/** Searches `parts` side by side until each has an answer, or one is not linearizable. */
export function checkInterleaved<S, I, O>(model: Model<S, I, O>, parts: readonly Partition<I, O>[], limits: PartitionLimits): PartitionResult[] {
  const deadline = performance.now() + limits.timeLeftMs;
  const results: (PartitionResult | undefined)[] = new Array(parts.length);
  // Made when a partition's first turn comes, dropped when it has its answer (memos are big).
  const searches: (PartitionSearch<S, I, O> | undefined)[] = new Array(parts.length);
  const elapsed = new Float64Array(parts.length);
  const base = (i: number) => ({
    ...(parts[i]!.key !== undefined ? { key: parts[i]!.key } : {}),
    operations: parts[i]!.operations.length,
    steps: searches[i]?.steps ?? 0,
    states: searches[i]?.states ?? 0,
    elapsedMs: elapsed[i]!,
  });
  const finishRest = (reason: string) => {
    for (let i = 0; i < parts.length; i++) results[i] ??= { ...base(i), verdict: 'unknown', reason };
  };

  const STOPPED = 'not searched to the end: another partition is not linearizable';
  if (limits.stop && Atomics.load(limits.stop, 0) !== 0) {
    finishRest(STOPPED);
    return results as PartitionResult[];
  }
  if (limits.timeLeftMs <= 0) {
    finishRest(timeReason(limits.totalTimeLimitMs, true));
    return results as PartitionResult[];
  }
  let open = parts.length;
  while (open > 0) {
    for (let i = 0; i < parts.length; i++) {
      if (results[i] !== undefined) continue;
      const t0 = performance.now();
      const search = (searches[i] ??= new PartitionSearch(model, parts[i]!.operations, { maxMemoBytes: limits.maxMemoBytes }));
      const status = search.run(Math.min(SLICE_STEPS, limits.maxSteps - search.steps));
      elapsed[i] += performance.now() - t0;
      if (status === 'linearizable') {
        results[i] = { ...base(i), verdict: 'linearizable' };
        open--;
      } else if (status === 'not-linearizable') {
        results[i] = {
          ...base(i),
          verdict: 'not-linearizable',
          ...(limits.explain
            ? { explanation: explain(model, parts[i]!.operations, parts[i]!.key, search.prefix(), search.stateAfterPrefix(), limits.explainOptions) }
            : {}),
        };
        if (limits.stop) Atomics.store(limits.stop, 0, 1);
        finishRest(`not searched to the end: key ${JSON.stringify(parts[i]!.key)} is not linearizable`);
        return results as PartitionResult[];
      } else if (status === 'memory') {
        results[i] = {
          ...base(i),
          verdict: 'unknown',
          reason: `the memo reached its bound of ${formatBytes(limits.maxMemoBytes)} (option maxMemoBytes) after ${search.states} states`,
        };
        open--;
      } else if (search.steps >= limits.maxSteps) {
        results[i] = {
          ...base(i),
          verdict: 'unknown',
          reason: `the step budget of ${limits.maxSteps} steps (option maxSteps) ran out after ${search.states} states`,
        };
        open--;
      }
      if (results[i] !== undefined) searches[i] = undefined;
      if (limits.stop && Atomics.load(limits.stop, 0) !== 0) {
        finishRest(STOPPED);
        return results as PartitionResult[];
      }
      if (performance.now() > deadline) {
        finishRest(timeReason(limits.totalTimeLimitMs, false));
        return results as PartitionResult[];
      }
    }
  }
  return results as PartitionResult[];
}

function timeReason(limitMs: number, before: boolean): string {
  return `the time limit of ${limitMs} ms (option timeLimitMs) was reached ${before ? 'before this part was checked' : 'during the search'}`;
}

function formatBytes(n: number): string {
  if (n >= 1 << 20) return `${+(n / (1 << 20)).toFixed(1)} MiB`;
  return n >= 1024 ? `${+(n / 1024).toFixed(1)} KiB` : `${Math.round(n)} bytes`;
}
