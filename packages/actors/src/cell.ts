import { setLength } from './arrays.js';
import type { CellHost } from './cell-host.js';
import type { ActorContext, ActorDefinition, AskOptions, ReplyToken, SpawnOptions } from './context.js';
import { Envelope, Kind, SYSTEM_ID } from './envelope.js';
import type { Logger } from './logger.js';
import { Mailbox } from './mailbox.js';
import type { Prng } from './random.js';
import type { ActorRef } from './ref.js';
import type { ActorStore, PersistKey, PersistOp, Recovered } from './store.js';
import { ActorSnapshots } from './snapshot-view.js';
import type { SnapshotStore } from './snapshots.js';
import { StorageError } from './stores/errors.js';

/** Persist ops a cell keeps for reuse after a turn (the rest are dropped). */
const MAX_POOLED_OPS = 1024;

export type CellStatus = 'running' | 'crashed' | 'stopped';

/**
 * One actor on a host: its behaviour, state, mailbox, timers and the held messages of turns
 * whose persisted state is not durable yet. Also its `ctx`: the methods below are the context,
 * so a turn allocates nothing for it.
 */
export class ActorCell implements ActorContext<any, any> {
  state: unknown = undefined;
  status: CellStatus = 'running';
  /** On the host's run queue. */
  scheduled = false;
  readonly mailbox: Mailbox<Envelope>;
  /** Outside senders waiting for room (`enqueue`); created on first use. */
  waiting: Mailbox<Envelope> | null = null;
  /** The envelope being handled, during a turn. */
  current: Envelope | null = null;
  /** Messages sent during the current turn: they leave when the turn ends. */
  readonly turnOut: Envelope[] = [];
  /**
   * Durable changes of the current turn, `pendingOps[0, pendingCount)` (written when the turn
   * ends). The op objects are reused turn after turn (see `clearOps`): a Synod acceptor persists
   * three per instance (its promise, its acceptance, its forgetting), each a fresh object before.
   */
  readonly pendingOps: PersistOp[] = [];
  pendingCount = 0;
  /** What the store held when this actor (re)started: read by `recoveredEntries`. */
  recovered: Recovered | undefined = undefined;
  /** Write number of this actor's last persist. */
  lastTicket = 0;
  /** Messages waiting for their turn's persisted state to become durable, in send order. */
  readonly held: Envelope[] = [];
  heldHead = 0;
  readonly timers = new Map<string, unknown>();
  readonly children = new Set<ActorCell>();
  stopRequested = false;
  /** Messages handled since start (statistics). */
  processed = 0;
  /** `ctx.snapshots`, made on first use. */
  snapshotView: ActorSnapshots | null = null;

  constructor(
    readonly host: CellHost<ActorCell>,
    readonly self: ActorRef<any>,
    readonly def: ActorDefinition<any, any, any, any>,
    readonly args: unknown,
    readonly store: ActorStore,
    readonly rng: Prng,
    readonly log: Logger,
    readonly parent: ActorCell | null,
    mailboxCapacity: number,
    /** How many times a supervisor restarted this actor (0 for the first start). */
    readonly incarnation: number,
  ) {
    this.mailbox = new Mailbox(mailboxCapacity);
  }

  /** The key of this actor's durable state in its store. */
  get storeKey(): string {
    return this.self.name;
  }

  // ---- ActorContext ----

  get sender(): ActorRef<unknown> | undefined {
    const from = this.current?.from;
    return from && from.id !== SYSTEM_ID ? from : undefined;
  }

  send<T>(to: ActorRef<T>, message: T): void {
    this.host.sendFrom(this, to, message, Kind.Send, 0);
  }

  reply(message: unknown): void {
    const env = this.current;
    if (!env || !env.from) return;
    if (env.kind === Kind.Ask) this.host.sendFrom(this, env.from, message, Kind.Reply, env.corr);
    else if (env.from.id !== SYSTEM_ID) this.host.sendFrom(this, env.from, message, Kind.Send, 0);
  }

  replyToken(): ReplyToken | undefined {
    const env = this.current;
    if (!env || !env.from) return undefined;
    if (env.kind === Kind.Ask) return { to: env.from, corr: env.corr };
    return env.from.id !== SYSTEM_ID ? { to: env.from, corr: 0 } : undefined;
  }

  respond(token: ReplyToken, message: unknown): void {
    if (token.corr !== 0) this.host.sendFrom(this, token.to, message, Kind.Reply, token.corr);
    else this.host.sendFrom(this, token.to, message, Kind.Send, 0);
  }

  ask(to: ActorRef<any>, message: unknown, options?: AskOptions): Promise<any> {
    return this.host.askFrom(this, to, message, options);
  }

  setTimer(key: string, delayMs: number, message: unknown): void {
    this.host.setTimer(this, key, delayMs, message);
  }

  cancelTimer(key: string): void {
    this.host.cancelTimer(this, key);
  }

  now(): number {
    return this.host.clock.now();
  }

  sharedBytes(n: number): Uint8Array {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`sharedBytes: n must be an integer >= 0, got ${String(n)}`);
    return this.host.sharedBytes(n);
  }

  random(): number {
    return this.rng.next();
  }

  persist(state: unknown): void {
    this.addOp(null, state);
    // Outside a turn (an ask continuation) there is no turn end to write it: write now.
    if (this.current === null) this.host.endOutsideTurn(this);
  }

  persistEntry(key: PersistKey, value: unknown): void {
    if (typeof key !== 'string' && typeof key !== 'number') {
      throw new TypeError(`persistEntry: key must be a string or a number, got ${typeof key}`);
    }
    this.addOp(key, value);
    if (this.current === null) this.host.endOutsideTurn(this);
  }

  private addOp(key: PersistKey | null, value: unknown): void {
    const ops = this.pendingOps;
    const n = this.pendingCount++;
    if (n < ops.length) {
      const op = ops[n]!;
      op.key = key;
      op.value = value;
    } else {
      ops.push({ key, value });
    }
  }

  /** Forgets the turn's changes (written, or dropped with a failed turn): the ops let go of their values. */
  clearOps(): void {
    const ops = this.pendingOps;
    for (let i = 0; i < this.pendingCount; i++) ops[i]!.value = undefined;
    this.pendingCount = 0;
    // A bound on what one big turn leaves behind.
    if (ops.length > MAX_POOLED_OPS) setLength(ops, MAX_POOLED_OPS);
  }

  get snapshots(): SnapshotStore {
    if (this.snapshotView === null) {
      const backend = this.store.snapshots;
      if (backend === undefined) throw new StorageError(`actor "${this.self.name}": its storage (${this.store.kind}) keeps no snapshots`);
      this.snapshotView = new ActorSnapshots(this, backend);
    }
    return this.snapshotView;
  }

  recoveredEntries(): Map<PersistKey, unknown> {
    return new Map(this.recovered?.entries ?? []);
  }

  spawn<CM, CA>(definition: ActorDefinition<any, CM, CA, any>, options: SpawnOptions<CA>): ActorRef<CM> {
    return this.host.spawnChild(this, definition, options);
  }

  stop(ref?: ActorRef<any>): void {
    this.host.stopFromActor(this, ref);
  }

  watch(ref: ActorRef<any>): void {
    this.host.watch(this, ref, true);
  }

  unwatch(ref: ActorRef<any>): void {
    this.host.watch(this, ref, false);
  }
}
