/**
 * `--compare FILE`: which figures and ratios moved since an earlier run.
 *
 * A value moved when the two runs' min–max ranges do not overlap: every run of one lies above
 * every run of the other. With n runs each drawn from one unchanged distribution, that happens
 * by chance with probability 2 / C(2n, n) (0.8 % for n = 5, 10 % for n = 3), so a mark is rarely
 * noise; a change small enough to leave the ranges overlapping is below what the machine
 * resolves, and is reported as within spread. (bench/README.md says the same for users.)
 */
import type { Combined } from './combined.js';
import { formatChange, formatNumber } from './format.js';

export interface Span {
  median: number;
  min: number;
  max: number;
}

/** moved: ranges apart; within: they overlap; new / gone: in one run only. */
export type Verdict = 'moved' | 'within' | 'new' | 'gone';

/** For a moved value: better or worse when the unit says which way is good, else up or down. */
export type Direction = 'better' | 'worse' | 'up' | 'down';

export interface CompareRow {
  suite: string;
  name: string;
  kind: 'figure' | 'ratio';
  unit: string;
  before?: Span;
  after?: Span;
  verdict: Verdict;
  /** after.median ÷ before.median − 1, when both exist. */
  change?: number;
  direction?: Direction;
}

export interface Comparison {
  earlier: { file: string; date: string; commit: string; mode: string; machine: string };
  /** False when the earlier run was on another CPU, core count or Node version. */
  sameMachine: boolean;
  /** False when one run was quick and the other full: their measurements differ in size. */
  sameMode: boolean;
  /** Typical runs per figure in the earlier and the current run. */
  runs: { before: number; after: number };
  /** How often ranges of that many runs fall apart by chance when nothing changed. */
  chance: number;
  rows: CompareRow[];
  counts: Record<Verdict, number>;
}

/** Higher is better for rates (`…/s`), lower for times; undefined when the unit does not say. */
export function betterWhen(unit: string): 'higher' | 'lower' | undefined {
  if (/\/s$/.test(unit)) return 'higher';
  if (/^(ns|us|µs|ms|s|min)$/.test(unit) || /^(us|ms|s) ?(per|\/)/.test(unit) || /^cpu /.test(unit)) return 'lower';
  return undefined;
}

/** The rule: moved when the ranges do not overlap. */
export function rangesApart(a: Span, b: Span): boolean {
  return a.min > b.max || a.max < b.min;
}

function machineLine(c: Combined): string {
  return `${c.machine.cpu}, ${c.machine.cores} cores, Node ${c.machine.node}`;
}

/**
 * The probability that every one of `a` runs lands above every one of `b` runs, or below, when
 * all come from one distribution: 2 · a! · b! / (a + b)!, i.e. 2 / C(a + b, a).
 */
export function chanceApart(a: number, b: number): number {
  if (a < 1 || b < 1) return 1;
  let c = 1; // C(a + b, a), built up term by term
  for (let i = 1; i <= a; i++) c = (c * (b + i)) / i;
  return Math.min(1, 2 / c);
}

/** The most common number of runs per figure in a run (ratios carry no run count). */
function typicalRuns(c: Combined): number {
  const counts = new Map<number, number>();
  for (const o of Object.values(c.suites))
    for (const f of Object.values(o.result?.figures ?? {})) {
      const n = f.runs?.length ?? 0;
      if (n > 0) counts.set(n, (counts.get(n) ?? 0) + 1);
    }
  return [...counts].sort((x, y) => y[1] - x[1] || y[0] - x[0])[0]?.[0] ?? 0;
}

