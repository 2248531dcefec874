/**
 * pnpm bench:protocols — the replication protocols side by side: Multi-Paxos (the baseline), Raft
 * and EPaxos on identical workloads, in one run, each cell measured for every protocol back to back
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
 * EPaxos is leaderless (every replica leads the commands it receives), which changes four things,
 * each as little as it takes to keep the workload the same:
 *  - bounds: an EPaxos replica takes no `configure` of its batch limit and window; they are its
 *    `protocolOptions` (`maxBatchCommands`, `window`: commands per instance, own instances being
 *    decided at once), so the batched and the unbatched cells each run on a cluster started with
 *    them (batched: 1024 / 64, unbatched: 1 / 256, the same numbers), each warmed up by one
 *    unmeasured cell of its own bounds; one-client latency and the kill run on the batched one;
 *  - load: the driver runs on node 0 and sends everything to node 0's replica (the same one
 *    driver, the same 1024 keys): one command leader, so no two leaders' commands ever interfere
 *    (0 % conflict in EPaxos's sense; one leader's own successive instances depend on each other,
 *    which costs no slow path). Beside it, `spread.batched` (EPaxos only): one driver on every
 *    node, each sending to its own node's replica with keys of its own (0 % conflict), the same
 *    commands outstanding in all; where a leaderless protocol should win, so its ratio
 *    `spread.batched` divides by Multi-Paxos's one-leader `batched`. There is no
 *    `spread.unbatched`: with one command per instance, a window of 256 and three command leaders,
 *    the replicas spend tens of seconds in EPaxos's execution (`executeFrom` restarts its
 *    dependency walk over every committed, unexecuted instance at each commit while one is
 *    missing), the workers miss their heartbeats and are restarted: the cell measures no
 *    throughput, and the suite says so in its table (`epaxos_spread_unbatched`);
 *  - leader kill to commit: there is no leader; the worker killed is that of the node the
 *    caller's client sends its commands to, then the same `set` is timed until it commits (the
 *    client moves on to the next node after the same 20 ms), so the figure is the client's
 *    failover plus a commit that may wait for the recovery of the dead replica's instances it
 *    depends on. The figure keeps the name `leader_kill_to_commit_ms_*`.
 *
 * Conflicts, replicas and quorums (workers, batched bounds, 3 and 5 replicas (`CONFLICT_REPLICAS`); `CONFLICTS`): the
 * share of conflicting commands as in the EPaxos paper's evaluation, x % of commands (exactly x of
 * every 100 a driver issues) setting one key shared by every driver, the rest keys of their own
 * driver (1024 keys in all, split between the drivers, so every protocol's state holds the same
 * keys). Two commands conflict when they touch a common key; EPaxos orders instances (batches),
 * so an instance conflicts with another leader's when any of their commands do. EPaxos runs one
 * driver per node, each sending to its own replica (every replica a command leader), at 0, 2, 25
 * and 100 %; Multi-Paxos one driver on the leader's node at 0 and 100 % (the share changes nothing
 * for it; both ends, so a chart has its line); each driver opens its sessions (one answered
 * command each) before the warm-up, since EPaxos orders a session's first command against every
 * other. Figures `<protocol>.workers.r<N>.conflict<x>.{commands_per_s, cpu_us_per_command,
 * latency_us_p50}` (latency: a sample of the loaded commands), ratios
 * `epaxos_vs_multipaxos.r<N>.conflict<x>`; at a replica count the main cells skip, the one-client latency too. Flexible
 * Paxos: Multi-Paxos with q1 = 4 and q2 = 2 of 5 (`FPAXOS`) in the same cell as the majority one,
 * `fpaxos.workers.r5.q2_2.*`, ratio `fpaxos_vs_multipaxos.r5.q2_2`.
 *
 * Adding a protocol is one entry in `PROTOCOLS` (its name as `ReplicatedMap.start` takes it, how
 * its bounds are set, and its own options if any): every cell, ratio and chart follows.
 */
import { performance } from 'node:perf_hooks';
import { sameRef, type ActorRef, type StorageKind } from '@synod/actors';
import { ReplicatedMap, type ReplicatedMapOptions } from '@synod/replicated';
import { benchEnv, progress, sized } from './lib/env.js';
import { LatencyRecorder } from './lib/latency.js';
import { Results, percentile } from './lib/results.js';
import { MpDriver, type MpResult } from './multipaxos/driver.js';

