/**
 * The ReplicatedMap under simulated faults, as users run it: the cluster is started by
 * `startCluster` (the function `ReplicatedStateMachine.start` calls), its slots are the bytes of
 * client requests, and the clients are the production client (`ClientCore` of @synod/smr) in a
 * small actor each.
 *
 * Per seed: 3 or 5 replica nodes (each an acceptor, a leader candidate and a replica; some 5-node
 * seeds with Flexible Paxos quorums, q1 = 4 and q2 = 2), and 2-3
 * Jepsen-style processes on their own nodes doing set, get (linearizable), compareAndSet and
 * delete on a few keys, one at a time. A random fault plan: message drop up to 30%, duplication,
 * reordering, delay, partitions (including ones that isolate the leader), crashes of replica nodes
 * (leaders among them; never more than a minority at once), pauses; then a heal.
 *
 * After every step: one value per slot (chosen by a phase-2 quorum), replicas' applied logs are prefixes of one another and
 * only grow. At the end: the processes' history is linearizable (the checker, with a step budget:
 * the same verdict on every run, and no verdict is a failure), every process finished its final
 * operations after the heal (liveness), and all replicas caught up.
 *
 * `forgetfulMapScenario` is the control: acceptors that forget their promises when they restart.
 * A campaign that does not catch it proves nothing.
 */
import { defineActor, type ActorRef } from '@synod/actors';
import { IntMap, Prng } from '@synod/actors/internals';
import { defineScenario, randomPlan, type FaultPlan, type ScenarioSimulationOptions, type Simulation, type SimView, type TimedFault } from '@synod/actors/sim';
import { check, formatExplanation, replicatedMapModel, type Operation, type ReplicatedMapInput } from '@synod/checker';
import { MultiPaxosInvariants, type MultiAcceptorState, type ReplicaState, type SlotRecord } from '@synod/paxos';
import { ClientCore, type ClientReply, type ClusterAddress, type Completion } from '@synod/smr';
import { startCluster } from '../cluster.js';
import { mapMachine, type MapCommand, type MapQuery } from '../map-machine.js';

// ------------------------------------------------------------------ a process: one operation at a time

export interface ProcessArgs {
  process: number;
  cluster: ClusterAddress;
  keys: string[];
  /** Random operations start until this virtual time. */
  busyUntilMs: number;
  /** Then, from `finalAtMs`, this many operations that must all succeed (liveness). */
  finalOps: number;
  finalAtMs: number;
  /** An attempt unanswered for this long is sent again (maybe to another leader). */
  attemptTimeoutMs: number;
  /** An operation unanswered for this long ends: unknown if it may have been applied. */
  opTimeoutMs: number;
  /** The same, for the final operations (the liveness bound of one operation after the heal). */
  finalOpTimeoutMs: number;
  /** Of the reads, this share are lease reads (the rest linearizable). Default 0. */
  leaseReadShare?: number;
}

interface Current {
  input: ReplicatedMapInput;
  call: number;
  final: boolean;
  query: MapQuery | null;
}

export interface MapProcessState {
  args: ProcessArgs;
  client: ClientCore;
  session: number;
  current: Current | null;
  history: Operation<ReplicatedMapInput, unknown>[];
  finalDone: number;
  finalFailed: string | null;
  values: number;
}

type ProcessMsg = ClientReply | { type: 'tick' };

/** One Jepsen-style process: one operation at a time through the production client, recorded. */
export const MapProcess = defineActor<MapProcessState, ProcessMsg, ProcessArgs>({
  module: import.meta.url,
  label: 'MapProcess',
  init(args, ctx) {
    const client = new ClientCore(`p${args.process}`, args.cluster, ctx.self as ActorRef<ClientReply>, {
      attemptTimeoutMs: args.attemptTimeoutMs,
      retryDelayMs: 10,
    });
    ctx.setTimer('tick', 1, { type: 'tick' });
    return { args, client, session: client.openSession(), current: null, history: [], finalDone: 0, finalFailed: null, values: 0 };
  },
  receive(s, msg, ctx) {
    const io = { send: (to: ActorRef<any>, m: unknown) => ctx.send(to, m), now: () => ctx.now(), sharedBytes: (n: number) => ctx.sharedBytes(n) };
    if (msg.type === 'tick') {
      ctx.setTimer('tick', 5, { type: 'tick' });
      s.client.tick(ctx.now());
      if (s.current === null) maybeStart(s, ctx);
    } else {
      s.client.receive(msg, ctx.now());
    }
    if (s.client.wantsFlush) s.client.flush(io);
  },
});

type ProcessCtx = { now(): number; random(): number };

