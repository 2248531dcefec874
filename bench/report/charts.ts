/**
 * The report's charts: which figures each one reads from the combined results (by name pattern,
 * as bench/README.md lists them), and how they become series of points. A chart whose figures
 * are absent is not drawn; the report says which suite or figures it waited for.
 */
import type { Figure } from '../lib/results.js';
import type { Combined, ScalingFigure } from './combined.js';
import { formatBytes } from './format.js';
import type { ChartSpec, Point, Series } from './svg.js';

/** Where a chart's series come from: the figures of one suite whose names match `pattern`. */
export interface ChartSource {
  suite: string;
  /** Named groups: `x` (the x value) and any others, which split the figures into series. */
  pattern: RegExp;
  /** The series label from the named groups other than `x`. */
  label: (groups: Record<string, string>) => string;
  /**
   * Which series share a colour and which a marker and dash (see svg.ts), and the legend order;
   * default: every series its own, in the order figures appear.
   */
  style?: (groups: Record<string, string>) => { color: string; shape: string; order: (string | number)[] };
}

export interface ChartDef {
  /** File name under charts/, without .svg. */
  id: string;
  title: string;
  subtitle: string;
  sources: ChartSource[];
  x: ChartSpec['x'] & { value?: (raw: string) => number | string };
  y: ChartSpec['y'];
  /** What the README and the report say the chart waits for, when it cannot be drawn. */
  needs: string;
}

const PERCENTILE_LABEL: Record<string, string> = { p50: 'p50', p90: 'p90', p99: 'p99', p999: 'p99.9' };
const MODE_LABEL: Record<string, string> = { workers: 'workers', embedded: 'embedded (one thread)', bare: 'bare MessagePorts' };
const MODE_ORDER = ['workers', 'embedded', 'bare'];
/** Colour by mode, marker and dash by the number of acceptors; workers first. */
const byModeAndAcceptors = (g: Record<string, string>) => ({ color: g.mode!, shape: g.acceptors!, order: [MODE_ORDER.indexOf(g.mode!), Number(g.acceptors)] });
const mode = (g: Record<string, string>) => MODE_LABEL[g.mode!] ?? g.mode!;
const plural = (n: string, what: string) => `${n} ${what}${n === '1' ? '' : 's'}`;

/** Protocols of the `protocols` suite by their figures' prefix; another prefix is shown as it is. */
const PROTOCOL_LABEL: Record<string, string> = { multipaxos: 'Multi-Paxos', raft: 'Raft', epaxos: 'EPaxos', fpaxos: 'Multi-Paxos, q1 = 4, q2 = 2' };
const protocol = (g: Record<string, string>) => PROTOCOL_LABEL[g.protocol!] ?? g.protocol!;
/** Multi-Paxos (the baseline) first, then the others by name. */
const protocolRank = (g: Record<string, string>) => (g.protocol === 'multipaxos' ? '' : g.protocol!);
/** `workers.r3` → `workers, 3 replicas`. */
const cellLabel = (raw: string) => raw.replace(/^(\w+)\.r(\d+)$/, (_, m: string, n: string) => `${m}, ${n} replicas`);
const PROTOCOL_CELLS = ['workers, 3 replicas', 'workers, 5 replicas', 'embedded, 3 replicas', 'embedded, 5 replicas'];
/** The conflict shares of the protocols suite's conflict cells, as the x categories. */
const CONFLICT_CELLS = ['0 %', '2 %', '25 %', '100 %'];
const REPLICA_CELLS = ['3', '5', '7'];
/** A protocol's figures: `<protocol>.<mode>.r<N>.…`. */
const PROTOCOL_PREFIX = '(?<protocol>[a-z][a-z0-9]*)';

/** One metric of the protocols suite's conflict cells, a series per protocol and replica count. */
function conflictCells(metric: string): ChartSource {
  return {
    suite: 'protocols',
    pattern: new RegExp(`^${PROTOCOL_PREFIX}\\.workers\\.r(?<replicas>\\d+)\\.conflict(?<x>\\d+)\\.${metric}$`),
    label: (g) => `${protocol(g)}, ${g.replicas} replicas`,
    style: (g) => ({ color: g.protocol!, shape: g.replicas!, order: [protocolRank(g), Number(g.replicas)] }),
  };
}
/** The share of conflicting commands, as the x axis. */
const CONFLICT_AXIS: ChartDef['x'] = { label: 'conflicting commands', scale: 'category', categories: CONFLICT_CELLS, value: (raw) => `${raw} %` };

