/**
 * REPORT.md from one combined results file: the machine, what ran, every ratio (measured side by
 * side within each run), the scaling from 1 to N cores, the charts, every figure (median of the
 * runs with min and max), and with `--compare` what moved. It presents what the suites measured
 * and computes nothing new except ratios from the scaling step, which are also per run.
 */
import type { Combined, ScalingFigure, SuiteOutcome } from './combined.js';
import type { ChartOutcome } from './charts.js';
import { chanceText, mark, type Comparison } from './compare.js';
import { formatChange, formatDuration, formatNumber, formatRatio } from './format.js';
import { DEFAULT_RUNS } from '../lib/env.js';
import { SUITES } from './suites.js';

export interface ReportInput {
  results: Combined;
  /** The results file, relative to REPORT.md. */
  resultsLink: string;
  charts: ChartOutcome[];
  /** Path of each drawn chart relative to REPORT.md, by chart id. */
  chartLinks: Record<string, string>;
  comparison?: Comparison;
}

const STATUS_TEXT: Record<SuiteOutcome['status'], string> = {
  ok: 'ran',
  failed: '**failed**',
  timeout: '**out of time**',
  skipped: 'skipped',
  missing: 'not in this checkout',
  'not-run': 'not run (--suite)',
};

/** Statuses whose reason says more than the status itself. */
const WITH_REASON = new Set<SuiteOutcome['status']>(['failed', 'timeout', 'skipped']);

/** Escapes text for a Markdown table cell. */
function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(head: string[], rows: string[][], align?: ('l' | 'r')[]): string {
  const sep = head.map((_, i) => ((align?.[i] ?? 'l') === 'r' ? '---:' : '---'));
  return [head, sep, ...rows].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n');
}

function load(x: number | null | undefined): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(1) : '–';
}

function header(r: Combined, input: ReportInput): string[] {
  const out = ['# Synod benchmark report', ''];
  if (r.mode === 'quick') {
    out.push(
      '> **Quick run**: fewer runs and shortened measurements, for a first look. Do not quote these numbers; run `npx -y pnpm@12.4.2 bench` for the full report.',
      '',
    );
  }
  const opts: string[] = [];
  if (r.mode === 'quick') opts.push('--quick');
  if (r.options.runs !== null) opts.push(`--runs ${r.options.runs}`);
  if (r.options.suites) opts.push(`--suite ${r.options.suites.join(',')}`);
  if (r.options.workers !== r.machine.cores) opts.push(`--workers ${r.options.workers}`);
  if (!r.options.scaling) opts.push('--no-scaling');
  out.push(
    `Measured ${r.date.slice(0, 16).replace('T', ' ')} UTC at commit \`${r.commit}\`, in ${formatDuration(r.elapsedS)}, by ` +
      `\`npx -y pnpm@12.4.2 bench${opts.length ? ' ' + opts.join(' ') : ''}\`. All the numbers below are in [${input.resultsLink}](${input.resultsLink}).`,
    '',
    'Each figure is the median of its runs, with the smallest and largest run. Each ratio was computed within every run from ' +
      "figures measured side by side in that run, then summarised the same way, so a change in the machine's load between runs " +
      'mostly cancels out of it. The machine is shared with other work: read a difference as real only where the min–max ranges do not overlap.',
    '',
  );
  // Only the load before the first suite says something about other work: the suites load the machine themselves.
  const before = r.machine.loadStart;
  if (typeof before === 'number' && before > r.machine.cores) {
    out.push(
      `> The machine was busy with other work when this run started (load average ${before.toFixed(1)} on ${r.machine.cores} cores): figures are lower and spreads wider than on a quiet machine, and the scaling step measures mostly the contention.`,
      '',
    );
  }
  return out;
}

function machine(r: Combined): string[] {
  const m = r.machine;
  return [
    '## Machine',
    '',
    table(
      ['', ''],
      [
        ['CPU', `${m.cpu}, ${m.cores} cores`],
        ['Node.js', m.node],
        ['OS', m.os],
        ['Memory', m.memoryBytes > 0 ? `${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB` : '–'],
        ['Load average (1 min)', `${load(m.loadStart)} when the run started, ${load(m.loadEnd)} when it ended`],
        ['CPU pinning', m.taskset ? 'taskset (util-linux)' : 'not available: the scaling step changes only the thread count'],
      ],
    ),
    '',
  ];
}

