/**
 * The results file every suite writes: bench/results/<suite>.json
 *
 * { suite, date, commit, machine: { cpu, cores, node }, figures: { name: { unit, median, min, max, runs } },
 *   ratios: { name: { median, min, max } }, setup }
 *
 * Figures are medians of repeated runs; ratios are computed per run from figures measured side
 * by side in that run, then summarised, so machine noise between runs cancels out.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** bench/results in the repository, whether this runs from bench/lib or from the built bench/dist/lib. */
const here = dirname(fileURLToPath(import.meta.url));
export const resultsDir =
  here.includes(`${sep}dist${sep}`) || here.endsWith(`${sep}dist${sep}lib`) ? join(here, '..', '..', 'results') : join(here, '..', 'results');

export interface Figure {
  unit: string;
  median: number;
  min: number;
  max: number;
  runs: number[];
}
export interface Ratio {
  median: number;
  min: number;
  max: number;
}

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
}

export function machine(): Machine {
  return { cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: cpus().length, node: process.version };
}

export function commit(): string {
  try {
    const sha = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const dirty = execSync('git status --porcelain --untracked-files=no', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return 'unknown';
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function figure(unit: string, runs: number[]): Figure {
  return { unit, median: round(median(runs)), min: round(Math.min(...runs)), max: round(Math.max(...runs)), runs: runs.map(round) };
}

export function ratio(values: number[]): Ratio {
  return { median: round(median(values), 4), min: round(Math.min(...values), 4), max: round(Math.max(...values), 4) };
}

function round(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * f) / f;
}

/** Collects figures run by run, then writes the file and prints a table. */
export class Results {
  private readonly runs = new Map<string, { unit: string; values: number[] }>();
  private readonly ratioRuns = new Map<string, number[]>();
  constructor(
    readonly suite: string,
    readonly setup: Record<string, unknown> = {},
  ) {}

  add(name: string, unit: string, value: number): void {
    let r = this.runs.get(name);
    if (!r) {
      r = { unit, values: [] };
      this.runs.set(name, r);
    }
    r.values.push(value);
  }

  addRatio(name: string, value: number): void {
    let r = this.ratioRuns.get(name);
    if (!r) {
      r = [];
      this.ratioRuns.set(name, r);
    }
    r.push(value);
  }

  toJSON() {
    const figures: Record<string, Figure> = {};
    for (const [k, v] of this.runs) figures[k] = figure(v.unit, v.values);
    const ratios: Record<string, Ratio> = {};
    for (const [k, v] of this.ratioRuns) ratios[k] = ratio(v);
    return { suite: this.suite, date: new Date().toISOString(), commit: commit(), machine: machine(), setup: this.setup, figures, ratios };
  }

  /**
   * Writes bench/results/<suite>.json (or `file`, or BENCH_OUT when `pnpm bench` collects the
   * results elsewhere) and prints the table; returns the data.
   */
  write(file = process.env.BENCH_OUT || join(resultsDir, `${this.suite}.json`)) {
    const data = this.toJSON();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
    printTable(data);
    console.log(`\nwrote ${file}`);
    return data;
  }
}

export function printTable(data: ReturnType<Results['toJSON']>): void {
  const m = data.machine;
  console.log(`\n${data.suite} — ${m.cpu}, ${m.cores} cores, Node ${m.node}, commit ${data.commit}`);
  for (const [k, v] of Object.entries(data.setup)) console.log(`  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const rows: string[][] = [['figure', 'median', 'min', 'max', 'unit', 'runs']];
  for (const [k, f] of Object.entries(data.figures)) rows.push([k, fmt(f.median), fmt(f.min), fmt(f.max), f.unit, String(f.runs.length)]);
  for (const [k, r] of Object.entries(data.ratios)) rows.push([`ratio ${k}`, fmt(r.median), fmt(r.min), fmt(r.max), 'x', '']);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log('  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
}

export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (Math.abs(x) >= 1e4) return `${(x / 1e3).toFixed(1)} k`;
  if (Math.abs(x) >= 100) return x.toFixed(0);
  return x.toFixed(Math.abs(x) >= 10 ? 1 : 3);
}
