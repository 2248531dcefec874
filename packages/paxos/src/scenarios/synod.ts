/**
 * The Synod under simulated faults: the campaign that proves it (issue: safety at every step,
 * liveness once the faults heal), and its "teeth", the same campaign with acceptors that forget
 * their promises on a crash, which must be caught.
 *
 * Per seed: 3 or 5 acceptors, 2-3 proposers and 2 learners, each on its own simulated node; a
 * client proposes two competing values for each instance through different proposers; a random
 * fault plan drops (up to 30%), duplicates, reorders and delays messages, partitions nodes,
 * crashes and restarts acceptors (never more than a minority at once) and proposers, and pauses
 * nodes; then heals. The Paxos invariants are checked after every step. After the heal, every
 * instance must be decided, and known to every learner, within a bounded virtual time.
 */
import { defineActor, type ActorRef, type StorageKind } from '@synod/actors';
import { IntMap, Prng } from '@synod/actors/internals';
import { defineScenario, randomPlan, type FaultPlan, type Simulation, type SimView, type TimedFault } from '@synod/actors/sim';
import { Acceptor, type AcceptorRecord, type AcceptorState } from '../acceptor.js';
import { SynodInvariants, isAcceptorState } from '../invariants.js';
import { Learner } from '../learner.js';
import type { AcceptorMsg, Chosen, Decided, LearnerMsg, ProposeFailed, ProposerMsg } from '../messages.js';
import { Proposer } from '../proposer.js';
import { valueKey, type Value } from '../value.js';

// ------------------------------------------------------------------ the client

interface ClientArgs {
  proposers: ActorRef<ProposerMsg>[];
  learners: ActorRef<LearnerMsg>[];
  instances: number;
  /** Proposals go out at random times within [0, spreadMs). */
  spreadMs: number;
  /** An unanswered proposal is sent again (to another proposer) after this long. */
  retryMs: number;
  /** At this time the client asks every learner for every instance. */
  learnAtMs: number;
}

interface Pending {
  instance: number;
  value: string;
  at: number;
  sentAt: number;
  attempts: number;
}

export interface SimClientState {
  args: ClientArgs;
  /** Both values proposed for each instance (the competition). */
  pending: Pending[];
  /** The value each instance was answered with (a proposer's `chosen`). */
  chosen: Map<number, string>;
  /** What each learner answered, by `${learner}/${instance}`. */
  learned: Map<string, string>;
  /** A client-side check: two answers for one instance that differ. */
  disagreement: string | null;
  nextProposer: number;
  lastLearnAt: number;
}

type ClientMsg = Chosen | ProposeFailed | Decided | { type: 'tick' };

/** Proposes competing values and records the answers. */
export const SimClient = defineActor<SimClientState, ClientMsg, ClientArgs>({
  module: import.meta.url,
  label: 'SimClient',
  init(args, ctx) {
    const pending: Pending[] = [];
    for (let i = 0; i < args.instances; i++) {
      for (let c = 0; c < 2; c++) {
        pending.push({ instance: i, value: `c${c}-i${i}`, at: Math.floor(ctx.random() * args.spreadMs), sentAt: -1, attempts: 0 });
      }
    }
    ctx.setTimer('tick', 1, { type: 'tick' });
    return {
      args,
      pending,
      chosen: new Map(),
      learned: new Map(),
      disagreement: null,
      nextProposer: Math.floor(ctx.random() * args.proposers.length),
      lastLearnAt: -Infinity,
    };
  },
  receive(s, msg, ctx) {
    switch (msg.type) {
      case 'tick': {
        const now = ctx.now();
        for (const p of s.pending) {
          if (s.chosen.has(p.instance) || now < p.at) continue;
          if (p.sentAt >= 0 && now - p.sentAt < s.args.retryMs) continue;
          p.sentAt = now;
          p.attempts++;
          const to = s.args.proposers[s.nextProposer++ % s.args.proposers.length]!;
          ctx.send(to, { type: 'propose', instance: p.instance, value: p.value });
        }
        // Then ask every learner about every instance, again every retryMs until it answers.
        if (now >= s.args.learnAtMs && now - s.lastLearnAt >= s.args.retryMs) {
          s.lastLearnAt = now;
          for (const l of s.args.learners) {
            for (let i = 0; i < s.args.instances; i++) if (!s.learned.has(`${l.name}/${i}`)) ctx.send(l, { type: 'learn', instance: i });
          }
        }
        ctx.setTimer('tick', 5, { type: 'tick' });
        break;
      }
      case 'chosen': {
        const key = valueKey(msg.value);
        const before = s.chosen.get(msg.instance);
        if (before !== undefined && before !== key) s.disagreement = `instance ${msg.instance} answered ${before} and ${key}`;
        s.chosen.set(msg.instance, key);
        break;
      }
      case 'decided': {
        const from = ctx.sender?.name ?? '?';
        s.learned.set(`${from}/${msg.instance}`, valueKey(msg.value));
        break;
      }
      case 'propose-failed':
        break; // retried on the next tick
    }
  },
});

