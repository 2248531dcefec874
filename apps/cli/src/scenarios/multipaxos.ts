/**
 * Multi-Paxos and the ReplicatedMap under simulated faults.
 *
 * Per seed: 3 or 5 replica nodes (each an acceptor, a leader candidate and a replica, like a
 * ReplicatedMap's worker), and 2-3 sequential clients on their own nodes doing set, get
 * (linearizable), compareAndSet and delete on a few keys, retrying across leaders. A random
 * fault plan: message drop up to 30%, duplication, reordering, delay, partitions (including ones
 * that isolate the leader), crashes of replica nodes (leaders among them; never more than a
 * minority at once), pauses; then a heal.
 *
 * After every step: one value per slot, replicas' applied logs are prefixes of one another and
 * only grow. At the end: the clients' history is linearizable (the checker), every client
 * finished its final operations after the heal (liveness), and all replicas caught up.
 */
import { IntMap, Prng, defineActor, type ActorRef } from '@synod/actors';
import { defineScenario, randomPlan, type FaultPlan, type Simulation, type SimView, type TimedFault } from '@synod/actors/sim';
import { check, formatExplanation, replicatedMapModel, type Operation, type ReplicatedMapInput } from '@synod/checker';
import {
  Leader, MultiAcceptor, MultiPaxosInvariants, Replica, type LeaderArgs, type LeaderMsg, type MReadResult, type MRedirect, type MResult,
  type MultiAcceptorMsg, type MultiAcceptorState, type ReplicaArgs, type ReplicaMsg, type ReplicaState, type SlotRecord,
} from '@synod/paxos';
import { mapMachine, type MapCommand, type MapQuery } from '@synod/replicated';

// ------------------------------------------------------------------ a sequential map client

export interface ClientArgs {
  process: number;
  /** The nodes that take client requests (Multi-Paxos leaders, or RaftNodes). */
  leaders: ActorRef<any>[];
  keys: string[];
  /** Random operations start until this virtual time. */
  busyUntilMs: number;
  /** Then, from `finalAtMs`, this many operations that must all succeed (liveness). */
  finalOps: number;
  finalAtMs: number;
  /** An attempt unanswered for this long is sent again (maybe to another leader). */
  retryMs: number;
  /** An operation unanswered for this long ends: unknown if it may have been applied. */
  opTimeoutMs: number;
  /** The same, for the final operations (the liveness bound of one operation after the heal). */
  finalOpTimeoutMs: number;
  /** The share of reads asked at `lease` consistency (the others are `linearizable`). Default 0. */
  leaseReadShare?: number;
  /**
   * The share of operations sent first to a node picked at random rather than to the one that
   * answered last, as a client with a stale idea of the leader would: a deposed leader that
   * still believes it leads then gets requests. Default 0.
   */
  wanderShare?: number;
}

interface Current {
  input: ReplicatedMapInput;
  msg: { type: 'request'; commands: [{ client: string; seq: number; op: MapCommand }] } | { type: 'read'; query: MapQuery; consistency: 'linearizable' | 'lease'; id: number };
  id: number;
  call: number;
  sentAt: number;
  deadline: number;
  /** A write attempt went unanswered: it may take effect. */
  maybeApplied: boolean;
  /** Send again at the next tick, to the same leader. */
  resend: boolean;
  /** Attempts that got no answer. */
  silent: number;
  final: boolean;
}

export interface MapClientState {
  args: ClientArgs;
  session: string;
  seq: number;
  rid: number;
  leader: number;
  current: Current | null;
  history: Operation<ReplicatedMapInput, unknown>[];
  finalDone: number;
  finalFailed: string | null;
  values: number;
}

type ClientMsg = MResult | MReadResult | MRedirect | { type: 'tick' };

