/**
 * The control of the scaling step: a pure CPU loop on BENCH_WORKERS threads at once, no memory
 * traffic and no messages. Run pinned to 1, 2, … cores beside the suites, it shows how much the
 * machine itself scaled at that moment (a shared machine rarely gives all its cores), so the
 * suites' speedups can be read against it.
 */
import { Worker } from 'node:worker_threads';
import { benchEnv, sized } from '../lib/env.js';
import { Results } from '../lib/results.js';

/** Iterations per thread: long enough that thread start-up is a small part of the time. */
const ITERATIONS = Number(process.env.ITERATIONS ?? sized(150_000_000, 40_000_000));

const env = benchEnv();
const threads = env.workers;
const code = `const { parentPort, workerData } = require('node:worker_threads'); let x = 0;
  for (let i = 0; i < workerData; i++) x = (x + i * 7) % 1000003; parentPort.postMessage(x);`;

const results = new Results('cpu-loop', { threads, iterations_per_thread: ITERATIONS });
for (let run = 1; run <= env.runs; run++) {
  const t0 = performance.now();
  await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise((resolve, reject) => {
          const w = new Worker(code, { eval: true, workerData: ITERATIONS });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
  const s = (performance.now() - t0) / 1000;
  results.add('cpu_loop.loops_per_s', 'loops/s', (threads * ITERATIONS) / s);
  console.log(`run ${run}/${env.runs}: ${threads} threads, ${((threads * ITERATIONS) / s / 1e6).toFixed(0)} M loops/s`);
}
results.write();
