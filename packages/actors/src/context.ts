/**
 * What an actor is (its behaviour and definition) and everything it may do to the world (its
 * context): the types a protocol author writes against. `defineActor` (define.ts) makes one.
 */
import type { Logger } from './logger.js';
import type { ActorRef } from './ref.js';
import type { ReplyOf, MayAnswer, ReplyTo } from './replies.js';
import type { SnapshotStore } from './snapshots.js';
import type { PersistKey } from './store.js';
import type { StorageKind } from './storage-kind.js';

/** How to answer a message later: who asked, and which ask (plain data). */
export interface ReplyToken {
  readonly to: ActorRef<any>;
  /** The ask being answered, or 0 for a plain send (the answer is then a normal message). */
  readonly corr: number;
}

/** Options of an `ask`. */
export interface AskOptions {
  /** How long to wait for the reply before rejecting with `AskTimeoutError`. Default `askTimeoutMs` (5000). */
  timeoutMs?: number;
  /** Stops waiting when it fires: the ask rejects with `AbortedError` (the message may still be handled). */
  signal?: AbortSignal;
}

/**
 * Why a watched actor is gone for good (see {@link ActorContext.watch}): `stopped` normally;
 * `failed` it crashed and no supervisor restarts it (none, or its supervisor gave up); `node-lost`
 * its worker thread (or simulated node) died and it is not restarted; `not-found` it did not
 * exist, or had already ended, when it was watched.
 */
export type TerminationReason = 'stopped' | 'failed' | 'node-lost' | 'not-found';

/**
 * The message a watcher gets when an actor it watches ends for good (never for a restart by its
 * supervisor: the ref stays valid then). Include it in the watcher's message type.
 */
export interface Terminated {
  readonly type: 'terminated';
  /** The actor that ended. */
  readonly ref: ActorRef<any>;
  readonly reason: TerminationReason;
  /** What happened, for people (the error of a crash, the worker's exit). */
  readonly detail?: string;
}

/**
 * Everything a behaviour may do to the world. Behaviours touch threads, timers, clocks,
 * randomness and storage only through this object, which is what lets the same code run in
 * workers, embedded on one thread, and in the deterministic simulator.
 *
 * @typeParam M - the messages this actor receives (timers deliver these to itself).
 * @typeParam D - what `persist` takes (the actor's durable state by default).
 */
export interface ActorContext<M = unknown, D = unknown> {
  /** This actor's ref. */
  readonly self: ActorRef<M>;
  /** The sender of the message being handled, when it was sent by an actor. */
  readonly sender: ActorRef<unknown> | undefined;
  /** Sends a message; FIFO per sender and receiver. Never blocks. */
  send<T>(to: ActorRef<T>, message: T): void;
  /**
   * Answers the message being handled: resolves the asker's promise when it was an `ask`,
   * otherwise sends `message` to the sender. Does nothing when there is no one to answer. Typed
   * by the replies this actor's messages declare (`Replies<R>`), when they declare any.
   */
  reply(message: ReplyOf<M>): void;
  /**
   * A token to answer the message being handled later (after other messages, from state, or
   * from another actor it is passed to): plain data, use it with {@link respond}. Undefined when
   * there is no one to answer.
   */
  replyToken(): ReplyToken | undefined;
  /** Answers through a token from {@link replyToken}, exactly as `reply` would have. */
  respond(token: ReplyToken, message: unknown): void;
  /**
   * Sends and waits for a `reply`: resolves with what the target's message declares it answers
   * (`Replies<R>`), `unknown` when it declares nothing. Rejects with `AskTimeoutError` after
   * `timeoutMs`, `AbortedError` when `signal` fires.
   */
  ask<T, const X extends T>(to: ActorRef<T>, message: X, options?: AskOptions): Promise<ReplyTo<T, X>>;
  /**
   * The same, with the reply type given (`ctx.ask<number>(...)`): refused by the compiler when the
   * target's messages declare other replies.
   */
  ask<R = never>(to: ActorRef<MayAnswer<NoInfer<R>>>, message: unknown, options?: AskOptions): Promise<R>;
  /**
   * Delivers `message` to this actor after `delayMs`, through its mailbox. Setting a key that
   * is already set replaces that timer.
   */
  setTimer(key: string, delayMs: number, message: M): void;
  /** Cancels a timer; no effect when it is not set. */
  cancelTimer(key: string): void;
  /** Milliseconds (monotonic). Virtual time in the simulator. */
  now(): number;
  /**
   * An array of `n` bytes to fill and then send, to any number of actors, as often as needed. In
   * worker mode with the `rings` transport it lies in this host's shared arena, so every send
   * passes a reference to it, never a copy; elsewhere (embedded, the simulator, the network, the
   * main thread, below `rings.arenaMinBytes`, a full arena) it is a plain array (a small one a view into a buffer
   * shared with others: never transfer its `buffer`). Its bytes are not zeroed. Fill it before its
   * first send and never change it after: receivers read it where it lies.
   */
  sharedBytes(n: number): Uint8Array;
  /** A float in [0, 1) from this actor's seeded generator. */
  random(): number;
  /**
   * Records durable state. Messages sent in the same turn leave only once it is durable
   * (persist before send). What `init` receives after a restart is what was persisted last.
   */
  persist(state: D): void;
  /**
   * Records one keyed entry of durable data (`undefined` deletes it): for actors whose durable
   * data is a large map changed a little per turn (a Paxos acceptor's instances). Same
   * persist-before-send rule as `persist`. Entries come back through `recoveredEntries`.
   */
  persistEntry(key: PersistKey, value: unknown): void;
  /** The entries recovered when this actor (re)started (read it in `init`). */
  recoveredEntries(): Map<PersistKey, unknown>;
  /**
   * Large immutable byte streams kept beside the durable state, in the same storage kind: state
   * machine snapshots, written in chunks over many turns and read back chunk by chunk (a
   * restart reads none of it before `init`). A finish is durable like a persist (messages of
   * its turn leave after it); see {@link SnapshotStore}.
   */
  readonly snapshots: SnapshotStore;
  /** Spawns a child on the same host; the child's name is `<parent>/<name>`. */
  spawn<CM, CA>(definition: ActorDefinition<any, CM, CA, any>, options: SpawnOptions<CA>): ActorRef<CM>;
  /** Stops this actor (no argument) or one of its children. */
  stop(ref?: ActorRef<any>): void;
  /**
   * Death watch (OTP's monitor, Akka's `watch`): when `ref` ends for good (stopped, failed and not
   * restarted, its node lost), this actor gets a {@link Terminated} message, once. A restart by a
   * supervisor is not an end: the ref stays valid. Watching an actor that is already gone gives
   * `not-found` at once. Watches belong to this incarnation: a restart of the watcher drops them
   * (watch again in `init`). Watching the same ref twice watches it once.
   */
  watch(ref: ActorRef<any>): void;
  /** Stops watching `ref`; a `terminated` already on its way may still arrive. */
  unwatch(ref: ActorRef<any>): void;
  /** Structured log records, tagged with this actor's name. */
  readonly log: Logger;
}

