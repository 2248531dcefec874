/**
 * The simulator's test protocol: a replicated counter (a G-counter: each replica counts its own
 * increments, gossips its vector, and merges by maximum) with durable state in `file` storage,
 * and a client that increments and counts acknowledgements.
 *
 * `counterScenario` is correct: a replica acknowledges an increment in the turn that persists
 * it, so the acknowledgement leaves only once the increment is durable (persist before send).
 * `lazyCounterScenario` has a planted bug: the replica acknowledges at once and persists later,
 * in batches, so a crash loses acknowledged increments. Campaigns must find that bug and pass
 * the correct version; both run under the same random fault plans.
 */
import { defineActor } from '../../define.js';
import type { ActorRef } from '../../ref.js';
import { randomPlan } from '../plan.js';
import { defineScenario } from '../scenario.js';
import type { Simulation } from '../simulation.js';

/** Messages of a counter replica. */
export type ReplicaMsg =
  | { type: 'inc'; op: number }
  | { type: 'gossip'; counts: number[] }
  | { type: 'peers'; peers: ActorRef<ReplicaMsg>[] }
  | { type: 'tick' }
  | { type: 'flush' }
  | { type: 'read' };

/** How a replica is configured. */
export interface ReplicaArgs {
  /** This replica's slot in the vector. */
  index: number;
  replicas: number;
  gossipMs: number;
  /** The planted bug: acknowledge before the increment is durable. */
  ackBeforePersist: boolean;
  /** With the bug: how often dirty state is persisted. */
  flushMs: number;
}

/** A replica's state (what invariants read). */
export interface ReplicaState {
  args: ReplicaArgs;
  /** counts[i]: increments made at replica i, as far as this replica knows. */
  counts: number[];
  peers: ActorRef<ReplicaMsg>[];
  /** Changed since the last persist (only with the bug). */
  dirty: boolean;
}

/** The durable state: the vector (the peers are a durable entry of their own, written once). */
type ReplicaDurable = number[];

/** Messages of the counter client. */
export type ClientMsg = { type: 'start'; replicas: ActorRef<ReplicaMsg>[] } | { type: 'tick' } | { type: 'acked'; op: number; replica: number };

/** How the client is configured. */
export interface ClientArgs {
  intervalMs: number;
  /** The client stops incrementing at this virtual time, so replicas can converge. */
  stopAtMs: number;
}

/** The client's state: what it sent and what was acknowledged. */
export interface ClientState {
  args: ClientArgs;
  replicas: ActorRef<ReplicaMsg>[];
  next: number;
  /** Distinct acknowledged increments per replica (a duplicated ack counts once). */
  acked: number[];
  seen: Set<number>;
}

/** One replica of the counter. */
export const CounterReplica = defineActor<ReplicaState, ReplicaMsg, ReplicaArgs, ReplicaDurable>({
  module: import.meta.url,
  label: 'CounterReplica',
  storage: 'file',
  init(args, ctx, recovered) {
    ctx.setTimer('gossip', args.gossipMs, { type: 'tick' });
    if (args.ackBeforePersist) ctx.setTimer('flush', args.flushMs, { type: 'flush' });
    return {
      args,
      counts: recovered ? recovered.slice() : new Array<number>(args.replicas).fill(0),
      peers: (ctx.recoveredEntries().get('peers') as ActorRef<ReplicaMsg>[] | undefined) ?? [],
      dirty: false,
    };
  },
  receive(s, msg, ctx) {
    const persist = () => ctx.persist(s.counts);
    switch (msg.type) {
      case 'inc':
        s.counts[s.args.index]!++;
        if (s.args.ackBeforePersist) {
          // The planted bug: the acknowledgement leaves now, the increment is persisted later.
          s.dirty = true;
        } else {
          persist();
        }
        ctx.reply({ type: 'acked', op: msg.op, replica: s.args.index });
        break;
      case 'gossip': {
        let changed = false;
        for (let i = 0; i < s.counts.length; i++) {
          const theirs = msg.counts[i] ?? 0;
          if (theirs > s.counts[i]!) {
            s.counts[i] = theirs;
            changed = true;
          }
        }
        if (changed) {
          if (s.args.ackBeforePersist) s.dirty = true;
          else persist();
        }
        break;
      }
      case 'peers':
        s.peers = msg.peers;
        ctx.persistEntry('peers', msg.peers);
        break;
      case 'tick':
        for (const p of s.peers) ctx.send(p, { type: 'gossip', counts: s.counts.slice() });
        ctx.setTimer('gossip', s.args.gossipMs, { type: 'tick' });
        break;
      case 'flush':
        if (s.dirty) {
          s.dirty = false;
          persist();
        }
        ctx.setTimer('flush', s.args.flushMs, { type: 'flush' });
        break;
      case 'read':
        ctx.reply(s.counts.reduce((a, b) => a + b, 0));
        break;
    }
  },
});

