/**
 * Latency distributions for the suites: an HDR histogram (hdr-histogram-js) that records
 * microseconds and reports p50, p90, p99 and p99.9 as figures named `<prefix>_p50`, `_p90`,
 * `_p99`, `_p999`.
 *
 *     const lat = new LatencyRecorder();
 *     for (const us of driverResult.latenciesUs) lat.record(us);
 *     lat.addTo(results, 'workers.r3.single_client.commit_us');   // one run's percentiles
 *     lat.reset();                                                 // before the next run
 *
 * Each run adds its own percentiles, so a figure such as `..._p99` is the median (min, max) of the
 * runs' p99s: the spread between runs stays visible, as for every other figure.
 *
 * Why HDR: a sorted array costs memory and time proportional to the samples (a million commits
 * per run is common); the histogram is fixed-size, records in constant time, and keeps three
 * significant digits at every magnitude, which is what tail percentiles need.
 */
import { build, type Histogram } from 'hdr-histogram-js';
import type { Results } from './results.js';

/** The percentiles every latency figure reports, with the suffix of its figure name. */
export const PERCENTILES = [
  { suffix: 'p50', percentile: 50, label: 'p50' },
  { suffix: 'p90', percentile: 90, label: 'p90' },
  { suffix: 'p99', percentile: 99, label: 'p99' },
  { suffix: 'p999', percentile: 99.9, label: 'p99.9' },
] as const;

export type PercentileSuffix = (typeof PERCENTILES)[number]['suffix'];

/** Bounds of a recorder; every one has a default that fits the suites. */
export interface LatencyOptions {
  /** Largest latency kept exactly, in microseconds (default 60 s); longer ones count as this. */
  readonly highestUs?: number;
  /** Significant decimal digits kept at every magnitude, 1..5 (default 3: 0.1% resolution). */
  readonly significantDigits?: 1 | 2 | 3 | 4 | 5;
}

const DEFAULT_HIGHEST_US = 60_000_000;
/** Values are kept in nanoseconds, so sub-microsecond latencies of embedded mode still register. */
const NS_PER_US = 1000;

/** A latency histogram in microseconds. */
export class LatencyRecorder {
  private readonly hist: Histogram;
  private readonly highestNs: number;
  /** Samples above `highestUs`, recorded as `highestUs` (the percentiles say "at least"). */
  clipped = 0;

  constructor(options: LatencyOptions = {}) {
    const highestUs = options.highestUs ?? DEFAULT_HIGHEST_US;
    if (!(highestUs >= 1)) throw new RangeError(`LatencyRecorder: highestUs must be at least 1, got ${highestUs}`);
    this.highestNs = Math.ceil(highestUs * NS_PER_US);
    this.hist = build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: this.highestNs,
      numberOfSignificantValueDigits: options.significantDigits ?? 3,
      bitBucketSize: 64,
      autoResize: false,
      useWebAssembly: false,
    });
  }

  /** Records one latency in microseconds (negative or NaN values are refused: a clock bug). */
  record(us: number): void {
    if (!(us >= 0)) throw new RangeError(`LatencyRecorder.record: a latency must be a number >= 0 us, got ${us}`);
    let ns = Math.round(us * NS_PER_US);
    if (ns > this.highestNs) {
      ns = this.highestNs;
      this.clipped++;
    }
    this.hist.recordValue(ns);
  }

  /** Records many latencies in microseconds. */
  recordAll(us: Iterable<number>): void {
    for (const v of us) this.record(v);
  }

  /** Samples recorded since the last reset. */
  get count(): number {
    return this.hist.totalCount;
  }

  /** The value at `percentile` (0..100) in microseconds; NaN when nothing was recorded. */
  at(percentile: number): number {
    if (this.hist.totalCount === 0) return NaN;
    return this.hist.getValueAtPercentile(percentile) / NS_PER_US;
  }

  /** p50, p90, p99, p999 (and max) in microseconds. */
  percentiles(): Record<PercentileSuffix | 'max', number> {
    const out = {} as Record<PercentileSuffix | 'max', number>;
    for (const p of PERCENTILES) out[p.suffix] = this.at(p.percentile);
    out.max = this.hist.totalCount === 0 ? NaN : this.hist.maxValue / NS_PER_US;
    return out;
  }

  /**
   * Adds this run's percentiles to `results` as `<prefix>_p50`, `_p90`, `_p99`, `_p999` (unit
   * `us`). `prefix` names the unit last, e.g. `workers.r3.single_client.commit_us`.
   * @throws Error when nothing was recorded: a figure of no samples would be a made-up number.
   */
  addTo(results: Pick<Results, 'add'>, prefix: string): void {
    if (this.hist.totalCount === 0) throw new Error(`LatencyRecorder.addTo(${prefix}): no latencies were recorded in this run`);
    for (const p of PERCENTILES) results.add(`${prefix}_${p.suffix}`, 'us', this.at(p.percentile));
  }

  /** Forgets every sample (start of a new run). */
  reset(): void {
    this.hist.reset();
    this.clipped = 0;
  }
}
