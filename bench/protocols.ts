/**
 * pnpm bench:protocols — the replication protocols side by side: Multi-Paxos (the baseline) and
 * Raft on identical workloads, in one run, each cell measured for every protocol back to back
 * (the order alternates from run to run, so drift on a shared machine does not favour one).
 *
 * A cluster of N replica nodes started by `ReplicatedMap.start({ protocol })` (`workers`: one
 * worker thread per node; `embedded`: all on the calling thread), `memory` storage, map `set`s of
 * a 16-byte value. Per protocol, mode and N (3 and 5):
 *
 *  - `batched` / `unbatched` commands/s: a load generator on the leader's node (the production
 *    client, bench/multipaxos/driver.ts) keeps commands outstanding; the leader's batch limit and
 *    window are set for the cell the same way for every protocol (`configure`), and the client's
 *    requests hold about as many commands as the batch limit (a request is never split across
 *    entries): batched = up to 1024 commands per entry, window 64; unbatched = one command per
 *    request and per entry, window 256;
 *  - CPU per command: CPU time of the whole process (all threads) over the batched cell's commands;
 *  - one-client latency: one caller awaiting one `set` after another through the public API;
 *  - leader kill to commit (workers only: a worker is what dies): the leader's worker is killed,
 *    and a `set` issued at once is timed until it commits under the next leader; the client tries
 *    another node after 20 ms of silence (`attemptTimeoutMs`), the same for every protocol, so the
 *    figure is the protocol's failover (failure detection, election, first commit) plus at most a
 *    few client retries. Each run kills `KILLS` leaders per cell and reports their p50 and max.
 *
 * Ratios `<protocol>_vs_multipaxos.*` divide a protocol's figure by Multi-Paxos's of the same run.
 *
 * Adding a protocol is one entry in `PROTOCOLS` (its name as `ReplicatedMap.start` takes it, and
 * its own options if any): every cell, ratio and chart follows.
 */
import { performance } from 'node:perf_hooks';
import { sameRef, type StorageKind } from '@synod/actors';
import { ReplicatedMap, type ReplicatedMapOptions } from '@synod/replicated';
import { benchEnv, progress, sized } from './lib/env.js';
import { LatencyRecorder } from './lib/latency.js';
import { Results, percentile } from './lib/results.js';
import { MpDriver, type MpResult } from './multipaxos/driver.js';

/** A protocol of the comparison. The first is the baseline the ratios divide by. */
interface BenchProtocol {
  /** As `ReplicatedMap.start({ protocol })` takes it; the prefix of its figures. */
  name: string;
  /** Anything else it needs to start (its own options): the same workload otherwise. */
  options?: Partial<ReplicatedMapOptions>;
}

const PROTOCOLS: readonly BenchProtocol[] = [
  { name: 'multipaxos' },
  { name: 'raft' },
];
const BASELINE = PROTOCOLS[0]!.name;

const env = benchEnv();
const WARMUP_MS = sized(150, 50);
const MEASURE_MS = sized(450, 120);
const SINGLE_OPS = sized(300, 60);
/** Leader kills per cell and run. */
const KILLS = sized(2, 1);
const REPLICAS = env.quick ? [3] : [3, 5];
/** A cell runs for well under a second: one that has not answered by then is stuck. */
const RUN_TIMEOUT_MS = 30_000;
/** The client tries another node after this long without an answer (the leader-kill cells). */
const ATTEMPT_MS = 20;
/** A killed leader's node must be back (restarted, caught up) before the next kill, within this. */
const RECOVER_MS = 20_000;

const results = new Results('protocols', {
  protocols: PROTOCOLS.map((p) => p.name).join(', '),
  cluster: 'N replica nodes started by ReplicatedMap.start({ protocol }); workers: a worker thread per node; memory storage; map set of a 16-byte value',
  'batched / unbatched': 'a load generator on the leader node (the production client) keeps commands outstanding; batched = up to 1024 commands per entry (requests of about 1024), window 64; unbatched = 1 command per request and per entry, window 256 (set on every node with configure)',
  'single_client': `one caller awaiting one set after another through the public API (${SINGLE_OPS} of them, the first tenth not counted)`,
  cost: 'process CPU time (all threads) / commands of the batched cell',
  'leader_kill_to_commit': `workers only: the leader's worker killed, a set issued at once, timed until it commits; client attempt timeout ${ATTEMPT_MS} ms; ${KILLS} kills per cell and run (p50 and max of them)`,
  measurement: `${WARMUP_MS} ms warm-up, ${MEASURE_MS} ms counted, per throughput cell, after one unmeasured batched cell on each new cluster; protocols alternate in order from run to run`,
  runs: env.runs,
});

type Mode = 'workers' | 'embedded';

