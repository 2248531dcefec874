/**
 * The runner end to end on small fake suites (a bench/ folder made in a temp dir): the BENCH_*
 * variables reach each suite; results are collected; a suite that is skipped, fails, runs out
 * of its budget, is not built or is missing is reported as such; the scaling step divides each
 * figure on 2 cores by the same run's figure on 1 core; the results file, REPORT.md and charts
 * are written; the exit status is 1 because a suite failed. No timing is asserted.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Combined } from '../report/combined.ts';
import { parseBenchArgs } from '../report/options.ts';
import { runBench, writeSuiteFiles } from '../report/runner.ts';
import type { SuiteSpec } from '../report/suites.ts';
import { suiteFailure } from '../report/failure.ts';

/** A fake suite that records what it was told, and in scaling mode scales perfectly with BENCH_WORKERS. */
const okSuite = (name: string) => `
import { writeFileSync } from 'node:fs';
const e = process.env;
const runs = Number(e.BENCH_RUNS ?? (e.BENCH_QUICK === '1' ? 3 : 5));
const v = e.BENCH_SCALING === '1' ? 1000 * Number(e.BENCH_WORKERS) : 500;
for (let i = 1; i <= runs; i++) console.log('run ' + i + '/' + runs + ': fake');
writeFileSync(e.BENCH_OUT, JSON.stringify({ suite: '${name}', date: '2026-11-27T00:00:00Z', commit: 'fake', machine: {},
  setup: { quick: e.BENCH_QUICK, budget: e.BENCH_BUDGET_S, workers: e.BENCH_WORKERS, runs: e.BENCH_RUNS },
  figures: { 'x.msgs_per_s': { unit: 'msgs/s', median: v, min: v, max: v, runs: [v] } },
  ratios: { 'a_vs_b.x': { median: 1.5, min: 1.4, max: 1.6 } } }));
`;

const scripts: Record<string, string> = {
  transport: okSuite('transport'),
  persist: `console.log('skipped: no disk in this fake');`,
  sim: `console.error('Error: boom in the fake sim'); process.exit(1);`,
  checker: `setTimeout(() => {}, 60_000);`,
  // synod: no source at all (missing); multipaxos: a source but nothing built.
};

const registry: SuiteSpec[] = ['transport', 'persist', 'sim', 'checker', 'synod', 'multipaxos'].map((name) => ({
  name,
  what: `fake ${name}`,
  budgetS: { full: 20, quick: name === 'checker' ? 1 : 20 },
  scaling: name === 'transport',
}));

function fakeBench(): string {
  const dir = mkdtempSync(join(tmpdir(), 'synod-bench-runner-'));
  mkdirSync(join(dir, 'dist', 'scaling'), { recursive: true });
  for (const [name, code] of Object.entries(scripts)) {
    writeFileSync(join(dir, `${name}.ts`), '// fake\n');
    writeFileSync(join(dir, 'dist', `${name}.js`), code);
  }
  writeFileSync(join(dir, 'multipaxos.ts'), '// fake, not built\n');
  writeFileSync(
    join(dir, 'dist', 'scaling', 'cpu-loop.js'),
    okSuite('cpu-loop').replace("'x.msgs_per_s'", "'cpu_loop.loops_per_s'").replace("'msgs/s'", "'loops/s'"),
  );
  return dir;
}

