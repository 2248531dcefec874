/**
 * pnpm bench:checker — how fast `@synod/checker` decides the golden histories and the hard
 * generated ones, and what threads buy on a large partitioned history.
 *
 * Figures (medians of RUNS runs, default 7, after WARMUP passes, default 3, in one process):
 *  - checker.jepsen_etcd.total_s / max_file_s: all 60 Jepsen etcd logs (cas-register), parsing
 *    included (files are read into memory first); the slowest single file. cpu_s is the CPU time
 *    of the same pass: on a shared machine it shows the work done, whatever else was running.
 *  - checker.kv.total_s / max_file_s: Porcupine's small kv EDN histories (per-key partitioned).
 *  - checker.kv_hard.total_s / max_file_s / cpu_s / states: the generated kv histories of
 *    packages/checker/test/fixtures/kv-hard (50 and 100 concurrent clients, about 4 000 events
 *    each, one linearizable and one with a planted violation per size), parsed and checked.
 *  - checker.kv_synthetic.*: a generated kv history (SYN_KEYS keys × SYN_OPS_PER_KEY operations)
 *    checked in this thread (wall and CPU time) and on a CheckerPool (threads already started),
 *    side by side.
 * Every run also checks each verdict against EXPECTED.txt and stops if one is wrong.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  CheckerPool,
  casRegisterModel,
  check,
  kvModel,
  parseEdnHistory,
  parseJepsenLog,
  type History,
  type KvInput,
  type KvOutput,
  type Operation,
} from '@synod/checker';
import { benchEnv, sized } from './lib/env.js';
import { Results, resultsDir } from './lib/results.js';

const env = benchEnv({ runs: 7 });
const RUNS = env.runs;
const WARMUP = Number(process.env.WARMUP ?? sized(3, 1));
const SYN_KEYS = Number(process.env.SYN_KEYS ?? 64);
const SYN_OPS_PER_KEY = Number(process.env.SYN_OPS_PER_KEY ?? sized(2_000, 300));
const THREADS = Number(process.env.THREADS ?? env.workers);

/**
 * The histories are test fixtures of @synod/checker, in the repository; the same path from
 * bench/checker.ts and from the built bench/dist/checker.js.
 */
const fixtures = join(resultsDir, '..', '..', 'packages', 'checker', 'test', 'fixtures');
if (!existsSync(join(fixtures, 'histories', 'jepsen-etcd', 'EXPECTED.txt'))) {
  // The convention of pnpm bench: a suite that cannot run here says why and writes nothing.
  console.log(`skipped: the checker's fixtures are not at ${fixtures}`);
  process.exit(0);
}

interface Golden {
  name: string;
  text: string;
  expected: string;
}

function load(dir: string): Golden[] {
  const expected = new Map(
    readFileSync(join(dir, 'EXPECTED.txt'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/) as [string, string]),
  );
  const files = readdirSync(dir)
    .filter((f) => expected.has(f))
    .sort();
  if (files.length !== expected.size) throw new Error(`${dir}: EXPECTED.txt names ${expected.size} files, found ${files.length}`);
  return files.map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8'), expected: expected.get(name)! }));
}

const etcd = load(join(fixtures, 'histories', 'jepsen-etcd'));
const kv = load(join(fixtures, 'histories', 'kv'));
const kvHard = load(join(fixtures, 'kv-hard'));