/** One Jepsen-style process: one operation at a time, retried across leaders, recorded. */
export const MapClient = defineActor<MapClientState, ClientMsg, ClientArgs>({
  module: import.meta.url,
  label: 'MapClient',
  init(args, ctx) {
    ctx.setTimer('tick', 1, { type: 'tick' });
    return { args, session: `p${args.process}`, seq: 0, rid: 0, leader: 0, current: null, history: [], finalDone: 0, finalFailed: null, values: 0 };
  },
  receive(s, msg, ctx) {
    const now = ctx.now();
    const cur = s.current;
    switch (msg.type) {
      case 'tick': {
        ctx.setTimer('tick', 5, { type: 'tick' });
        if (cur === null) { maybeStart(s, ctx); return; }
        if (now >= cur.deadline) { finish(s, now, cur.maybeApplied && 'request' === cur.msg.type ? 'unknown' : 'fail', undefined, ctx); return; }
        if (cur.resend) {
          cur.resend = false;
          send(s, cur, ctx);
        } else if (now - cur.sentAt >= s.args.retryMs) {
          // No answer (it may have been proposed): the same leader once more (messages get
          // lost), then the next one.
          if (cur.msg.type === 'request') cur.maybeApplied = true;
          if (++cur.silent % 2 === 0) s.leader++;
          send(s, cur, ctx);
        }
        return;
      }
      case 'result':
        if (!cur || cur.msg.type !== 'request' || msg.seq !== cur.id || msg.client !== s.session) return;
        if (!msg.ok && msg.index < 0) { cur.resend = true; return; } // refused before replication: retry
        finish(s, now, msg.ok ? 'ok' : 'fail', msg.value, ctx);
        return;
      case 'read-result':
        if (!cur || cur.msg.type !== 'read' || msg.id !== cur.id) return;
        if (msg.ok) finish(s, now, 'ok', msg.value, ctx);
        else cur.resend = true; // retry at the next tick
        return;
      case 'redirect': {
        if (!cur || msg.id !== cur.id) return;
        const i = msg.leader ? s.args.leaders.findIndex((l) => l.name === msg.leader!.name) : -1;
        // A known leader: try it at the next tick; unknown: the next node, after a while.
        if (i >= 0) { s.leader = i; cur.resend = true; } else { s.leader++; cur.sentAt = now; }
        return;
      }
    }
  },
});

function maybeStart(s: MapClientState, ctx: { now(): number; random(): number; send(to: ActorRef<any>, m: unknown): void }): void {
  const now = ctx.now();
  const final = now >= s.args.finalAtMs && s.finalDone < s.args.finalOps;
  if (!final && now >= s.args.busyUntilMs) return;
  const key = s.args.keys[Math.floor(ctx.random() * s.args.keys.length)]!;
  const r = ctx.random();
  let input: ReplicatedMapInput;
  let op: MapCommand | null = null;
  let query: MapQuery | null = null;
  if (r < 0.4) {
    const value = `${s.args.process}.${++s.values}`;
    input = { f: 'set', key, value };
    op = { op: 'set', key, value };
  } else if (r < 0.75) {
    input = { f: 'get', key };
    query = { op: 'get', key };
  } else if (r < 0.95) {
    const expected = s.values > 0 && ctx.random() < 0.7 ? `${s.args.process}.${s.values}` : null;
    const value = `${s.args.process}.${++s.values}`;
    input = { f: 'compareAndSet', key, expected: expected ?? undefined, value };
    op = { op: 'cas', key, expected, value };
  } else {
    input = { f: 'delete', key };
    op = { op: 'delete', key };
  }
  const id = op ? ++s.seq : ++s.rid;
  // Drawn only when asked for, so runs without these options keep their fingerprints.
  const consistency = !op && s.args.leaseReadShare && ctx.random() < s.args.leaseReadShare ? 'lease' : 'linearizable';
  if (s.args.wanderShare && ctx.random() < s.args.wanderShare) s.leader = Math.floor(ctx.random() * s.args.leaders.length);
  const cur: Current = {
    input,
    msg: op ? { type: 'request', commands: [{ client: s.session, seq: id, op }] } : { type: 'read', query: query!, consistency, id },
    id, call: now, sentAt: 0, deadline: now + (final ? s.args.finalOpTimeoutMs : s.args.opTimeoutMs), maybeApplied: false, resend: false, silent: 0, final,
  };
  s.current = cur;
  send(s, cur, ctx);
}

function send(s: MapClientState, cur: Current, ctx: { now(): number; send(to: ActorRef<any>, m: unknown): void }): void {
  cur.sentAt = ctx.now();
  ctx.send(s.args.leaders[s.leader % s.args.leaders.length]!, cur.msg);
}

