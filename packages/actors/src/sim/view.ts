/**
 * What invariants see: a read-only view of every actor's state and of the messages in flight,
 * taken after a step. States are the actors' live objects (copying them every step would cost
 * more than the step): an invariant must not change them, which the types say.
 */
import type { ActorRef } from '../ref.js';

/** A value seen through a read-only lens, all the way down. */
export type DeepReadonly<T> =
  T extends (...args: any[]) => any ? T
  : T extends Map<infer K, infer V> ? ReadonlyMap<DeepReadonly<K>, DeepReadonly<V>>
  : T extends Set<infer V> ? ReadonlySet<DeepReadonly<V>>
  : T extends readonly (infer V)[] ? readonly DeepReadonly<V>[]
  : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
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
  /** Messages on the network, in arrival order. Costs a sort: call it only when needed. */
  inFlight(): MessageInFlight[];
}

/**
 * An invariant: called after every step with the view. Returning `false` or a string (the
 * explanation), or throwing, is a violation: the run stops and reports the step.
 */
export type Invariant = (view: SimView) => void | boolean | string;
