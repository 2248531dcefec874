/**
 * What invariants see: a read-only view of every actor's state and of the messages in flight,
 * taken after a step. States are the actors' live objects (copying them every step would cost
 * more than the step): an invariant must not change them, which the types say.
 */
import type { ActorCell } from '../cell.js';
import type { Recovered } from '../store.js';
import { refKey, type ActorRef } from '../ref.js';
import { EventType, type EventQueue, type SimEvent } from './event-queue.js';
import type { ActorRecord } from '../directory.js';
import type { SimNode } from './node.js';

/** A value seen through a read-only lens, all the way down. */
export type DeepReadonly<T> = T extends (...args: any[]) => any
  ? T
  : T extends Map<infer K, infer V>
    ? ReadonlyMap<DeepReadonly<K>, DeepReadonly<V>>
    : T extends Set<infer V>
      ? ReadonlySet<DeepReadonly<V>>
      : T extends readonly (infer V)[]
        ? readonly DeepReadonly<V>[]
        : T extends object
          ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
          : T;

/**
 * An actor as invariants see it. `running`: handling messages; `crashed`: its handler threw and
 * its supervisor has not restarted it yet; `down`: its node crashed; `stopped`: it ended.
 */
export interface ActorView<S = unknown> {
  readonly name: string;
  readonly ref: ActorRef<any>;
  readonly node: number;
  readonly status: 'running' | 'crashed' | 'down' | 'stopped';
  /** How many times its supervisor restarted it. */
  readonly incarnation: number;
  /** Its state while running; undefined otherwise. */
  readonly state: DeepReadonly<S> | undefined;
  /** Messages waiting in its mailbox. */
  readonly mailbox: number;
}

/** A message the network carries now. */
export interface MessageInFlight {
  /** The sending actor; null for a send from outside the simulation. */
  readonly from: ActorRef<any> | null;
  readonly fromNode: number;
  readonly to: ActorRef<any>;
  readonly kind: 'send' | 'ask' | 'reply' | 'enqueue';
  readonly message: DeepReadonly<unknown>;
  /** When it is due to arrive (later if its node is paused). */
  readonly arrivesAtMs: number;
}

/** The read-only view given to invariants and `until` predicates. */
export interface SimView {
  /** Virtual time, ms. */
  readonly nowMs: number;
  /** Steps completed. */
  readonly step: number;
  /** The live state of a running actor; undefined when it is not running (or does not exist). */
  state<S = unknown>(name: string): DeepReadonly<S> | undefined;
  /** One actor, by name. */
  actor<S = unknown>(name: string): ActorView<S> | undefined;
  /** Every actor the simulation knows, in start order. */
  actors(): ActorView[];
  /**
   * Whether everything a running actor persisted is durable: what a crash of its node now would
   * keep. State changes not yet durable are tentative (a crash may undo them, and persist before
   * send has kept them from anyone), so safety checks count only durable ones.
   */
  durable(name: string): boolean;
  /**
   * What a running actor has made durable: what its `init` would recover if its node crashed now
   * (a copy). Safety checks that count promises and votes read this, not the live state.
   */
  durableData(name: string): Recovered | undefined;
  /** Messages on the network, in arrival order. Costs a sort: call it only when needed. */
  inFlight(): MessageInFlight[];
}

/**
 * An invariant: called after every step with the view. Returning `false` or a string (the
 * explanation), or throwing, is a violation: the run stops and reports the step.
 */
export type Invariant = (view: SimView) => void | boolean | string;

/** What a view reads (the simulation's own tables; the view never changes them). */
export interface ViewSource {
  readonly now: number;
  readonly steps: number;
  readonly records: ReadonlyMap<number, ActorRecord>;
  readonly names: ReadonlyMap<string, ActorRecord>;
  /** The cell of an actor's current incarnation (set when it starts). */
  cellOf(rec: ActorRecord): ActorCell | undefined;
  readonly nodes: readonly SimNode[];
  readonly queue: EventQueue;
}

const kindNames = ['send', 'ask', 'reply', 'enqueue'] as const;

/** The read-only view over a simulation's tables. */
export function createView(src: ViewSource): SimView {
  const cellFor = (rec: ActorRecord): ActorCell | undefined => {
    const cell = src.cellOf(rec);
    if (cell === undefined) return undefined;
    const node = src.nodes[rec.ref.node]!;
    return node.up && cell.host === node.host ? cell : undefined;
  };
  const actorView = (rec: ActorRecord): ActorView => {
    const cell = cellFor(rec);
    const node = src.nodes[rec.ref.node]!;
    // A cell of an earlier host of the node died with it: down until its supervisor restarts it.
    const status: ActorView['status'] =
      !node.up || (cell === undefined && src.cellOf(rec) !== undefined)
        ? 'down'
        : cell === undefined
          ? 'stopped'
          : cell.status === 'running'
            ? 'running'
            : cell.status;
    return {
      name: rec.ref.name,
      ref: rec.ref,
      node: rec.ref.node,
      status,
      incarnation: rec.incarnation,
      state: status === 'running' ? (cell!.state as DeepReadonly<unknown>) : undefined,
      mailbox: cell?.mailbox.length ?? 0,
    };
  };
  return {
    get nowMs() {
      return src.now;
    },
    get step() {
      return src.steps;
    },
    state<S>(name: string): DeepReadonly<S> | undefined {
      const rec = src.names.get(name);
      if (rec === undefined) return undefined;
      const cell = cellFor(rec);
      return cell !== undefined && cell.status === 'running' ? (cell.state as DeepReadonly<S>) : undefined;
    },
    actor<S>(name: string): ActorView<S> | undefined {
      const rec = src.names.get(name);
      return rec && (actorView(rec) as ActorView<S>);
    },
    actors(): ActorView[] {
      return [...src.records.values()].sort((a, b) => a.order - b.order).map(actorView);
    },
    durableData(name: string): Recovered | undefined {
      const rec = src.names.get(name);
      const cell = rec && cellFor(rec);
      if (cell === undefined) return undefined;
      return cell.store.durableView?.(cell.storeKey) ?? (cell.lastTicket <= cell.store.durableSeq ? cell.store.load(cell.storeKey) : undefined);
    },
    durable(name: string): boolean {
      const rec = src.names.get(name);
      const cell = rec && cellFor(rec);
      return cell !== undefined && cell.status === 'running' && cell.lastTicket <= cell.store.durableSeq;
    },
    inFlight(): MessageInFlight[] {
      const evs: SimEvent[] = src.queue.all().filter((e) => e.type === EventType.Deliver);
      for (const n of src.nodes) for (const e of n.deferred) if (e.type === EventType.Deliver) evs.push(e);
      evs.sort((a, b) => a.time - b.time || a.seq - b.seq);
      return evs.map((e) => {
        const env = e.env!;
        return {
          from: env.from,
          fromNode: e.arg,
          to: src.records.get(refKey(env.toNode, env.to))?.ref ?? { name: `#${env.toNode}.${env.to}`, node: env.toNode, id: env.to },
          kind: kindNames[env.kind],
          message: env.msg as DeepReadonly<unknown>,
          arrivesAtMs: e.time,
        };
      });
    },
  };
}
