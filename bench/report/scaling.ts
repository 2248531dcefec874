/**
 * The scaling step: how throughput changes from 1 to N cores. Each scaling suite runs in
 * scaling mode (BENCH_SCALING=1: its throughput cells, once) pinned to the first c allowed cores with
 * taskset, for every c, one after the other within each run; each figure on c cores is divided by
 * the same figure on 1 core of that run, so a change of the shared machine's load between runs
 * cancels out. A pure CPU loop (scaling/cpu-loop.ts), measured the same way, is the control.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { figure, ratio, type Figure } from '../lib/results.js';
import { hasTaskset, runChild } from './child.js';
import type { Scaling, ScalingFigure, ScalingSuite, SuiteResult } from './combined.js';
import type { Progress } from './progress.js';
import { suiteFailure } from './failure.js';

/** The order in which suites are measured; quick mode takes only the first one present. */
export const SCALING_ORDER = ['synod', 'multipaxos', 'transport'] as const;

/** 1, 2, 4, … up to `workers`, and `workers` itself. */
export function coreCounts(workers: number): number[] {
  const out: number[] = [];
  for (let c = 1; c < workers; c *= 2) out.push(c);
  out.push(workers);
  return out;
}

export interface ScalingOptions {
  /** Suites to measure, by name, with their built scripts. */
  suites: { name: string; script: string }[];
  controlScript: string;
  workers: number;
  runs: number;
  quick: boolean;
  budgetS: number;
  /** Longest one measurement (one suite on one core count) may take. */
  measurementMaxS: number;
  /** Where the children write their results and logs. */
  workDir: string;
  logDir: string;
  progress: Progress;
}

interface Target {
  name: string;
  script: string;
  status: ScalingSuite['status'];
  reason?: string;
  values: Map<string, { unit: string; byCores: Map<number, number[]> }>;
}

/** Reads the rate figures (unit `…/s`) of one scaling measurement. */
function rateFigures(file: string): Record<string, { unit: string; value: number }> {
  const r = JSON.parse(readFileSync(file, 'utf8')) as SuiteResult;
  const out: Record<string, { unit: string; value: number }> = {};
  for (const [name, f] of Object.entries(r.figures)) if (/\/s$/.test(f.unit)) out[name] = { unit: f.unit, value: f.median };
  return out;
}

function summarise(values: Target['values'], cores: number[], runs: number): Record<string, ScalingFigure> {
  const out: Record<string, ScalingFigure> = {};
  for (const [name, v] of values) {
    const one = v.byCores.get(1) ?? [];
    const byCores: Record<string, Figure> = {};
    const speedup: ScalingFigure['speedup'] = {};
    for (const c of cores) {
      // Indexed by run; a run that stopped early leaves holes.
      const xs = v.byCores.get(c) ?? [];
      const measured = xs.filter((x) => Number.isFinite(x));
      if (measured.length > 0) byCores[String(c)] = figure(v.unit, measured);
      if (c === 1) continue;
      // Only runs that measured both c cores and 1 core give a ratio.
      const ratios: number[] = [];
      for (let r = 0; r < runs; r++) if (xs[r] !== undefined && one[r] !== undefined && one[r]! > 0) ratios.push(xs[r]! / one[r]!);
      if (ratios.length > 0) speedup[String(c)] = ratio(ratios);
    }
    out[name] = { unit: v.unit, byCores, speedup };
  }
  return out;
}

