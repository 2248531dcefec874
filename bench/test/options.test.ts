/**
 * Options of `pnpm bench` and the BENCH_* variables: defaults, and for every mistake a message
 * naming the option and, through the built runner, exit status 2 before anything is measured.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CpuMeter } from '../lib/cpu.ts';
import { BenchEnvError, benchEnv, sized } from '../lib/env.ts';
import { LatencyRecorder } from '../lib/latency.ts';
import { parseCpuList } from '../report/child.ts';
import { BenchUsageError, defaultOutDir, parseBenchArgs } from '../report/options.ts';

const ctx = { cores: 2, benchDir: '/repo/bench' };
const fixture = fileURLToPath(new URL('./fixtures/results.json', import.meta.url));
const runner = fileURLToPath(new URL('../dist/run.js', import.meta.url));

function usage(args: string[], message: RegExp): void {
  assert.throws(
    () => parseBenchArgs(args, ctx),
    (e: unknown) => e instanceof BenchUsageError && message.test((e as Error).message),
    `${args.join(' ')} → ${message}`,
  );
}

test('defaults: all suites, all cores, scaling on, output chosen by mode', () => {
  const o = parseBenchArgs([], ctx);
  assert.equal(
    { quick: o.quick, workers: o.workers, suites: o.suites, runs: o.runs, scaling: o.scaling, outDir: o.outDir },
    { quick: false, workers: 2, suites: undefined, runs: undefined, scaling: true, outDir: undefined },
  );
  assert.is(defaultOutDir('/repo/bench', 'full'), '/repo/bench');
  assert.is(defaultOutDir('/repo/bench', 'quick'), '/repo/bench/quick');
  const q = parseBenchArgs(
    ['--quick', '--suite', 'transport,sim', '--suite', 'persist', '--runs', '7', '--workers', '1', '--no-scaling', '--compare', fixture],
    ctx,
  );
  assert.equal(q.suites, ['transport', 'sim', 'persist']);
  assert.is(q.runs, 7);
  assert.is(q.workers, 1);
  assert.is(q.scaling, false);
  assert.is(q.compare, fixture);
});

test('bad options are usage errors that say what is wrong', () => {
  usage(['--fast'], /Unknown option '--fast'/);
  usage(['stray'], /Unexpected argument 'stray'/);
  usage(['--workers', '0'], /--workers must be a positive whole number, got '0'/);
  usage(['--workers', 'two'], /--workers must be a positive whole number, got 'two'/);
  usage(['--workers', '3'], /--workers 3 is more than the 2 cores of this machine/);
  usage(['--runs', '2.5'], /--runs must be a positive whole number, got '2.5'/);
  usage(['--suite', 'raft'], /--suite 'raft' is not a suite; the suites are transport, persist, sim, checker, synod, multipaxos, state, protocols/);
  usage(['--compare', '/nonexistent/old.json'], /--compare \/nonexistent\/old\.json: no such file/);
  usage(['--compare', fileURLToPath(new URL('../package.json', import.meta.url))], /not a results file/);
  usage(['--report', fixture, '--quick'], /--report makes the report from a file and runs nothing, so --quick has no effect/);
  usage(['--compare'], /argument missing/);
});

async function run(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [runner, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

test('the built runner: exit 2 and one clear line for a bad option', async () => {
  const r = await run(['--workers', '0']);
  assert.is(r.status, 2);
  assert.is(r.stderr, "pnpm bench: --workers must be a positive whole number, got '0'. Run 'pnpm bench --help'.\n");
  const s = await run(['--compare', '/nonexistent/old.json'], { BENCH_COMMAND: 'synod bench' });
  assert.is(s.status, 2);
  assert.match(s.stderr, /^synod bench: --compare \/nonexistent\/old\.json: no such file\. Run 'synod bench --help'\.\n$/);
});

test('the built runner: --help, and --report from the fixture', async () => {
  const h = await run(['--help']);
  assert.is(h.status, 0);
  assert.match(h.stdout, /--compare FILE/);
  const dir = mkdtempSync(join(tmpdir(), 'synod-bench-opts-'));
  try {
    const r = await run(['--report', fixture, '--out', dir]);
    assert.is(r.status, 0, r.stderr);
    assert.match(readFileSync(join(dir, 'REPORT.md'), 'utf8'), /^# Synod benchmark report/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('BENCH_* variables: defaults, quick, and a bad value named', () => {
  const e = benchEnv({}, {});
  assert.equal(
    { quick: e.quick, runs: e.runs, scaling: e.scaling, out: e.out, budgetS: e.budgetS },
    { quick: false, runs: 5, scaling: false, out: undefined, budgetS: undefined },
  );
  assert.ok(e.workers >= 1);
  assert.is(benchEnv({}, { BENCH_QUICK: '1' }).runs, 3);
  assert.is(benchEnv({ runs: 7 }, {}).runs, 7);
  assert.is(benchEnv({ runs: 7 }, { BENCH_RUNS: '4', RUNS: '9' }).runs, 4);
  assert.is(benchEnv({}, { RUNS: '9' }).runs, 9, 'the legacy RUNS still works');
  const full = benchEnv({}, { BENCH_WORKERS: '8', BENCH_BUDGET_S: '12.5', BENCH_SCALING: '1', BENCH_OUT: '/tmp/x.json' });
  assert.equal([full.workers, full.budgetS, full.scaling, full.out], [8, 12.5, true, '/tmp/x.json']);
  assert.is(sized(100, 10, {}), 100);
  assert.is(sized(100, 10, { BENCH_QUICK: '1' }), 10);
  assert.throws(
    () => benchEnv({}, { BENCH_QUICK: 'yes' }),
    (x: unknown) => x instanceof BenchEnvError && /BENCH_QUICK must be 1 or 0, got 'yes'/.test((x as Error).message),
  );
  assert.throws(() => benchEnv({}, { BENCH_RUNS: '0' }), /BENCH_RUNS must be a positive whole number, got '0'/);
  assert.throws(() => benchEnv({}, { BENCH_WORKERS: '1.5' }), /BENCH_WORKERS must be a positive whole number/);
});

test('LatencyRecorder: percentiles within the histogram precision, figure names, refusals', () => {
  const l = new LatencyRecorder();
  for (let i = 1; i <= 10_000; i++) l.record(i / 10); // 0.1 .. 1000 us
  const p = l.percentiles();
  const near = (a: number, b: number) => Math.abs(a - b) / b < 0.002;
  assert.ok(near(p.p50, 500) && near(p.p90, 900) && near(p.p99, 990) && near(p.p999, 999), JSON.stringify(p));
  const added: [string, string, number][] = [];
  l.addTo(
    {
      add: (n, u, v) => {
        added.push([n, u, v]);
      },
    },
    'workers.r3.single_client.commit_us',
  );
  assert.equal(
    added.map(([n, u]) => `${n} ${u}`),
    ['_p50', '_p90', '_p99', '_p999'].map((s) => `workers.r3.single_client.commit_us${s} us`),
  );
  l.reset();
  assert.is(l.count, 0);
  assert.throws(() => l.addTo({ add: () => {} }, 'x_us'), /no latencies were recorded/);
  assert.throws(() => l.record(-1), /a latency must be a number >= 0 us, got -1/);
  const small = new LatencyRecorder({ highestUs: 100 });
  small.record(5_000);
  assert.is(small.clipped, 1);
  assert.ok(small.at(100) <= 100.1);
});

test('CpuMeter: CPU time of work done, per unit; refuses a cost per nothing', () => {
  const cpu = new CpuMeter();
  let x = 0;
  for (let i = 0; i < 2_000_000; i++) x = (x + i * 7) % 1_000_003;
  assert.ok(x >= 0);
  assert.ok(cpu.elapsedUs() > 0);
  assert.ok(cpu.usPer(1000) > 0);
  assert.throws(() => cpu.usPer(0), /the work done must be positive, got 0/);
});

test('CPU lists as Linux writes them', () => {
  assert.equal(parseCpuList('0-1'), [0, 1]);
  assert.equal(parseCpuList('4-6,9,12-13\n'), [4, 5, 6, 9, 12, 13]);
  assert.equal(parseCpuList('3'), [3]);
});

test.run();
