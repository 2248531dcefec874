/**
 * The report generator and the charts, from a fixture results file (made-up numbers in the
 * combined format): every figure with median, min and max; every ratio; the machine; suites that
 * failed, ran out of time, were skipped or are missing; the scaling step; a chart per promised
 * chart, or the reason it is not drawn; the quick banner.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildCharts, CHARTS } from '../report/charts.ts';
import { parseResults, type Combined } from '../report/combined.ts';
import { formatNumber } from '../report/format.ts';
import { renderReport } from '../report/markdown.ts';
import { resultsFileName, writeReport } from '../report/runner.ts';

const fixtureFile = new URL('./fixtures/results.json', import.meta.url);
const load = (): Combined => parseResults(readFileSync(fixtureFile, 'utf8'), 'fixture');

/** A chart's drawn spec by id, asserting it was drawn. */
function drawnSpec(charts: ReturnType<typeof buildCharts>) {
  return (id: string) => {
    const c = charts.find((x) => x.def.id === id)!;
    assert.ok('spec' in c, `${id} drawn`);
    return (c as { spec: { series: { label: string; points: { x: unknown }[] }[] } }).spec;
  };
}

function report(results: Combined): string {
  const charts = buildCharts(results);
  const chartLinks = Object.fromEntries(charts.filter((c) => 'spec' in c).map((c) => [c.def.id, `charts/${c.def.id}.svg`]));
  return renderReport({ results, charts, chartLinks, resultsLink: 'results/x.json' });
}

test('every figure of every suite that ran, with median, min and max', () => {
  const r = load();
  const md = report(r);
  for (const o of Object.values(r.suites)) {
    if (!o.result) continue;
    for (const [name, f] of Object.entries(o.result.figures)) {
      const row = `| \`${name}\` | ${formatNumber(f.median)} | ${formatNumber(f.min)} | ${formatNumber(f.max)} | ${f.unit} | ${f.runs.length} |`;
      assert.ok(md.includes(row), `row for ${name}: ${row}`);
    }
  }
});

test('every ratio, and the machine', () => {
  const md = report(load());
  assert.ok(md.includes('| `synod` | `workers_vs_bare.r3.inflight64` | 0.44× | 0.41× | 0.47× |'));
  assert.ok(md.includes('| `multipaxos` | `workers_vs_embedded.r3.batch64.window32` | 0.31× | 0.29× | 0.33× |'));
  assert.ok(md.includes('| CPU | Fixture CPU (test data, not a measurement), 2 cores |'));
  assert.ok(md.includes('| Node.js | v20.20.2 |'));
  assert.ok(md.includes('1.5 when the run started, 2.3 when it ended'));
  assert.ok(md.includes('at commit `abc1234`'));
});

test('what happened to each suite, with the reason', () => {
  const md = report(load());
  assert.ok(md.includes('| `persist` | **failed**: exit 1: Error: fixture failure |'));
  assert.ok(md.includes('| `sim` | **out of time**: stopped at its budget of 2 min 00 s |'));
  assert.ok(md.includes('| `checker` | skipped: the golden histories are not at /nowhere |'));
});

test('scaling from 1 to 2 cores, with the control', () => {
  const md = report(load());
  assert.ok(md.includes('## Scaling from 1 to 2 cores'));
  assert.ok(md.includes('**From 1 to 2 cores, throughput changed by** synod `workers.r3.inflight256.rounds_per_s` 1.62× (1.5×–1.7×)'));
  assert.ok(md.includes('the CPU-loop control 1.88× (1.7×–1.95×)'));
  assert.ok(md.includes('![Scaling chart](charts/scaling.svg)'));
});

