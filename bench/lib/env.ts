/**
 * The environment variables through which `pnpm bench` (bench/run.ts) tells a suite how to run.
 * A suite run by hand (`pnpm bench:<suite>`) gets none of them and runs its full measurement.
 *
 *   BENCH_QUICK=1     quick mode: fewer runs, shorter measurements, fewer cells (a first look)
 *   BENCH_RUNS=N      runs per figure (default 5, quick 3); the legacy RUNS is read if it is unset
 *   BENCH_WORKERS=N   cores the suite may use: size thread pools to it (default: all cores)
 *   BENCH_BUDGET_S=S  seconds the runner allows this suite; past it the suite is stopped
 *   BENCH_SCALING=1   scaling mode: measure only the suite's scaling cells, once (see README)
 *   BENCH_OUT=FILE    where Results.write() puts the results (default bench/results/<suite>.json)
 *
 * Every value is checked: a bad one stops the suite with a message naming the variable, so a
 * typo never silently runs the wrong benchmark.
 */
import { availableParallelism } from 'node:os';
import { SynodError, registerErrors } from '@synod/actors';

/** How a suite should run, from the BENCH_* variables. */
export interface BenchEnv {
  /** BENCH_QUICK=1: measure less, for a first look; figures are not for quoting. */
  readonly quick: boolean;
  /** Runs per figure: BENCH_RUNS, else RUNS, else 5 (quick: 3). */
  readonly runs: number;
  /** Cores the suite may use (BENCH_WORKERS, default all): pools and thread counts follow it. */
  readonly workers: number;
  /** The runner's time budget for this suite in seconds, when run by `pnpm bench`. */
  readonly budgetS: number | undefined;
  /** BENCH_SCALING=1: measure only the scaling cells, once; the runner pins the process to `workers` cores. */
  readonly scaling: boolean;
  /** BENCH_OUT: the results file to write, when the runner collects results elsewhere. */
  readonly out: string | undefined;
}

/** Defaults a suite may change: e.g. `{ runs: 7 }` for a cheap suite that can afford more runs. */
export interface BenchDefaults {
  /** Runs in a full run (default {@link DEFAULT_RUNS}). */
  readonly runs?: number;
  /** Runs in quick mode (default {@link DEFAULT_QUICK_RUNS}). */
  readonly quickRuns?: number;
}

/** Runs per figure in a full run: the report quotes medians of at least this many. */
export const DEFAULT_RUNS = 5;
/** Runs per figure in quick mode: enough for a min–max spread, not for quoting. */
export const DEFAULT_QUICK_RUNS = 3;

/** A BENCH_* variable with a value the suite cannot use. */
export class BenchEnvError extends SynodError {
  override readonly name = 'BenchEnvError';
  override readonly code: string = 'bench-env';
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const v = env[name];
  if (v === undefined || v === '' || v === '0') return false;
  if (v === '1') return true;
  throw new BenchEnvError(`${name} must be 1 or 0, got '${v}'`);
}

function positive(env: NodeJS.ProcessEnv, name: string, integer: boolean): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new BenchEnvError(`${name} must be a positive ${integer ? 'whole ' : ''}number, got '${v}'`);
  }
  return n;
}

/**
 * Reads the BENCH_* variables (see the module comment and bench/README.md).
 * @throws BenchEnvError naming the variable when a value is not usable.
 */
export function benchEnv(defaults: BenchDefaults = {}, env: NodeJS.ProcessEnv = process.env): BenchEnv {
  const quick = flag(env, 'BENCH_QUICK');
  const scaling = flag(env, 'BENCH_SCALING');
  const runs =
    positive(env, 'BENCH_RUNS', true) ?? positive(env, 'RUNS', true) ?? (quick ? (defaults.quickRuns ?? DEFAULT_QUICK_RUNS) : (defaults.runs ?? DEFAULT_RUNS));
  const workers = positive(env, 'BENCH_WORKERS', true) ?? availableParallelism();
  const budgetS = positive(env, 'BENCH_BUDGET_S', false);
  const out = env.BENCH_OUT === '' ? undefined : env.BENCH_OUT;
  return { quick, runs, workers, budgetS, scaling, out };
}

/**
 * A size for the current mode: `full` normally, `quick` under BENCH_QUICK=1. A suite's own
 * variable (e.g. ONEWAY) still wins: `Number(process.env.ONEWAY ?? sized(2_000_000, 200_000))`.
 */
export function sized<T>(full: T, quick: T, env: NodeJS.ProcessEnv = process.env): T {
  return flag(env, 'BENCH_QUICK') ? quick : full;
}

/**
 * Prints the progress line the runner shows: `run 3/5: <detail>`. Suites print one per run,
 * on stdout, at the start of a line; the runner reads `run K/N` from it.
 */
export function progress(run: number, runs: number, detail: string): void {
  console.log(`run ${run}/${runs}: ${detail}`);
}

registerErrors({ BenchEnvError });
