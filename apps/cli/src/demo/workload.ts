/**
 * The demo's clients: `clients` concurrent sessions, each doing one operation at a time on a
 * few keys (set, get, compare-and-set, sometimes delete), every one recorded with the checker's
 * HistoryRecorder so the run ends with a linearizability verdict.
 *
 * Values are unique per write (`<process>:<n>`), which is what makes a history easy to check.
 * After an operation whose outcome is unknown the session continues under a fresh process id,
 * as Jepsen does: the old command may still take effect later.
 */
import { HistoryRecorder, type Classification, type Outcome, type ReplicatedMapInput, type Settled } from '@synod/checker';
import { InvalidCommandError, NoLeaderError, type ReplicatedMap } from '@synod/replicated';
import type { Metrics } from './metrics.js';

/** Shares of the operation mix (the rest are gets). */
export const MIX = { set: 0.4, compareAndSet: 0.2, delete: 0.05 } as const;

export interface WorkloadOptions {
  clients: number;
  keys: number;
  /** Prefix of key names, so a kept storage folder can be reused by a later run. */
  keyPrefix: string;
  /**
   * Operations recorded for the linearizability check at most; later ones run unrecorded (the
   * recorded ones are a prefix of the history, and a prefix is checked soundly). 0: record none
   * (the dashboard, which runs for as long as it is open).
   */
  maxRecorded: number;
}

export class Workload {
  readonly recorder: HistoryRecorder<ReplicatedMapInput, unknown>;
  /** Whether operations ran unrecorded once `maxRecorded` was reached. */
  truncated = false;
  private running = false;
  private loops: Promise<void>[] = [];
  /** The last error text per kind, to explain failures in the summary. */
  readonly lastErrors = new Map<string, string>();
  private rng = (Date.now() ^ 0x9e3779b9) >>> 0 || 1;

  constructor(
    private readonly map: ReplicatedMap<string>,
    private readonly metrics: Metrics,
    private readonly options: WorkloadOptions,
  ) {
    this.recorder = new HistoryRecorder({ clock: () => performance.now(), maxOperations: Math.max(1, options.maxRecorded) });
  }

  /** Starts every session. */
  start(): void {
    if (this.running) return;
    this.running = true;
    for (let c = 0; c < this.options.clients; c++) this.loops.push(this.session(c));
  }

  /** Stops starting operations; resolves once every one in flight has ended. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  /** Operations still running. */
  get inFlight(): number {
    return this.recorder.pending;
  }

  private async session(client: number): Promise<void> {
    const m = this.map.withSession();
    // What this session last saw per key: the expected value of its next compare-and-set.
    const seen = new Map<string, string | null>();
    let generation = 0;
    let n = 0;
    while (this.running) {
      const process = `c${client}.${generation}`;
      const key = `${this.options.keyPrefix}k${this.next() % this.options.keys}`;
      const r = (this.next() % 1000) / 1000;
      let input: ReplicatedMapInput;
      let call: () => Promise<unknown>;
      let isWrite = true;
      if (r < MIX.set) {
        const value = `${process}:${n++}`;
        input = { f: 'set', key, value };
        call = () => m.set(key, value);
      } else if (r < MIX.set + MIX.compareAndSet) {
        const expected = seen.get(key) ?? null;
        const value = `${process}:${n++}`;
        // The model's "absent" is undefined; the map's is null.
        input = { f: 'compareAndSet', key, expected: expected ?? undefined, value };
        call = () => m.compareAndSet(key, expected, value);
      } else if (r < MIX.set + MIX.compareAndSet + MIX.delete) {
        input = { f: 'delete', key };
        call = () => m.delete(key);
      } else {
        isWrite = false;
        input = { f: 'get', key };
        call = () => m.get(key);
      }
      const started = performance.now();
      const classify = (st: Settled<unknown>) => this.classify(st, isWrite);
      let rec: { outcome: Outcome; value?: unknown; error?: unknown };
      if (this.recorder.size < this.options.maxRecorded) {
        rec = await this.recorder.record(process, input, call, classify);
      } else {
        if (this.options.maxRecorded > 0) this.truncated = true;
        rec = await unrecorded(call, classify);
      }
      const latencyMs = performance.now() - started;
      if (rec.outcome === 'ok') {
        this.metrics.record(isWrite ? 'write' : 'read', latencyMs);
        const v = rec.value;
        if (input.f === 'get') seen.set(key, (v as string | undefined) ?? null);
        else if (input.f === 'set') seen.set(key, input.value as string);
        else if (input.f === 'compareAndSet' && v === true) seen.set(key, input.value as string);
        else if (input.f === 'delete') seen.set(key, null);
      } else {
        this.metrics.record(rec.outcome === 'fail' ? 'failed' : 'unknown', null);
        if (rec.error instanceof Error) this.lastErrors.set(rec.error.name, rec.error.message);
        if (rec.outcome === 'unknown') generation++;
        // A failed compare-and-set may have failed because our view is stale: look again.
        seen.delete(key);
      }
    }
  }

  /**
   * What an outcome means. Answered: ok. A read that failed changed nothing, nor did a command
   * no leader took (NoLeaderError) or one refused where it entered; anything else may have
   * been applied (OutcomeUnknownError), so it stays open in the history.
   */
  private classify(s: Settled<unknown>, isWrite: boolean): Classification<unknown> {
    if (s.status === 'fulfilled') return { outcome: 'ok', output: s.value };
    if (s.status === 'rejected' && (!isWrite || s.reason instanceof NoLeaderError || s.reason instanceof InvalidCommandError)) return { outcome: 'fail' };
    return { outcome: 'unknown' };
  }

  /** xorshift32: the operation mix needs no cryptographic randomness. */
  private next(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng;
  }
}

/** Runs a call outside the history, classified as a recorded one would be. */
async function unrecorded(
  call: () => Promise<unknown>,
  classify: (s: Settled<unknown>) => Classification<unknown>,
): Promise<{ outcome: Outcome; value?: unknown; error?: unknown }> {
  try {
    const value = await call();
    return { outcome: classify({ status: 'fulfilled', value }).outcome, value };
  } catch (error) {
    return { outcome: classify({ status: 'rejected', reason: error }).outcome, error };
  }
}
