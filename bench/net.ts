/**
 * pnpm bench:net — Synod across processes against a real etcd (issue 20): three Synod node
 * processes and a three-member etcd 3.4 cluster on 127.0.0.1, each driven by the same workload
 * (bench/net/workload.ts) from this Node process: etcd through the `etcd3` client, Synod through
 * `ReplicatedMap.connect`. Both sync to disk before acknowledging a commit (etcd's WAL fsync, Synod's
 * `file` storage), in the same filesystem.
 *
 * Per run, for each system (the order alternates from run to run, so drift on a shared machine
 * favours neither), a fresh cluster, then:
 *  - batched: one client, 256 puts outstanding → commands/s;
 *  - unbatched: 4 clients, each awaiting its put before the next → commands/s;
 *  - single client: one client, one put after another → p50 and p99 in microseconds;
 *  - leader kill to commit: the leader's process SIGKILLed, a put issued at once (attempts of
 *    100 ms, retried) timed until it commits → ms; the member is restarted afterwards.
 *
 * Ratios per run pair: `net.vs_etcd.batched_commands_per_s` = Synod / etcd (above 1: Synod ahead),
 * `net.vs_etcd.single_client_latency` = Synod p50 / etcd p50 (below 1: Synod ahead).
 *
 * Nothing is installed: without etcd (`$ETCD_BIN` or `etcd` on PATH) the etcd cells are skipped,
 * with how to get it printed; a Synod side that cannot start in the first run is skipped with its
 * reason. Either skip is recorded in the results' setup. BENCH_NET_DIR: where the data directories
 * go (default the OS's temporary directory).
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { benchEnv, progress, sized } from './lib/env.js';
import { LatencyRecorder } from './lib/latency.js';
import { fmt, Results } from './lib/results.js';
import { ETCD_HOWTO, EtcdCluster, etcdVersion, findEtcd } from './net/etcd-cluster.js';
import { startSynodTarget } from './net/synod-target.js';
import { batched, type KvCluster, leaderKillToCommit, singleClient, unbatched, type WorkloadOptions } from './net/workload.js';

// However the suite ends (a signal included), the 'exit' handlers stop every member process.
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

const env = benchEnv();
const MEMBERS = 3;
const BASE_DIR = process.env.BENCH_NET_DIR || tmpdir();
const WORKLOAD: WorkloadOptions = { keyspace: 1000, valueBytes: 64, warmupMs: sized(1000, 300), measureMs: sized(5000, 1000) };
const IN_FLIGHT = 256;
const UNBATCHED_CLIENTS = 4;
const SINGLE = { keyspace: WORKLOAD.keyspace, valueBytes: WORKLOAD.valueBytes, warmupOps: sized(200, 50), ops: sized(2000, 300) };
const KILL = { valueBytes: WORKLOAD.valueBytes, attemptTimeoutMs: 100, retryPauseMs: 10, timeoutMs: 30_000, restartTimeoutMs: 30_000 };

function fsType(dir: string): string {
  try {
    return execFileSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function etcd3Version(): string {
  try {
    return (createRequire(import.meta.url)('etcd3/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** A system of the comparison: how to start a fresh cluster of it, or why it is skipped. */
interface System {
  readonly name: 'etcd' | 'synod';
  readonly start: () => Promise<KvCluster>;
  skipped?: string;
}

const etcdBin = findEtcd();
const systems: System[] = [
  { name: 'synod', start: () => startSynodTarget({ baseDir: BASE_DIR, members: MEMBERS }) },
  { name: 'etcd', start: () => EtcdCluster.start({ bin: etcdBin!, members: MEMBERS, baseDir: BASE_DIR }) },
];
if (!etcdBin) {
  systems[1]!.skipped = ETCD_HOWTO;
  console.log(`etcd cells skipped: ${ETCD_HOWTO}`);
}