function suitesTable(r: Combined): string[] {
  const rows: string[][] = [];
  const names = new Set([...SUITES.map((s) => s.name), ...Object.keys(r.suites)]);
  for (const name of names) {
    const o = r.suites[name];
    if (!o) continue;
    const spec = SUITES.find((s) => s.name === name);
    const n = o.result ? Object.keys(o.result.figures).length + Object.keys(o.result.ratios).length : 0;
    const status = STATUS_TEXT[o.status] + (o.reason && WITH_REASON.has(o.status) ? `: ${o.reason}` : '');
    const time =
      o.seconds === undefined
        ? '–'
        : `${formatDuration(o.seconds)}${o.status === 'ok' && o.budgetS !== undefined && o.seconds > o.budgetS ? ' (over budget)' : ''}`;
    rows.push([`\`${name}\``, status, o.result ? String(n) : '–', time, o.budgetS !== undefined ? formatDuration(o.budgetS) : '–', spec?.what ?? '']);
  }
  return ['## Suites', '', table(['suite', 'status', 'figures + ratios', 'time', 'budget', 'measures'], rows, ['l', 'l', 'r', 'r', 'r', 'l']), ''];
}

function comparisonSection(c: Comparison): string[] {
  const out = [`## Changes since ${c.earlier.date.slice(0, 10)} (commit \`${c.earlier.commit}\`)`, ''];
  out.push(
    `Compared with \`${c.earlier.file}\` (${c.earlier.mode} run). A value is marked when the two runs' min–max ranges do not overlap ` +
      `(every run of one beyond every run of the other; by chance ${chanceText(c)}, if nothing changed). ` +
      `${c.counts.moved} moved, ${c.counts.within} stayed within the spread, ${c.counts.new} are new, ${c.counts.gone} are gone.`,
    '',
  );
  if (!c.sameMachine) out.push(`> That run was on another machine (${c.earlier.machine}): differences mix code and machine.`, '');
  if (!c.sameMode)
    out.push(`> That was a ${c.earlier.mode} run and this one is not: quick measurements are smaller, so many figures differ for that reason alone.`, '');
  const rows = c.rows.filter((r) => r.verdict !== 'within').concat(c.rows.filter((r) => r.verdict === 'within'));
  out.push(
    table(
      ['', 'suite', 'figure', 'before (median [min–max])', 'now', 'change', 'unit'],
      rows.map((r) => [
        r.verdict === 'moved' ? `**${mark(r)}**` : r.verdict === 'within' ? 'within spread' : r.verdict,
        r.suite,
        `\`${r.name}\``,
        r.before ? `${formatNumber(r.before.median)} [${formatNumber(r.before.min)}–${formatNumber(r.before.max)}]` : '–',
        r.after ? `${formatNumber(r.after.median)} [${formatNumber(r.after.min)}–${formatNumber(r.after.max)}]` : '–',
        r.change !== undefined ? formatChange(r.change) : '–',
        r.unit,
      ]),
      ['l', 'l', 'l', 'r', 'r', 'r', 'l'],
    ),
    '',
  );
  return out;
}

function ratiosSection(r: Combined): string[] {
  const rows: string[][] = [];
  for (const [suite, o] of Object.entries(r.suites)) {
    if (!o.result) continue;
    for (const [name, x] of Object.entries(o.result.ratios)) {
      rows.push([`\`${suite}\``, `\`${name}\``, formatRatio(x.median), formatRatio(x.min), formatRatio(x.max)]);
    }
  }
  const out = ['## Comparisons, measured side by side', ''];
  out.push('A ratio named `a_vs_b` is a ÷ b, computed in every run from figures of that run.', '');
  const KEY_COMPARISONS: Record<string, string> = {
    synod: 'the Synod against the bare worker baseline and the in-thread ceiling (the synod suite)',
    multipaxos: 'Multi-Paxos on workers against embedded (the multipaxos suite)',
    protocols: 'the replication protocols against Multi-Paxos on identical workloads (the protocols suite)',
  };
  const absent = Object.keys(KEY_COMPARISONS).filter((s) => !r.suites[s]?.result);
  if (absent.length > 0) {
    out.push(`Not in this run: ${absent.map((s) => KEY_COMPARISONS[s]).join('; ')}; see Suites for why.`, '');
  }
  out.push(rows.length > 0 ? table(['suite', 'ratio', 'median', 'min', 'max'], rows, ['l', 'l', 'r', 'r', 'r']) : '_No suite of this run wrote a ratio._', '');
  return out;
}

function speedupText(f: ScalingFigure, cores: number): string {
  const s = f.speedup[String(cores)];
  if (!s) return '–';
  return s.min === s.max ? formatRatio(s.median) : `${formatRatio(s.median)} (${formatRatio(s.min)}–${formatRatio(s.max)})`;
}