async function withMap<T>(p: BenchProtocol, mode: Mode, replicas: number, fn: (map: ReplicatedMap<string>) => Promise<T>): Promise<T> {
  const storage: StorageKind = 'memory';
  const map = await ReplicatedMap.start<string>({
    ...p.options, protocol: p.name, mode, replicas, storage, name: 'bench', attemptTimeoutMs: ATTEMPT_MS, operationTimeoutMs: 30_000,
    systemOptions: { statsIntervalMs: 0, mailboxCapacity: 1 << 18 },
  });
  try {
    await map.set('warm', 'up');
    return await fn(map);
  } finally {
    await map.shutdown();
  }
}

/**
 * Sets the batch limit and window on every node that may lead (both protocols take `configure`).
 * An ask lost to a worker the runtime restarted meanwhile (a loaded machine can starve one past
 * its heartbeat) is asked again of the new incarnation.
 */
async function tune(map: ReplicatedMap<string>, maxBatchCommands: number, window: number): Promise<void> {
  for (const l of map.rsm.cluster.leaders) {
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await map.system.ask<{ ok: boolean; error?: string }>(l, { type: 'configure', options: { maxBatchCommands, window } }, { timeoutMs: RUN_TIMEOUT_MS / 4 });
        if (!r.ok) throw new Error(`configure refused: ${r.error}`);
        break;
      } catch (e) {
        if (attempt >= 4 || (e as Error).message.startsWith('configure refused')) throw e;
      }
    }
  }
}

/**
 * The node that leads now, by inspection (every protocol's leader role reports `status`): the
 * client's guess is not it when a follower forwards requests to the leader, as Raft's do.
 */
async function leaderNow(map: ReplicatedMap<string>): Promise<number> {
  const end = Date.now() + RECOVER_MS;
  for (;;) {
    const states = await Promise.all(map.rsm.cluster.leaders.map((l) => map.system.inspect(l).then((s) => s.state as { status?: string }, () => undefined)));
    const i = states.findIndex((s) => s?.status === 'leader');
    if (i >= 0) return i;
    if (Date.now() > end) throw new Error(`no node leads after ${RECOVER_MS} ms`);
    await sleep(10);
  }
}

interface Throughput { perS: number; cpuUs: number }

/** The driver on the leader's node keeps commands outstanding; the batch limit and window are set for the cell. */
async function throughputCell(map: ReplicatedMap<string>, batch: number, window: number): Promise<Throughput> {
  const { system, cluster } = map.rsm;
  const leaderIndex = await leaderNow(map);
  await tune(map, batch, window);
  const driver = await system.spawn(MpDriver, { name: `driver-${batch}-${window}-${Math.random().toString(36).slice(2, 7)}`, worker: cluster.workerKey(leaderIndex), restart: 'temporary' });
  try {
    const outstanding = Math.min(Math.max(2 * batch * window, 512), 65_536);
    const c0 = process.cpuUsage();
    const r = await system.ask<MpResult>(driver, {
      type: 'run', cluster: { leaders: cluster.leaders, replicas: cluster.replicas }, outstanding, valueBytes: 16, warmupMs: WARMUP_MS, measureMs: MEASURE_MS,
      commandsPerRequest: batch,
    }, { timeoutMs: RUN_TIMEOUT_MS });
    const cu = process.cpuUsage(c0);
    const perS = (r.commands / r.ms) * 1000;
    // CPU over the whole run (warm-up included) against the commands of the whole run, at the measured rate.
    return { perS, cpuUs: (cu.user + cu.system) / (perS * (WARMUP_MS + MEASURE_MS) / 1000) };
  } finally {
    await system.stop(driver).catch(() => {});
    await tune(map, 1024, 64);
  }
}

/** One caller, one `set` at a time: the percentiles of the commit latency (us) as figures; returns the p50. */
async function singleClient(map: ReplicatedMap<string>, lat: LatencyRecorder, prefix: string): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < SINGLE_OPS; i++) {
    const t0 = performance.now();
    await map.set(`single-${i & 63}`, 'v');
    samples.push((performance.now() - t0) * 1000);
  }
  const kept = samples.slice(Math.floor(samples.length / 10));
  lat.reset();
  lat.recordAll(kept);
  lat.addTo(results, `${prefix}.single_client.commit_us`);
  return lat.percentiles().p50;
}

/**
 * Kills the leader's worker and times a `set` issued at once until it commits; then waits until
 * the killed node's actors are back and it has caught up, so the next kill starts whole. ms.
 */