/** A protocol of the comparison. The first is the baseline the ratios divide by. */
interface BenchProtocol {
  /** The prefix of its figures; as `ReplicatedMap.start({ protocol })` takes it unless `protocol` says otherwise. */
  name: string;
  /** What `ReplicatedMap.start({ protocol })` takes, when not `name` (a variant of a protocol, e.g. other quorums). */
  protocol?: string;
  /** Anything else it needs to start (its own options): the same workload otherwise. */
  options?: Partial<ReplicatedMapOptions>;
  /**
   * How a cell's batch limit and window reach it: `configure` asked of every leader role while it
   * runs, or `start`: its `protocolOptions` (`maxBatchCommands`, `window`) at start, one cluster per bounds.
   */
  bounds: 'configure' | 'start';
  /** Every node leads the commands it receives: the load goes to node 0, and the `spread.*` cells load every node. */
  leaderless?: boolean;
}

const ALL_PROTOCOLS: readonly BenchProtocol[] = [
  { name: 'multipaxos', bounds: 'configure' },
  { name: 'raft', bounds: 'configure' },
  { name: 'epaxos', bounds: 'start', leaderless: true },
];

/** Multi-Paxos with Flexible Paxos quorums (5 replicas: phase 2 by any 2 acceptors, phase 1 by 4): the conflict section's `q2_2` cell only. */
const FPAXOS: BenchProtocol = { name: 'fpaxos', protocol: 'multipaxos', bounds: 'configure', options: { leader: { q1: 4, q2: 2 } } };

/** PROTOCOLS=epaxos,multipaxos measures only those (a profile, a second look); the ratios need the baseline among them. */
function chosen(): readonly BenchProtocol[] {
  const names = process.env.PROTOCOLS?.split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
  if (names === undefined || names.length === 0) return [...ALL_PROTOCOLS, FPAXOS];
  const all = [...ALL_PROTOCOLS, FPAXOS];
  const unknown = names.filter((x) => !all.some((p) => p.name === x));
  if (unknown.length > 0) throw new Error(`PROTOCOLS names ${unknown.join(', ')}: the protocols of this suite are ${all.map((p) => p.name).join(', ')}`);
  return all.filter((p) => names.includes(p.name));
}
const CHOSEN = chosen();
/** The protocols of the main cells (every cell each); FPAXOS has only its conflict-section cell. */
const PROTOCOLS = CHOSEN.filter((p) => p !== FPAXOS);

/** The batch limit (commands per entry or instance) and window of a throughput cell. */
interface Bounds {
  maxBatchCommands: number;
  window: number;
}
const BATCHED: Bounds = { maxBatchCommands: 1024, window: 64 };
const UNBATCHED: Bounds = { maxBatchCommands: 1, window: 256 };
const BASELINE = ALL_PROTOCOLS[0]!.name;

const env = benchEnv();
const WARMUP_MS = sized(150, 50);
const MEASURE_MS = sized(450, 120);
/** How long a throughput cell warms up (commands issued, not counted) and then counts. */
interface CellTiming {
  warmupMs: number;
  measureMs: number;
}
const CELL: CellTiming = { warmupMs: WARMUP_MS, measureMs: MEASURE_MS };
/**
 * A conflict-section cell runs longer: each cell opens its drivers' sessions first, and a
 * session's first command is an EPaxos barrier (it interferes with everything: see
 * @synod/epaxos interference.ts), which sends the instances in flight around it down the slow
 * path; with a 450 ms count that transient was a good part of the figure, and no part of the
 * protocol's steady state that the conflict axis compares.
 */
const CONFLICT_CELL: CellTiming = { warmupMs: sized(500, 50), measureMs: sized(1_500, 120) };
/**
 * The unmeasured cell on a fresh conflict-section cluster. Load spread over N command leaders
 * reaches each worker's hot paths N times less often, so V8 optimises them later than a single
 * leader's: one ordinary cell left EPaxos's first measured cell still warming up.
 */