/** Parses and checks every file; returns total and slowest seconds (wall clock), and CPU seconds. */
function pass(files: Golden[], kind: 'etcd' | 'kv'): { total: number; max: number; maxFile: string; states: number; cpu: number } {
  let total = 0,
    max = 0,
    maxFile = '',
    states = 0;
  const cpu0 = process.cpuUsage();
  for (const g of files) {
    const t0 = performance.now();
    const r =
      kind === 'etcd' ? check(parseJepsenLog(g.text, casRegisterModel, g.name), casRegisterModel) : check(parseEdnHistory(g.text, kvModel, g.name), kvModel);
    const s = (performance.now() - t0) / 1000;
    if (r.verdict !== g.expected) throw new Error(`${g.name}: expected ${g.expected}, got ${r.verdict}`);
    total += s;
    states += r.partitions.reduce((n, p) => n + p.states, 0);
    if (s > max) {
      max = s;
      maxFile = g.name;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return { total, max, maxFile, states, cpu: (cpu.user + cpu.system) / 1e6 };
}

/** A linearizable kv history from a real sequential execution with overlapping calls (seeded). */
function synthetic(keys: number, perKey: number, seed: number): History<KvInput, KvOutput> {
  let x = seed | 0;
  const random = () => {
    x = (x + 0x6d2b79f5) | 0;
    let t = Math.imul(x ^ (x >>> 15), 1 | x);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const state = new Map<string, string>();
  const ops: Operation<KvInput, KvOutput>[] = [];
  const n = keys * perKey;
  const spread = 10 * keys * 3; // each call overlaps about 3 others of its key
  for (let k = 0; k < n; k++) {
    const key = String(Math.floor(random() * keys));
    const point = k * 10;
    const r = random();
    const cur = state.get(key) ?? '';
    let input: KvInput;
    let output: KvOutput = null;
    // Puts reset a key often enough that its string stays short.
    if (r < 0.5) {
      input = { f: 'get', key };
      output = cur;
    } else if (r < 0.75) {
      input = { f: 'put', key, value: `p${k};` };
      state.set(key, input.value);
    } else {
      input = { f: 'append', key, value: `a${k};` };
      state.set(key, cur + input.value);
    }
    ops.push({ id: k, process: k, input, outcome: 'ok', output, call: point - random() * spread - 1, ret: point + random() * spread + 1 });
  }
  return { operations: ops };
}

const results = new Results('checker', {
  runs: RUNS,
  warmup: WARMUP,
  threads: THREADS,
  etcd_files: etcd.length,
  kv_files: kv.length,
  kv_hard_files: kvHard.map((g) => g.name).join(' '),
  synthetic: `${SYN_KEYS} keys x ${SYN_OPS_PER_KEY} ops`,
  timing: 'parse + check per file, files already in memory, one process, after warm-up',
  reference:
    'Porcupine (Go) on this machine: about 0.35 s for the 60 etcd logs, slowest 0.15 s (issue 7); ' +
    'on its own 50-client kv histories 0.05 s (not linearizable) and 0.22 s (linearizable) (issue 18)',
});

for (let i = 0; i < WARMUP; i++) {
  pass(etcd, 'etcd');
  pass(kv, 'kv');
  pass(kvHard, 'kv');
}

const slowest = new Map<string, number>();
for (let run = 0; run < RUNS; run++) {
  const e = pass(etcd, 'etcd');
  const k = pass(kv, 'kv');
  const h = pass(kvHard, 'kv');
  results.add('checker.jepsen_etcd.total_s', 's', e.total);
  results.add('checker.jepsen_etcd.max_file_s', 's', e.max);
  results.add('checker.jepsen_etcd.cpu_s', 's', e.cpu);
  results.add('checker.jepsen_etcd.states', 'states', e.states);
  results.add('checker.kv.total_s', 's', k.total);
  results.add('checker.kv.max_file_s', 's', k.max);
  results.add('checker.kv_hard.total_s', 's', h.total);
  results.add('checker.kv_hard.max_file_s', 's', h.max);
  results.add('checker.kv_hard.cpu_s', 's', h.cpu);
  results.add('checker.kv_hard.states', 'states', h.states);
  slowest.set(e.maxFile, (slowest.get(e.maxFile) ?? 0) + 1);
  console.log(
    `run ${run + 1}/${RUNS}: etcd ${e.total.toFixed(3)} s (slowest ${e.maxFile} ${e.max.toFixed(3)} s), kv ${k.total.toFixed(3)} s, ` +
      `kv hard ${h.total.toFixed(3)} s (slowest ${h.maxFile} ${h.max.toFixed(3)} s)`,
  );
}

const big = synthetic(SYN_KEYS, SYN_OPS_PER_KEY, 42);
const pool = new CheckerPool({ threads: THREADS });
try {
  // Start the threads and warm both paths.
  await pool.check(big, kvModel, { minOperationsForThreads: 0 });
  check(big, kvModel);
  for (let run = 0; run < RUNS; run++) {
    let t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const a = check(big, kvModel);
    const inProcess = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    t0 = performance.now();
    const b = await pool.check(big, kvModel, { minOperationsForThreads: 0 });
    const threaded = (performance.now() - t0) / 1000;
    if (a.verdict !== 'linearizable' || b.verdict !== 'linearizable') throw new Error(`synthetic history: ${a.verdict} / ${b.verdict}`);
    results.add('checker.kv_synthetic.inprocess_s', 's', inProcess);
    results.add('checker.kv_synthetic.inprocess_cpu_s', 's', (cpu.user + cpu.system) / 1e6);
    results.add('checker.kv_synthetic.threads_s', 's', threaded);
    results.addRatio('checker.kv_synthetic.threads_speedup', inProcess / threaded);
  }
} finally {
  await pool.close();
}

results.write();
console.log(`slowest etcd file per run: ${[...slowest].map(([f, n]) => `${f} (${n})`).join(', ')}`);
