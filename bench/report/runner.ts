/**
 * `pnpm bench`: runs the suites one after the other (each in its own process, within its time
 * budget), then the scaling step, then writes the combined results file, the charts and
 * REPORT.md, and with `--compare` marks what moved. `--report FILE` skips the running.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, arch, platform, release, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { commit } from '../lib/results.js';
import { buildCharts, CHARTS, SCALING_CHART_ID } from './charts.js';
import { hasTaskset, runChild } from './child.js';
import { suiteFailure } from './failure.js';
import { FORMAT, ResultsFileError, loadResults, parseResults, type Combined, type MachineInfo, type SuiteOutcome } from './combined.js';
import { compareRuns, formatComparisonText } from './compare.js';
import { formatDuration } from './format.js';
import { renderReport } from './markdown.js';
import { BENCH_EXIT, HELP, defaultOutDir, type BenchOptions } from './options.js';
import { Progress, type ProgressSink } from './progress.js';
import { SCALING_ORDER, runScaling } from './scaling.js';
import { HARD_LIMIT_FACTOR, SCALING_BUDGET_S, SCALING_MEASUREMENT_MAX_S, SCALING_RUNS, SUITES, type SuiteSpec } from './suites.js';
import { renderChart } from './svg.js';

export interface RunnerIO {
  /** Progress, the summary and --compare's marks go here. */
  out: ProgressSink;
  /** bench/ of the checkout: sources `<name>.ts` are here, built scripts in `dist/`. */
  benchDir: string;
  /** The suites and budgets (default {@link SUITES}, {@link SCALING_BUDGET_S}); tests run small fakes. */
  suites?: readonly SuiteSpec[];
  scalingBudgetS?: { full: number; quick: number };
}

/** What the machine is, for the report. */
export function machineInfo(loadStart: number): MachineInfo {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    memoryBytes: totalmem(),
    loadStart,
    loadEnd: loadavg()[0]!,
    taskset: hasTaskset(),
  };
}

/** The results file name: `<date>-<short commit>.json` (the commit says `-dirty` for uncommitted changes). */
export function resultsFileName(c: Pick<Combined, 'date' | 'commit'>): string {
  return `${c.date.slice(0, 10)}-${c.commit.replace(/[^0-9A-Za-z._-]/g, '_')}.json`;
}

/**
 * In a full run, each suite that ran to the end also gets its own `results/<suite>.json` (what
 * `pnpm bench:<suite>` writes), so the per-suite files and the report come from the same run.
 */
export function writeSuiteFiles(results: Combined, resultsDir: string): string[] {
  const written: string[] = [];
  for (const [name, o] of Object.entries(results.suites)) {
    if (o.status !== 'ok' || !o.result) continue;
    const file = join(resultsDir, `${name}.json`);
    writeFileSync(file, JSON.stringify(o.result, null, 2) + '\n');
    written.push(file);
  }
  return written;
}

/** Writes the charts and REPORT.md for `results` under `outDir`; returns the paths written. */
export function writeReport(
  results: Combined,
  outDir: string,
  resultsPath: string,
  compareFile?: string,
): { report: string; charts: string[]; comparisonText?: string } {
  const chartsDir = join(outDir, 'charts');
  mkdirSync(chartsDir, { recursive: true });
  const outcomes = buildCharts(results);
  const chartLinks: Record<string, string> = {};
  const written: string[] = [];
  for (const o of outcomes) {
    const file = join(chartsDir, `${o.def.id}.svg`);
    if ('spec' in o) {
      writeFileSync(file, renderChart(o.spec));
      chartLinks[o.def.id] = `charts/${o.def.id}.svg`;
      written.push(file);
    }
  }
  // A chart this run could not draw must not be left over from an earlier run beside the report.
  for (const id of [...CHARTS.map((d) => d.id), SCALING_CHART_ID]) {
    if (!chartLinks[id]) rmSync(join(chartsDir, `${id}.svg`), { force: true });
  }
  let comparison;
  let comparisonText: string | undefined;
  if (compareFile) {
    comparison = compareRuns(results, loadResults(compareFile), compareFile);
    comparisonText = formatComparisonText(comparison);
  }
  const report = join(outDir, 'REPORT.md');
  writeFileSync(
    report,
    renderReport({
      results,
      charts: outcomes,
      chartLinks,
      ...(comparison ? { comparison } : {}),
      resultsLink: relative(outDir, resultsPath).split('\\').join('/'),
    }),
  );
  return { report, charts: written, ...(comparisonText ? { comparisonText } : {}) };
}