/** The charts bench/README.md promises, in report order. */
export const CHARTS: readonly ChartDef[] = [
  {
    id: 'synod-rounds-vs-inflight',
    title: 'The Synod: rounds per second against instances in flight',
    subtitle: 'median of the runs, whiskers min–max; one proposer, learner and client node',
    sources: [
      {
        suite: 'synod',
        // r<A> is the convention; a<A> is read too, as the synod suite writes it (7b681f3).
        pattern: /^(?<mode>workers|embedded|bare)\.[ra](?<acceptors>\d+)\.inflight(?<x>\d+)\.rounds_per_s$/,
        label: (g) => `${mode(g)}, ${plural(g.acceptors!, 'acceptor')}`,
        style: byModeAndAcceptors,
      },
    ],
    x: { label: 'instances in flight', scale: 'log' },
    y: { label: 'rounds/s', scale: 'linear' },
    needs: 'synod figures `<mode>.r<A>.inflight<N>.rounds_per_s`',
  },
  {
    id: 'multipaxos-commands-vs-batch',
    title: 'Multi-Paxos: commands per second against the batch limit',
    subtitle: 'median of the runs, whiskers min–max; a series per window of slots in flight',
    sources: [
      {
        suite: 'multipaxos',
        pattern: /^(?<mode>workers|embedded)\.r(?<acceptors>\d+)\.batch(?<x>\d+)\.window(?<window>\d+)\.commands_per_s$/,
        label: (g) => `${mode(g)}, ${plural(g.acceptors!, 'acceptor')}, window ${g.window}`,
        // Colour by window (the series this chart compares), marker by mode and acceptors.
        style: (g) => ({ color: g.window!, shape: `${g.mode}${g.acceptors}`, order: [MODE_ORDER.indexOf(g.mode!), Number(g.acceptors), Number(g.window)] }),
      },
    ],
    x: { label: 'batch limit (commands per slot)', scale: 'log' },
    y: { label: 'commands/s', scale: 'linear' },
    needs: 'multipaxos figures `<mode>.r<A>.batch<B>.window<W>.commands_per_s`',
  },
  {
    id: 'latency-one-client',
    title: 'Latency for one client',
    subtitle: '3 acceptors, one request at a time; percentiles from an HDR histogram per run; median of the runs, whiskers min–max',
    sources: [
      {
        suite: 'multipaxos',
        // 3 acceptors, the default deployment: one client's view, not a sweep.
        pattern: /^(?<mode>workers|embedded)\.r3\.single_client\.commit_us_(?<x>p50|p90|p99|p999)$/,
        label: (g) => `Multi-Paxos commit, ${mode(g)}`,
        style: (g) => ({ color: g.mode!, shape: 'multipaxos', order: [0, MODE_ORDER.indexOf(g.mode!)] }),
      },
      {
        suite: 'synod',
        pattern: /^(?<mode>workers|embedded|bare)\.[ra]3\.inflight1\.round_us_(?<x>p50|p90|p99|p999)$/,
        label: (g) => `Synod round, ${mode(g)}`,
        style: (g) => ({ color: g.mode!, shape: 'synod', order: [1, MODE_ORDER.indexOf(g.mode!)] }),
      },
    ],
    x: { label: 'percentile', scale: 'category', categories: ['p50', 'p90', 'p99', 'p99.9'], value: (raw) => PERCENTILE_LABEL[raw] ?? raw },
    y: { label: 'latency (µs, log scale)', scale: 'log' },
    needs: 'multipaxos figures `<mode>.r3.single_client.commit_us_<p>` or synod figures `<mode>.r3.inflight1.round_us_<p>`',
  },
  {
    id: 'multipaxos-cost-vs-acceptors',
    title: 'Multi-Paxos: CPU cost per command against the number of acceptors',
    subtitle: 'CPU time of all threads ÷ commands committed; median of the runs, whiskers min–max',
    sources: [
      {
        suite: 'multipaxos',
        pattern: /^(?<mode>workers|embedded)\.r(?<x>\d+)\.cpu_us_per_command$/,
        label: (g) => mode(g),
      },
    ],
    x: { label: 'acceptors', scale: 'linear' },
    y: { label: 'CPU µs per command', scale: 'linear' },
    needs: 'multipaxos figures `<mode>.r<A>.cpu_us_per_command`',
  },
  {
    id: 'multipaxos-cost-vs-size',
    title: 'Multi-Paxos: CPU cost per command against command size',
    subtitle: 'CPU time of all threads ÷ commands committed; median of the runs, whiskers min–max',
    sources: [
      {
        suite: 'multipaxos',
        pattern: /^(?<mode>workers|embedded)\.r(?<acceptors>\d+)\.size(?<x>\d+)\.cpu_us_per_command$/,
        label: (g) => `${mode(g)}, ${plural(g.acceptors!, 'acceptor')}`,
        style: byModeAndAcceptors,
      },
    ],
    x: { label: 'command size', scale: 'log', format: formatBytes },
    y: { label: 'CPU µs per command (log scale)', scale: 'log' },
    needs: 'multipaxos figures `<mode>.r<A>.size<bytes>.cpu_us_per_command`',
  },
  {
    id: 'protocols-throughput',
    title: 'Protocols side by side: commands per second, batched and unbatched',
    subtitle: 'the same load generator, batch limit and window for every protocol; median of the runs, whiskers min–max',
    sources: [
      {
        suite: 'protocols',
        pattern: new RegExp(`^${PROTOCOL_PREFIX}\\.(?<x>(?:workers|embedded)\\.r\\d+)\\.(?<batching>batched|unbatched)\\.memory\\.commands_per_s$`),
        label: (g) => `${protocol(g)}, ${g.batching}`,
        style: (g) => ({ color: g.protocol!, shape: g.batching!, order: [protocolRank(g), g.batching!] }),
      },
    ],
    x: { label: 'mode and replicas', scale: 'category', categories: PROTOCOL_CELLS, value: cellLabel },
    y: { label: 'commands/s (log scale)', scale: 'log' },
    needs: 'protocols figures `<protocol>.<mode>.r<N>.batched.memory.commands_per_s`',
  },
  {
    id: 'protocols-latency-one-client',
    title: 'Protocols side by side: commit latency for one client',
    subtitle: '3 replicas, one `set` at a time through the public API; percentiles per run; median of the runs, whiskers min–max',
    sources: [
      {
        suite: 'protocols',
        pattern: new RegExp(`^${PROTOCOL_PREFIX}\\.(?<mode>workers|embedded)\\.r3\\.single_client\\.commit_us_(?<x>p50|p90|p99|p999)$`),
        label: (g) => `${protocol(g)}, ${mode(g)}`,
        style: (g) => ({ color: g.protocol!, shape: g.mode!, order: [MODE_ORDER.indexOf(g.mode!), protocolRank(g)] }),
      },
    ],
    x: { label: 'percentile', scale: 'category', categories: ['p50', 'p90', 'p99', 'p99.9'], value: (raw) => PERCENTILE_LABEL[raw] ?? raw },
    y: { label: 'latency (µs, log scale)', scale: 'log' },
    needs: 'protocols figures `<protocol>.<mode>.r3.single_client.commit_us_<p>`',
  },
  {
    id: 'protocols-cost',
    title: 'Protocols side by side: CPU cost per command',
    subtitle: 'CPU time of all threads ÷ commands committed, batched cell; median of the runs, whiskers min–max',
    sources: [
      {
        suite: 'protocols',
        pattern: new RegExp(`^${PROTOCOL_PREFIX}\\.(?<x>(?:workers|embedded)\\.r\\d+)\\.cpu_us_per_command$`),
        label: (g) => protocol(g),
        style: (g) => ({ color: g.protocol!, shape: g.protocol!, order: [protocolRank(g)] }),
      },
    ],
    x: { label: 'mode and replicas', scale: 'category', categories: PROTOCOL_CELLS, value: cellLabel },
    y: { label: 'CPU µs per command', scale: 'linear' },
    needs: 'protocols figures `<protocol>.<mode>.r<N>.cpu_us_per_command`',
  },
  {
    id: 'protocols-leader-kill',
    title: 'Protocols side by side: from killing the leader to the first command committed again',
    subtitle: "workers; the leader's worker killed, a command issued at once; p50 of the kills of a run; median of the runs, whiskers min–max",
    sources: [
      {
        suite: 'protocols',
        pattern: new RegExp(`^${PROTOCOL_PREFIX}\\.workers\\.r(?<x>\\d+)\\.leader_kill_to_commit_ms_p50$`),
        label: (g) => protocol(g),
        style: (g) => ({ color: g.protocol!, shape: g.protocol!, order: [protocolRank(g)] }),
      },
    ],
    x: { label: 'replicas', scale: 'category', categories: ['3', '5'], value: (raw) => raw },
    y: { label: 'ms', scale: 'linear' },
    needs: 'protocols figures `<protocol>.workers.r<N>.leader_kill_to_commit_ms_p50`',
  },
  {
    id: 'protocols-vs-conflicts',
    title: 'Protocols side by side: commands per second against the share of conflicting commands',
    subtitle:
      'workers, batched; x % of commands write one key shared by every driver; EPaxos: a driver and command leader per node; Multi-Paxos: one driver on the leader; median of the runs, whiskers min–max',
    sources: [conflictCells('commands_per_s')],
    x: CONFLICT_AXIS,
    y: { label: 'commands/s', scale: 'linear' },
    needs: 'protocols figures `<protocol>.workers.r<N>.conflict<x>.commands_per_s`',
  },
  {
    id: 'protocols-latency-vs-conflicts',
    title: 'Protocols side by side: commit latency under load against the share of conflicting commands',
    subtitle: "workers, batched, the conflict cells' load; p50 of a sample of commands per driver, median over drivers; median of the runs, whiskers min–max",
    sources: [conflictCells('latency_us_p50')],
    x: CONFLICT_AXIS,
    y: { label: 'latency (µs, log scale)', scale: 'log' },
    needs: 'protocols figures `<protocol>.workers.r<N>.conflict<x>.latency_us_p50`',
  },
  {
    id: 'protocols-vs-replicas',
    title: 'Protocols side by side: commands per second against the number of replicas',
    subtitle: 'workers, batched, the conflict cells at 0 and 100 % (and Flexible Paxos quorums at 5); median of the runs, whiskers min–max',
    sources: [
      {
        suite: 'protocols',
        pattern: new RegExp(`^${PROTOCOL_PREFIX}\\.workers\\.r(?<x>\\d+)\\.(?<cell>conflict0|conflict100|q2_2)\\.commands_per_s$`),
        label: (g) => (g.cell === 'q2_2' ? protocol(g) : `${protocol(g)}, ${g.cell === 'conflict0' ? '0' : '100'} % conflicting`),
        style: (g) => ({ color: g.protocol!, shape: g.cell!, order: [protocolRank(g), g.cell!] }),
      },
    ],
    x: { label: 'replicas', scale: 'category', categories: REPLICA_CELLS, value: (raw) => raw },
    y: { label: 'commands/s', scale: 'linear' },
    needs: 'protocols figures `<protocol>.workers.r<N>.conflict<0|100>.commands_per_s`',
  },
  {
    id: 'protocols-latency-vs-replicas',
    title: 'Protocols side by side: commit latency for one client against the number of replicas',
    subtitle: 'workers, one `set` at a time through the public API; p50 per run; median of the runs, whiskers min–max',
    sources: [
      {
        suite: 'protocols',
        pattern: new RegExp(`^${PROTOCOL_PREFIX}\\.workers\\.r(?<x>\\d+)\\.single_client\\.commit_us_p50$`),
        label: (g) => protocol(g),
        style: (g) => ({ color: g.protocol!, shape: g.protocol!, order: [protocolRank(g)] }),
      },
    ],
    x: { label: 'replicas', scale: 'category', categories: REPLICA_CELLS, value: (raw) => raw },
    y: { label: 'latency (µs)', scale: 'linear' },
    needs: 'protocols figures `<protocol>.workers.r<N>.single_client.commit_us_p50`',
  },
];