/**
 * A behaviour: how an actor starts and how it handles each message.
 *
 * `receive` may mutate `state` in place and return nothing, or return the next state.
 */
export interface Behavior<S, M, A, D> {
  /**
   * Builds the initial state. `recovered` is what the actor persisted last before it
   * crashed or was restarted (undefined on a first start or with memory storage).
   */
  init(args: A, ctx: ActorContext<M, D>, recovered: D | undefined): S;
  /** Handles one message. Throwing crashes the actor; its supervisor decides what follows. */
  receive(state: S, message: M, ctx: ActorContext<M, D>): S | void;
  /** Called once when the actor stops normally (not on a crash). */
  onStop?(state: S, ctx: ActorContext<M, D>): void;
  /**
   * What `system.inspect` (and dashboards) show of the state: plain data. Default: the state
   * itself. Give one when the state holds class instances that would not survive a copy.
   */
  inspect?(state: S): unknown;
}

/** What `defineActor` takes: the behaviour, and where it lives. */
export interface DefineOptions<S, M, A, D> extends Behavior<S, M, A, D> {
  /**
   * The URL of the module that exports this definition: pass `import.meta.url`. Workers
   * import it to run the actor. Not needed for embedded-only or simulated actors.
   */
  module?: string;
  /** A readable name for logs and errors; defaults to the export name. */
  label?: string;
  /** Default storage for actors of this kind; a spawn can override it. */
  storage?: StorageKind;
}

/** The result of `defineActor`: export it from its module. */
export interface ActorDefinition<S, M, A = void, D = S> extends Behavior<S, M, A, D> {
  readonly kind: 'synod.actor';
  readonly module: string | undefined;
  readonly label: string | undefined;
  readonly storage: StorageKind | undefined;
}

/** Options of `system.spawn` and `ctx.spawn`. */
export interface SpawnOptions<A> {
  /** Unique among live actors (for `ctx.spawn`, among the parent's children). */
  name: string;
  /** Passed to `init`. Must be plain data in workers mode. */
  args?: A;
  /** Where durable state lives. Default: the definition's `storage`, else `memory`. */
  storage?: StorageKind;
  /**
   * Workers mode: actors given the same `worker` key share one worker thread. Default: each
   * actor gets its own worker. Ignored in embedded mode.
   */
  worker?: string;
  /**
   * Module URLs imported before the actor starts (in its worker, or in this thread), for code its
   * `init` looks up synchronously (e.g. a replicated state machine registered by its module).
   */
  preload?: string[];
}
