/**
 * Recording histories from real clients: wrap each call, and the recorder notes when it was
 * invoked, when and how it ended, and by which process.
 *
 * ```ts
 * const rec = new HistoryRecorder<ReplicatedMapInput, ReplicatedMapOutput>();
 * await Promise.all([1, 2, 3].map(async (p) => {
 *   for (let i = 0; i < 100; i++) {
 *     await rec.record(p, { f: 'set', key: 'k', value: i }, () => client(p).set('k', i));
 *     await rec.record(p, { f: 'get', key: 'k' }, () => client(p).get('k'));
 *   }
 * }));
 * const result = check(rec.history(), replicatedMapModel);
 * ```
 */
import type { History, Operation, Outcome, ProcessId } from './history.js';
import { SynodError, registerErrors } from '@synod/errors';

/** How a wrapped call settled, as the classifier sees it. */
export type Settled<R> =
  | { readonly status: 'fulfilled'; readonly value: R }
  | { readonly status: 'rejected'; readonly reason: unknown }
  /** The call did not settle within `timeoutMs`. */
  | { readonly status: 'timeout'; readonly timeoutMs: number };

/** What a call's settlement means for the history. */
export type Classification<O> =
  | { readonly outcome: 'ok'; readonly output: O }
  /** The call certainly did not take effect (e.g. it was refused before doing anything). */
  | { readonly outcome: 'fail' }
  /** It may or may not have taken effect (timeout, lost reply, crash). */
  | { readonly outcome: 'unknown' };

/** Turns a settlement into an outcome. */
export type Classify<R, O> = (settled: Settled<R>) => Classification<O>;

/**
 * The safe default: a resolved call is `ok` with the resolved value as output; a rejection or a
 * timeout is `unknown`, because a call that threw may still have taken effect. Pass your own
 * classifier to turn errors you know to be harmless (validation errors, "not the leader"
 * before sending) into `fail`, which makes the check stronger.
 */
export function defaultClassify<R>(settled: Settled<R>): Classification<R> {
  return settled.status === 'fulfilled' ? { outcome: 'ok', output: settled.value } : { outcome: 'unknown' };
}

/** Options of one {@link HistoryRecorder.record} call. */
export interface RecordOptions<R, O> {
  readonly classify?: Classify<R, O>;
  /** Give up waiting after this long and record `unknown` (default: wait for ever). */
  readonly timeoutMs?: number;
}

/** What {@link HistoryRecorder.record} resolves with. It never rejects for the call's sake. */
export interface Recorded<R> {
  /** The operation's id in the history. */
  readonly id: number;
  readonly outcome: Outcome;
  /** The value the call resolved with, if it resolved in time. */
  readonly value?: R;
  /** Why the call rejected, or a {@link RecordTimeoutError} when it timed out. */
  readonly error?: unknown;
}

/** The error in {@link Recorded.error} when a call timed out. */
export class RecordTimeoutError extends SynodError {
  override readonly name = 'RecordTimeoutError';
  override readonly code: string = 'record-timeout';
  constructor(readonly timeoutMs: number) {
    super(`the call did not settle within ${timeoutMs} ms; recorded as unknown`);
  }
}

/** Bounds and clock of a recorder. */
export interface RecorderOptions {
  /** Monotonic clock in ms (default `performance.now`); give a simulation's virtual clock here. */
  readonly clock?: () => number;
  /** Most operations to record (default 1 000 000); past it `record` and `begin` throw. */
  readonly maxOperations?: number;
  /** Name for messages (e.g. the test's name). */
  readonly source?: string;
}

/** An operation in flight, from {@link HistoryRecorder.begin}: end it exactly once. */
export interface PendingOperation<O> {
  readonly id: number;
  /** It returned `output` and took effect. */
  ok(output: O): void;
  /** It certainly did not take effect. */
  fail(): void;
  /** Its outcome will never be known (it stays open in the history). */
  unknown(): void;
}

interface Entry<I, O> {
  process: ProcessId;
  input: I;
  call: number;
  ret: number;
  outcome: Outcome | 'pending';
  output?: O;
}

/**
 * Records a history of calls made by concurrent processes. One process makes one call at a time
 * (the recorder throws if it starts a second before the first ended); after an unknown outcome
 * prefer a fresh process id, as Jepsen does, since the old call may still be running.
 */
export class HistoryRecorder<I = unknown, O = unknown> {
  private readonly entries: Entry<I, O>[] = [];
  private readonly inFlight = new Map<ProcessId, number>();
  private readonly clock: () => number;
  private readonly maxOperations: number;
  private readonly source: string | undefined;