const results = new Results('net', {
  cluster: `${MEMBERS} members, each its own OS process, on 127.0.0.1; the load comes from this Node process; a fresh cluster per system and run`,
  etcd: etcdBin
    ? `etcd ${etcdVersion(etcdBin)} (${etcdBin}) with its defaults (WAL fsync before acknowledging, election timeout 1000 ms); ` +
      `client etcd3 ${etcd3Version()} (gRPC) with its default retry and no per-member circuit breaker`
    : 'not installed',
  storage: `data directories under ${BASE_DIR} (${fsType(BASE_DIR)}); both systems sync to disk before a commit is acknowledged (etcd: WAL fsync; Synod: file storage)`,
  workload: `puts of ${WORKLOAD.valueBytes}-byte values over ${WORKLOAD.keyspace} keys`,
  batched: `one client with ${IN_FLIGHT} puts outstanding at all times; commands/s`,
  unbatched: `${UNBATCHED_CLIENTS} clients, each with one put outstanding (awaits it before the next); commands/s; the servers may still group concurrent clients' puts`,
  single_client: `one client, one put after another: ${SINGLE.ops} timed after ${SINGLE.warmupOps} untimed; p50 and p99 in microseconds`,
  leader_kill_to_commit: `the leader's process SIGKILLed; a put issued at the same moment, each attempt abandoned after ${KILL.attemptTimeoutMs} ms and a refused one retried after ${KILL.retryPauseMs} ms, timed until it commits; the member is restarted afterwards; one kill per run`,
  measurement: `throughput: ${WORKLOAD.warmupMs} ms warm-up then ${WORKLOAD.measureMs} ms counted, on the same clients; systems alternate in order from run to run`,
  ratios: 'per run pair: batched_commands_per_s = Synod / etcd (above 1: Synod ahead); single_client_latency = Synod p50 / etcd p50 (below 1: Synod ahead)',
  runs: env.runs,
});

interface Measured {
  batched: number;
  unbatched: number;
  p50: number;
  p99: number;
  killMs: number;
}

async function measure(cluster: KvCluster): Promise<Measured> {
  const b = await batched(cluster, { ...WORKLOAD, inFlight: IN_FLIGHT });
  const u = await unbatched(cluster, { ...WORKLOAD, clients: UNBATCHED_CLIENTS });
  const lat = new LatencyRecorder();
  lat.recordAll(await singleClient(cluster, SINGLE));
  const kill = await leaderKillToCommit(cluster, KILL);
  return { batched: b, unbatched: u, p50: lat.at(50), p99: lat.at(99), killMs: kill.ms };
}

for (let k = 1; k <= env.runs; k++) {
  const order = k % 2 === 1 ? systems : [...systems].reverse();
  const got = new Map<string, Measured>();
  for (const s of order) {
    if (s.skipped) continue;
    let cluster: KvCluster;
    try {
      cluster = await s.start();
    } catch (e) {
      // Only a side that never started is skipped; one that started before and fails now is a failure.
      if (k > 1 || s.name === 'etcd') throw e;
      s.skipped = (e as Error).message;
      console.log(`${s.name} cells skipped: ${s.skipped}`);
      continue;
    }
    try {
      results.setup[`${s.name} cluster`] ??= cluster.description;
      const m = await measure(cluster);
      got.set(s.name, m);
      const p = `net.${s.name}.r${MEMBERS}`;
      results.add(`${p}.batched.commands_per_s`, 'commands/s', m.batched);
      results.add(`${p}.unbatched.commands_per_s`, 'commands/s', m.unbatched);
      results.add(`${p}.single_client.p50_us`, 'us', m.p50);
      results.add(`${p}.single_client.p99_us`, 'us', m.p99);
      results.add(`${p}.leader_kill_to_commit_ms`, 'ms', m.killMs);
    } finally {
      await cluster.stop();
    }
  }
  const e = got.get('etcd');
  const s = got.get('synod');
  if (e && s) {
    results.addRatio('net.vs_etcd.batched_commands_per_s', s.batched / e.batched);
    results.addRatio('net.vs_etcd.single_client_latency', s.p50 / e.p50);
  }
  const line = (name: string, m: Measured | undefined) =>
    m
      ? `${name} batched ${fmt(m.batched)}/s, unbatched ${fmt(m.unbatched)}/s, one client p50 ${fmt(m.p50)} us p99 ${fmt(m.p99)} us, kill→commit ${fmt(m.killMs)} ms`
      : `${name} skipped`;
  progress(k, env.runs, `${line('etcd', e)}; ${line('synod', s)}`);
  if (got.size === 0) break;
}

const skipped = systems.filter((s) => s.skipped);
if (skipped.length === systems.length) {
  console.error('bench:net: neither etcd nor Synod could run; nothing measured, no results written');
  process.exit(1);
}
for (const s of skipped) results.setup[`skipped ${s.name}`] = s.skipped;
results.write();
