/**
 * Raft and the ReplicatedMap's state machine under simulated faults: the same campaign as
 * Multi-Paxos's, on the same runtime and the same replicas.
 *
 * Per seed: 3 or 5 replica nodes, each a RaftNode beside a Multi-Paxos Replica (which applies
 * what its node commits), and 2-3 sequential clients on their own nodes doing set, get
 * (linearizable or lease reads), compareAndSet and delete on a few keys, retrying across nodes
 * (and now and then trying a node at random, as a client with a stale idea of the leader would);
 * an operator asks for leadership transfers now and then. A random fault plan: message drop up to
 * 30%, duplication, reordering, delay, partitions (including ones that isolate the leader),
 * crashes and restarts of nodes (never a majority at once), pauses; then a heal. Small bounds
 * (four appends of about one entry each in flight, four entries kept below a snapshot, 512-byte
 * snapshot chunks) put
 * pipelining, probing, compaction and chunked snapshot transfer to work in most seeds.
 *
 * After every step: the Raft paper's safety properties (Figure 3) and the replicas' applied
 * logs being the committed log. At the end: the clients' history is linearizable (the checker,
 * within a deterministic memory budget; an undecided check fails the seed), every client
 * finished its final operations after the heal (liveness), and all replicas caught up.
 *
 * The must-fail control: the same campaign with nodes that forget their term and vote when they
 * restart. It must be caught.
 */
import { Prng, defineActor, type ActorRef } from '@synod/actors';
import { defineScenario, randomPlan, type FaultPlan, type Simulation, type SimView, type TimedFault } from '@synod/actors/sim';
import { check, formatExplanation, replicatedMapModel, type Operation, type ReplicatedMapInput } from '@synod/checker';
import { Replica, type ReplicaArgs, type ReplicaMsg, type ReplicaState } from '@synod/paxos';
import {
  HARD_KEY, RaftInvariants, RaftNode, createRaftNodeState, inspectRaftNode, receiveRaft, recoverRaft,
  type RaftMsg, type RaftNodeArgs, type RaftNodeState, type RaftOptions,
} from '@synod/raft';
import { mapMachine } from '@synod/replicated';
import { MapClient, keepAMajorityUp, type ClientArgs, type MapClientState } from './multipaxos.js';

// ------------------------------------------------------------------ the control: a node that forgets

/**
 * A RaftNode that loses its term and vote on every restart (its log it keeps): what a node that
 * did not persist them, or persisted them after answering, would do. It may vote twice in a term.
 */
export const ForgetfulRaftNode = defineActor<RaftNodeState, RaftMsg, RaftNodeArgs, never>({
  module: import.meta.url,
  label: 'ForgetfulRaftNode',
  storage: 'shared',
  init(args, ctx) {
    const entries = ctx.recoveredEntries();
    entries.delete(HARD_KEY);
    return createRaftNodeState(args, ctx, recoverRaft(entries));
  },
  inspect: inspectRaftNode,
  receive: receiveRaft,
});

// ------------------------------------------------------------------ an operator asking for transfers

interface OperatorArgs { nodes: ActorRef<RaftMsg>[]; transfers: { atMs: number; to: number }[] }

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
  clients: number;
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
  const faultsEndMs = 600 + rng.int(900);
  const transfers = Array.from({ length: rng.int(3) }, () => ({ atMs: 30 + rng.int(faultsEndMs), to: rng.int(replicas) })).sort((a, b) => a.atMs - b.atMs);
  return { replicas, clients: 3 + rng.int(2), keys, faultsEndMs, settleMs: 8_000, transfers };
}

const node = (i: number) => `node-${i}`;
const names = { raft: (i: number) => `raft-${i}`, replica: (i: number) => `replica-${i}` };

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
    maxFaults: 14,
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
  // Cut the leader off from the other nodes at some point (most runs elect node 0 first), and in
  // some runs whichever node leads later. Clients still reach it: a deposed leader that goes on
  // believing it leads for a while is where stale reads would show.
  const faults: TimedFault[] = [...(plan.faults ?? [])];
  const cutOff = (i: number): string[][] => [[names.raft(i)], rafts.filter((_, k) => k !== i)];
  if (rng.next() < 0.8) faults.push({ atMs: 20 + Math.round(rng.next() * shape.faultsEndMs * 0.4), kind: 'partition', groups: cutOff(0), durationMs: 100 + rng.int(300) });
  if (rng.next() < 0.5) faults.push({ atMs: Math.round(shape.faultsEndMs * (0.5 + rng.next() * 0.4)), kind: 'partition', groups: cutOff(rng.int(shape.replicas)), durationMs: 100 + rng.int(300) });
  faults.sort((a, b) => a.atMs - b.atMs);
  plan.faults = keepAMajorityUp(faults, new Set(rafts), Math.floor((shape.replicas - 1) / 2));
  plan.links = [{ from: 0, drop: 0, duplicate: 0, reorder: 0 }];
  return plan;
}

/** Options of the simulated nodes: short timeouts, and small bounds that make every mechanism work. */
export const simRaftOptions: Partial<RaftOptions> = {
  heartbeatMs: 20, electionTimeoutMs: 150, window: 16, maxBatchCommands: 16, encodeBatches: false,
  maxInflightMsgs: 4, maxAppendBytes: 1, snapshotCatchUpEntries: 4, maxSnapshotChunkBytes: 512, maxSnapshotChunksInFlight: 2, snapshotRetryMs: 60,
};

interface Context { shape: RaftShape; clients: string[] }