function scalingSection(r: Combined, input: ReportInput): string[] {
  const s = r.scaling;
  if (!s) return [];
  const top = Math.max(...s.cores);
  if (s.cores.length < 2) return ['## Scaling', '', `Not measured: ${s.note ?? 'one core only'}.`, ''];
  const out = [`## Scaling from 1 to ${top} cores`, ''];
  const rows: string[][] = [];
  const head = ['suite', 'figure', ...s.cores.map((c) => `${c} core${c > 1 ? 's' : ''}`), ...s.cores.filter((c) => c > 1).map((c) => `${c} ÷ 1 core`)];
  const addRow = (suite: string, name: string, f: ScalingFigure) => {
    rows.push([
      suite,
      name,
      ...s.cores.map((c) => {
        const x = f.byCores[String(c)];
        return x ? `${formatNumber(x.median)} ${f.unit}` : '–';
      }),
      ...s.cores.filter((c) => c > 1).map((c) => speedupText(f, c)),
    ]);
  };
  for (const [suite, ss] of Object.entries(s.suites)) for (const [name, f] of Object.entries(ss.figures)) addRow(`\`${suite}\``, `\`${name}\``, f);
  if (s.control) addRow('control', 'a pure CPU loop on as many threads as cores', s.control);
  const how = s.pinned
    ? `Each process was pinned to c cores with taskset, c = ${s.cores.join(', ')}, alternating within each of ${s.runs} run${s.runs === 1 ? '' : 's'}`
    : `This machine has no taskset, so only BENCH_WORKERS changed (c = ${s.cores.join(', ')}); the threads could still use every core, ${s.runs} run${s.runs === 1 ? '' : 's'}`;
  out.push(
    `${how}; each speedup is the figure on c cores ÷ on 1 core within the same run. The CPU loop shows what the shared machine gave during the step.`,
    '',
  );
  const key = Object.entries(s.suites).flatMap(([suite, ss]) => Object.entries(ss.figures).map(([name, f]) => ({ suite, name, f })));
  if (key.length > 0 && s.cores.includes(2)) {
    const parts = key.map(({ suite, name, f }) => `${suite} \`${name}\` ${speedupText(f, 2)}`);
    const ctl = s.control ? `; the CPU-loop control ${speedupText(s.control, 2)}` : '';
    out.push(`**From 1 to 2 cores, throughput changed by** ${parts.join(', ')}${ctl}.`, '');
  }
  for (const [suite, ss] of Object.entries(s.suites))
    if (ss.status !== 'ok') out.push(`- \`${suite}\` in the scaling step: ${STATUS_TEXT[ss.status]}${ss.reason ? `: ${ss.reason}` : ''}`);
  if (s.note) out.push(`- ${s.note}`);
  out.push('');
  if (rows.length > 0) out.push(table(head, rows, ['l', 'l', ...head.slice(2).map(() => 'r' as const)]), '');
  const link = input.chartLinks.scaling;
  if (link) out.push(`![Scaling chart](${link})`, '');
  out.push(`To measure the curve on a larger machine: \`npx -y pnpm@12.4.2 bench --workers N\`.`, '');
  return out;
}

function chartsSection(input: ReportInput): string[] {
  const out = ['## Charts', ''];
  for (const c of input.charts) {
    if (c.def.id === 'scaling') continue;
    out.push(`### ${c.def.title}`, '');
    const link = input.chartLinks[c.def.id];
    if ('spec' in c && link) out.push(`![${c.def.title}](${link})`, '');
    else out.push(`_Not drawn: ${'missing' in c ? c.missing : 'not written'}._ It draws ${c.def.needs}.`, '');
  }
  return out;
}

function figuresSection(r: Combined): string[] {
  const out = ['## Figures', ''];
  let few = false;
  for (const [suite, o] of Object.entries(r.suites)) {
    out.push(`### \`${suite}\``, '');
    if (!o.result) {
      out.push(`_${STATUS_TEXT[o.status]}${o.reason && WITH_REASON.has(o.status) ? `: ${o.reason}` : ''}._`, '');
      continue;
    }
    const spec = SUITES.find((s) => s.name === suite);
    if (spec) out.push(`${spec.what[0]!.toUpperCase()}${spec.what.slice(1)}.`, '');
    const setup = Object.entries(o.result.setup);
    if (setup.length > 0) {
      for (const [k, v] of setup) out.push(`- ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
      out.push('');
    }
    const rows = Object.entries(o.result.figures).map(([name, f]) => {
      const n = f.runs?.length ?? 0;
      if (n < DEFAULT_RUNS && r.mode === 'full') few = true;
      return [
        `\`${name}\``,
        formatNumber(f.median),
        formatNumber(f.min),
        formatNumber(f.max),
        f.unit,
        `${n}${n < DEFAULT_RUNS && r.mode === 'full' ? ' *' : ''}`,
      ];
    });
    out.push(rows.length > 0 ? table(['figure', 'median', 'min', 'max', 'unit', 'runs'], rows, ['l', 'r', 'r', 'r', 'l', 'r']) : '_No figures._', '');
  }
  if (few) out.push(`\\* fewer than ${DEFAULT_RUNS} runs: a spread, but not a median to quote.`, '');
  return out;
}

/** The whole REPORT.md. */
export function renderReport(input: ReportInput): string {
  const r = input.results;
  const parts = [
    ...header(r, input),
    ...machine(r),
    ...suitesTable(r),
    ...(input.comparison ? comparisonSection(input.comparison) : []),
    ...ratiosSection(r),
    ...scalingSection(r, input),
    ...chartsSection(input),
    ...figuresSection(r),
  ];
  return (
    parts
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  );
}
