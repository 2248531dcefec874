/**
 * pnpm bench:multipaxos — Multi-Paxos and the ReplicatedMap: what users get through the public
 * API first, then the protocol alone.
 *
 * A cluster of N replica nodes (each an acceptor, a leader candidate and a replica; `workers`: one
 * worker thread per node; `embedded`: all on the calling thread), map `set`s of a 16-byte value
 * unless said.
 *
 * API cells (`api.*`): `ReplicatedMap` from the main thread, as an application calls it:
 * `concurrent1000` is 1000 async callers each awaiting one `set` after another (the client sends
 * what is issued in one tick together); `sequential` one caller, one `set` at a time (commit
 * latency); CPU per operation is the process's CPU time (all threads) over operations.
 *
 * Protocol cells (`<mode>.r<N>.*`): a load generator on the leader's node speaks the client protocol
 * (the production client, without a promise per command) and keeps commands outstanding, with the
 * leader's batch limit and window of the cell: `batched` = up to 1024 commands per slot, window 64;
 * `unbatched` = one command per slot, window 256. Value-size cells use `shared` storage (and
 * `file`), write over at most 64 MiB of keys (1024 keys; 64 of 1 MiB), each size in a cluster of
 * its own whose state an unmeasured run at that size fills first, and count leader changes and
 * worker restarts during the cell (there should be none).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StorageKind } from '@synod/actors';
import type { LeaderState } from '@synod/paxos';
import { ReplicatedMap } from '@synod/replicated';
import { benchEnv, progress, sized } from './lib/env.js';
import { LatencyRecorder } from './lib/latency.js';
import { Results, median } from './lib/results.js';
import { rawPingPong } from './lib/raw-pingpong.js';
import { MpDriver, type MpResult } from './multipaxos/driver.js';

const env = benchEnv();
const WARMUP_MS = sized(150, 50);
const MEASURE_MS = sized(450, 120);
/**
 * Value-size cells run longer: a size's steady state includes the snapshots and slab compactions
 * it causes, which come every few hundred milliseconds.
 */
const SIZE_WARMUP_MS = sized(500, 100);
const SIZE_MEASURE_MS = sized(1500, 300);
const SINGLE_OPS = sized(300, 60);
/** Unmeasured sequential sets first: the one-caller path is not the concurrent cells' (V8 optimises it separately), as in bench:protocols. */
const SINGLE_WARMUP_OPS = sized(3000, 1000);
/** A cell runs for well under a second: one that has not answered by then is stuck. */
const RUN_TIMEOUT_MS = 30_000;
const PINGS = sized(3_000, 600);
const SIZES = env.quick ? [16, 256, 65_536] : [16, 256, 4096, 65_536, 1 << 20];
const EXTRA_ACCEPTORS = env.quick ? [] : [7, 9];
const API_CALLERS = 1000;

const results = new Results('multipaxos', {
  cluster: 'N replica nodes, each an acceptor + leader candidate + replica; workers: a worker thread per node',
  'api.*': `ReplicatedMap from the main thread: concurrent${API_CALLERS} = ${API_CALLERS} async callers awaiting set after set; sequential = one set at a time (${SINGLE_OPS} of them, after ${SINGLE_WARMUP_OPS} unmeasured)`,
  'protocol cells':
    "a load generator on the leader node with the production client keeps commands outstanding (map set, 16-byte value unless size<bytes>): four slots' worth, 4096 at a batch of 1024, 512 unbatched, at most 32 MiB of values (512 of 64 KiB, 64 of 1 MiB)",
  'batched / unbatched':
    'batched = batch limit 1024 commands per slot, window 64; unbatched = 1 command per slot (one per client request), window 256 (pipelined)',
  cost: 'process CPU time (all threads) / operations or commands',
  measurement: `${WARMUP_MS} ms warm-up, ${MEASURE_MS} ms counted, per cell (value-size cells ${SIZE_WARMUP_MS} + ${SIZE_MEASURE_MS} ms, each size in a cluster of its own); a cluster started for the API or protocol cells first runs one of them unmeasured (${SIZE_WARMUP_MS} + ${SIZE_MEASURE_MS} ms)`,
  runs: env.runs,
});