async function setup(sim: Simulation, shape: RaftShape, nodeDef: typeof RaftNode): Promise<Context> {
  const n = shape.replicas;
  const replicaOptions = { snapshotEvery: 16, digest: true };
  const replicas: ActorRef<ReplicaMsg>[] = [];
  for (let i = 0; i < n; i++) {
    replicas.push(await sim.spawn(Replica, { name: names.replica(i), worker: node(i), storage: 'file', args: { index: i, machine: mapMachine.key, options: replicaOptions } }));
  }
  const rafts: ActorRef<RaftMsg>[] = [];
  const argsOf = (i: number, nodes: ActorRef<RaftMsg>[]): RaftNodeArgs => ({ index: i, size: n, nodes, replicas, options: simRaftOptions });
  for (let i = 0; i < n; i++) {
    rafts.push(await sim.spawn(nodeDef, { name: names.raft(i), worker: node(i), storage: 'file', args: argsOf(i, []) }));
  }
  // Refs that did not exist at spawn: given now, and kept for restarts.
  rafts.forEach((ref, i) => {
    sim.root.setChildArgs(ref, argsOf(i, rafts));
    sim.send(ref, { type: 'configure', nodes: rafts });
  });
  replicas.forEach((ref, i) => {
    sim.root.setChildArgs(ref, { index: i, machine: mapMachine.key, replicas, leaders: rafts, options: replicaOptions } satisfies ReplicaArgs);
    sim.send(ref, { type: 'configure', replicas, leaders: rafts });
  });
  const clients: string[] = [];
  for (let p = 0; p < shape.clients; p++) {
    const name = `client-${p}`;
    clients.push(name);
    await sim.spawn(MapClient, {
      name,
      args: {
        process: p, leaders: rafts, keys: shape.keys, busyUntilMs: shape.faultsEndMs, finalOps: 3, finalAtMs: shape.faultsEndMs + 500,
        retryMs: 100, opTimeoutMs: 1_500, finalOpTimeoutMs: 3_000, leaseReadShare: 0.3, wanderShare: 0.5,
      } satisfies ClientArgs,
    });
  }
  if (shape.transfers.length > 0) await sim.spawn(TransferOperator, { name: 'operator', args: { nodes: rafts, transfers: shape.transfers } });
  const invariants = new RaftInvariants(n);
  const watched = [...Array.from({ length: n }, (_, i) => names.raft(i)), ...Array.from({ length: n }, (_, i) => names.replica(i))];
  sim.invariant('raft safety (Figure 3)', (view: SimView) => {
    const v = invariants.observe({ actors: watched.map((name) => ({ name, state: view.state(name) })) });
    return v === null ? true : `${v.property}: ${v.message}`;
  });
  return { shape, clients };
}

function settled(view: SimView, ctx: Context): boolean {
  if (view.nowMs < ctx.shape.faultsEndMs + 500) return false;
  for (const c of ctx.clients) {
    const s = view.state<MapClientState>(c);
    if (!s || s.finalDone < s.args.finalOps || s.current !== null) return false;
  }
  const applied = Array.from({ length: ctx.shape.replicas }, (_, i) => view.state<ReplicaState>(names.replica(i))?.appliedUpTo ?? -1);
  return applied.every((a) => a === applied[0]) && applied[0]! > 0;
}

/**
 * The checker's budget: a bound on its memo (deterministic: the same history always needs the
 * same states), and a time limit far beyond what these histories take, so the clock never decides a verdict.
 */
const CHECK_BUDGET = { maxMemoBytes: 64 << 20, timeLimitMs: 600_000 } as const;

function finalCheck(sim: Simulation, ctx: Context): true | string {
  const operations: Operation<ReplicatedMapInput, unknown>[] = [];
  for (const c of ctx.clients) {
    const s = sim.state<MapClientState>(c);
    if (!s) return `${c} is not running`;
    if (s.finalFailed) return `liveness: ${c}: ${s.finalFailed}`;
    if (s.finalDone < s.args.finalOps) return `liveness: ${c} finished ${s.finalDone} of its ${s.args.finalOps} operations within ${ctx.shape.settleMs} ms of the heal`;
    for (const op of s.history) operations.push({ ...op, id: operations.length } as Operation<ReplicatedMapInput, unknown>);
  }
  const applied = Array.from({ length: ctx.shape.replicas }, (_, i) => sim.state<ReplicaState>(names.replica(i))?.appliedUpTo ?? -1);
  if (!applied.every((a) => a === applied[0])) return `liveness: replicas did not catch up (applied up to ${applied.join(', ')})`;
  const result = check({ operations }, replicatedMapModel, CHECK_BUDGET);
  if (result.verdict === 'linearizable') return true;
  if (result.verdict === 'unknown') return `the checker could not decide whether the clients' history is linearizable (${result.reason}); an undecided history is not a pass`;
  return `the clients' history is not linearizable:\n${result.explanation ? formatExplanation(result.explanation) : ''}`;
}

function raftScenarioOf(name: string, nodeDef: typeof RaftNode) {
  return defineScenario<Context>({
    module: import.meta.url,
    name,
    plan: (seed) => raftPlan(seed, raftShape(seed)),
    simulation: { supervision: { maxRestarts: 1_000, windowMs: 1_000 }, logLevel: 'silent' },
    setup: (sim, seed) => setup(sim, raftShape(seed), nodeDef),
    run: async (sim, ctx) => {
      await sim.run({ untilMs: ctx.shape.faultsEndMs + ctx.shape.settleMs, until: (view) => settled(view, ctx) });
    },
    check: finalCheck,
  });
}

export const raftScenario = raftScenarioOf('raft replicated map under faults', RaftNode);

/** The control: nodes that forget their term and vote on restart. The campaign must catch it. */
export const forgetfulRaftScenario = raftScenarioOf('raft with nodes that forget their term and vote (must fail)', ForgetfulRaftNode);
