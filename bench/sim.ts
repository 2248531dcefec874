/**
 * pnpm bench:sim — the deterministic simulator's speed.
 *
 * Measured side by side in each run (RUNS, default 5):
 *  - sim.deliveries_per_s: simulated message deliveries per second on one thread: NODES actors
 *    on their own simulated nodes pass TOKENS tokens to random peers over the default network
 *    (FIFO links, 0.5..2 ms), DELIVERIES deliveries per run, no trace kept (fingerprint only);
 *  - campaign.seeds_per_s.workers1 / .workers2: seeds per second of the replicated-counter
 *    campaign (the CI campaign's scenario, random faults) on a piscina pool of 1 and of 2
 *    threads, SEEDS seeds each, on pools warmed up beforehand;
 *  - ratio campaign.scaling_2_vs_1, per run;
 *  - ratio machine.cpu_scaling_2_vs_1, per run: the same pure CPU loop on 2 threads at once
 *    against 1, the most this (shared) machine offered during the run, to read the campaign's
 *    scaling against.
 */
import { Worker } from 'node:worker_threads';
import { CampaignPool, Simulation } from '@synod/actors/sim';
// The test protocol with a planted bug is not exported by the package: the benchmark runs in a checkout.
import { counterScenario } from '../packages/actors/dist/sim/examples/counter.js';
import { benchEnv, sized } from './lib/env.js';
import { Results } from './lib/results.js';
import { TokenPasser, type TokenMsg } from './sim/actors.js';

const RUNS = benchEnv().runs;
const NODES = Number(process.env.NODES ?? 16);
const TOKENS = Number(process.env.TOKENS ?? 256);
const DELIVERIES = Number(process.env.DELIVERIES ?? sized(3_000_000, 200_000));
const SEEDS = Number(process.env.SEEDS ?? sized(2_000, 100));
const WARMUP_SEEDS = Number(process.env.WARMUP_SEEDS ?? sized(300, 20));
const SPIN = Number(process.env.SPIN ?? sized(200_000_000, 10_000_000));
const SLICES = Number(process.env.SLICES ?? 4);

async function deliveriesPerSecond(seed: number): Promise<number> {
  const sim = new Simulation({ seed });
  const refs = [];
  for (let i = 0; i < NODES; i++) refs.push(await sim.spawn(TokenPasser, { name: `p${i}` }));
  for (const r of refs) sim.send(r, { type: 'peers', peers: refs.filter((x) => x !== r), tokens: TOKENS / NODES } satisfies TokenMsg);
  const t0 = performance.now();
  const r = await sim.run({ maxSteps: DELIVERIES });
  const s = (performance.now() - t0) / 1000;
  if (r.reason !== 'steps') throw new Error(`the token workload ended early: ${r.reason}`);
  return sim.stats.deliveries / s;
}

/** Runs a fixed CPU loop on `threads` threads at once; returns loops per second. */
async function spin(threads: number): Promise<number> {
  const code = `const { parentPort } = require('node:worker_threads'); let x = 0;
    for (let i = 0; i < ${SPIN}; i++) x = (x + i * 7) % 1000003; parentPort.postMessage(x);`;
  const t0 = performance.now();
  await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise((resolve, reject) => {
          const w = new Worker(code, { eval: true });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
  return threads / ((performance.now() - t0) / 1000);
}

/** Seconds one pool takes for `count` seeds from `from`. */
async function campaignSeconds(pool: CampaignPool, from: number, count: number): Promise<number> {
  const r = await pool.run({ scenario: counterScenario, seeds: { from, count } });
  if (r.failures.length > 0) throw new Error(`the counter campaign failed at seed ${r.failures[0]!.seed}: ${r.failures[0]!.failure?.message}`);
  return r.elapsedMs / 1000;
}

/**
 * Seeds per second on each pool, measured in SLICES alternating slices so that a change in the
 * shared machine's load between the two measurements mostly cancels out.
 */
async function seedsPerSecond(pools: CampaignPool[], from: number): Promise<number[]> {
  const per = Math.ceil(SEEDS / SLICES);
  const seconds = pools.map(() => 0);
  for (let k = 0; k < SLICES; k++) {
    for (let p = 0; p < pools.length; p++) seconds[p]! += await campaignSeconds(pools[p]!, from + k * per, per);
  }
  return seconds.map((s) => (per * SLICES) / s);
}

const results = new Results('sim', {
  deliveries: `${NODES} token passers on ${NODES} simulated nodes, ${TOKENS} tokens in flight, ${DELIVERIES} deliveries per run; default network (FIFO, 0.5..2 ms); message validation on; fingerprint only`,
  campaign: `replicated counter (3 replicas + client, file storage, random faults, invariant after every step), ${SEEDS} seeds per measurement in ${SLICES} slices alternating between the pools, batches of 20, pools warmed with ${WARMUP_SEEDS} seeds per thread`,
  machine: `a ${SPIN}-iteration CPU loop on 2 threads at once vs 1, each run: what the shared machine allowed`,
  runs: RUNS,
});

const pool1 = new CampaignPool({ workers: 1 });
const pool2 = new CampaignPool({ workers: 2 });
try {
  // Warm-up: thread start, module loading and JIT are paid before any measurement.
  await deliveriesPerSecond(0);
  await pool1.run({ scenario: counterScenario, seeds: { from: 1_000_000, count: WARMUP_SEEDS } });
  await pool2.run({ scenario: counterScenario, seeds: { from: 2_000_000, count: 2 * WARMUP_SEEDS } });
  for (let run = 1; run <= RUNS; run++) {
    const dps = await deliveriesPerSecond(run);
    // Different seeds each run, the same for both pools within a run.
    const [w1, w2] = (await seedsPerSecond([pool1, pool2], run * 100_000)) as [number, number];
    const cpu = (await spin(2)) / (await spin(1));
    results.add('sim.deliveries_per_s', 'deliveries/s', dps);
    results.add('campaign.seeds_per_s.workers1', 'seeds/s', w1);
    results.add('campaign.seeds_per_s.workers2', 'seeds/s', w2);
    results.addRatio('campaign.scaling_2_vs_1', w2 / w1);
    results.addRatio('machine.cpu_scaling_2_vs_1', cpu);
    console.log(
      `run ${run}/${RUNS}: ${(dps / 1e6).toFixed(2)} M deliveries/s; campaign ${w1.toFixed(0)} seeds/s on 1 thread, ${w2.toFixed(0)} on 2 (x${(w2 / w1).toFixed(2)}); a CPU loop scales x${cpu.toFixed(2)}`,
    );
  }
} finally {
  await pool1.close();
  await pool2.close();
}
results.write();
