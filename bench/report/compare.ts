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

export interface Span { median: number; min: number; max: number }

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
      if (!before) { rows.push({ suite, name, kind, unit, after, verdict: 'new' }); return; }
      if (!after) { rows.push({ suite, name, kind, unit, before, verdict: 'gone' }); return; }
      const change = before.median !== 0 ? after.median / before.median - 1 : undefined;
      if (!rangesApart(before, after)) { rows.push({ suite, name, kind, unit, before, after, change, verdict: 'within' }); return; }
      const up = after.median > before.median;
      const better = betterWhen(unit);
      const direction: Direction = better === undefined ? (up ? 'up' : 'down') : (up === (better === 'higher') ? 'better' : 'worse');
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
  return {
    earlier: { file: earlierFile, date: earlier.date, commit: earlier.commit, mode: earlier.mode, machine: machineLine(earlier) },
    sameMachine: m(current) === m(earlier),
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

function span(s: Span | undefined): string {
  return s ? `${formatNumber(s.median)} [${formatNumber(s.min)}–${formatNumber(s.max)}]` : '–';
}

/** The terminal summary: every moved value on its own line, then the counts. */
export function formatComparisonText(c: Comparison): string {
  const lines = [`Compared with ${c.earlier.file} (${c.earlier.date.slice(0, 10)}, commit ${c.earlier.commit}, ${c.earlier.mode} run)`];
  if (!c.sameMachine) lines.push(`  note: that run was on another machine (${c.earlier.machine}); differences mix code and machine.`);
  const moved = c.rows.filter((r) => r.verdict === 'moved');
  const w = Math.max(0, ...moved.map((r) => `${r.suite} ${r.name}`.length));
  for (const r of moved) {
    lines.push(`  ${mark(r).padEnd(8)} ${`${r.suite} ${r.name}`.padEnd(w)}  ${span(r.before)} → ${span(r.after)} ${r.unit}  ${formatChange(r.change ?? NaN)}`);
  }
  lines.push(`  ${c.counts.moved} moved beyond the run-to-run spread (min–max ranges apart), ${c.counts.within} within it, ${c.counts.new} new, ${c.counts.gone} gone.`);
  return lines.join('\n') + '\n';
}