function finish(s: MapClientState, now: number, outcome: 'ok' | 'fail' | 'unknown', output: unknown, ctx: { now(): number; random(): number; send(to: ActorRef<any>, m: unknown): void }): void {
  const cur = s.current!;
  s.current = null;
  s.history.push({
    id: s.history.length, process: s.args.process, input: cur.input, outcome,
    ...(outcome === 'ok' ? { output } : {}), call: cur.call, ret: outcome === 'unknown' ? Infinity : now,
  });
  if (cur.final) {
    if (outcome === 'ok') s.finalDone++;
    else s.finalFailed ??= `${JSON.stringify(cur.input)} ended ${outcome} after the faults healed`;
  }
  maybeStart(s, ctx);
}

// ------------------------------------------------------------------ the set-up

export interface MultiPaxosShape { replicas: number; clients: number; keys: string[]; faultsEndMs: number; settleMs: number }

export function multipaxosShape(seed: number): MultiPaxosShape {
  const rng = new Prng((seed ^ 0x3c3c3c) >>> 0);
  const keys = ['a', 'b', 'c'].slice(0, 1 + rng.int(3));
  return { replicas: rng.next() < 0.7 ? 3 : 5, clients: 2 + rng.int(2), keys, faultsEndMs: 400 + rng.int(400), settleMs: 8_000 };
}

const node = (i: number) => `node-${i}`;
const names = { acceptor: (i: number) => `acceptor-${i}`, leader: (i: number) => `leader-${i}`, replica: (i: number) => `replica-${i}` };

