/**
 * `check`: is a history linearizable for a model? Splits the history per key when the model is
 * partitioned, searches each part within the time and memory bounds, and explains a violation.
 */
import { validateHistory, type History, type Operation } from './history.js';
import { explain, type ExplainOptions, type Explanation } from './explain.js';
import type { Model } from './model.js';
import { partitionHistory, type Partition } from './partition.js';
import { searchLinearization } from './wgl.js';

/** The answer. `unknown` means a bound was reached first: it is never a guess. */
export type Verdict = 'linearizable' | 'not-linearizable' | 'unknown';

/** Bounds and output options of a check. */
export interface CheckOptions {
  /** Wall-clock budget for the whole history, in ms (default 60 000). Past it: `unknown`. */
  readonly timeLimitMs?: number;
  /** Approximate memo size allowed per partition, in bytes (default 512 MiB). Past it: `unknown`. */
  readonly maxMemoBytes?: number;
  /** Explain violations (default true). */
  readonly explain?: boolean;
  /** Size bounds of explanations. */
  readonly explainOptions?: ExplainOptions;
}

export const DEFAULT_TIME_LIMIT_MS = 60_000;
export const DEFAULT_MAX_MEMO_BYTES = 512 * 1024 * 1024;

/** The result for one partition (one key, or the whole history). */
export interface PartitionResult {
  readonly key?: string | number;
  readonly verdict: Verdict;
  /** Operations searched (failed ones excluded). */
  readonly operations: number;
  /** Search steps taken (calls tried). */
  readonly steps: number;
  /** (linearized set, state) pairs memoised. */
  readonly states: number;
  readonly elapsedMs: number;
  /** Why the verdict is `unknown`. */
  readonly reason?: string;
  /** Why the verdict is `not-linearizable`. */
  readonly explanation?: Explanation;
}

/** The result for a history. */
export interface CheckResult {
  readonly verdict: Verdict;
  /** Model name. */
  readonly model: string;
  /** Operations in the history, failed ones included. */
  readonly operations: number;
  readonly elapsedMs: number;
  /** One per key (or one for an unpartitioned model), in the order keys first appear. */
  readonly partitions: readonly PartitionResult[];
  /** The first violation's explanation, when not linearizable. */
  readonly explanation?: Explanation;
  /** Why the verdict is `unknown`. */
  readonly reason?: string;
}

/** Limits of one partition's search, in a form that can cross to a worker thread. */
export interface PartitionLimits {
  /** Time left for this partition, ms. */
  readonly timeLimitMs: number;
  readonly maxMemoBytes: number;
  readonly explain: boolean;
  readonly explainOptions?: ExplainOptions;
  /** For messages: the budget the user set, ms. */
  readonly totalTimeLimitMs: number;
}

/** Checks one partition. */
export function checkPartition<S, I, O>(model: Model<S, I, O>, part: Partition<I, O>, limits: PartitionLimits): PartitionResult {
  const started = performance.now();
  const base = { ...(part.key !== undefined ? { key: part.key } : {}), operations: part.operations.length };
  if (limits.timeLimitMs <= 0) {
    return { ...base, verdict: 'unknown', steps: 0, states: 0, elapsedMs: 0, reason: timeReason(limits.totalTimeLimitMs, true) };
  }
  const r = searchLinearization(model, part.operations, { deadline: started + limits.timeLimitMs, maxMemoBytes: limits.maxMemoBytes });
  const elapsedMs = performance.now() - started;
  const stats = { ...base, steps: r.steps, states: r.states, elapsedMs };
  switch (r.verdict) {
    case 'linearizable': return { ...stats, verdict: 'linearizable' };
    case 'unknown':
      return {
        ...stats,
        verdict: 'unknown',
        reason: r.reason === 'time' ? timeReason(limits.totalTimeLimitMs, false)
          : `the memo reached its bound of ${formatBytes(limits.maxMemoBytes)} (option maxMemoBytes) after ${r.states} states`,
      };
    case 'not-linearizable':
      return {
        ...stats,
        verdict: 'not-linearizable',
        ...(limits.explain ? { explanation: explain(model, part.operations, part.key, r.prefix, r.stateAfterPrefix, limits.explainOptions) } : {}),
      };
  }
}

function timeReason(limitMs: number, before: boolean): string {
  return `the time limit of ${limitMs} ms (option timeLimitMs) was reached ${before ? 'before this part was checked' : 'during the search'}`;
}

function formatBytes(n: number): string {
  if (n >= 1 << 20) return `${+(n / (1 << 20)).toFixed(1)} MiB`;
  return n >= 1024 ? `${+(n / 1024).toFixed(1)} KiB` : `${Math.round(n)} bytes`;
}

/** Folds partition results into one: any violation wins, then any unknown. */
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

/** Resolves defaults. */
export function resolveOptions(options: CheckOptions): Required<Omit<CheckOptions, 'explainOptions'>> & Pick<CheckOptions, 'explainOptions'> {
  const timeLimitMs = options.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS;
  const maxMemoBytes = options.maxMemoBytes ?? DEFAULT_MAX_MEMO_BYTES;
  if (!(timeLimitMs > 0)) throw new RangeError(`timeLimitMs must be a positive number of milliseconds, got ${timeLimitMs}`);
  if (!(maxMemoBytes > 0)) throw new RangeError(`maxMemoBytes must be a positive number of bytes, got ${maxMemoBytes}`);
  return { timeLimitMs, maxMemoBytes, explain: options.explain ?? true, ...(options.explainOptions ? { explainOptions: options.explainOptions } : {}) };
}

/**
 * Decides whether `history` is linearizable for `model`, in this thread.
 *
 * ```ts
 * const result = check(history, casRegisterModel, { timeLimitMs: 10_000 });
 * if (result.verdict === 'not-linearizable') console.log(formatExplanation(result.explanation!));
 * ```
 *
 * @throws InvalidHistoryError if the history is malformed (see `validateHistory`).
 */
export function check<S, I, O>(history: History<I, O>, model: Model<S, I, O>, options: CheckOptions = {}): CheckResult {
  const started = performance.now();
  const o = resolveOptions(options);
  validateHistory(history);
  return checkPartitions(model, partitionHistory(history, model), history.operations.length, o, started);
}

/** Checks validated partitions one after the other in this thread (`started`: when the check began). */
export function checkPartitions<S, I, O>(
  model: Model<S, I, O>,
  parts: readonly Partition<I, O>[],
  operations: number,
  o: ReturnType<typeof resolveOptions>,
  started: number,
): CheckResult {
  const results: PartitionResult[] = [];
  for (const part of parts) {
    results.push(checkPartition(model, part, {
      timeLimitMs: started + o.timeLimitMs - performance.now(),
      maxMemoBytes: o.maxMemoBytes,
      explain: o.explain,
      totalTimeLimitMs: o.timeLimitMs,
      ...(o.explainOptions ? { explainOptions: o.explainOptions } : {}),
    }));
  }
  return combine(model.name, operations, results, performance.now() - started);
}

/** Operations of a history that a search has to place (not failed). */
export function searchedOperations(history: History): number {
  let n = 0;
  for (const op of history.operations as readonly Operation[]) if (op.outcome !== 'fail') n++;
  return n;
}
