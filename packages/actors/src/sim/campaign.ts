/**
 * Campaigns: one scenario over many seeds, in batches on a piscina pool (or in this thread).
 * Stops at the first failure and reports the lowest failing seed among those started, which
 * does not depend on thread timing: batches start in seed order, and on a failure the campaign
 * waits for the batches already running (all of lower seeds) before it reports.
 */
import { availableParallelism } from 'node:os';
import type { Piscina } from 'piscina';
import { detectWorkerLoader } from '../worker-node.js';
import { runBatch, type BatchResult, type CampaignTask } from './batch.js';
import { SimulationError } from './errors.js';
import { locateScenario, type Scenario, type ScenarioOutcome } from './scenario.js';

/** Which seeds a campaign runs: `n` means seeds 1..n. */
export type SeedRange = number | { from: number; count: number } | readonly number[];

/** Progress of a campaign, reported as it goes. */
export interface CampaignProgress {
  scenario: string;
  done: number;
  total: number;
  failed: number;
  elapsedMs: number;
  seedsPerSecond: number;
}

/** Options of {@link runCampaign} and {@link CampaignPool.run}. */
export interface CampaignOptions {
  /** The scenario; it must be exported from its `module` to run on threads. */
  scenario: Scenario<any>;
  seeds: SeedRange;
  /** Seeds per task sent to a thread. Default 20. */
  batchSize?: number;
  /** Stop at the first failure (default true); otherwise run every seed. */
  stopOnFailure?: boolean;
  /** Failing outcomes kept when not stopping at the first (default 100). */
  maxFailures?: number;
  /** Report progress: true prints a line to stderr as it goes; a function gets each update. */
  progress?: boolean | ((p: CampaignProgress) => void);
  /** How often progress is reported, ms of real time. Default 250 on a terminal, 5000 otherwise. */
  progressEveryMs?: number;
  /** Return every seed's fingerprint (to compare runs across threads and machines). */
  collectFingerprints?: boolean;
}

/** The outcome of a campaign. */
export interface CampaignResult {
  scenario: string;
  /** Seeds asked for. */
  total: number;
  /** Seeds run (fewer than `total` when it stopped at a failure). */
  seedsRun: number;
  passed: number;
  /** The failure with the lowest seed, if any. */
  firstFailure?: ScenarioOutcome;
  /** Failing outcomes, by seed. */
  failures: ScenarioOutcome[];
  /** Real time the campaign took, ms. */
  elapsedMs: number;
  seedsPerSecond: number;
  /** Simulated message deliveries over all seeds. */
  deliveries: number;
  /** Threads used (0: the calling thread). */
  workers: number;
  /** Seed to fingerprint, with `collectFingerprints`. */
  fingerprints?: Map<number, string>;
}

/** Options of a {@link CampaignPool}. */
export interface CampaignPoolOptions {
  /** Threads. 0 runs campaigns in the calling thread. Default: the machine's available parallelism. */
  workers?: number;
  /** Close idle threads after this long, ms. Default 30000. */
  idleTimeoutMs?: number;
  /**
   * A module whose `register()` lets threads load TypeScript scenarios. Default: tsx's, when this
   * process runs under tsx; else none.
   */
  loader?: string | null;
}

/** Expands a seed range into the list of seeds. */
export function expandSeeds(seeds: SeedRange): number[] {
  if (typeof seeds === 'number') {
    if (!(Number.isInteger(seeds) && seeds >= 0)) throw new SimulationError(`seeds: a count must be an integer >= 0, got ${seeds}`);
    return Array.from({ length: seeds }, (_, i) => i + 1);
  }
  if (Array.isArray(seeds)) {
    for (const s of seeds) if (!Number.isInteger(s)) throw new SimulationError(`seeds: every seed must be an integer, got ${String(s)}`);
    return seeds.slice();
  }
  const r = seeds as { from: number; count: number };
  if (!(Number.isInteger(r.from) && Number.isInteger(r.count) && r.count >= 0))
    throw new SimulationError('seeds: give { from, count } as integers, count >= 0');
  return Array.from({ length: r.count }, (_, i) => r.from + i);
}

/**
 * Threads for campaigns, reusable across campaigns (thread start-up is paid once). Close it
 * when done.
 */
export class CampaignPool {
  readonly workers: number;
  private readonly idleTimeoutMs: number;
  private readonly loader: string | null;
  private pool: Piscina<CampaignTask, BatchResult> | undefined;

  constructor(options: CampaignPoolOptions = {}) {
    const w = options.workers ?? availableParallelism();
    if (!(Number.isInteger(w) && w >= 0)) throw new SimulationError(`CampaignPool: workers must be an integer >= 0, got ${String(w)}`);
    this.workers = w;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.loader = options.loader !== undefined ? options.loader : detectWorkerLoader();
  }