test('every chart bench/README.md promises is drawn from the fixture and linked', () => {
  const r = load();
  const charts = buildCharts(r);
  for (const def of CHARTS) {
    const c = charts.find((x) => x.def.id === def.id)!;
    assert.ok('spec' in c, `${def.id} drawn`);
  }
  const md = report(r);
  for (const def of CHARTS) assert.ok(md.includes(`![${def.title}](charts/${def.id}.svg)`), `${def.id} linked`);
  const rounds = charts.find((c) => c.def.id === 'synod-rounds-vs-inflight')!;
  assert.ok('spec' in rounds);
  if ('spec' in rounds) {
    assert.equal(
      rounds.spec.series.map((s) => s.label),
      ['workers, 3 acceptors', 'workers, 5 acceptors', 'workers, 7 acceptors', 'embedded (one thread), 3 acceptors', 'bare MessagePorts, 3 acceptors'],
    );
    assert.equal(
      rounds.spec.series.map((s) => [s.colorKey, s.shapeKey]),
      [
        ['workers', '3'],
        ['workers', '5'],
        ['workers', '7'],
        ['embedded', '3'],
        ['bare', '3'],
      ],
    );
    assert.equal(
      rounds.spec.series[0]!.points.map((p) => p.x),
      [1, 16, 64, 256],
    );
  }
  const latency = charts.find((c) => c.def.id === 'latency-one-client')!;
  if ('spec' in latency)
    assert.equal(
      latency.spec.series[0]!.points.map((p) => p.x),
      ['p50', 'p90', 'p99', 'p99.9'],
    );
});

test('the protocols charts put every protocol side by side, Multi-Paxos first, over the same cells', () => {
  const spec = drawnSpec(buildCharts(load()));
  const throughput = spec('protocols-throughput');
  assert.equal(
    throughput.series.map((s) => s.label),
    ['Multi-Paxos, batched', 'Multi-Paxos, unbatched', 'Raft, batched', 'Raft, unbatched'],
  );
  assert.equal(
    throughput.series[0]!.points.map((p) => p.x),
    ['workers, 3 replicas', 'workers, 5 replicas', 'embedded, 3 replicas', 'embedded, 5 replicas'],
  );
  assert.equal(
    spec('protocols-latency-one-client').series.map((s) => s.label),
    ['Multi-Paxos, workers', 'Raft, workers', 'Multi-Paxos, embedded (one thread)', 'Raft, embedded (one thread)'],
  );
  assert.equal(
    spec('protocols-cost').series.map((s) => s.label),
    ['Multi-Paxos', 'Raft'],
  );
  const kill = spec('protocols-leader-kill');
  assert.equal(
    kill.series.map((s) => [s.label, s.points.map((p) => p.x)]),
    [
      ['Multi-Paxos', ['3', '5']],
      ['Raft', ['3', '5']],
    ],
  );
});

test('without the synod and multipaxos suites: the report says so instead of drawing', () => {
  const r = load();
  r.suites.synod = { status: 'missing', reason: 'bench/synod.ts is not in this checkout' };
  r.suites.multipaxos = { status: 'missing', reason: 'bench/multipaxos.ts is not in this checkout' };
  const md = report(r);
  assert.ok(md.includes('| `synod` | not in this checkout |'));
  assert.ok(md.includes('_Not drawn: the synod suite is not in this checkout._ It draws synod figures `<mode>.r<A>.inflight<N>.rounds_per_s`.'));
  assert.ok(
    md.includes(
      'Not in this run: the Synod against the bare worker baseline and the in-thread ceiling (the synod suite); Multi-Paxos on workers against embedded (the multipaxos suite); see Suites for why.',
    ),
  );
});

test('a busy machine is said to be busy', () => {
  const r = load();
  assert.not.ok(report(r).includes('was busy'));
  r.machine.loadEnd = 9.5;
  assert.not.ok(report(r).includes('was busy'), 'the load at the end includes the suites themselves');
  r.machine.loadStart = 9.5;
  assert.ok(report(r).includes('> The machine was busy with other work when this run started (load average 9.5 on 2 cores)'));
});

test('a quick run carries a banner; a full run with fewer than 5 runs marks those figures', () => {
  const q = load();
  q.mode = 'quick';
  assert.ok(report(q).includes('> **Quick run**'));
  const f = load();
  f.suites.transport!.result!.figures['raw.pingpong.rtt_us_p50']!.runs = [1, 2, 3];
  const md = report(f);
  assert.ok(md.includes('| `raw.pingpong.rtt_us_p50` | 33.5 | 31.8 | 34.8 | us | 3 * |'));
  assert.ok(md.includes('\\* fewer than 5 runs'));
  assert.not.ok(report(load()).includes('Quick run'));
});

