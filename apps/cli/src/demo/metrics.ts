/**
 * Throughput and latency of the workload, counted in fixed buckets of wall-clock time so that
 * the terminal view and the dashboard's charts show the same figures. Bounded: `keepBuckets`
 * buckets, and at most `samplesPerBucket` latencies per bucket (a uniform reservoir sample).
 */
import type { RatePoint } from '@synod/dashboard/protocol';

export type { RatePoint };

/** What one bucket counted. */
export interface Bucket {
  /** Start, ms since the epoch (a multiple of the bucket length). */
  startMs: number;
  /** Write commands (set, compare-and-set, delete) acknowledged as applied. */
  writes: number;
  /** Reads answered. */
  reads: number;
  /** Operations that certainly did not take effect (no leader, refused). */
  failed: number;
  /** Operations whose effect is unknown (timed out during a leader change). */
  unknown: number;
  /** Latencies of answered operations, ms (a sample when there were more than fit). */
  latenciesMs: number[];
  /** Answered operations seen (the sample's population). */
  latencyCount: number;
}

export type OperationOutcome = 'write' | 'read' | 'failed' | 'unknown';

export class Metrics {
  private readonly buckets: Bucket[] = [];
  /** Totals since the start. */
  readonly totals = { writes: 0, reads: 0, failed: 0, unknown: 0 };
  private seed = 0x2545f491;

  constructor(
    readonly bucketMs: number,
    private readonly keepBuckets: number,
    private readonly samplesPerBucket: number,
  ) {}

  /** Counts one finished operation. `latencyMs` for answered ones. */
  record(outcome: OperationOutcome, latencyMs: number | null, atMs = Date.now()): void {
    const b = this.bucketAt(atMs);
    if (outcome === 'write') {
      b.writes++;
      this.totals.writes++;
    } else if (outcome === 'read') {
      b.reads++;
      this.totals.reads++;
    } else if (outcome === 'failed') {
      b.failed++;
      this.totals.failed++;
    } else {
      b.unknown++;
      this.totals.unknown++;
    }
    if (latencyMs !== null) {
      b.latencyCount++;
      if (b.latenciesMs.length < this.samplesPerBucket) b.latenciesMs.push(latencyMs);
      else {
        // Reservoir sampling: every answered operation has the same chance to be kept.
        const j = this.random() % b.latencyCount;
        if (j < this.samplesPerBucket) b.latenciesMs[j] = latencyMs;
      }
    }
  }

  /**
   * Rates and latency over the buckets that ended within the last `spanMs` before `nowMs`
   * (the bucket in progress is left out: it would read low).
   */
  over(spanMs: number, nowMs = Date.now()): RatePoint {
    const end = Math.floor(nowMs / this.bucketMs) * this.bucketMs;
    return this.point(end - spanMs, end);
  }

  /** One point per `stepMs` (a multiple of the bucket length) over the last `count` steps. */
  series(stepMs: number, count: number, nowMs = Date.now()): RatePoint[] {
    const end = Math.floor(nowMs / stepMs) * stepMs;
    const out: RatePoint[] = [];
    for (let i = count; i >= 1; i--) out.push(this.point(end - i * stepMs, end - (i - 1) * stepMs));
    return out;
  }

  private point(fromMs: number, toMs: number): RatePoint {
    let writes = 0,
      reads = 0,
      failed = 0;
    const lat: number[] = [];
    for (const b of this.buckets) {
      if (b.startMs < fromMs || b.startMs >= toMs) continue;
      writes += b.writes;
      reads += b.reads;
      failed += b.failed;
      for (const l of b.latenciesMs) lat.push(l);
    }
    const seconds = (toMs - fromMs) / 1000;
    lat.sort((a, b) => a - b);
    const pct = (p: number) => (lat.length === 0 ? null : lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!);
    return {
      atMs: toMs,
      writesPerSecond: writes / seconds,
      readsPerSecond: reads / seconds,
      failedPerSecond: failed / seconds,
      p50Ms: pct(0.5),
      p99Ms: pct(0.99),
    };
  }

  private bucketAt(atMs: number): Bucket {
    const startMs = Math.floor(atMs / this.bucketMs) * this.bucketMs;
    const last = this.buckets[this.buckets.length - 1];
    if (last && last.startMs === startMs) return last;
    // Operations finish in time order, give or take a bucket: look back a little.
    for (let i = this.buckets.length - 1; i >= Math.max(0, this.buckets.length - 4); i--) {
      if (this.buckets[i]!.startMs === startMs) return this.buckets[i]!;
    }
    const b: Bucket = { startMs, writes: 0, reads: 0, failed: 0, unknown: 0, latenciesMs: [], latencyCount: 0 };
    this.buckets.push(b);
    this.buckets.sort((x, y) => x.startMs - y.startMs);
    if (this.buckets.length > this.keepBuckets) this.buckets.splice(0, this.buckets.length - this.keepBuckets);
    return b;
  }

  /** xorshift32: a cheap, deterministic source for the reservoir. */
  private random(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed;
  }
}