function maybeStart(s: MapProcessState, ctx: ProcessCtx): void {
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
  const cur: Current = { input, call: now, final, query };
  s.current = cur;
  const deadline = now + (final ? s.args.finalOpTimeoutMs : s.args.opTimeoutMs);
  const done = (c: Completion) => finish(s, cur, c, ctx);
  if (op) s.client.execute(s.session, mapMachine.client.encodeCommand(op, 1 << 16), deadline, done);
  else {
    // No draw without lease reads: the Multi-Paxos campaign's seeds stay as they were.
    const lease = (s.args.leaseReadShare ?? 0) > 0 && ctx.random() < s.args.leaseReadShare!;
    s.client.read(s.session, mapMachine.client.encodeQuery(query!, 1 << 14), lease ? 'lease' : 'linearizable', 0, deadline, done);
  }
}

function finish(s: MapProcessState, cur: Current, c: Completion, ctx: ProcessCtx): void {
  if (s.current !== cur) return;
  s.current = null;
  const now = ctx.now();
  let outcome: 'ok' | 'fail' | 'unknown';
  let output: unknown;
  switch (c.kind) {
    case 'ok':
      outcome = 'ok';
      output = cur.query ? mapMachine.client.decodeAnswer(c.bytes, cur.query) : mapMachine.client.decodeResult(c.bytes);
      break;
    // A failed map command changed nothing; a read has no effect; a command never sent was not applied.
    case 'failed':
    case 'quota':
    case 'read-failed':
    case 'refused':
      outcome = 'fail';
      break;
    case 'timeout':
      outcome = c.sent && cur.query === null ? 'unknown' : 'fail';
      break;
    case 'unknown':
      outcome = 'unknown';
      break;
  }
  s.history.push({
    id: s.history.length,
    process: s.args.process,
    input: cur.input,
    outcome,
    ...(outcome === 'ok' ? { output } : {}),
    call: cur.call,
    ret: outcome === 'unknown' ? Infinity : now,
  });
  if (cur.final) {
    if (outcome === 'ok') s.finalDone++;
    else s.finalFailed ??= `${JSON.stringify(cur.input)} ended ${outcome} after the faults healed${'detail' in c ? ` (${c.detail})` : ''}`;
  }
  maybeStart(s, ctx);
}

// ------------------------------------------------------------------ the set-up

/**
 * A seed's cluster and workload. `q1`/`q2`: Flexible Paxos quorums of the leaders (undefined:
 * majorities); two in five 5-replica seeds run with q1 = 4, q2 = 2 (a slot chosen by two
 * acceptors, a leader elected by four).
 */
export interface MapShape {
  replicas: number;
  processes: number;
  keys: string[];
  faultsEndMs: number;
  settleMs: number;
  q1?: number;
  q2?: number;
}

export function mapShape(seed: number): MapShape {
  const rng = new Prng((seed ^ 0x3c3c3c) >>> 0);
  const keys = ['a', 'b', 'c'].slice(0, 1 + rng.int(3));
  const shape: MapShape = { replicas: rng.next() < 0.7 ? 3 : 5, processes: 2 + rng.int(2), keys, faultsEndMs: 400 + rng.int(400), settleMs: 8_000 };
  if (shape.replicas === 5 && rng.next() < 0.4) {
    shape.q1 = 4;
    shape.q2 = 2;
  }
  return shape;
}

const NAME = 'map';
const names = {
  acceptor: (i: number) => `${NAME}-acceptor-${i}`,
  leader: (i: number) => `${NAME}-leader-${i}`,
  replica: (i: number) => `${NAME}-replica-${i}`,
};

/** Faults over the replica nodes (named by their leaders), never a majority of nodes down at once. */
export function mapPlan(seed: number, shape: MapShape): FaultPlan {
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
  if (rng.next() < 0.5)
    faults.push({ atMs: 20 + Math.round(rng.next() * shape.faultsEndMs * 0.8), kind: 'isolate', node: names.leader(0), durationMs: 100 + rng.int(300) });
  faults.sort((a, b) => a.atMs - b.atMs);
  plan.faults = keepAMajorityUp(faults, new Set(leaders), Math.floor((shape.replicas - 1) / 2));
  plan.links = [{ from: 0, drop: 0, duplicate: 0, reorder: 0 }];
  return plan;
}

/** Drops crashes that would take down more than `maxDown` of `nodes` at once (a restart is counted 100 ms late). */
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

interface Context {
  shape: MapShape;
  processes: string[];
}

/** The checker's budget, in search steps: the same verdict on every run of a seed. */
const CHECK_STEPS = 1_000_000;

async function setup(sim: Simulation, shape: MapShape, forgetful: boolean): Promise<Context> {
  const n = shape.replicas;
  const cluster = await startCluster(sim, {
    name: NAME,
    replicas: n,
    machine: mapMachine,
    storage: 'file',
    forgetfulAcceptors: forgetful,
    leader: {
      heartbeatMs: 20,
      electionTimeoutMs: 150,
      leaseMs: 100,
      window: 16,
      maxBatchCommands: 16,
      tickMs: 10,
      ...(shape.q1 !== undefined ? { q1: shape.q1, q2: shape.q2 } : {}),
    },
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
      },
    });
  }
  const invariants = new MultiPaxosInvariants(n, shape.q2 ?? Math.floor(n / 2) + 1);
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
  return { shape, processes };
}

