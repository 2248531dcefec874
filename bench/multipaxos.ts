/**
 * pnpm bench:multipaxos — Multi-Paxos and the ReplicatedMap: commands per second, commit
 * latency, cost per command.
 *
 * A cluster of N replica nodes (each an acceptor, a leader candidate and a replica; `workers`: one
 * worker thread per node; `embedded`: all on the calling thread). Throughput: a load generator on
 * the leader's node keeps commands in the log (map `set`s of a 16-byte value unless said), with
 * the leader's batch limit B (commands per slot) and window W (slots in flight). Latency: one
 * client on the main thread, through the public API (`execute`), one command at a time: a commit
 * is two round trips (client ↔ leader, leader ↔ acceptors). Many clients: 64 concurrent
 * sessions through the API. Cost per command: CPU time of the whole process (all threads) per
 * committed command.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StorageKind } from '@synod/actors';
import { ReplicatedMap } from '@synod/replicated';
import { benchEnv, progress, sized } from './lib/env.js';
import { LatencyRecorder } from './lib/latency.js';
import { Results, median } from './lib/results.js';
import { rawPingPong } from './lib/raw-pingpong.js';
import { MpDriver, type MpResult } from './multipaxos/driver.js';

const env = benchEnv();
const WARMUP_MS = sized(150, 50);
const MEASURE_MS = sized(450, 120);
const SINGLE_OPS = sized(300, 60);
/** A cell runs for well under a second: one that has not answered by then is stuck. */
const RUN_TIMEOUT_MS = 30_000;
const PINGS = sized(3_000, 600);
const CELLS: [batch: number, window: number][] = env.quick ? [[1, 256], [1024, 64]] : [[1, 64], [64, 64], [1024, 64], [1024, 1], [1024, 256], [1, 256]];
// Values of 4 KiB and more are left out for now: with them the pipeline slows to a few MB/s and
// workers can miss heartbeats (an open problem, see the README's Performance section).
const SIZES = env.quick ? [16, 256] : [16, 256];
const EXTRA_ACCEPTORS = env.quick ? [] : [7, 9];

const results = new Results('multipaxos', {
  cluster: 'N replica nodes, each an acceptor + leader candidate + replica; workers: a worker thread per node',
  load: 'a generator on the leader node keeps 2 x window x batch commands outstanding (map set, 16-byte value unless size<bytes>)',
  'batched / unbatched': 'batched = batch limit 1024 commands per slot, window 64; unbatched = 1 command per slot, window 256 (pipelined)',
  'single client': `${SINGLE_OPS} sequential execute() calls from the main thread (public API)`,
  'many clients': '64 concurrent sessions through the public API',
  cost: 'process CPU time (all threads) / commands committed',
  measurement: `${WARMUP_MS} ms warm-up, ${MEASURE_MS} ms counted, per cell; a cluster started for one cell (shared, file, 7 and 9 replicas) first runs it once unmeasured`,
  runs: env.runs,
});