/** Faults over the replica nodes (named by their leaders), never a majority of nodes down at once. */
export function multipaxosPlan(seed: number, shape: MultiPaxosShape): FaultPlan {
  const rng = new Prng((seed ^ 0x7777) >>> 0);
  const leaders = Array.from({ length: shape.replicas }, (_, i) => names.leader(i));
  const plan = randomPlan(seed, {
    nodes: leaders,
    endMs: shape.faultsEndMs,
    // Faults begin once the set-up's wiring (configure messages) has arrived.
    startMs: 20,
    minFaults: 2,
    maxFaults: 10,
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
  // Isolate the leader at some point: most runs elect node 0 first.
  const faults: TimedFault[] = [...(plan.faults ?? [])];
  if (rng.next() < 0.5) faults.push({ atMs: 20 + Math.round(rng.next() * shape.faultsEndMs * 0.8), kind: 'isolate', node: names.leader(0), durationMs: 100 + rng.int(300) });
  faults.sort((a, b) => a.atMs - b.atMs);
  plan.faults = keepAMajorityUp(faults, new Set(leaders), Math.floor((shape.replicas - 1) / 2));
  plan.links = [{ from: 0, drop: 0, duplicate: 0, reorder: 0 }];
  return plan;
}

/** Drops node crashes that would take down more than `maxDown` of `nodes` at once (a crashed node counts as down for its downMs plus 100 ms for its restart). */
export function keepAMajorityUp(faults: TimedFault[], nodes: Set<string>, maxDown: number): TimedFault[] {
  const down: { from: number; to: number }[] = [];
  return faults.filter((f) => {
    if (f.kind !== 'crash-node' || typeof f.node !== 'string' || !nodes.has(f.node)) return true;
    const from = f.atMs;
    const to = f.atMs + (f.downMs ?? 0) + 100;
    if (down.filter((d) => d.from < to && from < d.to).length >= maxDown) return false;
    down.push({ from, to });
    return true;
  });
}

interface Context { shape: MultiPaxosShape; clients: string[] }

async function setup(sim: Simulation, shape: MultiPaxosShape): Promise<Context> {
  const n = shape.replicas;
  const leaderOptions = { heartbeatMs: 20, electionTimeoutMs: 150, leaseMs: 100, window: 16, maxBatchCommands: 16, encodeBatches: false };
  const acceptors: ActorRef<MultiAcceptorMsg>[] = [];
  for (let i = 0; i < n; i++) {
    acceptors.push(await sim.spawn(MultiAcceptor, { name: names.acceptor(i), worker: node(i), storage: 'file', args: { index: i, leaseMs: leaderOptions.leaseMs } }));
  }
  const replicaOptions = { snapshotEvery: 16, digest: true };
  const replicas: ActorRef<ReplicaMsg>[] = [];
  for (let i = 0; i < n; i++) {
    replicas.push(await sim.spawn(Replica, { name: names.replica(i), worker: node(i), storage: 'file', args: { index: i, machine: mapMachine.key, options: replicaOptions } }));
  }
  const leaders: ActorRef<LeaderMsg>[] = [];
  for (let i = 0; i < n; i++) {
    leaders.push(await sim.spawn(Leader, { name: names.leader(i), worker: node(i), storage: 'file', args: { index: i, acceptors, replicas, leaders: [], options: leaderOptions } }));
  }
  leaders.forEach((ref, i) => {
    sim.root.setChildArgs(ref, { index: i, acceptors, replicas, leaders, options: leaderOptions } satisfies LeaderArgs);
    sim.send(ref, { type: 'configure', leaders });
  });
  replicas.forEach((ref, i) => {
    sim.root.setChildArgs(ref, { index: i, machine: mapMachine.key, replicas, leaders, options: replicaOptions } satisfies ReplicaArgs);
    sim.send(ref, { type: 'configure', replicas, leaders });
  });
  const clients: string[] = [];
  for (let p = 0; p < shape.clients; p++) {
    const name = `client-${p}`;
    clients.push(name);
    await sim.spawn(MapClient, {
      name,
      args: {
        process: p, leaders, keys: shape.keys, busyUntilMs: shape.faultsEndMs, finalOps: 3, finalAtMs: shape.faultsEndMs + 500,
        retryMs: 100, opTimeoutMs: 1_500, finalOpTimeoutMs: 3_000,
      },
    });
  }
  const invariants = new MultiPaxosInvariants(n);
  const acceptorNames = Array.from({ length: n }, (_, i) => names.acceptor(i));
  const replicaNames = Array.from({ length: n }, (_, i) => names.replica(i));
  sim.invariant('multi-paxos safety', (view: SimView) => {
    // Acceptors count by what is durable: an acceptance a crash could still undo was never
    // announced (persist before send), so it is not a vote.
    const actors: { name: string; state: unknown }[] = [];
    for (const name of acceptorNames) actors.push({ name, state: durableAcceptor(view, name) });
    for (const name of replicaNames) actors.push({ name, state: view.state(name) });
    const v = invariants.observe({ actors });
    return v === null ? true : `${v.property}: ${v.message}`;
  });
  return { shape, clients };
}

/** An acceptor as its durable data has it (what a crash now would leave), in the shape the invariants read. */
function durableAcceptor(view: SimView, name: string): MultiAcceptorState | undefined {
  const live = view.state<MultiAcceptorState>(name);
  const data = live && view.durableData(name);
  if (!live || !data) return undefined;
  const accepted = new IntMap<SlotRecord>();
  let promised = 0;
  let truncatedBelow = 0;
  for (const [k, v] of data.entries) {
    if (k === 'promised') promised = v as number;
    else if (k === 'truncatedBelow') truncatedBelow = v as number;
    else accepted.set(k as number, v as SlotRecord);
  }
  return { ...(live as MultiAcceptorState), promised, accepted, truncatedBelow, version: -1 };
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
  const result = check({ operations }, replicatedMapModel, { timeLimitMs: 10_000 });
  if (result.verdict === 'linearizable') return true;
  if (result.verdict === 'unknown') return true; // the checker's bound, not a violation (it says why)
  return `the clients' history is not linearizable:\n${result.explanation ? formatExplanation(result.explanation) : ''}`;
}

export const multipaxosScenario = defineScenario<Context>({
  module: import.meta.url,
  name: 'multi-paxos replicated map under faults',
  plan: (seed) => multipaxosPlan(seed, multipaxosShape(seed)),
  simulation: { supervision: { maxRestarts: 1_000, windowMs: 1_000 }, logLevel: 'silent' },
  setup: (sim, seed) => setup(sim, multipaxosShape(seed)),
  run: async (sim, ctx) => {
    await sim.run({ untilMs: ctx.shape.faultsEndMs + ctx.shape.settleMs, until: (view) => settled(view, ctx) });
  },
  check: finalCheck,
});