/** A chart ready to render, or why it cannot be. */
export type ChartOutcome = { def: ChartDef; spec: ChartSpec; figures: number } | { def: ChartDef; missing: string };

function point(x: number | string, f: Figure | { median: number; min: number; max: number }): Point {
  return { x, y: f.median, low: f.min, high: f.max };
}

/** Builds one chart from a combined results file. */
export function buildChart(def: ChartDef, results: Combined): ChartOutcome {
  const series = new Map<string, Point[]>();
  const looks = new Map<string, { color: string; shape: string; order: (string | number)[] }>();
  let figures = 0;
  const absent: string[] = [];
  for (const src of def.sources) {
    const outcome = results.suites[src.suite];
    if (!outcome?.result) {
      absent.push(`the ${src.suite} suite ${outcome ? describeStatus(outcome.status) : 'was not in this run'}`);
      continue;
    }
    for (const [name, f] of Object.entries(outcome.result.figures)) {
      const m = src.pattern.exec(name);
      if (!m?.groups) continue;
      if (def.y.scale === 'log' && !(f.median > 0)) continue;
      const { x: rawX, ...rest } = m.groups;
      const label = src.label(rest as Record<string, string>);
      const x = def.x.value ? def.x.value(rawX!) : Number(rawX);
      let pts = series.get(label);
      if (!pts) series.set(label, (pts = []));
      if (src.style && !looks.has(label)) looks.set(label, src.style(rest as Record<string, string>));
      pts.push(point(x, f));
      figures++;
    }
  }
  if (figures === 0) {
    return { def, missing: absent.length > 0 ? absent.join('; ') : 'no figure of this run has a matching name' };
  }
  const order = def.x.categories;
  const out: Series[] = [...series].map(([label, points]) => {
    const look = looks.get(label);
    return {
      label,
      points: points.sort((a, b) => (order ? order.indexOf(String(a.x)) - order.indexOf(String(b.x)) : Number(a.x) - Number(b.x))),
      ...(look ? { colorKey: look.color, shapeKey: look.shape } : {}),
    };
  });
  // Legend order from the style's order keys (series without one keep the order they appeared in).
  const rank = (s: Series) => looks.get(s.label)?.order ?? [];
  out.sort((a, b) => compareKeys(rank(a), rank(b)));
  const { value: _value, ...x } = def.x;
  return { def, figures, spec: { title: def.title, subtitle: def.subtitle, x, y: def.y, series: out } };
}