/** Compares every figure and ratio of `current` with `earlier` (from `earlierFile`). */
export function compareRuns(current: Combined, earlier: Combined, earlierFile: string): Comparison {
  const rows: CompareRow[] = [];
  const suites = new Set([...Object.keys(current.suites), ...Object.keys(earlier.suites)]);
  for (const suite of suites) {
    const a = earlier.suites[suite]?.result;
    const b = current.suites[suite]?.result;
    // A suite absent from either run (not run, failed, missing) compares nothing: absence is
    // not a change in performance, and the report already says why it is absent.
    if (!a || !b) continue;
    const add = (kind: 'figure' | 'ratio', name: string, unit: string, before?: Span, after?: Span) => {
      if (!before) {
        rows.push({ suite, name, kind, unit, after, verdict: 'new' });
        return;
      }
      if (!after) {
        rows.push({ suite, name, kind, unit, before, verdict: 'gone' });
        return;
      }
      const change = before.median !== 0 ? after.median / before.median - 1 : undefined;
      if (!rangesApart(before, after)) {
        rows.push({ suite, name, kind, unit, before, after, change, verdict: 'within' });
        return;
      }
      const up = after.median > before.median;
      const better = betterWhen(unit);
      const direction: Direction = better === undefined ? (up ? 'up' : 'down') : up === (better === 'higher') ? 'better' : 'worse';
      rows.push({ suite, name, kind, unit, before, after, change, verdict: 'moved', direction });
    };
    for (const name of new Set([...Object.keys(a.figures), ...Object.keys(b.figures)])) {
      add('figure', name, b.figures[name]?.unit ?? a.figures[name]!.unit, a.figures[name], b.figures[name]);
    }
    for (const name of new Set([...Object.keys(a.ratios), ...Object.keys(b.ratios)])) {
      add('ratio', name, '×', a.ratios[name], b.ratios[name]);
    }
  }
  const counts: Record<Verdict, number> = { moved: 0, within: 0, new: 0, gone: 0 };
  for (const r of rows) counts[r.verdict]++;
  const m = (c: Combined) => [c.machine.cpu, c.machine.cores, c.machine.node].join('|');
  const runs = { before: typicalRuns(earlier), after: typicalRuns(current) };
  return {
    earlier: { file: earlierFile, date: earlier.date, commit: earlier.commit, mode: earlier.mode, machine: machineLine(earlier) },
    sameMachine: m(current) === m(earlier),
    sameMode: current.mode === earlier.mode,
    runs,
    chance: chanceApart(runs.before, runs.after),
    rows,
    counts,
  };
}

/** `▲ better`, `▼ worse`, `▲ up`, `▼ down` for a moved row; empty otherwise. */
export function mark(r: CompareRow): string {
  if (r.verdict !== 'moved') return '';
  const arrow = r.after!.median > r.before!.median ? '▲' : '▼';
  return `${arrow} ${r.direction}`;
}

/** `0.8 % of the time with 5 and 5 runs`. */
export function chanceText(c: Pick<Comparison, 'chance' | 'runs'>): string {
  const pct = c.chance * 100;
  return `${pct < 1 ? pct.toFixed(1) : pct.toFixed(0)} % of the time with ${c.runs.before} and ${c.runs.after} runs`;
}

function span(s: Span | undefined): string {
  return s ? `${formatNumber(s.median)} [${formatNumber(s.min)}–${formatNumber(s.max)}]` : '–';
}

/** The terminal summary: every moved value on its own line, then the counts. */
export function formatComparisonText(c: Comparison): string {
  const lines = [`Compared with ${c.earlier.file} (${c.earlier.date.slice(0, 10)}, commit ${c.earlier.commit}, ${c.earlier.mode} run)`];
  if (!c.sameMachine) lines.push(`  note: that run was on another machine (${c.earlier.machine}); differences mix code and machine.`);
  if (!c.sameMode)
    lines.push(`  note: that was a ${c.earlier.mode} run and this one is not; quick measurements are smaller, so many figures differ for that reason alone.`);
  const moved = c.rows.filter((r) => r.verdict === 'moved');
  const w = Math.max(0, ...moved.map((r) => `${r.suite} ${r.name}`.length));
  for (const r of moved) {
    lines.push(`  ${mark(r).padEnd(8)} ${`${r.suite} ${r.name}`.padEnd(w)}  ${span(r.before)} → ${span(r.after)} ${r.unit}  ${formatChange(r.change ?? NaN)}`);
  }
  lines.push(
    `  ${c.counts.moved} moved beyond the run-to-run spread (min–max ranges apart; by chance ${chanceText(c)}), ${c.counts.within} within it, ${c.counts.new} new, ${c.counts.gone} gone.`,
  );
  return lines.join('\n') + '\n';
}