async function withMap<T>(mode: 'workers' | 'embedded', replicas: number, storage: StorageKind, fn: (map: ReplicatedMap<string>) => Promise<T>): Promise<T> {
  const dir = storage === 'file' ? mkdtempSync(join(tmpdir(), 'synod-bench-mp-')) : undefined;
  const map = await ReplicatedMap.start<string>({
    mode,
    replicas,
    storage,
    dir,
    name: 'bench',
    systemOptions: { statsIntervalMs: 0, mailboxCapacity: 1 << 18 },
  });
  // A cell that stalls says why: crashes are printed as they happen.
  map.system.events.on('actor:crashed', (e) => console.error(`[${mode} r${replicas} ${storage}] ${e.ref.name} crashed: ${e.error.stack ?? e.error.message}`));
  try {
    await map.set('warm', 'up');
    return await fn(map);
  } finally {
    await map.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

interface Cell {
  perS: number;
  cpuUs: number;
  latencyUsP50: number;
  leaderChanges: number;
  workerRestarts: number;
}

/** Elections started by every leader so far (a leader change shows as one or more). */
async function elections(map: ReplicatedMap<string>): Promise<number> {
  let n = 0;
  for (const l of map.rsm.cluster.leaders) {
    const snap = await map.system.inspect(l).catch(() => null);
    n += (snap?.state as { stats?: LeaderState['stats'] } | undefined)?.stats?.elections ?? 0;
  }
  return n;
}

/**
 * The unmeasured run a fresh cluster gets before the cells that count: as long as a value-size
 * cell (2 s of load). Workers go on getting faster for about that long (the JIT's later tiers, the
 * heap growing to its working size): after one 600 ms run, the next measured about a fifth below
 * the runs after it.
 */
async function warmUp(map: ReplicatedMap<string>): Promise<void> {
  await protocolCell(map, 1024, 64, 16, SIZE_WARMUP_MS, SIZE_MEASURE_MS);
}

/** One protocol cell: the driver on the leader's node, the leader's batch limit and window set for it. */
async function protocolCell(
  map: ReplicatedMap<string>,
  batch: number,
  window: number,
  valueBytes = 16,
  warmupMs = WARMUP_MS,
  measureMs = MEASURE_MS,
): Promise<Cell> {
  const { system, cluster } = map.rsm;
  const leaderIndex = map.rsm.leaderIndex;
  for (const l of cluster.leaders) await system.ask(l, { type: 'configure', options: { maxBatchCommands: batch, window } }, { timeoutMs: 5_000 });
  const driverName = `driver-${batch}-${window}-${valueBytes}-${Math.random().toString(36).slice(2, 7)}`;
  const driver = await system.spawn(MpDriver, { name: driverName, worker: cluster.workerKey(leaderIndex), restart: 'temporary' });
  let exits = 0;
  const onExit = () => {
    exits++;
  };
  system.events.on('worker:exited', onExit);
  try {
    // Four slots' worth (4096 at a batch of 1024; 512 unbatched), within 32 MiB of values: the leader
    // fills a slot while others are in flight. Keeping the whole window full (65,536 commands at
    // 1024 x 64) only queued them: 16-byte commands waited 80 ms (p50), and each cost a third more
    // CPU. (etcd's figures that the targets quote keep 1,000 commands in flight.)
    const outstanding = Math.min(Math.max(4 * batch, 512), 65_536, Math.max(64, Math.floor((32 << 20) / Math.max(valueBytes, 64))));
    const e0 = await elections(map);
    const c0 = process.cpuUsage();
    const r = await system.ask<MpResult>(
      driver,
      {
        type: 'run',
        cluster: { leaders: cluster.leaders, replicas: cluster.replicas },
        outstanding,
        valueBytes,
        warmupMs,
        measureMs,
        // Unbatched means one command per slot: a slot takes a client's whole request, and the
        // client packs up to 256 commands in one unless told otherwise (without this, the
        // "unbatched" cell measured slots of hundreds of commands).
        ...(batch === 1 ? { commandsPerRequest: 1 } : {}),
      },
      { timeoutMs: RUN_TIMEOUT_MS },
    );
    const cu = process.cpuUsage(c0);
    const perS = (r.commands / r.ms) * 1000;
    // CPU over the whole run (warm-up included) against commands over the whole run, approximated
    // by the measured rate: the warm-up runs at the same rate once the pipeline is full.
    const cpuUs = (cu.user + cu.system) / ((perS * (warmupMs + measureMs)) / 1000);
    return { perS, cpuUs, latencyUsP50: r.latencyUsP50, leaderChanges: (await elections(map)) - e0, workerRestarts: exits };
  } finally {
    system.events.off('worker:exited', onExit);
    await system.stop(driver).catch(() => {});
    for (const l of cluster.leaders)
      await system.ask(l, { type: 'configure', options: { maxBatchCommands: 1024, window: 64 } }, { timeoutMs: 5_000 }).catch(() => {});
  }
}

/** `callers` async loops, each awaiting one set after another, through the public API. */
async function apiConcurrent(
  map: ReplicatedMap<string>,
  callers: number,
  warmupMs = WARMUP_MS,
  measureMs = MEASURE_MS,
): Promise<{ perS: number; cpuUs: number }> {
  let done = 0;
  let counted = 0;
  let measuring = false;
  let stop = false;
  const t = { start: 0, cpu: process.cpuUsage() };
  const loops = Array.from({ length: callers }, async (_, p) => {
    for (let i = 0; !stop; i++) {
      await map.set(`c${p}-${i & 15}`, '0123456789abcdef');
      done++;
      if (measuring) counted++;
    }
  });
  await new Promise((r) => setTimeout(r, warmupMs));
  measuring = true;
  t.start = performance.now();
  t.cpu = process.cpuUsage();
  await new Promise((r) => setTimeout(r, measureMs));
  const ms = performance.now() - t.start;
  const cu = process.cpuUsage(t.cpu);
  const n = counted;
  stop = true;
  await Promise.all(loops);
  void done;
  return { perS: (n / ms) * 1000, cpuUs: (cu.user + cu.system) / n };
}

async function apiSequential(map: ReplicatedMap<string>, prefix: string, lat: LatencyRecorder): Promise<number> {
  for (let i = 0; i < SINGLE_WARMUP_OPS; i++) await map.set(`single-${i & 63}`, 'v');
  const samples: number[] = [];
  for (let i = 0; i < SINGLE_OPS; i++) {
    const t0 = performance.now();
    await map.set(`single-${i & 63}`, 'v');
    samples.push((performance.now() - t0) * 1000);
  }
  const kept = samples.slice(Math.floor(samples.length / 10));
  lat.reset();
  lat.recordAll(kept);
  lat.addTo(results, `${prefix}.sequential.commit_us`);
  return median(kept);
}

const lat = new LatencyRecorder();
for (let k = 1; k <= env.runs; k++) {
  const run: Record<string, number> = {};
  const put = (name: string, unit: string, v: number) => {
    run[name] = v;
    results.add(name, unit, v);
  };
  if (env.scaling) {
    await withMap('workers', 3, 'memory', async (map) => {
      await warmUp(map);
      put('workers.r3.batched.memory.commands_per_s', 'commands/s', (await protocolCell(map, 1024, 64)).perS);
    });
    progress(k, env.runs, `workers r3 batched ${(run['workers.r3.batched.memory.commands_per_s']! / 1e6).toFixed(2)} M commands/s`);
    continue;
  }
  const rtt = await rawPingPong(PINGS);
  put('raw.pingpong.rtt_us_p50', 'us', rtt);
  // What users get: the public API.
  for (const mode of ['workers', 'embedded'] as const) {
    await withMap(mode, 3, 'memory', async (map) => {
      await apiConcurrent(map, API_CALLERS, SIZE_WARMUP_MS, SIZE_MEASURE_MS); // unmeasured warm-up, as long as the protocol cells' (see warmUp)
      const c = await apiConcurrent(map, API_CALLERS);
      put(`api.${mode}.r3.concurrent${API_CALLERS}.ops_per_s`, 'ops/s', c.perS);
      put(`api.${mode}.r3.cpu_us_per_op`, 'us', c.cpuUs);
      put(`api.${mode}.r3.sequential.us_p50`, 'us', await apiSequential(map, `api.${mode}.r3`, lat));
    });
  }
  // The protocol and the data plane alone.
  for (const mode of ['workers', 'embedded'] as const) {
    for (const a of [3, 5]) {
      await withMap(mode, a, 'memory', async (map) => {
        await warmUp(map);
        const batched = await protocolCell(map, 1024, 64);
        put(`${mode}.r${a}.batched.memory.commands_per_s`, 'commands/s', batched.perS);
        put(`${mode}.r${a}.cpu_us_per_command`, 'us', batched.cpuUs);
        put(`${mode}.r${a}.unbatched.memory.commands_per_s`, 'commands/s', (await protocolCell(map, 1, 256)).perS);
      });
    }
  }
  for (const storage of ['shared', 'file'] as const) {
    await withMap('workers', 3, storage, async (map) => {
      await warmUp(map);
      put(`workers.r3.batched.${storage}.commands_per_s`, 'commands/s', (await protocolCell(map, 1024, 64)).perS);
      put(`workers.r3.unbatched.${storage}.commands_per_s`, 'commands/s', (await protocolCell(map, 1, 256)).perS);
    });
    for (const size of SIZES) {
      if (storage === 'file' && size < 4096) continue;
      // A cluster of its own per size, filled at that size by an unmeasured run first: the cell
      // measures writes over a state of its own size (at most 64 MiB), not the replacement of the
      // cell before's values (whose leftover keys once made the 1 MiB cell's state 124 MiB).
      await withMap('workers', 3, storage, async (map) => {
        await protocolCell(map, 1024, 64, size, SIZE_WARMUP_MS, SIZE_MEASURE_MS);
        const c = await protocolCell(map, 1024, 64, size, SIZE_WARMUP_MS, SIZE_MEASURE_MS);
        const prefix = storage === 'shared' ? `workers.r3.size${size}` : `workers.r3.file.size${size}`;
        put(`${prefix}.commands_per_s`, 'commands/s', c.perS);
        put(`${prefix}.mb_per_s`, 'MB/s', (c.perS * size) / 1e6);
        put(`${prefix}.latency_us_p50`, 'us', c.latencyUsP50);
        put(`${prefix}.cpu_us_per_command`, 'us', c.cpuUs);
        put(`${prefix}.leader_changes`, 'count', c.leaderChanges);
        put(`${prefix}.worker_restarts`, 'count', c.workerRestarts);
      });
    }
  }
  for (const a of EXTRA_ACCEPTORS) {
    await withMap('workers', a, 'memory', async (map) => {
      await warmUp(map);
      const t = await protocolCell(map, 1024, 64);
      put(`workers.r${a}.batched.memory.commands_per_s`, 'commands/s', t.perS);
      put(`workers.r${a}.cpu_us_per_command`, 'us', t.cpuUs);
      // A run that counted nothing says why: an election, or a worker that died, during the cell.
      put(`workers.r${a}.leader_changes`, 'count', t.leaderChanges);
      put(`workers.r${a}.worker_restarts`, 'count', t.workerRestarts);
    });
  }
  results.addRatio('single_client_commit_vs_two_raw_rtt', run['api.workers.r3.sequential.us_p50']! / (2 * rtt));
  results.addRatio('api_vs_protocol.workers.r3', run['api.workers.r3.concurrent1000.ops_per_s']! / run['workers.r3.batched.memory.commands_per_s']!);
  results.addRatio('workers_vs_embedded.r3.batched', run['workers.r3.batched.memory.commands_per_s']! / run['embedded.r3.batched.memory.commands_per_s']!);
  results.addRatio('file_vs_memory.r3.batched', run['workers.r3.batched.file.commands_per_s']! / run['workers.r3.batched.memory.commands_per_s']!);
  results.addRatio('size256_vs_size16.cpu_us_per_command', run['workers.r3.size256.cpu_us_per_command']! / run['workers.r3.size16.cpu_us_per_command']!);
  progress(
    k,
    env.runs,
    `api workers ${(run[`api.workers.r3.concurrent${API_CALLERS}.ops_per_s`]! / 1e3).toFixed(0)} k ops/s (embedded ${(run[`api.embedded.r3.concurrent${API_CALLERS}.ops_per_s`]! / 1e3).toFixed(0)} k), ` +
      `sequential p50 ${run['api.workers.r3.sequential.us_p50']!.toFixed(0)} us (raw rtt ${rtt.toFixed(0)} us); protocol: batched ${(run['workers.r3.batched.memory.commands_per_s']! / 1e6).toFixed(2)} M/s, ` +
      `unbatched ${(run['workers.r3.unbatched.memory.commands_per_s']! / 1e3).toFixed(1)} k/s`,
  );
}
results.write();
