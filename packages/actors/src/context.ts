import type { ActorRef } from './ref.js';
import type { Logger } from './logger.js';
import type { ActorDefinition, SpawnOptions } from './define.js';
import type { PersistKey } from './store.js';
import type { SnapshotStore } from './snapshots.js';

/** How to answer a message later: who asked, and which ask (plain data). */
export interface ReplyToken {
  readonly to: ActorRef<any>;
  /** The ask being answered, or 0 for a plain send (the answer is then a normal message). */
  readonly corr: number;
}

/** Options of an `ask`. */
export interface AskOptions {
  /** How long to wait for the reply before rejecting with `AskTimeoutError`. Default 5000. */
  timeoutMs?: number;
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
   * otherwise sends `message` to the sender. Does nothing when there is no one to answer.
   */
  reply(message: unknown): void;
  /**
   * A token to answer the message being handled later (after other messages, from state, or
   * from another actor it is passed to): plain data, use it with {@link respond}. Undefined when
   * there is no one to answer.
   */
  replyToken(): ReplyToken | undefined;
  /** Answers through a token from {@link replyToken}, exactly as `reply` would have. */
  respond(token: ReplyToken, message: unknown): void;
  /** Sends and waits for a `reply`. Rejects with `AskTimeoutError` after `timeoutMs`. */
  ask<R = unknown, T = unknown>(to: ActorRef<T>, message: T, options?: AskOptions): Promise<R>;
  /**
   * Delivers `message` to this actor after `delayMs`, through its mailbox. Setting a key that
   * is already set replaces that timer.
   */
  setTimer(key: string, delayMs: number, message: M): void;
  /** Cancels a timer; no effect when it is not set. */
  cancelTimer(key: string): void;
  /** Milliseconds (monotonic). Virtual time in the simulator. */
  now(): number;
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
  /** Structured log records, tagged with this actor's name. */
  readonly log: Logger;
}