/** An acceptor as its durable data has it (what a crash now would leave), in the shape the invariants read. */
function durableAcceptor(view: SimView, name: string): MultiAcceptorState | undefined {
  const live = view.state<MultiAcceptorState>(name);
  // Everything it persisted is durable: the live state is what a crash would keep (and, unchanged
  // since the last step, the invariants skip it by its version).
  if (live && view.durable(name)) return live as MultiAcceptorState;
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

/** The applied point of each of `n` replicas named by `replicaName` (-1: not running). */
function appliedPoints(view: Pick<SimView, 'state'>, replicaName: (i: number) => string, n: number): number[] {
  return Array.from({ length: n }, (_, i) => view.state<ReplicaState>(replicaName(i))?.exec.appliedUpTo ?? -1);
}

/** Every map scenario's simulation options. */
export const mapSimulationOptions: ScenarioSimulationOptions = {
  supervision: { maxRestarts: 1_000, windowMs: 1_000 },
  logLevel: 'silent',
  // A seed takes a few thousand steps: one that runs away (a message storm) fails, with its
  // replay command, instead of holding up a campaign for hours.
  maxStepsPerRun: 2_000_000,
};

/** Whether every process has finished its final operations and has none in flight. */
export function processesFinished(view: Pick<SimView, 'state'>, processes: readonly string[]): boolean {
  for (const p of processes) {
    const s = view.state<MapProcessState>(p);
    if (!s || s.finalDone < s.args.finalOps || s.current !== null) return false;
  }
  return true;
}

/**
 * The end of a map scenario: every process finished its final operations within `settleMs` of
 * the heal (liveness), the replicas agree (`disagreement` says how they do not, or null), and the
 * processes' history is linearizable.
 */
export function checkMapRun(sim: Simulation, processes: readonly string[], settleMs: number, disagreement: () => string | null): true | string {
  const operations: Operation<ReplicatedMapInput, unknown>[] = [];
  for (const p of processes) {
    const s = sim.state<MapProcessState>(p);
    if (!s) return `${p} is not running`;
    if (s.finalFailed) return `liveness: ${p}: ${s.finalFailed}`;
    if (s.finalDone < s.args.finalOps) return `liveness: ${p} finished ${s.finalDone} of its ${s.args.finalOps} operations within ${settleMs} ms of the heal`;
    for (const op of s.history) operations.push({ ...op, id: operations.length } as Operation<ReplicatedMapInput, unknown>);
  }
  const disagrees = disagreement();
  if (disagrees !== null) return `liveness: ${disagrees}`;
  const result = check({ operations }, replicatedMapModel, { maxSteps: CHECK_STEPS });
  if (result.verdict === 'linearizable') return true;
  if (result.verdict === 'unknown') return `the checker gave no verdict within ${CHECK_STEPS} steps per key (a failure: no verdict proves nothing)`;
  return `the processes' history is not linearizable:\n${result.explanation ? formatExplanation(result.explanation) : ''}`;
}

/** A message when the replicas' applied points differ (null when they agree). */
export function appliedDisagreement(view: Pick<SimView, 'state'>, replicaName: (i: number) => string, n: number): string | null {
  const applied = appliedPoints(view, replicaName, n);
  return applied.every((a) => a === applied[0]) ? null : `replicas did not catch up (applied up to ${applied.join(', ')})`;
}

/** Whether the replicas applied something and all stand at the same point. */
export function replicasCaughtUp(view: Pick<SimView, 'state'>, replicaName: (i: number) => string, n: number): boolean {
  const applied = appliedPoints(view, replicaName, n);
  return applied[0]! > 0 && applied.every((a) => a === applied[0]);
}

function settled(view: SimView, ctx: Context): boolean {
  return view.nowMs >= ctx.shape.faultsEndMs + 500 && processesFinished(view, ctx.processes) && replicasCaughtUp(view, names.replica, ctx.shape.replicas);
}

function scenario(forgetful: boolean) {
  return defineScenario<Context>({
    module: import.meta.url,
    name: forgetful ? 'replicated map with forgetful acceptors (control: must fail)' : 'replicated map under faults',
    plan: (seed) => mapPlan(seed, mapShape(seed)),
    simulation: mapSimulationOptions,
    setup: (sim, seed) => setup(sim, mapShape(seed), forgetful),
    run: async (sim, ctx) => {
      await sim.run({ untilMs: ctx.shape.faultsEndMs + ctx.shape.settleMs, until: (view) => settled(view, ctx) });
    },
    check: (sim, ctx) => checkMapRun(sim, ctx.processes, ctx.shape.settleMs, () => appliedDisagreement(sim, names.replica, ctx.shape.replicas)),
  });
}

/** The ReplicatedMap under faults (see the module comment). */
export const mapScenario = scenario(false);
/** The control: acceptors that forget what they promised and accepted when they restart. */
export const forgetfulMapScenario = scenario(true);
