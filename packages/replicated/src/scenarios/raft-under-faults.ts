/**
 * The ReplicatedMap on Raft under simulated faults, as users run it: the cluster is started by
 * `startCluster` with `protocol: 'raft'` (what `ReplicatedStateMachine.start({ protocol: 'raft' })`
 * calls), its entries are the bytes of client requests, and the clients are the production
 * client (`ClientCore` of @synod/smr) in the same small actor as the Multi-Paxos campaign's.
 *
 * Per seed: 3 or 5 replica nodes (each a RaftNode and a replica), and 3-4 Jepsen-style processes
 * on their own nodes doing set, get (linearizable, and lease reads), compareAndSet and delete on
 * a few keys, one at a time; an operator asks for leadership transfers now and then. The
 * Multi-Paxos campaign's fault mix: message drop up to 30%, duplication, reordering, delay,
 * partitions, crashes of replica nodes (never a majority at once), pauses; then a heal. Besides,
 * the leader (most runs elect node 0 first), and in some runs whichever node leads later, is cut
 * off from the other replica nodes while clients still reach it: a deposed leader that goes on
 * believing it leads is where stale reads would show. Small bounds (four appends of one entry
 * each in flight per follower, four entries kept below a snapshot, 64-byte snapshot chunks) put
 * pipelining, probing, compaction and snapshot transfer to work in most seeds.
 *
 * After every step: the Raft paper's safety properties (Figure 3) and the commit rule over the
 * RaftNodes, each counted by what it made durable; the replicas apply exactly the committed log,
 * their applied logs are prefixes of one another and only grow. At the end: the processes'
 * history is linearizable (the checker, with a step budget: the same verdict on every run, and no
 * verdict is a failure), every process finished its final operations after the heal (liveness),
 * and all replicas caught up.
 *
 * `forgetfulRaftScenario` is the control: nodes that forget their term and vote when they
 * restart. A campaign that does not catch it proves nothing.
 */
import { defineActor, type ActorRef } from '@synod/actors';
import { Prng } from '@synod/actors/internals';
import { defineScenario, randomPlan, type FaultPlan, type Simulation, type SimView, type TimedFault } from '@synod/actors/sim';
import { RaftInvariants, type RaftMsg, type RaftOptions } from '@synod/raft';
import { startCluster } from '../cluster.js';
import { mapMachine } from '../map-machine.js';
import {
  MapProcess,
  appliedDisagreement,
  checkMapRun,
  keepAMajorityUp,
  mapSimulationOptions,
  processesFinished,
  replicasCaughtUp,
  type ProcessArgs,
} from './map-under-faults.js';

// ------------------------------------------------------------------ an operator asking for transfers

interface OperatorArgs {
  nodes: ActorRef<RaftMsg>[];
  transfers: { atMs: number; to: number }[];
}

/** Asks a random node (it forwards to the leader) to hand leadership to another, at set times. */
export const TransferOperator = defineActor<{ args: OperatorArgs; next: number }, { type: 'tick' }, OperatorArgs>({
  module: import.meta.url,
  label: 'TransferOperator',
  init(args, ctx) {
    if (args.transfers.length > 0) ctx.setTimer('tick', args.transfers[0]!.atMs, { type: 'tick' });
    return { args, next: 0 };
  },
  receive(s, _m, ctx) {
    const t = s.args.transfers[s.next++];
    if (!t) return;
    const via = s.args.nodes[Math.floor(ctx.random() * s.args.nodes.length)]!;
    ctx.send(via, { type: 'r-transfer', to: t.to });
    const after = s.args.transfers[s.next];
    if (after) ctx.setTimer('tick', Math.max(0, after.atMs - ctx.now()), { type: 'tick' });
  },
});

// ------------------------------------------------------------------ the set-up

export interface RaftShape {
  replicas: number;
  processes: number;
  keys: string[];
  faultsEndMs: number;
  settleMs: number;
  /** Leadership transfers asked for during the faults. */
  transfers: { atMs: number; to: number }[];
}

export function raftShape(seed: number): RaftShape {
  const rng = new Prng((seed ^ 0x5eed4a) >>> 0);
  const keys = ['a', 'b', 'c'].slice(0, 1 + rng.int(3));
  const replicas = rng.next() < 0.5 ? 3 : 5;
  const faultsEndMs = 500 + rng.int(700);
  const transfers = Array.from({ length: rng.int(3) }, () => ({ atMs: 30 + rng.int(faultsEndMs), to: rng.int(replicas) })).sort((a, b) => a.atMs - b.atMs);
  return { replicas, processes: 3 + rng.int(2), keys, faultsEndMs, settleMs: 8_000, transfers };
}

const NAME = 'raft';
const names = { raft: (i: number) => `${NAME}-raft-${i}`, replica: (i: number) => `${NAME}-replica-${i}` };