/** Runs the scaling step within its budget. */
export async function runScaling(o: ScalingOptions): Promise<Scaling> {
  const started = performance.now();
  const cores = coreCounts(o.workers);
  const pinned = hasTaskset();
  const elapsed = () => (performance.now() - started) / 1000;
  const result = (runs: number, targets: Target[], control: Target, note?: string): Scaling => ({
    cores,
    runs,
    pinned,
    seconds: elapsed(),
    budgetS: o.budgetS,
    ...(note ? { note } : {}),
    ...(control.values.size > 0 ? { control: Object.values(summarise(control.values, cores, runs))[0]! } : {}),
    suites: Object.fromEntries(
      targets.map((t) => [t.name, { status: t.status, ...(t.reason ? { reason: t.reason } : {}), figures: summarise(t.values, cores, runs) }]),
    ),
  });
  const targets: Target[] = o.suites.map((s) => ({ ...s, status: 'ok', values: new Map() }));
  const control: Target = { name: 'control', script: o.controlScript, status: 'ok', values: new Map() };
  if (cores.length < 2) return result(0, targets, control, 'one core: there is nothing to scale to (--workers 1, or a 1-core machine)');
  if (targets.length === 0) return result(0, targets, control, 'no scaling suite ran in this run');

  let runs = 0;
  let lastRunS = 0;
  for (let run = 1; run <= o.runs; run++) {
    const runStarted = elapsed();
    // A run that would not fit in what is left of the budget is not started.
    if (run > 1 && runStarted + lastRunS > o.budgetS) {
      return result(runs, targets, control, `stopped after ${runs} of ${o.runs} runs: the next would not fit in the step's budget of ${o.budgetS} s`);
    }
    // Alternate the order of core counts, so a drift in the machine's load favours neither end.
    const order = run % 2 === 1 ? cores : [...cores].reverse();
    for (const t of [...targets, control]) {
      if (t.status !== 'ok') continue;
      for (const c of order) {
        o.progress.detail(`run ${run}/${o.runs}, ${t.name} on ${c} core${c > 1 ? 's' : ''}`);
        const out = join(o.workDir, `scaling-${t.name}-${c}.json`);
        const remaining = Math.max(1, o.budgetS - elapsed());
        const child = await runChild({
          script: t.script,
          env: {
            BENCH_SCALING: '1',
            BENCH_RUNS: '1',
            BENCH_WORKERS: String(c),
            BENCH_QUICK: o.quick ? '1' : '0',
            BENCH_OUT: out,
            BENCH_BUDGET_S: String(o.measurementMaxS),
          },
          timeoutMs: Math.min(o.measurementMaxS, remaining) * 1000,
          ...(pinned ? { pinCores: c } : {}),
          logFile: join(o.logDir, `scaling-${t.name}-${c}-run${run}.log`),
        });
        if (child.timedOut || child.code !== 0 || !existsSync(out)) {
          t.status = child.timedOut ? 'timeout' : 'failed';
          t.reason = child.timedOut
            ? `stopped after ${Math.round(child.seconds)} s on ${c} core${c > 1 ? 's' : ''} (a scaling measurement may take ${o.measurementMaxS} s)`
            : `${child.code === 0 ? 'wrote no results' : suiteFailure(child.code, child.signal, child.errorTail)} on ${c} core${c > 1 ? 's' : ''}`;
          o.progress.line(`    scaling: ${t.name} ${t.reason}`);
          break;
        }
        for (const [name, f] of Object.entries(rateFigures(out))) {
          let v = t.values.get(name);
          if (!v) t.values.set(name, (v = { unit: f.unit, byCores: new Map() }));
          let xs = v.byCores.get(c);
          if (!xs) v.byCores.set(c, (xs = []));
          xs[run - 1] = f.value;
        }
      }
    }
    runs = run;
    lastRunS = elapsed() - runStarted;
    const line = [...targets, control]
      .filter((t) => t.status === 'ok')
      .flatMap((t) =>
        [...t.values].map(([name, v]) => {
          const one = v.byCores.get(1)?.[run - 1];
          const top = v.byCores.get(cores[cores.length - 1]!)?.[run - 1];
          return one && top ? `${t.name === 'control' ? 'cpu loop' : name} ×${(top / one).toFixed(2)}` : '';
        }),
      )
      .filter(Boolean)
      .join(', ');
    o.progress.line(`    scaling run ${run}/${o.runs}: ${cores[cores.length - 1]} cores ÷ 1: ${line || 'nothing measured'}`);
  }
  return result(runs, targets, control);
}