// ------------------------------------------------------------------ the set-up

export interface SynodSimShape {
  acceptors: number;
  proposers: number;
  learners: number;
  instances: number;
  storage: StorageKind;
  /** Faults happen within [0, faultsEndMs); then a heal. */
  faultsEndMs: number;
  /** Everything must be decided and learned this long after the heal. */
  livenessBoundMs: number;
}

/** The shape of a seed's cluster: a few sizes, drawn from the seed. */
export function shapeOf(seed: number, storage: StorageKind): SynodSimShape {
  const rng = new Prng((seed ^ 0x5a5a5a) >>> 0);
  return {
    acceptors: rng.next() < 0.75 ? 3 : 5,
    proposers: 2 + rng.int(2),
    learners: 2,
    instances: 3 + rng.int(3),
    storage,
    faultsEndMs: 300 + rng.int(300),
    livenessBoundMs: 6_000,
  };
}

const names = {
  acceptor: (i: number) => `acceptor-${i}`,
  proposer: (i: number) => `proposer-${i}`,
  learner: (i: number) => `learner-${i}`,
};

/**
 * A seeded fault plan for a shape: background drop up to 30%, duplication, reordering, delay;
 * random partitions, cuts, isolations, degradations, pauses and crashes of acceptors and
 * proposers, keeping at most a minority of acceptors down at any time; a heal at the end.
 */
export function synodPlan(seed: number, shape: SynodSimShape): FaultPlan {
  const rng = new Prng((seed ^ 0x1234567) >>> 0);
  const acceptors = Array.from({ length: shape.acceptors }, (_, i) => names.acceptor(i));
  const proposers = Array.from({ length: shape.proposers }, (_, i) => names.proposer(i));
  const learners = Array.from({ length: shape.learners }, (_, i) => names.learner(i));
  const plan = randomPlan(seed, {
    nodes: [...acceptors, ...proposers, ...learners],
    endMs: shape.faultsEndMs,
    // Faults begin once the set-up's wiring (configure messages) has arrived.
    startMs: 20,
    minFaults: 2,
    maxFaults: 10,
    maxDownMs: 150,
    weights: { 'crash-node': 3 },
    network: {
      drop: Math.round(rng.next() * 0.3 * 1000) / 1000,
      duplicate: Math.round(rng.next() * 0.1 * 1000) / 1000,
      reorder: Math.round(rng.next() * 0.2 * 1000) / 1000,
      latency: { kind: 'uniform', minMs: 0.05, maxMs: 1 + rng.int(4) },
    },
    disk: { syncDelay: { kind: 'uniform', minMs: 0.1, maxMs: 2 } },
  });
  plan.faults = keepAMajorityUp(plan.faults ?? [], new Set(acceptors), Math.floor((shape.acceptors - 1) / 2));
  // The set-up's wiring (node 0, the driver) travels like the control plane: reliably.
  plan.links = [{ from: 0, drop: 0, duplicate: 0, reorder: 0 }];
  return plan;
}

/**
 * Drops acceptor crashes that would take down more than `maxDown` acceptors at once. A crashed
 * node counts as down for its `downMs` plus a margin for its supervisor's restart.
 */
function keepAMajorityUp(faults: TimedFault[], acceptors: Set<string>, maxDown: number): TimedFault[] {
  const marginMs = 100;
  const down: { from: number; to: number }[] = [];
  return faults.filter((f) => {
    if (f.kind !== 'crash-node' || typeof f.node !== 'string' || !acceptors.has(f.node)) return true;
    const from = f.atMs;
    const to = f.atMs + (f.downMs ?? 0) + marginMs;
    const overlapping = down.filter((d) => d.from < to && from < d.to).length;
    if (overlapping >= maxDown) return false;
    down.push({ from, to });
    return true;
  });
}

interface Context {
  shape: SynodSimShape;
  client: ActorRef<ClientMsg>;
}