test('a quick run over fake suites: statuses, variables, scaling, files, exit 1', async () => {
  const dir = fakeBench();
  try {
    const workers = Math.min(2, availableParallelism());
    const opts = parseBenchArgs(['--quick', '--runs', '2', '--workers', String(workers), '--out', join(dir, 'out')], {
      cores: availableParallelism(),
      benchDir: dir,
    });
    let printed = '';
    const status = await runBench(opts, {
      out: {
        write: (s) => {
          printed += s;
        },
        isTTY: false,
      },
      benchDir: dir,
      suites: registry,
      scalingBudgetS: { full: 60, quick: 60 },
    });
    assert.is(status, 1, 'a suite failed and one ran out of time');

    const files = readdirSync(join(dir, 'out', 'results'));
    assert.is(files.length, 1);
    assert.match(files[0]!, /^\d{4}-\d\d-\d\d-.+\.json$/);
    const r = JSON.parse(readFileSync(join(dir, 'out', 'results', files[0]!), 'utf8')) as Combined;
    assert.is(r.format, 'synod-bench/1');
    assert.is(r.mode, 'quick');
    assert.equal(Object.fromEntries(Object.entries(r.suites).map(([k, o]) => [k, o.status])), {
      transport: 'ok',
      persist: 'skipped',
      sim: 'failed',
      checker: 'timeout',
      synod: 'missing',
      multipaxos: 'failed',
    });
    assert.equal(r.suites.transport!.result!.setup, { quick: '1', budget: '20', workers: String(workers), runs: '2' });
    assert.is(r.suites.persist!.reason, 'no disk in this fake');
    assert.match(r.suites.sim!.reason!, /^exit 1: Error: boom in the fake sim$/);
    assert.match(r.suites.checker!.reason!, /stopped at 2 s, 2 times its budget of 1 s/);
    assert.match(r.suites.multipaxos!.reason!, /not built/);
    assert.match(r.suites.synod!.reason!, /bench\/synod\.ts is not in this checkout/);

    if (workers === 2) {
      const s = r.scaling!;
      assert.equal(s.cores, [1, 2]);
      assert.is(s.runs, 2);
      const f = s.suites.transport!.figures['x.msgs_per_s']!;
      assert.equal(f.speedup['2'], { median: 2, min: 2, max: 2 });
      assert.is(f.byCores['1']!.median, 1000);
      assert.equal(s.control!.speedup['2'], { median: 2, min: 2, max: 2 });
    }

    const md = readFileSync(join(dir, 'out', 'REPORT.md'), 'utf8');
    assert.ok(md.includes('> **Quick run**'));
    assert.ok(md.includes('| `transport` | `a_vs_b.x` | 1.5× | 1.4× | 1.6× |'));
    assert.ok(md.includes('| `sim` | **failed**: exit 1: Error: boom in the fake sim |'));
    assert.ok(readdirSync(join(dir, 'out', 'logs')).includes('sim.log'));
    assert.match(readFileSync(join(dir, 'out', 'logs', 'sim.log'), 'utf8'), /Error: boom in the fake sim/);

    assert.match(printed, /\[1\/7\] transport/);
    assert.match(printed, /transport run 2\/2: fake/);
    assert.match(printed, /synod: not in this checkout/);
    assert.match(printed, /bench: sim failed, checker ran out of time, multipaxos failed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--suite runs only those; the others are listed as not run; exit 0 when they pass', async () => {
  const dir = fakeBench();
  try {
    const opts = parseBenchArgs(['--suite', 'transport', '--runs', '1', '--no-scaling', '--out', join(dir, 'out')], {
      cores: availableParallelism(),
      benchDir: dir,
    });
    const status = await runBench(opts, { out: { write: () => {}, isTTY: false }, benchDir: dir, suites: registry });
    assert.is(status, 0);
    const [file] = readdirSync(join(dir, 'out', 'results'));
    const r = JSON.parse(readFileSync(join(dir, 'out', 'results', file!), 'utf8')) as Combined;
    assert.is(r.suites.transport!.status, 'ok');
    assert.is(r.suites.sim!.status, 'not-run');
    assert.is(r.scaling, undefined);
    assert.is(r.mode, 'full');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failure is told by the line that names the error, not by the lines Node adds after it', () => {
  const tail = [
    'file:///work/main/packages/actors/dist/host.js:306',
    '                reject(new AskTimeoutError(describeRef(to), messageType(msg), timeoutMs));',
    '                       ^',
    '',
    'AskTimeoutError: ask to "driver" (#1.6) with message "run" got no reply within 120000 ms',
    '    at Timeout._onTimeout (file:///work/main/packages/actors/dist/host.js:306:24)',
    '  target: \'"driver" (#1.6)\',',
    '}',
    '',
    'Node.js v20.20.2',
  ];
  assert.is(suiteFailure(1, null, tail), 'exit 1: AskTimeoutError: ask to "driver" (#1.6) with message "run" got no reply within 120000 ms');
  assert.is(suiteFailure(null, 'SIGKILL', ['killed here']), 'exit SIGKILL: killed here');
  assert.is(suiteFailure(3, null, []), 'exit 3');
});

test('a full run writes each finished suite its own results file, the same as in the combined one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'synod-suite-files-'));
  try {
    const result = {
      suite: 'transport',
      date: 'd',
      commit: 'c',
      machine: { cpu: 'x', cores: 2, node: 'v20' },
      figures: { 'a.b': { unit: 'us', median: 1, min: 1, max: 1, runs: [1] } },
      ratios: {},
    };
    const combined = { suites: { transport: { status: 'ok', result }, sim: { status: 'failed', reason: 'boom' } } } as unknown as Combined;
    const written = writeSuiteFiles(combined, dir);
    assert.equal(readdirSync(dir), ['transport.json']);
    assert.equal(written, [join(dir, 'transport.json')]);
    assert.equal(JSON.parse(readFileSync(join(dir, 'transport.json'), 'utf8')), result);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