test('writeReport writes REPORT.md and the SVGs, and removes a chart it could not draw this time', () => {
  const dir = mkdtempSync(join(tmpdir(), 'synod-bench-report-'));
  try {
    const resultsPath = join(dir, 'results', 'r.json');
    const first = writeReport(load(), dir, resultsPath);
    assert.is(first.charts.length, CHARTS.length + 1);
    assert.equal(readdirSync(join(dir, 'charts')).sort(), [...CHARTS.map((c) => `${c.id}.svg`), 'scaling.svg'].sort());
    assert.ok(readFileSync(join(dir, 'REPORT.md'), 'utf8').includes('[results/r.json](results/r.json)'));
    const without = load();
    without.suites.multipaxos = { status: 'missing' };
    writeReport(without, dir, resultsPath);
    assert.not.ok(existsSync(join(dir, 'charts', 'multipaxos-commands-vs-batch.svg')), 'a stale chart would contradict the report');
    assert.ok(existsSync(join(dir, 'charts', 'synod-rounds-vs-inflight.svg')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeReport with a comparison file marks what moved', () => {
  const dir = mkdtempSync(join(tmpdir(), 'synod-bench-report-'));
  try {
    const earlier = load();
    Object.assign(earlier.suites.synod!.result!.figures['workers.r3.inflight64.rounds_per_s']!, { median: 20_000, min: 19_000, max: 21_000 });
    const earlierFile = join(dir, 'earlier.json');
    writeFileSync(earlierFile, JSON.stringify(earlier));
    const w = writeReport(load(), dir, join(dir, 'r.json'), earlierFile);
    assert.match(w.comparisonText!, /▲ better +synod workers\.r3\.inflight64\.rounds_per_s/);
    const md = readFileSync(join(dir, 'REPORT.md'), 'utf8');
    assert.ok(md.includes('## Changes since 2026-11-27 (commit `abc1234`)'));
    assert.ok(md.includes('| **▲ better** | synod | `workers.r3.inflight64.rounds_per_s` | 20 k [19 k–21 k] | 40 k [38 k–41.6 k] | +100 % | rounds/s |'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('results file name: date and short commit', () => {
  assert.is(resultsFileName({ date: '2026-11-27T01:02:03.000Z', commit: 'abc1234' }), '2026-11-27-abc1234.json');
  assert.is(resultsFileName({ date: '2026-11-27T01:02:03.000Z', commit: 'abc1234-dirty' }), '2026-11-27-abc1234-dirty.json');
});

test('a results file that is not one is refused with what is wrong', () => {
  assert.throws(() => parseResults('{', 'x.json'), /x\.json: not JSON/);
  assert.throws(() => parseResults('{"hello": 1}', 'x.json'), /x\.json: not a results file/);
  assert.throws(() => parseResults('{"format": "synod-bench/9"}', 'x.json'), /format 'synod-bench\/9' is not one this version reads/);
  assert.throws(() => parseResults('{"suite": "s", "figures": {"a": {"median": 1}}}', 'x.json'), /figures\.a needs numbers median, min, max and a unit/);
});

test('the conflict charts draw each protocol and replica count against the share of conflicting commands, and against replicas', () => {
  const spec = drawnSpec(buildCharts(load()));
  const conflicts = spec('protocols-vs-conflicts');
  assert.equal(
    conflicts.series.map((s) => [s.label, s.points.map((p) => p.x)]),
    [
      ['Multi-Paxos, 3 replicas', ['0 %', '100 %']],
      ['Multi-Paxos, 5 replicas', ['0 %', '100 %']],
      ['Multi-Paxos, 7 replicas', ['0 %', '100 %']],
      ['EPaxos, 3 replicas', ['0 %', '2 %', '25 %', '100 %']],
      ['EPaxos, 5 replicas', ['0 %', '2 %', '25 %', '100 %']],
      ['EPaxos, 7 replicas', ['0 %', '2 %', '25 %', '100 %']],
    ],
  );
  assert.is(spec('protocols-latency-vs-conflicts').series.length, 6);
  assert.equal(
    spec('protocols-vs-replicas').series.map((s) => [s.label, s.points.map((p) => p.x)]),
    [
      ['Multi-Paxos, 0 % conflicting', ['3', '5', '7']],
      ['Multi-Paxos, 100 % conflicting', ['3', '5', '7']],
      ['EPaxos, 0 % conflicting', ['3', '5', '7']],
      ['EPaxos, 100 % conflicting', ['3', '5', '7']],
      ['Multi-Paxos, q1 = 4, q2 = 2', ['5']],
    ],
  );
  assert.equal(
    spec('protocols-latency-vs-replicas').series.map((s) => s.label),
    ['Multi-Paxos', 'Raft'],
  );
});

test.run();