async function setup(sim: Simulation, shape: SynodSimShape): Promise<Context> {
  const learners: ActorRef<LearnerMsg>[] = [];
  for (let i = 0; i < shape.learners; i++) {
    learners.push(await sim.spawn(Learner, { name: names.learner(i), args: { index: i, acceptorCount: shape.acceptors } }));
  }
  const acceptors: ActorRef<AcceptorMsg>[] = [];
  for (let i = 0; i < shape.acceptors; i++) {
    acceptors.push(await sim.spawn(Acceptor, { name: names.acceptor(i), storage: shape.storage, args: { index: i, learners } }));
  }
  const proposers: ActorRef<ProposerMsg>[] = [];
  for (let i = 0; i < shape.proposers; i++) {
    proposers.push(await sim.spawn(Proposer, { name: names.proposer(i), storage: 'file', args: { id: i + 1, acceptors } }));
  }
  // Peers that did not exist at spawn: given now, and kept for restarts.
  proposers.forEach((ref, i) => {
    sim.root.setChildArgs(ref, { id: i + 1, acceptors, proposers });
    sim.send(ref, { type: 'configure', proposers });
  });
  learners.forEach((ref, i) => {
    sim.root.setChildArgs(ref, { index: i, acceptorCount: shape.acceptors, learners, proposers });
    sim.send(ref, { type: 'configure', learners, proposers });
  });
  const client = await sim.spawn(SimClient, {
    name: 'client',
    args: { proposers, learners, instances: shape.instances, spreadMs: shape.faultsEndMs, retryMs: 300, learnAtMs: shape.faultsEndMs + 1_000 },
  });
  const invariants = new SynodInvariants(shape.acceptors);
  sim.invariant('paxos safety (Paxos.tla)', (view: SimView) => {
    // Acceptors count by what is durable: an acceptance a crash could still undo was never
    // announced (persist before send), so it is not a vote.
    const v = invariants.observe({
      actors: view.actors().map((a) => ({ name: a.name, state: isAcceptorState(a.state) ? durableAcceptor(view, a.name, a.state) : a.state })),
      inFlight: view.inFlight().map((m) => ({ msg: m.message })),
    });
    return v === null ? true : `${v.property}: ${v.message}`;
  });
  sim.invariant('clients never see two values for one instance', (view: SimView) => {
    const c = view.state<SimClientState>('client');
    return !c?.disagreement || c.disagreement;
  });
  return { shape, client };
}

/** An acceptor as its durable data has it (what a crash now would leave). */
function durableAcceptor(view: SimView, name: string, live: AcceptorState): AcceptorState | undefined {
  const data = view.durableData(name);
  if (!data) return undefined;
  const instances = new IntMap<AcceptorRecord>();
  let forgottenBelow = 0;
  for (const [k, v] of data.entries) {
    if (k === 'forgottenBelow') forgottenBelow = v as number;
    else instances.set(k as number, v as AcceptorRecord);
  }
  return { ...live, instances, forgottenBelow };
}

/** Every instance answered to the client, and every learner knows every instance, the same value. */
function livenessReached(view: SimView, shape: SynodSimShape): boolean {
  const c = view.state<SimClientState>('client');
  if (!c || c.chosen.size < shape.instances) return false;
  for (let l = 0; l < shape.learners; l++) {
    for (let i = 0; i < shape.instances; i++) if (!c.learned.has(`${names.learner(l)}/${i}`)) return false;
  }
  return true;
}

function check(sim: Simulation, ctx: Context): true | string {
  const { shape } = ctx;
  const c = sim.state<SimClientState>('client');
  if (!c) return 'the client is not running';
  const missing = Array.from({ length: shape.instances }, (_, i) => i).filter((i) => !c.chosen.has(i));
  if (missing.length) return `liveness: instances ${missing.join(', ')} not decided ${shape.livenessBoundMs} ms after the faults healed`;
  for (let l = 0; l < shape.learners; l++) {
    for (let i = 0; i < shape.instances; i++) {
      const learned = c.learned.get(`${names.learner(l)}/${i}`);
      if (learned === undefined) return `liveness: ${names.learner(l)} did not learn instance ${i} within the bound`;
      if (learned !== c.chosen.get(i)) return `${names.learner(l)} learned ${learned} for instance ${i}, the client was told ${c.chosen.get(i)}`;
    }
  }
  return true;
}

function scenario(name: string, storage: StorageKind) {
  return defineScenario<Context>({
    module: import.meta.url,
    name,
    plan: (seed) => synodPlan(seed, shapeOf(seed, storage)),
    // A seed takes a few thousand steps: one that runs away (a message storm) fails, with its
    // replay command, instead of holding up a campaign for hours.
    simulation: { supervision: { maxRestarts: 1_000, windowMs: 1_000 }, logLevel: 'silent', maxStepsPerRun: 2_000_000 },
    setup: (sim, seed) => setup(sim, shapeOf(seed, storage)),
    run: async (sim, ctx) => {
      const end = ctx.shape.faultsEndMs + ctx.shape.livenessBoundMs;
      await sim.run({ untilMs: end, until: (view) => view.nowMs > ctx.shape.faultsEndMs && livenessReached(view, ctx.shape) });
    },
    check,
  });
}

/** The Synod with durable acceptors (simulated disk, group commit): must never fail. */
export const synodScenario = scenario('synod under faults', 'file');

/**
 * The same with acceptors on `memory` storage, which forget every promise and acceptance when
 * their node crashes: unsafe, and the campaign must say so (with a replay command).
 */
export const forgetfulSynodScenario = scenario('synod with forgetful acceptors (must fail)', 'memory');

export type { Value };