const CONFLICT_CLUSTER_WARMUP: CellTiming = { warmupMs: CONFLICT_CELL.warmupMs, measureMs: sized(2_000, 200) };
const SINGLE_OPS = sized(300, 60);
/**
 * Sequential `set`s before the one-client latency is measured, the same for every protocol: the
 * one-client cells run right after heavy throughput cells, and without them the first few hundred
 * commands ran while V8 re-tiered the code of the one-command path (issue 16).
 */
const SINGLE_WARMUP_OPS = sized(3000, 1000);
/** Leader kills per cell and run. */
const KILLS = sized(2, 1);
const REPLICAS = env.quick ? [3] : [3, 5];
/** A cell runs for well under a second: one that has not answered by then is stuck. */
const RUN_TIMEOUT_MS = 30_000;
/** A cell is measured at most this often when a worker was lost during it (see `throughputCell`); then the suite fails with the reason. */
const CELL_ATTEMPTS = 3;
/** The client tries another node after this long without an answer (the leader-kill cells). */
const ATTEMPT_MS = 20;
/** A killed leader's node must be back (restarted, caught up) before the next kill, within this. */
const RECOVER_MS = 20_000;

/**
 * The conflict share of the EPaxos paper's evaluation (Moraru et al., SOSP 2013, §7): the percent of
 * commands that write one key shared by every driver (`HOT_KEY`), the rest keys private to their driver.
 */
const CONFLICTS = [0, 2, 25, 100];
/**
 * Replicas of the conflict cells (commands/s and latency against conflicts and against replicas).
 * Not 7 yet: on 2 shared cores (load average 11 to 20 when tried), EPaxos's instances at 7
 * replicas waited seconds, replicas began recovering instances still being decided (over 75
 * recoveries each in a 2 s cell), throughput fell to 15 k/s, and a cell's driver missed its 30 s deadline.
 */
const CONFLICT_REPLICAS = env.quick ? [5] : [3, 5];

const results = new Results('protocols', {
  protocols: CHOSEN.map((p) => p.name).join(', '),
  cluster: 'N replica nodes started by ReplicatedMap.start({ protocol }); workers: a worker thread per node; memory storage; map set of a 16-byte value',
  'batched / unbatched':
    'a load generator on the leader node (the production client) keeps commands outstanding; batched = up to 1024 commands per entry (requests of about 1024), window 64; unbatched = 1 command per request and per entry, window 256 (set on every node with configure)',
  single_client: `one caller awaiting one set after another through the public API (${SINGLE_WARMUP_OPS} unmeasured, then ${SINGLE_OPS}, the first tenth of them not counted)`,
  cost: 'process CPU time (all threads) / commands of the batched cell',
  leader_kill_to_commit: `workers only: the leader's worker killed, a set issued at once, timed until it commits; client attempt timeout ${ATTEMPT_MS} ms; ${KILLS} kills per cell and run (p50 and max of them)`,
  epaxos:
    'leaderless: batch limit and window as protocolOptions (maxBatchCommands, window) at start, one cluster for the batched cells and one for the unbatched; ' +
    "load on node 0's replica alone (one command leader: 0 % conflict); spread.* = one driver per node, each to its own replica with its own keys (0 % conflict), the same commands outstanding in all, ratios against Multi-Paxos's one-leader cells; " +
    'leader_kill_to_commit = the worker of the node the client sends to killed, a set timed until it commits',
  epaxos_spread_unbatched:
    'not measured: at 1 command per instance, window 256, three command leaders, the replicas spend tens of seconds in execution (executeFrom walks every committed, unexecuted instance again at each commit), miss their heartbeats and are restarted',
  conflicts:
    `workers, ${CONFLICT_REPLICAS.join(', ')} replicas, batched bounds; <protocol>.workers.r<N>.conflict<x>.* where x % of commands (exactly x of every 100 a driver issues) set one key shared by every driver and the rest set keys of their own driver (n<node>.k<j>, 1024 keys in all, split evenly between drivers; one driver or five, the same keys' lengths), sessions opened (one answered command each) before the warm-up; ` +
    "EPaxos: one driver per node, each to its own replica (every replica a command leader), x = 0, 2, 25, 100; conflict in EPaxos's sense (two commands conflict when they touch a common key, so a hot command of one leader conflicts with every other leader's hot commands, and an instance (a batch of up to 1024 commands) conflicts with another when any of their commands do); " +
    "Multi-Paxos: one driver on the leader node (the share changes nothing for it), x = 0 and 100; commands_per_s, cpu_us_per_command (process CPU / commands), latency_us_p50 (median of the drivers' p50 commit latency under that load); " +
    `single_client.* at ${CONFLICT_REPLICAS.filter((n) => !REPLICAS.includes(n)).join(', ') || 'no'} replicas as in the main cells; ratios epaxos_vs_multipaxos.r<N>.conflict<x> divide by Multi-Paxos at the same x (at 2 and 25 by its 0 %)`,
  fpaxos:
    'Multi-Paxos with Flexible Paxos quorums, 5 replicas, q1 = 4, q2 = 2 (leader options): fpaxos.workers.r5.q2_2.* = the conflict0 cell of Multi-Paxos (one driver on the leader, batched); ratio fpaxos_vs_multipaxos.r5.q2_2 against majority quorums (multipaxos.workers.r5.conflict0) in the same run',
  measurement: `${WARMUP_MS} ms warm-up, ${MEASURE_MS} ms counted, per throughput cell, after one unmeasured batched cell on each new cluster; conflict-section cells ${CONFLICT_CELL.warmupMs} ms warm-up, ${CONFLICT_CELL.measureMs} ms counted, after an unmeasured ${CONFLICT_CLUSTER_WARMUP.measureMs} ms cell; after each cell, one set answered (the cell's backlog done) before the next; a cell during which the runtime restarted a worker is measured again (at most ${CELL_ATTEMPTS} times); protocols alternate in order from run to run`,
  runs: env.runs,
});

