/**
 * Checking large partitioned histories on several threads: partitions are independent, so they
 * are spread over a piscina pool. Starting threads costs tens of milliseconds, more than most
 * checks, so small histories (and unpartitioned ones) stay in the calling thread.
 */
import { availableParallelism } from 'node:os';
import type { Piscina } from 'piscina';
import { combine, resolveOptions, validateForCheck, type CheckOptions, type CheckResult } from './check.js';
import type { History } from './history.js';
import { checkInterleaved, type PartitionResult } from './interleave.js';
import type { Model } from './model.js';
import { partitionHistory, type Partition } from './partition.js';
import type { CheckTask } from './worker.js';
import { toWire } from './wire.js';

/** Options of {@link CheckerPool.check} and {@link checkParallel}. */
export interface ParallelCheckOptions extends CheckOptions {
  /**
   * Below this many searched operations the history is checked in the calling thread
   * (default 50 000). Operations travel to threads at roughly the cost of checking an easy
   * one, so threads only pay off for large or hard histories (`pnpm bench:checker` measures it).
   */
  readonly minOperationsForThreads?: number;
  /** Work items per thread, for load balance between uneven partitions (default 4). */
  readonly tasksPerThread?: number;
}

export const DEFAULT_MIN_OPERATIONS_FOR_THREADS = 50_000;

/** Options of a {@link CheckerPool}. */
export interface CheckerPoolOptions {
  /** Worker threads (default: the machine's available parallelism). */
  readonly threads?: number;
  /** Close idle threads after this long, ms (default 5 000). */
  readonly idleTimeoutMs?: number;
}

/**
 * A pool of checker threads. Reuse one for many histories (thread start-up is paid once), and
 * `close()` it when done.
 */
export class CheckerPool {
  private pool: Piscina<CheckTask, PartitionResult[]> | undefined;
  readonly threads: number;
  private readonly idleTimeoutMs: number;

  constructor(options: CheckerPoolOptions = {}) {
    this.threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
    this.idleTimeoutMs = options.idleTimeoutMs ?? 5_000;
  }

  /**
   * Checks `history`, on the pool's threads if it is large and partitioned and the model has a
   * `source` a worker can import; otherwise in this thread. Same verdict as {@link check}; the
   * thread that finds a violation stops the others.
   *
   * @throws InvalidHistoryError if the history is empty or malformed.
   */
  async check<S, I, O>(history: History<I, O>, model: Model<S, I, O>, options: ParallelCheckOptions = {}): Promise<CheckResult> {
    const started = performance.now();
    const o = resolveOptions(options);
    validateForCheck(history);
    const parts = partitionHistory(history, model);
    let searched = 0;
    for (const p of parts) searched += p.operations.length;
    const minOps = options.minOperationsForThreads ?? DEFAULT_MIN_OPERATIONS_FOR_THREADS;
    const limits = {
      maxSteps: o.maxSteps,
      maxMemoBytes: o.maxMemoBytes,
      explain: o.explain,
      totalTimeLimitMs: o.timeLimitMs,
      ...(o.explainOptions ? { explainOptions: o.explainOptions } : {}),
    };
    if (!model.source || parts.length < 2 || this.threads < 2 || searched < minOps) {
      const results = checkInterleaved(model, parts, { ...limits, timeLeftMs: started + o.timeLimitMs - performance.now() });
      return combine(model.name, history.operations.length, results, performance.now() - started);
    }

    const deadlineEpochMs = Date.now() + o.timeLimitMs;
    // The first thread to find a violation sets it; the others see it within a slice and stop.
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const batches = balance(parts, this.threads * (options.tasksPerThread ?? 4));
    const pool = await this.ensurePool();
    const source = model.source;
    const done = await Promise.all(batches.map((b) => pool.run({ source, partitions: b.map((i) => toWire(parts[i]!)), deadlineEpochMs, limits, stop })));
    // Put results back in key order.
    const results: PartitionResult[] = new Array(parts.length);
    batches.forEach((b, k) =>
      b.forEach((i, j) => {
        results[i] = done[k]![j]!;
      }),
    );
    return combine(model.name, history.operations.length, results, performance.now() - started);
  }

  /** Stops the threads. The pool can still be used afterwards (it starts new ones). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.destroy();
  }

  private async ensurePool(): Promise<Piscina<CheckTask, PartitionResult[]>> {
    if (!this.pool) {
      // Loaded on first use: most checks never need threads, and the import costs start-up time.
      const { Piscina } = await import('piscina');
      this.pool ??= new Piscina<CheckTask, PartitionResult[]>({
        filename: new URL('./worker.js', import.meta.url).href,
        minThreads: 0,
        maxThreads: this.threads,
        idleTimeout: this.idleTimeoutMs,
      });
    }
    return this.pool;
  }
}

/**
 * Greedy balance: largest partitions first, each to the lightest batch (by operations).
 * Returns batches of partition indices.
 */
export function balance(parts: readonly Partition[], batches: number): number[][] {
  const n = Math.max(1, Math.min(batches, parts.length));
  const out: number[][] = Array.from({ length: n }, () => []);
  const load = new Array<number>(n).fill(0);
  const order = parts.map((_, i) => i).sort((a, b) => parts[b]!.operations.length - parts[a]!.operations.length);
  for (const i of order) {
    let best = 0;
    for (let k = 1; k < n; k++) if (load[k]! < load[best]!) best = k;
    out[best]!.push(i);
    load[best]! += parts[i]!.operations.length;
  }
  return out.filter((b) => b.length > 0);
}

/**
 * {@link CheckerPool.check} with a pool made for this one call (and closed after). For many
 * histories, keep one {@link CheckerPool} instead.
 */
export async function checkParallel<S, I, O>(
  history: History<I, O>,
  model: Model<S, I, O>,
  options: ParallelCheckOptions & CheckerPoolOptions = {},
): Promise<CheckResult> {
  const pool = new CheckerPool(options);
  try {
    return await pool.check(history, model, options);
  } finally {
    await pool.close();
  }
}