async function withMap<T>(mode: 'workers' | 'embedded', replicas: number, storage: StorageKind, fn: (map: ReplicatedMap<string>) => Promise<T>): Promise<T> {
  const dir = storage === 'file' ? mkdtempSync(join(tmpdir(), 'synod-bench-mp-')) : undefined;
  const map = await ReplicatedMap.start<string>({ mode, replicas, storage, dir, name: 'bench', systemOptions: { statsIntervalMs: 0, mailboxCapacity: 1 << 18 } });
  try {
    await map.set('warm', 'up');
    return await fn(map);
  } finally {
    await map.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** Throughput of one cell (and CPU per command), with the driver on the leader's node. */
async function throughput(map: ReplicatedMap<string>, batch: number, window: number, valueBytes = 16): Promise<{ perS: number; cpuUs: number }> {
  const { system, cluster } = map.rsm;
  const leaderIndex = map.rsm.leaderIndex;
  for (const l of cluster.leaders) system.send(l, { type: 'configure', options: { maxBatchCommands: batch, window } });
  const driverName = `driver-${batch}-${window}-${valueBytes}-${Math.random().toString(36).slice(2, 7)}`;
  const driver = await system.spawn(MpDriver, { name: driverName, worker: cluster.workerKey(leaderIndex), restart: 'temporary' });
  try {
    const chunk = Math.min(batch, 256);
    // Enough to keep the window full, within the leader's maxPendingCommands (default 100000).
    const outstanding = Math.min(Math.max(2 * batch * window, chunk * 2), 65_536, Math.floor((32 << 20) / Math.max(valueBytes, 64)));
    const c0 = process.cpuUsage();
    const r = await system.ask<MpResult>(driver, {
      type: 'run', leader: cluster.leaders[leaderIndex]!, replica: cluster.replicas[leaderIndex]!, outstanding, chunk, valueBytes,
      warmupMs: WARMUP_MS, measureMs: MEASURE_MS,
    }, { timeoutMs: RUN_TIMEOUT_MS }).catch(async (e: Error) => {
      // Say where it stuck before failing the suite.
      console.error(`batch ${batch} window ${window} size ${valueBytes}: no result (${e.message}); state at that point:`);
      for (const ref of [...cluster.leaders, ...cluster.replicas, driver]) {
        const snap = await system.inspect(ref).catch((err: Error) => err.message);
        const st = typeof snap === 'string' ? snap : snap.state as Record<string, unknown>;
        const pick = typeof st === 'string' ? st : JSON.stringify(st, (k, v) => (['status', 'stats', 'applyLag', 'pending', 'commitUpTo', 'nextSlot', 'appliedUpTo', 'knownUpTo', 'sent', 'applied', 'base'].includes(k) || k === '' ? v : undefined));
        console.error(`  ${ref.name}: ${pick}`);
      }
      throw e;
    });
    const cu = process.cpuUsage(c0);
    const perS = (r.commands / r.ms) * 1000;
    // CPU over the whole run (warm-up included) against commands over the whole run, approximated
    // by the measured rate: the warm-up runs at the same rate once the pipeline is full.
    const cpuUs = (cu.user + cu.system) / (perS * (WARMUP_MS + MEASURE_MS) / 1000);
    return { perS, cpuUs };
  } finally {
    await system.stop(driver).catch(() => {});
  }
}

async function singleClient(map: ReplicatedMap<string>, prefix: string, lat: LatencyRecorder): Promise<number> {
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
  return median(kept);
}

async function manyClients(map: ReplicatedMap<string>): Promise<number> {
  const sessions = Array.from({ length: 64 }, () => map.withSession());
  let done = 0;
  let stop = false;
  const t0 = performance.now();
  await Promise.all(sessions.map(async (m, p) => {
    for (let i = 0; !stop; i++) {
      await m.set(`c${p}-${i & 15}`, 'v');
      done++;
      if (performance.now() - t0 > WARMUP_MS + MEASURE_MS) stop = true;
    }
  }));
  return (done / (performance.now() - t0)) * 1000;
}

const lat = new LatencyRecorder();
for (let k = 1; k <= env.runs; k++) {
  const run: Record<string, number> = {};
  const put = (name: string, unit: string, v: number) => { run[name] = v; results.add(name, unit, v); };
  if (env.scaling) {
    await withMap('workers', 3, 'memory', async (map) => put('workers.r3.batched.memory.commands_per_s', 'commands/s', (await throughput(map, 1024, 64)).perS));
    progress(k, env.runs, `workers r3 batched ${(run['workers.r3.batched.memory.commands_per_s']! / 1e6).toFixed(2)} M commands/s`);
    continue;
  }
  const rtt = await rawPingPong(PINGS);
  put('raw.pingpong.rtt_us_p50', 'us', rtt);
  for (const mode of ['workers', 'embedded'] as const) {
    for (const a of [3, 5]) {
      await withMap(mode, a, 'memory', async (map) => {
        for (const [batch, window] of CELLS) {
          const t = await throughput(map, batch, window);
          put(`${mode}.r${a}.batch${batch}.window${window}.commands_per_s`, 'commands/s', t.perS);
          if (batch === 1024 && window === 64) {
            put(`${mode}.r${a}.batched.memory.commands_per_s`, 'commands/s', t.perS);
            put(`${mode}.r${a}.cpu_us_per_command`, 'us', t.cpuUs);
          }
          if (batch === 1 && window === 256) put(`${mode}.r${a}.unbatched.memory.commands_per_s`, 'commands/s', t.perS);
        }
        run[`${mode}.r${a}.single_client.p50`] = await singleClient(map, `${mode}.r${a}`, lat);
        if (mode === 'workers' && a === 3) {
          put('workers.r3.many_clients.commands_per_s', 'commands/s', await manyClients(map));
          for (const size of SIZES) {
            const t = await throughput(map, 1024, 64, size);
            put(`workers.r3.size${size}.commands_per_s`, 'commands/s', t.perS);
            put(`workers.r3.size${size}.cpu_us_per_command`, 'us', t.cpuUs);
          }
        }
      });
    }
  }
  for (const storage of ['shared', 'file'] as const) {
    await withMap('workers', 3, storage, async (map) => {
      await throughput(map, 1024, 64); // unmeasured: fresh workers warm up (JIT) as the memory cells' do
      put(`workers.r3.batched.${storage}.commands_per_s`, 'commands/s', (await throughput(map, 1024, 64)).perS);
      put(`workers.r3.unbatched.${storage}.commands_per_s`, 'commands/s', (await throughput(map, 1, 256)).perS);
    });
  }
  for (const a of EXTRA_ACCEPTORS) {
    await withMap('workers', a, 'memory', async (map) => {
      await throughput(map, 1024, 64); // unmeasured warm-up, as above
      const t = await throughput(map, 1024, 64);
      put(`workers.r${a}.batched.memory.commands_per_s`, 'commands/s', t.perS);
      put(`workers.r${a}.cpu_us_per_command`, 'us', t.cpuUs);
    });
  }
  results.addRatio('single_client_commit_vs_two_raw_rtt', run['workers.r3.single_client.p50']! / (2 * rtt));
  results.addRatio('workers_vs_embedded.r3.batched', run['workers.r3.batched.memory.commands_per_s']! / run['embedded.r3.batched.memory.commands_per_s']!);
  results.addRatio('file_vs_memory.r3.batched', run['workers.r3.batched.file.commands_per_s']! / run['workers.r3.batched.memory.commands_per_s']!);
  progress(k, env.runs, `workers r3: batched ${(run['workers.r3.batched.memory.commands_per_s']! / 1e6).toFixed(2)} M/s, unbatched ${(run['workers.r3.unbatched.memory.commands_per_s']! / 1e3).toFixed(1)} k/s, ` +
    `file batched ${(run['workers.r3.batched.file.commands_per_s']! / 1e3).toFixed(0)} k/s, single client p50 ${run['workers.r3.single_client.p50']!.toFixed(0)} us (raw rtt ${rtt.toFixed(0)} us)`);
}
results.write();