  /** Runs a campaign on this pool's threads. */
  async run(options: CampaignOptions): Promise<CampaignResult> {
    const scenario = options.scenario;
    const seeds = expandSeeds(options.seeds);
    const batchSize = options.batchSize ?? 20;
    if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new SimulationError(`campaign: batchSize must be a positive integer, got ${String(batchSize)}`);
    const stopOnFailure = options.stopOnFailure ?? true;
    const maxFailures = options.maxFailures ?? 100;
    const collect = options.collectFingerprints ?? false;
    const exec = await this.executor(scenario, stopOnFailure, collect);

    const batches: number[][] = [];
    for (let i = 0; i < seeds.length; i += batchSize) batches.push(seeds.slice(i, i + batchSize));
    const report = progressReporter(scenario.name, seeds.length, options);
    const started = performance.now();
    const failures: ScenarioOutcome[] = [];
    const fingerprints = collect ? new Map<number, string>() : undefined;
    let seedsRun = 0;
    let passed = 0;
    let deliveries = 0;
    let stop = false;
    let error: unknown;
    // Two batches per thread keep every thread busy while the next batch is on its way.
    const maxInFlight = Math.max(1, this.workers * 2);
    await new Promise<void>((resolveAll) => {
      let next = 0;
      let inFlight = 0;
      const launch = (): void => {
        while (!stop && next < batches.length && inFlight < maxInFlight) {
          const batch = batches[next++]!;
          inFlight++;
          exec(batch)
            .then(
              (r) => {
                seedsRun += r.ran;
                passed += r.passed;
                deliveries += r.deliveries;
                if (fingerprints) for (const [s, f] of r.fingerprints) fingerprints.set(s, f);
                for (const f of r.failures) if (failures.length < maxFailures) failures.push(f);
                if (r.failures.length > 0 && stopOnFailure) stop = true;
                report(seedsRun, failures.length, performance.now() - started, false);
              },
              (e) => {
                error ??= e;
                stop = true;
              },
            )
            .finally(() => {
              inFlight--;
              if (inFlight === 0 && (stop || next >= batches.length)) resolveAll();
              else launch();
            });
        }
        if (inFlight === 0) resolveAll();
      };
      launch();
    });
    const elapsedMs = performance.now() - started;
    report(seedsRun, failures.length, elapsedMs, true);
    if (error !== undefined) throw error;
    failures.sort((a, b) => a.seed - b.seed);
    const result: CampaignResult = {
      scenario: scenario.name,
      total: seeds.length,
      seedsRun,
      passed,
      failures,
      elapsedMs,
      seedsPerSecond: seedsRun / Math.max(1e-9, elapsedMs / 1000),
      deliveries,
      workers: this.workers,
    };
    if (failures.length > 0) result.firstFailure = failures[0];
    if (fingerprints) result.fingerprints = fingerprints;
    return result;
  }

  /** Stops the threads. The pool can be used again afterwards (it starts new ones). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.destroy();
  }

  private async executor(scenario: Scenario<any>, stopOnFailure: boolean, collectFingerprints: boolean): Promise<(seeds: number[]) => Promise<BatchResult>> {
    if (this.workers === 0) return (seeds) => runBatch(scenario, { seeds, stopOnFailure, collectFingerprints });
    const where = await locateScenario(scenario);
    if (/\.(c|m)?ts$/.test(where.module) && !this.loader) {
      throw new SimulationError(
        `scenario "${scenario.name}" is in a TypeScript module (${where.module}) and campaign threads have no TypeScript loader: run under tsx (node --import tsx), give the pool a \`loader\`, or run compiled scenarios`,
      );
    }
    const pool = await this.ensurePool();
    return (seeds) => pool.run({ module: where.module, exportName: where.exportName, seeds, stopOnFailure, collectFingerprints });
  }

  private async ensurePool(): Promise<Piscina<CampaignTask, BatchResult>> {
    if (!this.pool) {
      // Loaded on first use: a campaign in the calling thread never needs it.
      const { Piscina } = await import('piscina');
      const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
      this.pool ??= new Piscina<CampaignTask, BatchResult>({
        filename: new URL(`./campaign-worker${ext}`, import.meta.url).href,
        minThreads: this.workers,
        maxThreads: this.workers,
        idleTimeout: this.idleTimeoutMs,
        workerData: { loader: this.loader },
      });
    }
    return this.pool;
  }
}

/**
 * Runs a scenario over many seeds, in parallel on piscina threads (`workers`, default the
 * machine's parallelism; 0 runs in this thread). Resolves with the lowest failing seed, if any,
 * and seeds per second.
 */
export async function runCampaign(options: CampaignOptions & CampaignPoolOptions): Promise<CampaignResult> {
  const pool = new CampaignPool(options);
  try {
    return await pool.run(options);
  } finally {
    await pool.close();
  }
}

function progressReporter(name: string, total: number, o: CampaignOptions): (done: number, failed: number, elapsedMs: number, final: boolean) => void {
  if (!o.progress) return () => {};
  const tty = process.stderr.isTTY === true;
  const every = o.progressEveryMs ?? (tty ? 250 : 5_000);
  let last = -Infinity;
  const sink =
    typeof o.progress === 'function'
      ? o.progress
      : (p: CampaignProgress, final: boolean) => {
          const line = `campaign "${p.scenario}": ${p.done}/${p.total} seeds, ${p.failed} failed, ${p.seedsPerSecond.toFixed(0)} seeds/s`;
          if (tty) process.stderr.write(`\r${line}${final ? '\n' : ''}`);
          else process.stderr.write(`${line}\n`);
        };
  return (done, failed, elapsedMs, final) => {
    if (!final && elapsedMs - last < every) return;
    last = elapsedMs;
    const p: CampaignProgress = { scenario: name, done, total, failed, elapsedMs, seedsPerSecond: done / Math.max(1e-9, elapsedMs / 1000) };
    (sink as (p: CampaignProgress, final: boolean) => void)(p, final);
  };
}