/** The client: increments a random replica every `intervalMs` until `stopAtMs`. */
export const CounterClient = defineActor<ClientState, ClientMsg, ClientArgs>({
  module: import.meta.url,
  label: 'CounterClient',
  init: (args) => ({ args, replicas: [], next: 0, acked: [], seen: new Set() }),
  receive(s, msg, ctx) {
    switch (msg.type) {
      case 'start':
        s.replicas = msg.replicas;
        s.acked = msg.replicas.map(() => 0);
        ctx.setTimer('tick', s.args.intervalMs, { type: 'tick' });
        break;
      case 'tick': {
        if (ctx.now() >= s.args.stopAtMs) break;
        const target = s.replicas[Math.floor(ctx.random() * s.replicas.length)]!;
        ctx.send(target, { type: 'inc', op: s.next++ });
        ctx.setTimer('tick', s.args.intervalMs, { type: 'tick' });
        break;
      }
      case 'acked':
        if (!s.seen.has(msg.op)) {
          s.seen.add(msg.op);
          s.acked[msg.replica]!++;
        }
        break;
    }
  },
});

/** Shape and pace of the counter scenarios. */
export const counterSettings = {
  replicas: 3,
  gossipMs: 10,
  flushMs: 50,
  clientIntervalMs: 4,
  /** Faults happen within [faultsFromMs, faultsUntilMs); a heal ends them. */
  faultsFromMs: 20,
  faultsUntilMs: 600,
  clientStopMs: 600,
  /** Time left after the last fault for replicas to converge. */
  runUntilMs: 800,
};

const replicaName = (i: number) => `replica-${i}`;

async function setupCounter(sim: Simulation, ackBeforePersist: boolean): Promise<void> {
  const k = counterSettings;
  const replicas: ActorRef<ReplicaMsg>[] = [];
  for (let i = 0; i < k.replicas; i++) {
    replicas.push(
      await sim.spawn(CounterReplica, {
        name: replicaName(i),
        args: { index: i, replicas: k.replicas, gossipMs: k.gossipMs, ackBeforePersist, flushMs: k.flushMs },
      }),
    );
  }
  for (const r of replicas) sim.send(r, { type: 'peers', peers: replicas.filter((p) => p !== r) });
  const client = await sim.spawn(CounterClient, { name: 'client', args: { intervalMs: k.clientIntervalMs, stopAtMs: k.clientStopMs } });
  sim.send(client, { type: 'start', replicas });
  const names = replicas.map((r) => r.name);
  sim.invariant('acknowledged increments are never lost', (view) => {
    const c = view.state<ClientState>('client');
    if (!c) return;
    for (let i = 0; i < names.length; i++) {
      const r = view.state<ReplicaState>(names[i]!);
      if (r && r.counts[i]! < c.acked[i]!) {
        return `${names[i]} counts ${r.counts[i]} increments of its own, but the client holds ${c.acked[i]} acknowledgements from it: acknowledged increments were lost`;
      }
    }
  });
}

function checkCounter(sim: Simulation): string | void {
  const c = sim.state<ClientState>('client');
  if (!c) return 'the client is not running';
  const acked = c.acked.reduce((a, b) => a + b, 0);
  const totals: number[] = [];
  for (let i = 0; i < counterSettings.replicas; i++) {
    const r = sim.state<ReplicaState>(replicaName(i));
    if (!r) return `${replicaName(i)} is not running at the end (${sim.view.actor(replicaName(i))?.status ?? 'unknown'})`;
    totals.push(r.counts.reduce((a, b) => a + b, 0));
  }
  if (totals.some((t) => t !== totals[0])) return `replicas did not converge after the faults ended: totals ${totals.join(', ')}`;
  if (totals[0]! < acked) return `the converged total ${totals[0]} is below the ${acked} acknowledged increments`;
}

function counterPlan(seed: number) {
  const k = counterSettings;
  const names = Array.from({ length: k.replicas }, (_, i) => replicaName(i));
  return randomPlan(seed, {
    nodes: names,
    actors: names,
    startMs: k.faultsFromMs,
    endMs: k.faultsUntilMs,
    minFaults: 1,
    maxFaults: 6,
    faultMs: [10, 150],
    maxDownMs: 60,
    disk: { unsyncedOnCrash: 'random-prefix', tornWriteRate: 0.5 },
  });
}

/** The correct replicated counter under random faults: must pass every seed. */
export const counterScenario = defineScenario({
  module: import.meta.url,
  name: 'replicated counter',
  plan: counterPlan,
  setup: (sim) => setupCounter(sim, false),
  run: { untilMs: counterSettings.runUntilMs },
  check: (sim) => checkCounter(sim),
});

/** The same counter with the planted bug (acknowledge before persisting): campaigns must catch it. */
export const lazyCounterScenario = defineScenario({
  module: import.meta.url,
  name: 'replicated counter, acknowledging before persisting (planted bug)',
  plan: counterPlan,
  setup: (sim) => setupCounter(sim, true),
  run: { untilMs: counterSettings.runUntilMs },
  check: (sim) => checkCounter(sim),
});