async function leaderKill(map: ReplicatedMap<string>): Promise<number> {
  const { system, cluster } = map.rsm;
  await map.set('before-kill', 'v');
  const leaderNode = cluster.leaders[await leaderNow(map)]!.node;
  const onNode = [...cluster.leaders, ...cluster.replicas, ...Object.values(cluster.roles).flat()].filter((r, i, all) => r.node === leaderNode && all.findIndex((x) => sameRef(x, r)) === i);
  const restarted = new Set<string>();
  const onRestart = (e: { ref: { name: string; node: number } }) => { if (e.ref.node === leaderNode) restarted.add(e.ref.name); };
  system.events.on('actor:restarted', onRestart);
  try {
    const t0 = performance.now();
    await system.killWorker(leaderNode);
    await map.set('after-kill', 'v');
    const ms = performance.now() - t0;
    // Back and caught up: every actor of the node restarted, and its replica applied what was committed.
    const end = Date.now() + RECOVER_MS;
    while (restarted.size < onNode.length) {
      if (Date.now() > end) throw new Error(`the killed node's actors did not all restart within ${RECOVER_MS} ms (${[...restarted].join(', ')})`);
      await sleep(10);
    }
    const target = await appliedOf(map, await leaderNow(map));
    const killed = cluster.replicas.findIndex((r) => r.node === leaderNode);
    while ((await appliedOf(map, killed)) < target) {
      if (Date.now() > end) throw new Error(`the killed node did not catch up within ${RECOVER_MS} ms`);
      await sleep(10);
    }
    return ms;
  } finally {
    system.events.off('actor:restarted', onRestart);
  }
}

async function appliedOf(map: ReplicatedMap<string>, i: number): Promise<number> {
  const snap = await map.system.inspect(map.rsm.cluster.replicas[i]!).catch(() => null);
  return (snap?.state as { appliedUpTo?: number } | undefined)?.appliedUpTo ?? -1;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const lat = new LatencyRecorder();
for (let k = 1; k <= env.runs; k++) {
  const run: Record<string, number> = {};
  const put = (name: string, unit: string, v: number) => { run[name] = v; results.add(name, unit, v); };
  // Alternate which protocol goes first, so drift within a run favours none.
  const order = k % 2 === 1 ? PROTOCOLS : [...PROTOCOLS].reverse();
  for (const mode of ['workers', 'embedded'] as const) {
    for (const n of REPLICAS) {
      for (const p of order) {
        const cell = `${p.name}.${mode}.r${n}`;
        await withMap(p, mode, n, async (map) => {
          await throughputCell(map, 1024, 64); // unmeasured: a fresh cluster warms up (JIT)
          const batched = await throughputCell(map, 1024, 64);
          put(`${cell}.batched.memory.commands_per_s`, 'commands/s', batched.perS);
          put(`${cell}.cpu_us_per_command`, 'us', batched.cpuUs);
          put(`${cell}.unbatched.memory.commands_per_s`, 'commands/s', (await throughputCell(map, 1, 256)).perS);
          run[`${cell}.single_client.commit_us_p50`] = await singleClient(map, lat, cell);
          if (mode === 'workers') {
            const kills: number[] = [];
            for (let i = 0; i < KILLS; i++) kills.push(await leaderKill(map));
            kills.sort((a, b) => a - b);
            put(`${cell}.leader_kill_to_commit_ms_p50`, 'ms', percentile(kills, 50));
            put(`${cell}.leader_kill_to_commit_ms_max`, 'ms', kills[kills.length - 1]!);
          }
        });
      }
    }
  }
  for (const p of PROTOCOLS.slice(1)) {
    const ratio = (name: string, figure: string) => {
      const a = run[`${p.name}.${figure}`];
      const b = run[`${BASELINE}.${figure}`];
      if (a !== undefined && b !== undefined && b > 0) results.addRatio(`${p.name}_vs_${BASELINE}.${name}`, a / b);
    };
    ratio('batched', 'workers.r3.batched.memory.commands_per_s');
    ratio('unbatched', 'workers.r3.unbatched.memory.commands_per_s');
    ratio('single_client_latency', 'workers.r3.single_client.commit_us_p50');
    ratio('cpu_per_command', 'workers.r3.cpu_us_per_command');
    ratio('leader_kill_to_commit', 'workers.r3.leader_kill_to_commit_ms_p50');
    ratio('embedded.batched', 'embedded.r3.batched.memory.commands_per_s');
    ratio('embedded.unbatched', 'embedded.r3.unbatched.memory.commands_per_s');
    ratio('embedded.single_client_latency', 'embedded.r3.single_client.commit_us_p50');
    ratio('embedded.cpu_per_command', 'embedded.r3.cpu_us_per_command');
    ratio('r5.batched', 'workers.r5.batched.memory.commands_per_s');
    ratio('r5.unbatched', 'workers.r5.unbatched.memory.commands_per_s');
    ratio('r5.leader_kill_to_commit', 'workers.r5.leader_kill_to_commit_ms_p50');
  }
  const show = (p: string) => `${p}: batched ${(run[`${p}.workers.r3.batched.memory.commands_per_s`]! / 1e6).toFixed(2)} M/s, ` +
    `unbatched ${(run[`${p}.workers.r3.unbatched.memory.commands_per_s`]! / 1e3).toFixed(1)} k/s, ` +
    `one client ${run[`${p}.workers.r3.single_client.commit_us_p50`]!.toFixed(0)} us, kill ${run[`${p}.workers.r3.leader_kill_to_commit_ms_p50`]!.toFixed(0)} ms`;
  progress(k, env.runs, PROTOCOLS.map((p) => show(p.name)).join('; '));
}
results.write();