/** Runs `pnpm bench` with parsed options; returns the exit status. */
export async function runBench(opts: BenchOptions, io: RunnerIO): Promise<number> {
  if (opts.help) {
    io.out.write(HELP);
    return BENCH_EXIT.ok;
  }
  const distDir = join(io.benchDir, 'dist');

  if (opts.report) {
    const results = loadResults(opts.report);
    const outDir = opts.outDir ?? defaultOutDir(io.benchDir, results.mode);
    const w = writeReport(results, outDir, opts.report, opts.compare);
    io.out.write(
      `${w.comparisonText ?? ''}bench: wrote ${relative(process.cwd(), w.report)} and ${w.charts.length} chart${w.charts.length === 1 ? '' : 's'} from ${opts.report}\n`,
    );
    return BENCH_EXIT.ok;
  }

  const mode = opts.quick ? 'quick' : 'full';
  const outDir = opts.outDir ?? defaultOutDir(io.benchDir, mode);
  const logDir = join(outDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const workDir = mkdtempSync(join(tmpdir(), 'synod-bench-'));
  const date = new Date().toISOString();
  const loadStart = loadavg()[0]!;
  const progress = new Progress(io.out);
  const suites: Record<string, SuiteOutcome> = {};
  const registry = io.suites ?? SUITES;
  const selected = registry.filter((s) => !opts.suites || opts.suites.includes(s.name));
  const steps = selected.length + (opts.scaling ? 1 : 0);
  const cores = availableParallelism();
  progress.line(
    `bench: ${mode} run, ${selected.length} suite${selected.length === 1 ? '' : 's'}${opts.scaling ? ' and the scaling step' : ''}; ${cores} cores, Node ${process.version}; logs in ${relative(process.cwd(), logDir) || '.'}`,
  );

  try {
    let index = 0;
    for (const spec of registry) {
      if (!selected.includes(spec)) {
        suites[spec.name] = { status: 'not-run', reason: 'left out by --suite' };
        continue;
      }
      index++;
      const budgetS = opts.quick ? spec.budgetS.quick : spec.budgetS.full;
      const source = join(io.benchDir, `${spec.name}.ts`);
      const script = join(distDir, `${spec.name}.js`);
      if (!existsSync(source)) {
        suites[spec.name] = { status: 'missing', reason: `bench/${spec.name}.ts is not in this checkout` };
        progress.line(`[${index}/${steps}] ${spec.name}: not in this checkout (bench/${spec.name}.ts), left out of the report`);
        continue;
      }
      if (!existsSync(script)) {
        suites[spec.name] = { status: 'failed', reason: `not built (bench/dist/${spec.name}.js); run npx tsc -b`, budgetS };
        progress.line(`[${index}/${steps}] ${spec.name}: not built; run npx tsc -b`);
        continue;
      }
      progress.begin(spec.name, index, steps, budgetS);
      const out = join(workDir, `${spec.name}.json`);
      const env: Record<string, string> = {
        BENCH_QUICK: opts.quick ? '1' : '0',
        BENCH_WORKERS: String(opts.workers),
        BENCH_BUDGET_S: String(budgetS),
        BENCH_OUT: out,
      };
      if (opts.runs !== undefined) env.BENCH_RUNS = String(opts.runs);
      const child = await runChild({
        script,
        env,
        timeoutMs: budgetS * HARD_LIMIT_FACTOR * 1000,
        logFile: join(logDir, `${spec.name}.log`),
        onLine: (l) => progress.suiteOutput(l),
      });
      const base = { seconds: child.seconds, budgetS };
      if (child.timedOut) {
        suites[spec.name] = {
          ...base,
          status: 'timeout',
          reason: `stopped at ${formatDuration(budgetS * HARD_LIMIT_FACTOR)}, ${HARD_LIMIT_FACTOR} times its budget of ${formatDuration(budgetS)}`,
        };
      } else if (child.code === 0 && child.skipped !== undefined) {
        suites[spec.name] = { ...base, status: 'skipped', reason: child.skipped };
      } else if (child.code !== 0 || !existsSync(out)) {
        suites[spec.name] = {
          ...base,
          status: 'failed',
          reason: child.code !== 0 ? suiteFailure(child.code, child.signal, child.errorTail) : 'exited 0 but wrote no results',
        };
      } else {
        try {
          const parsed = parseResults(readFileSync(out, 'utf8'), `the results file of ${spec.name}`);
          suites[spec.name] = { ...base, status: 'ok', result: Object.values(parsed.suites)[0]!.result! };
        } catch (e) {
          // A suite that writes a malformed file has failed; the other suites and the report go on.
          if (!(e instanceof ResultsFileError)) throw e;
          suites[spec.name] = { ...base, status: 'failed', reason: e.message };
        }
      }
      const o = suites[spec.name]!;
      const over = o.status === 'ok' && child.seconds > budgetS ? `; over its budget of ${formatDuration(budgetS)}` : '';
      progress.end(
        o.status === 'ok'
          ? `${Object.keys(o.result!.figures).length} figures, ${Object.keys(o.result!.ratios).length} ratios${over}`
          : `${o.status}: ${o.reason}`,
      );
      if (o.status === 'failed' || o.status === 'timeout') progress.line(`    log: ${relative(process.cwd(), join(logDir, `${spec.name}.log`))}`);
    }

    let scaling: Combined['scaling'];
    if (opts.scaling) {
      const scalingBudget = io.scalingBudgetS ?? SCALING_BUDGET_S;
      const budgetS = opts.quick ? scalingBudget.quick : scalingBudget.full;
      progress.begin('scaling', steps, steps, budgetS);
      // Only suites that ran cleanly above: a failing suite would fail here too, and cost time.
      let names: string[] = SCALING_ORDER.filter((n) => suites[n]?.status === 'ok' && registry.some((s) => s.name === n && s.scaling));
      if (opts.quick) names = names.slice(0, 1);
      scaling = await runScaling({
        suites: names.map((name) => ({ name, script: join(distDir, `${name}.js`) })),
        controlScript: join(distDir, 'scaling', 'cpu-loop.js'),
        workers: opts.workers,
        runs: opts.runs ?? (opts.quick ? SCALING_RUNS.quick : SCALING_RUNS.full),
        quick: opts.quick,
        budgetS,
        measurementMaxS: opts.quick ? SCALING_MEASUREMENT_MAX_S.quick : SCALING_MEASUREMENT_MAX_S.full,
        workDir,
        logDir,
        progress,
      });
      progress.end(scaling.note ?? `${scaling.runs} runs on ${scaling.cores.join(', ')} cores`);
    }

    const results: Combined = {
      format: FORMAT,
      date,
      commit: commit(),
      mode,
      machine: machineInfo(loadStart),
      options: { runs: opts.runs ?? null, workers: opts.workers, suites: opts.suites ?? null, scaling: opts.scaling },
      elapsedS: progress.elapsedS(),
      suites,
      ...(scaling ? { scaling } : {}),
    };
    const resultsPath = join(outDir, 'results', resultsFileName(results));
    mkdirSync(join(outDir, 'results'), { recursive: true });
    writeFileSync(resultsPath, JSON.stringify(results, null, 2) + '\n');
    if (mode === 'full') writeSuiteFiles(results, join(outDir, 'results'));
    const w = writeReport(results, outDir, resultsPath, opts.compare);
    progress.close();

    const failed = Object.entries(suites).filter(([, o]) => o.status === 'failed' || o.status === 'timeout');
    const scalingFailed = Object.entries(scaling?.suites ?? {}).filter(([, s]) => s.status !== 'ok');
    const rel = (p: string) => relative(process.cwd(), p) || p;
    const lines = [
      '',
      ...Object.entries(suites).map(
        ([name, o]) =>
          `  ${name.padEnd(11)} ${o.status.padEnd(8)} ${o.seconds !== undefined ? formatDuration(o.seconds).padStart(10) : ''.padStart(10)}  ${o.status === 'ok' ? '' : (o.reason ?? '')}`,
      ),
      w.comparisonText ?? '',
      `bench: wrote ${rel(w.report)}, ${rel(resultsPath)} and ${w.charts.length} chart${w.charts.length === 1 ? '' : 's'} in ${formatDuration(results.elapsedS)}.`,
    ];
    if (failed.length > 0 || scalingFailed.length > 0) {
      lines.push(
        `bench: ${[...failed.map(([n, o]) => `${n} ${o.status === 'timeout' ? 'ran out of time' : 'failed'}`), ...scalingFailed.map(([n]) => `${n} failed in the scaling step`)].join(', ')}; logs in ${rel(logDir)}.`,
      );
    }
    io.out.write(lines.filter((l) => l !== '').join('\n') + '\n');
    return failed.length > 0 || scalingFailed.length > 0 ? BENCH_EXIT.failed : BENCH_EXIT.ok;
  } finally {
    progress.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}