/** Faults over the replica nodes (named by their RaftNodes), never a majority of nodes down at once. */
export function raftPlan(seed: number, shape: RaftShape): FaultPlan {
  const rng = new Prng((seed ^ 0x7a7a) >>> 0);
  const rafts = Array.from({ length: shape.replicas }, (_, i) => names.raft(i));
  const plan = randomPlan(seed, {
    nodes: rafts,
    endMs: shape.faultsEndMs,
    // Faults begin once the set-up's wiring (configure messages) has arrived.
    startMs: 20,
    minFaults: 3,
    maxFaults: 12,
    maxDownMs: 200,
    weights: { 'crash-node': 3, isolate: 2 },
    network: {
      drop: Math.round(rng.next() * 0.3 * 1000) / 1000,
      duplicate: Math.round(rng.next() * 0.1 * 1000) / 1000,
      reorder: Math.round(rng.next() * 0.2 * 1000) / 1000,
      latency: { kind: 'uniform', minMs: 0.05, maxMs: 1 + rng.int(4) },
    },
    disk: { syncDelay: { kind: 'uniform', minMs: 0.1, maxMs: 2 } },
  });
  // Cut the leader off from the other replica nodes (clients still reach it), at some point.
  const faults: TimedFault[] = [...(plan.faults ?? [])];
  const cutOff = (i: number): string[][] => [[names.raft(i)], rafts.filter((_, k) => k !== i)];
  if (rng.next() < 0.7)
    faults.push({ atMs: 20 + Math.round(rng.next() * shape.faultsEndMs * 0.4), kind: 'partition', groups: cutOff(0), durationMs: 100 + rng.int(300) });
  if (rng.next() < 0.4)
    faults.push({
      atMs: Math.round(shape.faultsEndMs * (0.5 + rng.next() * 0.4)),
      kind: 'partition',
      groups: cutOff(rng.int(shape.replicas)),
      durationMs: 100 + rng.int(300),
    });
  faults.sort((a, b) => a.atMs - b.atMs);
  plan.faults = keepAMajorityUp(faults, new Set(rafts), Math.floor((shape.replicas - 1) / 2));
  plan.links = [{ from: 0, drop: 0, duplicate: 0, reorder: 0 }];
  return plan;
}

/** Raft's own options in the campaign: small bounds that make every mechanism work. */
export const campaignRaftOptions: Partial<RaftOptions> = { maxInflightMsgs: 4, maxAppendBytes: 1, snapshotCatchUpEntries: 4 };

interface Context {
  shape: RaftShape;
  processes: string[];
}

async function setup(sim: Simulation, shape: RaftShape, forgetful: boolean): Promise<Context> {
  const n = shape.replicas;
  const cluster = await startCluster(sim, {
    name: NAME,
    protocol: 'raft',
    replicas: n,
    machine: mapMachine,
    storage: 'file',
    forgetfulAcceptors: forgetful,
    leader: { heartbeatMs: 20, electionTimeoutMs: 150, leaseMs: 100, window: 16, maxBatchCommands: 16, tickMs: 10 },
    protocolOptions: campaignRaftOptions,
    replica: { snapshotEvery: 16, digestEverySlots: 8, snapshotChunkBytes: 64, maxApplyAttempts: 8 },
    supervision: { maxRestarts: 1_000, windowMs: 1_000 },
  });
  const processes: string[] = [];
  for (let p = 0; p < shape.processes; p++) {
    const name = `process-${p}`;
    processes.push(name);
    await sim.spawn(MapProcess, {
      name,
      args: {
        process: p,
        cluster: { leaders: cluster.leaders, replicas: cluster.replicas },
        keys: shape.keys,
        busyUntilMs: shape.faultsEndMs,
        finalOps: 3,
        finalAtMs: shape.faultsEndMs + 500,
        attemptTimeoutMs: 100,
        opTimeoutMs: 1_500,
        finalOpTimeoutMs: 3_000,
        leaseReadShare: 0.3,
      } satisfies ProcessArgs,
    });
  }
  if (shape.transfers.length > 0)
    await sim.spawn(TransferOperator, { name: 'operator', args: { nodes: cluster.leaders as ActorRef<RaftMsg>[], transfers: shape.transfers } });
  const invariants = new RaftInvariants(n);
  const raftNames = Array.from({ length: n }, (_, i) => names.raft(i));
  const replicaNames = Array.from({ length: n }, (_, i) => names.replica(i));
  sim.invariant('raft safety (Figure 3)', (view: SimView) => {
    const actors: { name: string; state: unknown; tentative?: boolean }[] = [];
    // A node counts by what it made durable: a change a crash could still undo has reached no one.
    for (const name of raftNames) actors.push({ name, state: view.state(name), tentative: !view.durable(name) });
    for (const name of replicaNames) actors.push({ name, state: view.state(name) });
    const v = invariants.observe({ actors });
    return v === null ? true : `${v.property}: ${v.message}`;
  });
  return { shape, processes };
}

function settled(view: SimView, ctx: Context): boolean {
  return view.nowMs >= ctx.shape.faultsEndMs + 500 && processesFinished(view, ctx.processes) && replicasCaughtUp(view, names.replica, ctx.shape.replicas);
}

function scenario(forgetful: boolean) {
  return defineScenario<Context>({
    module: import.meta.url,
    name: forgetful ? 'replicated map on raft with nodes that forget their term and vote (control: must fail)' : 'replicated map on raft under faults',
    plan: (seed) => raftPlan(seed, raftShape(seed)),
    simulation: mapSimulationOptions,
    setup: (sim, seed) => setup(sim, raftShape(seed), forgetful),
    run: async (sim, ctx) => {
      await sim.run({ untilMs: ctx.shape.faultsEndMs + ctx.shape.settleMs, until: (view) => settled(view, ctx) });
    },
    check: (sim, ctx) => checkMapRun(sim, ctx.processes, ctx.shape.settleMs, () => appliedDisagreement(sim, names.replica, ctx.shape.replicas)),
  });
}

/** The ReplicatedMap on Raft under faults (see the module comment). */
export const raftScenario = scenario(false);
/** The control: nodes that forget their term and vote when they restart. */
export const forgetfulRaftScenario = scenario(true);
