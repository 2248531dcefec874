/**
 * The combined results file of one `pnpm bench` run: bench/results/<date>-<short commit>.json.
 * Every suite's figures and ratios as the suite wrote them, what happened to each suite, the
 * machine, the options, and the scaling step. The report, the charts and `--compare` read only
 * this file, so any of them can be made again later from it (`pnpm bench --report FILE`).
 */
import { readFileSync } from 'node:fs';
import type { Figure, Ratio } from '../lib/results.js';
import { SynodError, registerErrors } from '@synod/actors';

/** The `format` field: bumped when a reader of an older file would misread a newer one. */
export const FORMAT = 'synod-bench/1';

/** The machine a run was measured on. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  node: string;
  /** `linux 6.1.0 x64` */
  os: string;
  memoryBytes: number;
  /** 1-minute load average when the run started and when it ended (a shared machine's noise). */
  loadStart: number;
  loadEnd: number;
  /** Whether `taskset` could pin processes to cores (the scaling step needs it to mean cores). */
  taskset: boolean;
}

/** What one suite file holds (lib/results.ts writes it). */
export interface SuiteResult {
  suite: string;
  date: string;
  commit: string;
  setup: Record<string, unknown>;
  figures: Record<string, Figure>;
  ratios: Record<string, Ratio>;
}

/**
 * ok: ran and wrote results; failed: exited non-zero or wrote nothing; timeout: stopped at its
 * budget; skipped: said it cannot run here; missing: not in this checkout; not-run: left out by
 * `--suite`.
 */
export type SuiteStatus = 'ok' | 'failed' | 'timeout' | 'skipped' | 'missing' | 'not-run';

export interface SuiteOutcome {
  status: SuiteStatus;
  /** Why, for every status but ok. */
  reason?: string;
  seconds?: number;
  budgetS?: number;
  result?: SuiteResult;
}

/** One throughput figure measured on 1, 2, … cores side by side. */
export interface ScalingFigure {
  unit: string;
  /** Keyed by the number of cores. */
  byCores: Record<string, Figure>;
  /** Per run: the figure on c cores ÷ on 1 core in that run; keyed by c (1 is left out). */
  speedup: Record<string, Ratio>;
}

export interface ScalingSuite {
  status: SuiteStatus;
  reason?: string;
  figures: Record<string, ScalingFigure>;
}

export interface Scaling {
  cores: number[];
  /** Runs completed (each measures every core count once). */
  runs: number;
  /** Processes were pinned with taskset; otherwise only BENCH_WORKERS changed, which says less. */
  pinned: boolean;
  seconds: number;
  budgetS: number;
  /** Set when the step stopped early (budget) or could not run. */
  note?: string;
  /** A pure CPU loop on c threads: what the machine gave during the step. */
  control?: ScalingFigure;
  suites: Record<string, ScalingSuite>;
}

export interface Combined {
  format: typeof FORMAT;
  date: string;
  commit: string;
  mode: 'full' | 'quick';
  machine: MachineInfo;
  options: { runs: number | null; workers: number; suites: string[] | null; scaling: boolean };
  elapsedS: number;
  suites: Record<string, SuiteOutcome>;
  scaling?: Scaling;
}

/** A results file that cannot be read; the message says which file and what is wrong. */
export class ResultsFileError extends SynodError {
  override readonly name = 'ResultsFileError';
  override readonly code: string = 'results-file';
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function checkFigures(file: string, where: string, x: unknown, ratios: boolean): void {
  if (!isObject(x)) throw new ResultsFileError(`${file}: ${where} is not an object`);
  for (const [name, f] of Object.entries(x)) {
    if (!isObject(f) || typeof f.median !== 'number' || typeof f.min !== 'number' || typeof f.max !== 'number' || (!ratios && typeof f.unit !== 'string')) {
      throw new ResultsFileError(`${file}: ${where}.${name} needs numbers median, min, max${ratios ? '' : ' and a unit'}`);
    }
  }
}

function checkSuiteResult(file: string, where: string, r: unknown): SuiteResult {
  if (!isObject(r) || typeof r.suite !== 'string') throw new ResultsFileError(`${file}: ${where} has no suite name`);
  checkFigures(file, `${where}.figures`, r.figures, false);
  checkFigures(file, `${where}.ratios`, r.ratios ?? {}, true);
  return {
    suite: r.suite,
    date: String(r.date ?? ''),
    commit: String(r.commit ?? ''),
    setup: isObject(r.setup) ? r.setup : {},
    figures: r.figures as SuiteResult['figures'],
    ratios: (r.ratios ?? {}) as SuiteResult['ratios'],
  };
}

/**
 * Parses a results file: a combined file of `pnpm bench`, or one suite's bench/results/<suite>.json
 * (read as a run of that suite alone, so `--compare` also works against a suite file).
 * @throws ResultsFileError naming the file and what is wrong with it.
 */
export function parseResults(text: string, file: string): Combined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ResultsFileError(`${file}: not JSON (${(e as Error).message})`);
  }
  if (!isObject(data)) throw new ResultsFileError(`${file}: not a results file (expected a JSON object)`);
  if (data.format === FORMAT) {
    if (!isObject(data.suites) || !isObject(data.machine)) throw new ResultsFileError(`${file}: format ${FORMAT} but no suites or machine`);
    for (const [name, o] of Object.entries(data.suites)) {
      if (!isObject(o) || typeof o.status !== 'string') throw new ResultsFileError(`${file}: suites.${name} has no status`);
      if (o.result !== undefined) checkSuiteResult(file, `suites.${name}.result`, o.result);
    }
    return data as unknown as Combined;
  }
  if (typeof data.format === 'string') throw new ResultsFileError(`${file}: format '${data.format}' is not one this version reads (${FORMAT})`);
  if (typeof data.suite === 'string') {
    const result = checkSuiteResult(file, 'the file', data);
    const m = isObject(data.machine) ? data.machine : {};
    return {
      format: FORMAT,
      date: result.date,
      commit: result.commit,
      mode: 'full',
      machine: {
        cpu: String(m.cpu ?? 'unknown'),
        cores: Number(m.cores ?? 0),
        node: String(m.node ?? 'unknown'),
        os: 'unknown',
        memoryBytes: 0,
        loadStart: NaN,
        loadEnd: NaN,
        taskset: false,
      },
      options: { runs: null, workers: Number(m.cores ?? 0), suites: [result.suite], scaling: false },
      elapsedS: NaN,
      suites: { [result.suite]: { status: 'ok', result } },
    };
  }
  throw new ResultsFileError(`${file}: not a results file (no 'format' of ${FORMAT}, and no 'suite' of a suite file)`);
}

/** Reads and parses a results file. @throws ResultsFileError when it cannot be read or parsed. */
export function loadResults(file: string): Combined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ResultsFileError(code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read it (${(e as Error).message})`);
  }
  return parseResults(text, file);
}

/** The results of the suites that ran, by suite name. */
export function suiteResults(c: Combined): Map<string, SuiteResult> {
  const out = new Map<string, SuiteResult>();
  for (const [name, o] of Object.entries(c.suites)) if (o.result) out.set(name, o.result);
  return out;
}

registerErrors({ ResultsFileError });
