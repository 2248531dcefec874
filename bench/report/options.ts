/**
 * The options of `pnpm bench` (and `synod bench`, which passes them through). Every mistake is a
 * {@link BenchUsageError} whose message names the option and says what would be accepted; the
 * runner prints it and exits with status 2, before measuring anything.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ResultsFileError, loadResults } from './combined.js';
import { SUITES } from './suites.js';
import { SynodError, registerErrors } from '@synod/actors';

export interface BenchOptions {
  quick: boolean;
  /** An earlier results file to compare with. */
  compare?: string;
  /** Cores for the scaling curve (1, 2, 4, … workers) and BENCH_WORKERS for the suites. */
  workers: number;
  /** Only these suites (undefined: all). */
  suites?: string[];
  /** Runs per figure (undefined: the suites' defaults, 5 or quick 3). */
  runs?: number;
  scaling: boolean;
  /** Where REPORT.md, charts/ and results/ go (undefined: {@link defaultOutDir}). */
  outDir?: string;
  /** Make the report again from this combined results file instead of running. */
  report?: string;
  help: boolean;
}

/** A usage mistake: exit status 2. */
export class BenchUsageError extends SynodError {
  override readonly name = 'BenchUsageError';
  override readonly code: string = 'bench-usage';
}

/** Exit statuses of `pnpm bench`. */
export const BENCH_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** What the parser needs to know about the machine and the checkout. */
export interface ParseContext {
  cores: number;
  /** bench/ of the checkout (default output directory is here). */
  benchDir: string;
}

export const HELP = `Usage: pnpm bench [options]        (also: synod bench [options])

Runs every benchmark suite, then writes results/<date>-<commit>.json, REPORT.md and charts/*.svg.

Options:
  --quick            fewer runs, shorter measurements, fewer cells (about 2 minutes);
                     writes under bench/quick/ so the full report is never overwritten
  --compare FILE     mark every figure that moved beyond the run-to-run spread since FILE
  --workers N        measure scaling on 1, 2, 4, ... N cores (default: all cores)
  --suite NAME       only this suite (repeat, or a comma list): ${SUITES.map((s) => s.name).join(', ')}
  --runs N           runs per figure (default 5, quick 3)
  --no-scaling       skip the scaling step
  --out DIR          write REPORT.md, charts/ and results/ under DIR
  --report FILE      run nothing: write the report and charts again from FILE
  -h, --help         this help

Exit status: 0 every suite present ran, 1 a suite failed or ran out of time, 2 bad options.
`;

function positiveInt(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n <= 0) throw new BenchUsageError(`--${name} must be a positive whole number, got '${raw}'`);
  return n;
}

/** Checks that FILE is a results file now, rather than after a 20-minute run. */
function resultsFile(name: string, file: string): string {
  try {
    loadResults(file);
  } catch (e) {
    if (e instanceof ResultsFileError) throw new BenchUsageError(`--${name} ${e.message}`);
    throw e;
  }
  return file;
}

/**
 * Parses the arguments of `pnpm bench`.
 * @throws BenchUsageError for an unknown option, a bad value, or options that contradict.
 */
export function parseBenchArgs(argv: string[], ctx: ParseContext): BenchOptions {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: 'boolean' },
        compare: { type: 'string' },
        workers: { type: 'string' },
        suite: { type: 'string', multiple: true },
        runs: { type: 'string' },
        'no-scaling': { type: 'boolean' },
        out: { type: 'string' },
        report: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    // parseArgs says e.g. "Unknown option '--fast'"; keep its words, drop its advice on positionals.
    throw new BenchUsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const help = values.help === true;
  const quick = values.quick === true;
  const workers = positiveInt('workers', values.workers as string | undefined) ?? ctx.cores;
  if (workers > ctx.cores) {
    throw new BenchUsageError(
      `--workers ${workers} is more than the ${ctx.cores} cores of this machine; more threads than cores would measure contention, not scaling`,
    );
  }
  const runs = positiveInt('runs', values.runs as string | undefined);
  let suites: string[] | undefined;
  if (values.suite) {
    suites = (values.suite as string[])
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter(Boolean);
    for (const s of suites) {
      if (!SUITES.some((x) => x.name === s)) throw new BenchUsageError(`--suite '${s}' is not a suite; the suites are ${SUITES.map((x) => x.name).join(', ')}`);
    }
    if (suites.length === 0) throw new BenchUsageError(`--suite needs a suite name: ${SUITES.map((x) => x.name).join(', ')}`);
  }
  const report = values.report as string | undefined;
  if (report !== undefined) {
    const clash = (['quick', 'workers', 'suite', 'runs', 'no-scaling'] as const).filter((k) => values[k] !== undefined);
    if (clash.length > 0) throw new BenchUsageError(`--report makes the report from a file and runs nothing, so --${clash[0]} has no effect; leave it out`);
    resultsFile('report', report);
  }
  const compare = values.compare as string | undefined;
  if (compare !== undefined) resultsFile('compare', compare);
  const out = values.out as string | undefined;
  if (out !== undefined && out.trim() === '') throw new BenchUsageError('--out needs a directory');
  if (out !== undefined && existsSync(out) && !existsSync(`${out}/.`)) throw new BenchUsageError(`--out ${out} is a file, not a directory`);
  return {
    quick,
    compare,
    workers,
    suites,
    runs,
    report,
    help,
    scaling: values['no-scaling'] !== true,
    outDir: out,
  };
}

/** bench/ for a full run; bench/quick/ (not committed) for a quick one, so it never overwrites the full report. */
export function defaultOutDir(benchDir: string, mode: 'full' | 'quick'): string {
  return mode === 'quick' ? `${benchDir}/quick` : benchDir;
}

registerErrors({ BenchUsageError });