  constructor(options: RecorderOptions = {}) {
    this.clock = options.clock ?? (() => performance.now());
    this.maxOperations = options.maxOperations ?? 1_000_000;
    this.source = options.source;
  }

  /** Operations recorded so far (pending ones included). */
  get size(): number {
    return this.entries.length;
  }

  /** Operations still waiting for an outcome. */
  get pending(): number {
    return this.inFlight.size;
  }

  /**
   * Records the invoke of `input` by `process` now; end it with `ok`, `fail` or `unknown`.
   * For code that is not a single promise (callbacks, simulated messages).
   */
  begin(process: ProcessId, input: I): PendingOperation<O> {
    const busy = this.inFlight.get(process);
    if (busy !== undefined) {
      throw new Error(
        `process ${String(process)} starts a call while its call #${busy} is still in flight; a process makes one call at a time (use another process id for concurrent calls)`,
      );
    }
    if (this.entries.length >= this.maxOperations) {
      throw new RangeError(`the recorder holds its maximum of ${this.maxOperations} operations (option maxOperations)`);
    }
    const id = this.entries.length;
    const entry: Entry<I, O> = { process, input, call: this.clock(), ret: Infinity, outcome: 'pending' };
    this.entries.push(entry);
    this.inFlight.set(process, id);
    const end = (outcome: Outcome, output?: O) => {
      if (entry.outcome !== 'pending') throw new Error(`call #${id} of process ${String(process)} already ended as ${entry.outcome}`);
      entry.outcome = outcome;
      if (outcome !== 'unknown') entry.ret = this.clock();
      if (outcome === 'ok') entry.output = output as O;
      this.inFlight.delete(process);
    };
    return { id, ok: (output) => end('ok', output), fail: () => end('fail'), unknown: () => end('unknown') };
  }

  /**
   * Calls `call()` as `process` doing `input`, and records its invoke and outcome.
   * Resolves when the call settles (or times out); never rejects because the call did.
   *
   * @param classify - how settlements map to outcomes (default {@link defaultClassify}), or
   *   options with `classify` and `timeoutMs`.
   */
  async record<R>(process: ProcessId, input: I, call: () => Promise<R>, classify?: Classify<R, O> | RecordOptions<R, O>): Promise<Recorded<R>> {
    const options: RecordOptions<R, O> = typeof classify === 'function' ? { classify } : (classify ?? {});
    const decide = options.classify ?? (defaultClassify as unknown as Classify<R, O>);
    const op = this.begin(process, input);
    let settled: Settled<R>;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const promise = Promise.resolve()
        .then(call)
        .then(
          (value): Settled<R> => ({ status: 'fulfilled', value }),
          (reason: unknown): Settled<R> => ({ status: 'rejected', reason }),
        );
      if (options.timeoutMs === undefined) {
        settled = await promise;
      } else {
        const timeoutMs = options.timeoutMs;
        const timeout = new Promise<Settled<R>>((resolve) => {
          timer = setTimeout(() => resolve({ status: 'timeout', timeoutMs }), timeoutMs);
        });
        settled = await Promise.race([promise, timeout]);
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    let c: Classification<O>;
    try {
      c = decide(settled);
    } catch (e) {
      op.unknown(); // the classifier failed: we know nothing, and must not leave the process busy
      throw e;
    }
    if (c.outcome === 'ok') op.ok(c.output);
    else if (c.outcome === 'fail') op.fail();
    else op.unknown();
    return {
      id: op.id,
      outcome: c.outcome,
      ...(settled.status === 'fulfilled' ? { value: settled.value } : {}),
      ...(settled.status === 'rejected' ? { error: settled.reason } : {}),
      ...(settled.status === 'timeout' ? { error: new RecordTimeoutError(settled.timeoutMs) } : {}),
    };
  }

  /**
   * The history so far. Calls still in flight appear as unknown (they may yet take effect).
   */
  history(): History<I, O> {
    const operations: Operation<I, O>[] = this.entries.map((e, id): Operation<I, O> => {
      switch (e.outcome) {
        case 'ok':
          return { id, process: e.process, input: e.input, outcome: 'ok', output: e.output as O, call: e.call, ret: e.ret };
        case 'fail':
          return { id, process: e.process, input: e.input, outcome: 'fail', call: e.call, ret: e.ret };
        default:
          return { id, process: e.process, input: e.input, outcome: 'unknown', call: e.call, ret: Infinity };
      }
    });
    return { operations, ...(this.source !== undefined ? { source: this.source } : {}) };
  }
}

registerErrors({ RecordTimeoutError });
