/**
 * `check`: is a history linearizable for a model? Splits the history per key when the model is
 * partitioned, searches the parts side by side within the time, step and memory bounds, stops at
 * the first part that is not linearizable, and explains it.
 */
import { InvalidHistoryError, validateHistory, type History, type Operation } from './history.js';
import type { ExplainOptions, Explanation } from './explain.js';
import { checkInterleaved, type PartitionResult } from './interleave.js';
import type { Model } from './model.js';
import { partitionHistory } from './partition.js';

export type { PartitionResult } from './interleave.js';

/**
 * The answer. `unknown` means a bound (time, steps, memory) was reached first: it is never a
 * guess, and with a step budget alone it is the same on every run.
 */
export type Verdict = 'linearizable' | 'not-linearizable' | 'unknown';

/** Bounds and output options of a check. */
export interface CheckOptions {
  /**
   * Wall-clock budget for the whole history, in ms. Past it: `unknown`. Default 60 000, or no
   * time limit when `maxSteps` is given and this is not (a deterministic check).
   */
  readonly timeLimitMs?: number;
  /**
   * Search steps each partition (key) may take; past it: `unknown`. Unlike a time limit this
   * gives the same verdict on every run and every machine, so a seeded simulation can use it.
   * A step is one candidate operation tried; a million take one to a few seconds. Default: none.
   */
  readonly maxSteps?: number;
  /** Approximate memo size allowed per partition, in bytes (default 512 MiB). Past it: `unknown`. */
  readonly maxMemoBytes?: number;
  /** Explain violations (default true). */
  readonly explain?: boolean;
  /** Size bounds of explanations. */
  readonly explainOptions?: ExplainOptions;
}

export const DEFAULT_TIME_LIMIT_MS = 60_000;
export const DEFAULT_MAX_MEMO_BYTES = 512 * 1024 * 1024;

/** The result for a history. */
export interface CheckResult {
  readonly verdict: Verdict;
  /** Model name. */
  readonly model: string;
  /** Operations in the history, failed ones included. */
  readonly operations: number;
  readonly elapsedMs: number;
  /**
   * One per key (or one for an unpartitioned model), in the order keys first appear. Once one is
   * not linearizable the others are not searched to the end: they say `unknown`, with why.
   */
  readonly partitions: readonly PartitionResult[];
  /** The violation's explanation, when not linearizable. */
  readonly explanation?: Explanation;
  /** Why the verdict is `unknown`. */
  readonly reason?: string;
}

/** Folds partition results into one: any violation wins (the first, in key order), then any unknown. */
export function combine(model: string, operations: number, parts: readonly PartitionResult[], elapsedMs: number): CheckResult {
  const bad = parts.find((p) => p.verdict === 'not-linearizable');
  const unknown = parts.find((p) => p.verdict === 'unknown');
  const verdict: Verdict = bad ? 'not-linearizable' : unknown ? 'unknown' : 'linearizable';
  return {
    verdict,
    model,
    operations,
    elapsedMs,
    partitions: parts,
    ...(bad?.explanation ? { explanation: bad.explanation } : {}),
    ...(!bad && unknown?.reason ? { reason: `${unknown.key !== undefined ? `key ${JSON.stringify(unknown.key)}: ` : ''}${unknown.reason}` } : {}),
  };
}

/** Options with defaults applied. */
export interface ResolvedOptions {
  readonly timeLimitMs: number;
  readonly maxSteps: number;
  readonly maxMemoBytes: number;
  readonly explain: boolean;
  readonly explainOptions?: ExplainOptions;
}

/** Resolves defaults and refuses bad bounds. */
export function resolveOptions(options: CheckOptions): ResolvedOptions {
  const maxSteps = options.maxSteps ?? Infinity;
  const timeLimitMs = options.timeLimitMs ?? (options.maxSteps !== undefined ? Infinity : DEFAULT_TIME_LIMIT_MS);
  const maxMemoBytes = options.maxMemoBytes ?? DEFAULT_MAX_MEMO_BYTES;
  if (!(timeLimitMs > 0)) throw new RangeError(`timeLimitMs must be a positive number of milliseconds, got ${timeLimitMs}`);
  if (!(maxSteps >= 1) || (maxSteps !== Infinity && !Number.isInteger(maxSteps)))
    throw new RangeError(`maxSteps must be a positive whole number of steps, got ${maxSteps}`);
  if (!(maxMemoBytes > 0)) throw new RangeError(`maxMemoBytes must be a positive number of bytes, got ${maxMemoBytes}`);
  return {
    timeLimitMs,
    maxSteps,
    maxMemoBytes,
    explain: options.explain ?? true,
    ...(options.explainOptions ? { explainOptions: options.explainOptions } : {}),
  };
}

/**
 * Refuses what cannot be checked: a malformed history (see `validateHistory`) or an empty one,
 * where any verdict would be about nothing.
 */
export function validateForCheck(history: History): void {
  if (history.operations.length === 0) {
    throw new InvalidHistoryError(`${history.source ? history.source + ': ' : ''}the history has no operations, so there is nothing to check`);
  }
  validateHistory(history);
}

/**
 * Decides whether `history` is linearizable for `model`, in this thread.
 *
 * ```ts
 * const result = check(history, casRegisterModel, { timeLimitMs: 10_000 });
 * if (result.verdict === 'not-linearizable') console.log(formatExplanation(result.explanation!));
 * ```
 *
 * @throws InvalidHistoryError if the history is empty or malformed (see `validateHistory`).
 */
export function check<S, I, O>(history: History<I, O>, model: Model<S, I, O>, options: CheckOptions = {}): CheckResult {
  const started = performance.now();
  const o = resolveOptions(options);
  validateForCheck(history);
  const parts = partitionHistory(history, model);
  const results = checkInterleaved(model, parts, {
    timeLeftMs: started + o.timeLimitMs - performance.now(),
    maxSteps: o.maxSteps,
    maxMemoBytes: o.maxMemoBytes,
    explain: o.explain,
    totalTimeLimitMs: o.timeLimitMs,
    ...(o.explainOptions ? { explainOptions: o.explainOptions } : {}),
  });
  return combine(model.name, history.operations.length, results, performance.now() - started);
}

/** Operations of a history that a search has to place (not failed). */
export function searchedOperations(history: History): number {
  let n = 0;
  for (const op of history.operations as readonly Operation[]) if (op.outcome !== 'fail') n++;
  return n;
}