function compareKeys(a: (string | number)[], b: (string | number)[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!,
      y = b[i]!;
    if (x === y) continue;
    return typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
  }
  return a.length - b.length;
}

function describeStatus(status: string): string {
  switch (status) {
    case 'missing':
      return 'is not in this checkout';
    case 'not-run':
      return 'was left out of this run (--suite)';
    case 'skipped':
      return 'was skipped';
    case 'timeout':
      return 'ran out of its time budget';
    default:
      return 'failed';
  }
}

/** Every chart of the report, from one results file. */
export function buildCharts(results: Combined): ChartOutcome[] {
  const out = CHARTS.map((def) => buildChart(def, results));
  const scaling = buildScalingChart(results);
  if (scaling) out.push(scaling);
  return out;
}

export const SCALING_CHART_ID = 'scaling';

/**
 * Throughput on c cores ÷ on 1 core, per scaling figure, with the CPU-loop control and the
 * ideal (c×). Undefined when the run had no scaling step.
 */
export function buildScalingChart(results: Combined): ChartOutcome | undefined {
  const s = results.scaling;
  if (!s) return undefined;
  const def: ChartDef = {
    id: SCALING_CHART_ID,
    title: `Scaling: throughput on 1 to ${Math.max(...s.cores)} cores`,
    subtitle: `${s.pinned ? 'pinned with taskset' : 'not pinned (no taskset): only BENCH_WORKERS changed'}; ratio to 1 core within each run, median, whiskers min–max`,
    sources: [],
    x: { label: 'cores', scale: 'linear' },
    y: { label: 'throughput ÷ throughput on 1 core', scale: 'linear', format: (v) => `${Number(v.toPrecision(3))}×` },
    needs: 'a scaling step with at least 2 core counts',
  };
  const series: Series[] = [];
  const add = (label: string, f: ScalingFigure) => {
    const points: Point[] = [{ x: 1, y: 1 }];
    for (const cores of s.cores) {
      const r = f.speedup[String(cores)];
      if (cores !== 1 && r) points.push(point(cores, r));
    }
    if (points.length > 1) series.push({ label, points });
  };
  for (const [suite, ss] of Object.entries(s.suites)) for (const [name, f] of Object.entries(ss.figures)) add(`${suite} ${name}`, f);
  if (series.length === 0) return { def, missing: s.note ?? 'the scaling step measured no throughput figure' };
  if (s.control) add('CPU loop (control)', s.control);
  series.push({ label: 'ideal (c×)', reference: true, points: s.cores.map((cores) => ({ x: cores, y: cores })) });
  return { def, figures: series.length - 1, spec: { title: def.title, subtitle: def.subtitle, x: def.x, y: def.y, series } };
}