type Mode = 'workers' | 'embedded';

/** A cluster for a cell; `bounds` are its `protocolOptions` for a protocol that takes them at start. */
async function withMap<T>(p: BenchProtocol, mode: Mode, replicas: number, bounds: Bounds, fn: (map: ReplicatedMap<string>) => Promise<T>): Promise<T> {
  const storage: StorageKind = 'memory';
  const protocolOptions = p.bounds === 'start' ? { ...(p.options?.protocolOptions as object | undefined), ...bounds } : p.options?.protocolOptions;
  const map = await ReplicatedMap.start<string>({
    ...p.options,
    protocol: p.protocol ?? p.name,
    protocolOptions,
    mode,
    replicas,
    storage,
    name: 'bench',
    attemptTimeoutMs: ATTEMPT_MS,
    operationTimeoutMs: 30_000,
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
 * Sets the batch limit and window on every node that may lead (protocols whose `bounds` are `configure`).
 * An ask lost to a worker the runtime restarted meanwhile (a loaded machine can starve one past
 * its heartbeat) is asked again of the new incarnation.
 */
async function tune(map: ReplicatedMap<string>, maxBatchCommands: number, window: number): Promise<void> {
  for (const l of map.rsm.cluster.leaders) {
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await map.system.ask<{ ok: boolean; error?: string }>(
          l,
          { type: 'configure', options: { maxBatchCommands, window } },
          { timeoutMs: RUN_TIMEOUT_MS / 4 },
        );
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
 * client's guess is not it when a follower forwards requests to the leader, as Raft's do. A
 * deposed leader that has not heard of its successor yet (a starved worker) still says `leader`:
 * of two, the one with the higher ballot (Multi-Paxos) or term (Raft) leads.
 */
async function leaderNow(map: ReplicatedMap<string>): Promise<number> {
  const end = Date.now() + RECOVER_MS;
  for (;;) {
    const states = await Promise.all(
      map.rsm.cluster.leaders.map((l) =>
        map.system.inspect(l).then(
          (s) => s.state as { status?: string; ballot?: number; term?: number },
          () => undefined,
        ),
      ),
    );
    const rank = (x: { ballot?: number; term?: number } | undefined) => x?.ballot ?? x?.term ?? 0;
    let i = -1;
    states.forEach((x, k) => {
      if (x?.status === 'leader' && (i < 0 || rank(x) > rank(states[i]))) i = k;
    });
    if (i >= 0) return i;
    if (Date.now() > end) throw new Error(`no node leads after ${RECOVER_MS} ms`);
    await sleep(10);
  }
}

interface Throughput {
  perS: number;
  cpuUs: number;
  /** The median of the drivers' p50 commit latency under the load (a sample of commands). */
  latencyUsP50: number;
}

/** The workload of a conflict cell (see `CONFLICTS`); none: the drivers' default keys. */
interface ConflictLoad {
  conflictPercent: number;
}

/** A worker of the cluster exited while a cell ran (the runtime restarted it): the cell's figure would span the restart. */
class WorkerLost extends Error {}

/**
 * A throughput cell (see `throughputOnce`). On a loaded machine the runtime may restart a worker
 * that missed its heartbeats (2 s without CPU), and with it a driver on that node: its figure is
 * discarded, and once the cluster is whole again the cell is measured again, said on stderr.
 */
async function throughputCell(
  map: ReplicatedMap<string>,
  p: BenchProtocol,
  bounds: Bounds,
  spread = false,
  load?: ConflictLoad,
  timing = CELL,
): Promise<Throughput> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await throughputOnce(map, p, bounds, spread, load, timing);
    } catch (e) {
      if (!(e instanceof WorkerLost) || attempt >= CELL_ATTEMPTS) throw e;
      process.stderr.write(
        `protocols: ${p.name}: ${e.message}; the cell is measured again once the cluster is whole (attempt ${attempt + 1} of ${CELL_ATTEMPTS})\n`,
      );
      await settle(map, true);
    }
  }
}

/**
 * Waits until what earlier commands left is done: one `set` answered (it queues behind the previous
 * cell's backlog, which would otherwise run into the next cell's warm-up); with `whole`, also every
 * replica back (a restarted one) and caught up with the most advanced.
 */
async function settle(map: ReplicatedMap<string>, whole = false): Promise<void> {
  await map.set('settle', 'v');
  if (!whole) return;
  const end = Date.now() + RECOVER_MS;
  const replicas = map.rsm.cluster.replicas.map((_, i) => i);
  const target = Math.max(...(await Promise.all(replicas.map((i) => appliedOf(map, i)))));
  for (;;) {
    const applied = await Promise.all(replicas.map((i) => appliedOf(map, i)));
    if (applied.every((a) => a >= target)) return;
    if (Date.now() > end)
      throw new Error(`after a worker was lost, the replicas did not catch up within ${RECOVER_MS} ms (applied ${applied.join(', ')} of ${target})`);
    await sleep(10);
  }
}

/**
 * Rejects with {@link WorkerLost} as soon as a worker of the system exits, until `off()`: a driver
 * on it is gone, and its `run` would otherwise be awaited until its timeout.
 */
function watchWorkers(map: ReplicatedMap<string>): { lost: Promise<never>; off(): void } {
  let off = () => {};
  const lost = new Promise<never>((_, reject) => {
    const onExit = (e: { node: number; reason: string }) => reject(new WorkerLost(`node ${e.node}'s worker was lost during the cell (${e.reason})`));
    map.system.events.on('worker:exited', onExit);
    off = () => map.system.events.off('worker:exited', onExit);
  });
  lost.catch(() => {}); // observed by the race, or not at all once the cell is done
  return { lost, off: () => off() };
}

/**
 * Drivers keep commands outstanding: one on the leader's node (node 0 for a leaderless protocol),
 * or with `spread` one on every node, each sending to its own node's replica with keys of its own
 * and a share of the same outstanding commands. A protocol tuned by `configure` gets the cell's
 * bounds now (and the batched ones back after); one tuned at start must have been started with them.
 */
async function throughputOnce(
  map: ReplicatedMap<string>,
  p: BenchProtocol,
  bounds: Bounds,
  spread: boolean,
  load: ConflictLoad | undefined,
  timing: CellTiming,
): Promise<Throughput> {
  const { system, cluster } = map.rsm;
  const workers = watchWorkers(map);
  const { maxBatchCommands: batch, window } = bounds;
  if (spread && !p.leaderless) throw new Error(`spread load is measured for leaderless protocols only, not ${p.name}`);
  const nodes = spread ? cluster.leaders.map((_, i) => i) : [p.leaderless ? 0 : await leaderNow(map)];
  if (p.bounds === 'configure') await tune(map, batch, window);
  const tag = Math.random().toString(36).slice(2, 7);
  let drivers: ActorRef<any>[] = [];
  try {
    drivers = await Promise.race([
      Promise.all(
        nodes.map((i) => system.spawn(MpDriver, { name: `driver-${batch}-${window}-${i}-${tag}`, worker: cluster.workerKey(i), restart: 'temporary' })),
      ),
      workers.lost,
    ]);
    const outstanding = Math.ceil(Math.min(Math.max(2 * batch * window, 512), 65_536) / nodes.length);
    const c0 = process.cpuUsage();
    const runs = Promise.all(
      drivers.map((driver, d) => {
        const i = nodes[d]!;
        // A leaderless cluster's driver sends to its own node's replica: that one first, and no `leaderless` spreading.
        const leaders = p.leaderless ? [...cluster.leaders.slice(i), ...cluster.leaders.slice(0, i)] : cluster.leaders;
        return system.ask<MpResult>(
          driver,
          {
            type: 'run',
            cluster: { leaders, replicas: cluster.replicas },
            outstanding,
            valueBytes: 16,
            warmupMs: timing.warmupMs,
            measureMs: timing.measureMs,
            commandsPerRequest: batch,
            // Keys of its own: spread drivers, and a conflict cell's single driver too (the same key bytes as the spread ones').
            ...(spread || load ? { keyPrefix: `n${i}.` } : {}),
            // A conflict cell: 1024 keys in all, split between the drivers, x % of commands on the shared key, sessions opened first.
            ...(load ? { conflictPercent: load.conflictPercent, keyCount: Math.ceil(1024 / nodes.length), openSessionsFirst: true } : {}),
          },
          { timeoutMs: RUN_TIMEOUT_MS },
        );
      }),
    );
    runs.catch(() => {}); // a run lost with its worker times out later: the race has moved on
    const rs = await Promise.race([runs, workers.lost]);
    const cu = process.cpuUsage(c0);
    const perS = rs.reduce((sum, r) => sum + (r.commands / r.ms) * 1000, 0);
    const latencyUsP50 = percentile(
      rs.map((r) => r.latencyUsP50).sort((a, b) => a - b),
      50,
    );
    // CPU over the whole run (warm-up included) against the commands of the whole run, at the measured rate.
    return { perS, cpuUs: (cu.user + cu.system) / ((perS * (timing.warmupMs + timing.measureMs)) / 1000), latencyUsP50 };
  } finally {
    workers.off();
    for (const driver of drivers) await system.stop(driver).catch(() => {});
    if (p.bounds === 'configure') await tune(map, BATCHED.maxBatchCommands, BATCHED.window);
    await settle(map);
  }
}

/** One caller, one `set` at a time: the percentiles of the commit latency (us) as figures; returns the p50. */
async function singleClient(map: ReplicatedMap<string>, lat: LatencyRecorder, prefix: string): Promise<number> {
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
  lat.addTo(results, `${prefix}.single_client.commit_us`);
  return lat.percentiles().p50;
}

/**
 * The node the caller's commands go to: the leader's, or for a leaderless protocol the one the
 * client sends its session to (its guess, from where its session starts, as `ClientCore` picks it).
 */
async function targetNode(map: ReplicatedMap<string>, p: BenchProtocol): Promise<number> {
  const leaders = map.rsm.cluster.leaders;
  if (!p.leaderless) return leaders[await leaderNow(map)]!.node;
  return leaders[(map.rsm.client.leaderIndex + map.clientSession.no) % leaders.length]!.node;
}

/**
 * Kills the leader's worker (leaderless: the worker of the node the client sends to) and times a
 * `set` issued at once until it commits; then waits until the killed node's actors are back and
 * it has caught up, so the next kill starts whole. ms.
 */
async function leaderKill(map: ReplicatedMap<string>, p: BenchProtocol): Promise<number> {
  const { system, cluster } = map.rsm;
  await map.set('before-kill', 'v');
  const leaderNode = await targetNode(map, p);
  const onNode = [...cluster.leaders, ...cluster.replicas, ...Object.values(cluster.roles).flat()].filter(
    (r, i, all) => r.node === leaderNode && all.findIndex((x) => sameRef(x, r)) === i,
  );
  const restarted = new Set<string>();
  const onRestart = (e: { ref: { name: string; node: number } }) => {
    if (e.ref.node === leaderNode) restarted.add(e.ref.name);
  };
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
    // Caught up with the leader, or (leaderless) with another node: every replica executes every instance.
    const reference = p.leaderless ? cluster.replicas.findIndex((r) => r.node !== leaderNode) : await leaderNow(map);
    const target = await appliedOf(map, reference);
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

/**
 * The conflict section for one protocol and N (workers, batched bounds): a cluster warmed up by
 * one unmeasured cell (`CONFLICT_CLUSTER_WARMUP`), then one cell per conflict share (EPaxos:
 * `CONFLICTS`, load on every node; a leader-based protocol: 0 and 100 %, load on the leader;
 * FPAXOS: 0 %, named `q2_2`), and the one-client latency where the main cells do not measure it.
 */
async function conflictCells(p: BenchProtocol, n: number, put: (name: string, unit: string, v: number) => void, lat: LatencyRecorder): Promise<void> {
  const spread = p.leaderless === true;
  const shares = spread ? CONFLICTS : p === FPAXOS ? [0] : [0, 100];
  await withMap(p, 'workers', n, BATCHED, async (map) => {
    await throughputCell(map, p, BATCHED, spread, { conflictPercent: 0 }, CONFLICT_CLUSTER_WARMUP); // unmeasured: a fresh cluster warms up (JIT)
    for (const x of shares) {
      const t = await throughputCell(map, p, BATCHED, spread, { conflictPercent: x }, CONFLICT_CELL);
      const cell = `${p.name}.workers.r${n}.${p === FPAXOS ? 'q2_2' : `conflict${x}`}`;
      put(`${cell}.commands_per_s`, 'commands/s', t.perS);
      put(`${cell}.cpu_us_per_command`, 'us', t.cpuUs);
      put(`${cell}.latency_us_p50`, 'us', t.latencyUsP50);
    }
    if (p !== FPAXOS && !REPLICAS.includes(n)) await singleClient(map, lat, `${p.name}.workers.r${n}`);
  }).catch((e: unknown) => {
    throw new Error(`protocols: conflict cells of ${p.name} at ${n} replicas failed: ${(e as Error).message}`, { cause: e });
  });
}

const lat = new LatencyRecorder();
for (let k = 1; k <= env.runs; k++) {
  const run: Record<string, number> = {};
  const put = (name: string, unit: string, v: number) => {
    run[name] = v;
    results.add(name, unit, v);
  };
  // Alternate which protocol goes first, so drift within a run favours none.
  const order = k % 2 === 1 ? PROTOCOLS : [...PROTOCOLS].reverse();
  for (const mode of ['workers', 'embedded'] as const) {
    for (const n of REPLICAS) {
      for (const p of order) {
        const cell = `${p.name}.${mode}.r${n}`;
        const unbatched = async (map: ReplicatedMap<string>) => {
          put(`${cell}.unbatched.memory.commands_per_s`, 'commands/s', (await throughputCell(map, p, UNBATCHED)).perS);
        };
        const inCell = (e: unknown) => {
          throw new Error(`protocols: cell ${cell} failed in run ${k}: ${(e as Error).message}`, { cause: e });
        };
        await withMap(p, mode, n, BATCHED, async (map) => {
          await throughputCell(map, p, BATCHED); // unmeasured: a fresh cluster warms up (JIT)
          const batched = await throughputCell(map, p, BATCHED);
          put(`${cell}.batched.memory.commands_per_s`, 'commands/s', batched.perS);
          put(`${cell}.cpu_us_per_command`, 'us', batched.cpuUs);
          if (p.leaderless) put(`${cell}.spread.batched.memory.commands_per_s`, 'commands/s', (await throughputCell(map, p, BATCHED, true)).perS);
          if (p.bounds === 'configure') await unbatched(map);
          run[`${cell}.single_client.commit_us_p50`] = await singleClient(map, lat, cell);
          if (mode === 'workers') {
            const kills: number[] = [];
            for (let i = 0; i < KILLS; i++) kills.push(await leaderKill(map, p));
            kills.sort((a, b) => a - b);
            put(`${cell}.leader_kill_to_commit_ms_p50`, 'ms', percentile(kills, 50));
            put(`${cell}.leader_kill_to_commit_ms_max`, 'ms', kills[kills.length - 1]!);
          }
        }).catch(inCell);
        // Bounds given at start: the unbatched cells get a cluster of their own, warmed up at those bounds.
        if (p.bounds === 'start') {
          await withMap(p, mode, n, UNBATCHED, async (map) => {
            await throughputCell(map, p, UNBATCHED); // unmeasured
            await unbatched(map);
          }).catch(inCell);
        }
      }
    }
  }
  // Conflicts and replicas (workers), and Flexible Paxos quorums at 5 replicas.
  for (const n of CONFLICT_REPLICAS) {
    for (const p of order) if (p.name === BASELINE || p.leaderless) await conflictCells(p, n, put, lat);
    if (n === 5 && CHOSEN.includes(FPAXOS)) await conflictCells(FPAXOS, n, put, lat);
  }
  for (const n of CONFLICT_REPLICAS) {
    for (const p of PROTOCOLS.filter((x) => x.leaderless)) {
      for (const x of CONFLICTS) {
        const a = run[`${p.name}.workers.r${n}.conflict${x}.commands_per_s`];
        const b = run[`${BASELINE}.workers.r${n}.conflict${x}.commands_per_s`] ?? run[`${BASELINE}.workers.r${n}.conflict0.commands_per_s`];
        if (a !== undefined && b !== undefined && b > 0) results.addRatio(`${p.name}_vs_${BASELINE}.r${n}.conflict${x}`, a / b);
      }
      const ca = run[`${p.name}.workers.r${n}.conflict0.cpu_us_per_command`];
      const cb = run[`${BASELINE}.workers.r${n}.conflict0.cpu_us_per_command`];
      if (ca !== undefined && cb !== undefined && cb > 0) results.addRatio(`${p.name}_vs_${BASELINE}.r${n}.conflict0.cpu_per_command`, ca / cb);
    }
  }
  const fp = run['fpaxos.workers.r5.q2_2.commands_per_s'];
  const majority = run[`${BASELINE}.workers.r5.conflict0.commands_per_s`];
  if (fp !== undefined && majority !== undefined && majority > 0) results.addRatio(`fpaxos_vs_${BASELINE}.r5.q2_2`, fp / majority);
  for (const p of PROTOCOLS.filter((x) => x.name !== BASELINE)) {
    const ratioOf = (name: string, figure: string, baseline: string) => {
      const a = run[`${p.name}.${figure}`];
      const b = run[`${BASELINE}.${baseline}`];
      if (a !== undefined && b !== undefined && b > 0) results.addRatio(`${p.name}_vs_${BASELINE}.${name}`, a / b);
    };
    const ratio = (name: string, figure: string) => ratioOf(name, figure, figure);
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
    if (p.leaderless) {
      // Load over every node against the baseline's one leader: where a leaderless protocol should win.
      ratioOf('spread.batched', 'workers.r3.spread.batched.memory.commands_per_s', 'workers.r3.batched.memory.commands_per_s');
      ratioOf('r5.spread.batched', 'workers.r5.spread.batched.memory.commands_per_s', 'workers.r5.batched.memory.commands_per_s');
    }
  }
  const show = (p: BenchProtocol) => {
    const f = (name: string) => run[`${p.name}.workers.r3.${name}`] ?? NaN;
    return (
      `${p.name}: batched ${(f('batched.memory.commands_per_s') / 1e6).toFixed(2)} M/s, ` +
      `unbatched ${(f('unbatched.memory.commands_per_s') / 1e3).toFixed(1)} k/s, ` +
      (p.leaderless ? `spread ${(f('spread.batched.memory.commands_per_s') / 1e6).toFixed(2)} M/s, ` : '') +
      `one client ${f('single_client.commit_us_p50').toFixed(0)} us, kill ${f('leader_kill_to_commit_ms_p50').toFixed(0)} ms`
    );
  };
  const conflicts = `epaxos r5 conflict 0/100 %: ${CONFLICTS.filter((x) => x === 0 || x === 100)
    .map((x) => ((run[`epaxos.workers.r5.conflict${x}.commands_per_s`] ?? NaN) / 1e3).toFixed(0))
    .join(
      '/',
    )} k/s, multipaxos ${((run['multipaxos.workers.r5.conflict0.commands_per_s'] ?? NaN) / 1e3).toFixed(0)} k/s, fpaxos q2=2 ${((run['fpaxos.workers.r5.q2_2.commands_per_s'] ?? NaN) / 1e3).toFixed(0)} k/s`;
  progress(k, env.runs, `${PROTOCOLS.map(show).join('; ')}; ${conflicts}`);
}
results.write();
