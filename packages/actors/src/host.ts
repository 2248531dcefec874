import { ActorCell } from './cell.js';
import type { CellHost } from './cell-host.js';
import type { Clock } from './clock.js';
import type { ActorDefinition, AskOptions, SpawnOptions } from './context.js';
import { Envelope, Kind, SYSTEM_ID } from './envelope.js';
import { freshBytes } from './small-bytes.js';
import { clearArray } from './arrays.js';
import type { Transport } from './transport.js';
import {
  AbortedError,
  ActorInitError,
  AskTimeoutError,
  DuplicateNameError,
  assert,
  InvalidOptionError,
  MailboxFullError,
  messageType,
  toError,
} from './errors.js';
import { makeLogger, type LogLevel, type LogSink } from './logger.js';
import { Mailbox } from './mailbox.js';
import { Prng, deriveSeed } from './random.js';
import { describeRef, makeRef, type ActorRef } from './ref.js';
import type { ActorStore, StorageKind } from './store.js';
import { assertPlainData } from './validate.js';

/** Why a message could not be delivered. */
export type DeadLetterReason = 'no-such-actor' | 'mailbox-full' | 'actor-crashed' | 'actor-stopped' | 'encoding' | 'unreachable';

export interface DeadLetter {
  to: ActorRef<any> | { node: number; id: number; name?: string };
  from: ActorRef<any> | null;
  messageType: string;
  reason: DeadLetterReason;
  detail?: string;
}

/** What a host reports to whoever owns it (the system, a worker's parent, the simulator). */
export type { Transport } from './transport.js';

/** A watch sent to the watch desk (see `HostConfig.watchVia`). */
export interface WatchRequest {
  type: '$watch';
  target: ActorRef<any>;
  on: boolean;
}

export interface HostEvents {
  started(ref: ActorRef<any>, parent: ActorRef<any> | null, restart: boolean): void;
  /** A normal stop (`ctx.stop`, `system.stop`, a stopping parent). */
  stopped(ref: ActorRef<any>, incarnation: number): void;
  crashed(ref: ActorRef<any>, error: Error, during: 'init' | 'receive' | 'stop', messageType: string | undefined, incarnation: number): void;
  deadLetter(letter: DeadLetter): void;
  /**
   * An actor starts (`on`) or ends a death watch of `target` (`ctx.watch`, `ctx.unwatch`). Absent
   * on hosts whose watches travel as messages instead (`HostConfig.watchVia`).
   */
  watch?(watcher: ActorRef<any>, target: ActorRef<any>, on: boolean): void;
}

/** How a host asks to run soon. Real hosts use microtasks and setImmediate; the simulator its own queue. */
export interface Scheduler {
  /** Run `fn` as soon as the current work is done (a microtask). */
  soon(fn: () => void): void;
  /** Run `fn` after letting other work (I/O, timers) in. */
  later(fn: () => void): void;
}

export const realScheduler: Scheduler = {
  soon: queueMicrotask,
  later: (fn) => {
    setImmediate(fn);
  },
};

/** Tuning and limits of a host. All of them bound something. */
export interface HostLimits {
  /** Messages an actor's mailbox holds; the newest is dropped beyond it. */
  mailboxCapacity: number;
  /** Messages one actor handles before the host moves on to the next runnable actor. */
  maxMessagesPerSlice: number;
  /** Messages a host handles before it yields to the event loop (timers, I/O, other ports). */
  maxMessagesPerDrain: number;
  /**
   * Milliseconds a host handles messages before it yields to the event loop, whatever their
   * number: heavy messages must not hold back timers (heartbeats, elections). Default 10.
   */
  maxDrainMs: number;
  /** Default timeout of `ask`. */
  askTimeoutMs: number;
  /**
   * Check that every message is plain data at the sender. A message of a type with an active
   * codec is not walked: its codec defines what crosses a thread, and refuses (`canEncode`)
   * what it cannot carry.
   */
  validateMessages: boolean;
  /** Outside senders (`enqueue`) that may wait for room in one full mailbox. */
  maxWaitingSenders: number;
}

export const defaultLimits: HostLimits = {
  mailboxCapacity: 10_000,
  maxMessagesPerSlice: 64,
  maxMessagesPerDrain: 8_192,
  maxDrainMs: 10,
  askTimeoutMs: 5_000,
  validateMessages: true,
  maxWaitingSenders: 1_024,
};

export function checkLimits(l: Partial<HostLimits>): void {
  const positiveInt = (k: keyof HostLimits) => {
    const v = l[k];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) > 0)) {
      throw new InvalidOptionError(`option ${k} must be a positive integer, got ${String(v)}`);
    }
  };
  positiveInt('mailboxCapacity');
  positiveInt('maxMessagesPerSlice');
  positiveInt('maxMessagesPerDrain');
  positiveInt('maxDrainMs');
  positiveInt('askTimeoutMs');
  positiveInt('maxWaitingSenders');
}

export interface HostConfig {
  node: number;
  seed: number;
  clock: Clock;
  scheduler: Scheduler;
  limits: HostLimits;
  events: HostEvents;
  logLevel: LogLevel;
  logSink: LogSink;
  /** Storage per kind; created on first use. */
  store(kind: StorageKind): ActorStore;
  /** Names a ref from another node given its address (for the sender of a decoded message). */
  resolveRef?(node: number, id: number): ActorRef<any>;
  /**
   * Where this host's ask numbers start. Reply tokens are plain data and may be stored (a
   * replicated log keeps the ones of its commands): after a restart, an old reply must not
   * resolve a new ask, so real hosts start at a random number. Default 1.
   */
  corrBase?: number;
  /**
   * Post what a drain sent at the end of the event-loop turn (`scheduler.later`) rather than at
   * once: the batches of every port message handled in that turn then leave together, in few
   * large posts (postMessage costs microseconds each). For port-fed hosts.
   */
  coalesceFlushes?: boolean;
  /**
   * Flush the transport after every turn rather than after every drain: for transports whose
   * flush is an atomic store (rings), so an answer leaves while the next message is handled.
   */
  flushEachTurn?: boolean;
  /**
   * Fed from outside its scheduler: every port message (or, embedded, every operation of the
   * thread's own callers) calls `drain`, so `maxDrainMs` is counted per event-loop turn across
   * those calls, and work past it waits for the next turn. (Other hosts drain only from their
   * scheduler, which yields by itself.)
   */
  portFed?: boolean;
  /**
   * Whether a message has an active codec (`CodecRegistry.tagFor`): such messages are not walked
   * by `validateMessages` (see there).
   */
  hasCodec?(msg: unknown): boolean;
  /**
   * Where this host sends its actors' watches (`ctx.watch`), as a message of the watcher's turn:
   * the main thread's watch desk, for worker hosts. The watch is then in force before any later
   * message of the watcher arrives anywhere (the data plane keeps each pair's order), so asking
   * the watcher anything is enough to know its watch is held. Absent: `events.watch`.
   */
  watchVia?: ActorRef<any>;
  /**
   * Called when a pending ask or enqueue settles: its promise continuation is now queued as a
   * microtask. The simulator uses it to run such continuations before its next event.
   */
  settled?(): void;
}

interface PendingAsk {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  timer: unknown;
}

export { SYSTEM_ID } from './envelope.js';

/**
 * Runs actors: mailboxes, turns, timers, persist-before-send, asks and fair draining. One per
 * worker thread, one on the main thread, one per simulated node. Knows nothing of threads: the
 * transport, clock, scheduler and stores are given to it.
 */
export class ActorHost implements CellHost<ActorCell> {
  readonly node: number;
  readonly clock: Clock;
  readonly limits: HostLimits;
  transport: Transport | null = null;
  /**
   * Sees every envelope this host routes (sends, asks, replies), before it is delivered or
   * handed to the transport: how live views observe traffic (see `message-trace.ts`). Null,
   * the default, costs one comparison per message.
   */
  tap: ((env: Envelope) => void) | null = null;
  /**
   * Nodes cut off from all others (a partition injected on a real system): an envelope between
   * two different nodes, either of them in this set, is dropped as an `unreachable` dead letter
   * when it leaves. Every host holds the same set. Null: no partition.
   */
  isolated: ReadonlySet<number> | null = null;
  private readonly cfg: HostConfig;
  private readonly cells: (ActorCell | undefined)[] = [];
  private readonly byName = new Map<string, ActorCell>();
  /** Start order, for stopping in reverse. */
  private readonly startOrder: ActorCell[] = [];
  private nextId = 1;
  private readonly runQueue: Mailbox<ActorCell>;
  private drainPending = false;
  private draining = false;
  private flushPending = false;
  private readonly asks = new Map<number, PendingAsk>();
  private nextCorr = 1;
  /** Cells with messages held for durability. */
  private readonly waitingForDurability = new Set<ActorCell>();
  private readonly storesSeen = new Set<ActorStore>();
  /** The durable write number each store reported last (it only grows). */
  private readonly durableSeen = new Map<ActorStore, number>();
  readonly systemRef: ActorRef<any>;
  private closed = false;
  /** Messages delivered into mailboxes on this host (statistics). */
  delivered = 0;
  /**
   * Asks answered so far: a run loop that sees it move lets the event loop turn, so the
   * answered promises' continuations run now rather than after its time slice.
   */
  asksSettled = 0;

  constructor(cfg: HostConfig) {
    this.cfg = cfg;
    this.node = cfg.node;
    this.clock = cfg.clock;
    this.limits = cfg.limits;
    this.runQueue = new Mailbox<ActorCell>(Number.POSITIVE_INFINITY);
    this.nextCorr = cfg.corrBase ?? 1;
    this.systemRef = makeRef<any>('$system', cfg.node, SYSTEM_ID);
  }

  // ---------------------------------------------------------------- actors

  /**
   * Starts an actor on this host and runs its `init`. Throws `ActorInitError` when `init`
   * throws (nothing is left behind). `id` and `incarnation` are given by a supervisor that
   * restarts an actor under its old ref.
   */
  spawn(def: ActorDefinition<any, any, any, any>, options: SpawnOptions<any>, parent: ActorCell | null = null, id?: number, incarnation = 0): ActorRef<any> {
    if (this.closed) throw new InvalidOptionError('this host is closed');
    const name = options.name;
    if (typeof name !== 'string' || name.length === 0) throw new InvalidOptionError('spawn needs a non-empty `name`');
    if (this.byName.has(name)) throw new DuplicateNameError(`an actor named "${name}" is already running; names must be unique`);
    if (id !== undefined && this.cells[id] !== undefined) throw new InvalidOptionError(`actor id #${this.node}.${id} is in use`);
    const actorId = id ?? this.nextId++;
    if (id !== undefined && id >= this.nextId) this.nextId = id + 1;
    const ref = makeRef<any>(name, this.node, actorId);
    const kind = options.storage ?? def.storage ?? 'memory';
    const store = this.storeFor(kind);
    const cell = new ActorCell(
      this,
      ref,
      def,
      options.args,
      store,
      new Prng(deriveSeed(this.cfg.seed, `${name}#${incarnation}`)),
      makeLogger(name, this.cfg.logLevel, this.cfg.logSink, () => this.clock.now()),
      parent,
      this.limits.mailboxCapacity,
      incarnation,
    );
    // Registered before init so that init can send to itself and spawn children.
    this.cells[actorId] = cell;
    this.byName.set(name, cell);
    this.startOrder.push(cell);
    parent?.children.add(cell);
    const recovered = store.load(cell.storeKey);
    cell.recovered = recovered;
    // What was recovered may include writes of an earlier incarnation that are not durable yet:
    // nothing this one sends leaves before they are (persist before send, across restarts).
    cell.lastTicket = store.writtenSeq ?? store.durableSeq;
    try {
      cell.state = def.init(options.args, cell, recovered?.hasState ? recovered.state : undefined);
    } catch (e) {
      for (const child of [...cell.children]) this.endCell(child, 'actor-stopped', true);
      this.discard(cell);
      const err = toError(e);
      throw new ActorInitError(`init of actor "${name}"${incarnation > 0 ? ` (restart ${incarnation})` : ''} threw: ${err.message}`, { cause: err });
    }
    cell.recovered = undefined;
    // Messages sent from init leave like those of a turn.
    this.endTurn(cell);
    this.cfg.events.started(ref, parent?.self ?? null, incarnation > 0);
    if (cell.mailbox.length > 0 && !cell.scheduled) this.schedule(cell);
    return ref;
  }

  /**
   * Restarts an actor under the same ref: ends the current incarnation quietly (children,
   * mailbox as dead letters, `onStop` if it was running), then starts a fresh one from its store.
   */
  replace(id: number, def: ActorDefinition<any, any, any, any>, options: SpawnOptions<any>, incarnation: number): ActorRef<any> {
    const old = this.cells[id];
    if (old) this.terminate(id);
    return this.spawn(def, options, null, id, incarnation);
  }

  /** Ends an actor without a `stopped` event: its supervisor is about to restart it. */
  terminate(id: number): boolean {
    const cell = this.cells[id];
    if (!cell) return false;
    this.endCell(cell, 'actor-crashed', false);
    return true;
  }

  lookup(name: string): ActorRef<any> | undefined {
    return this.byName.get(name)?.self;
  }

  has(id: number): boolean {
    return this.cells[id] !== undefined;
  }

  /**
   * Read-only view of one actor, for inspection and invariant checks. `project`, when given,
   * replaces the definition's own `inspect` view: it reads the live state of a running actor
   * (and must not change it) and returns the plain data wanted, so a watcher that needs a few
   * figures of a large state pays for those alone.
   */
  inspect(
    id: number,
    project?: (state: unknown) => unknown,
  ): { ref: ActorRef<any>; status: string; state: unknown; mailbox: number; processed: number; incarnation: number } | undefined {
    const c = this.cells[id];
    if (!c) return undefined;
    const state =
      project !== undefined
        ? c.status === 'running'
          ? project(c.state)
          : undefined
        : c.def.inspect && c.status === 'running'
          ? c.def.inspect(c.state)
          : c.state;
    return { ref: c.self, status: c.status, state, mailbox: c.mailbox.length, processed: c.processed, incarnation: c.incarnation };
  }

  /** Every actor on this host, in start order. */
  actors(): ActorCell[] {
    return this.startOrder.slice();
  }

  /** Stops an actor normally: children first, then `onStop`, timers, mailbox (as dead letters). */
  stop(id: number): boolean {
    const cell = this.cells[id];
    if (!cell) return false;
    this.endCell(cell, 'actor-stopped', true);
    return true;
  }

  private endCell(cell: ActorCell, reason: DeadLetterReason, announce: boolean): void {
    if (cell.status === 'stopped') return;
    for (const child of [...cell.children]) this.endCell(child, 'actor-stopped', true);
    if (cell.status === 'running' && cell.def.onStop) {
      cell.current = null;
      try {
        cell.def.onStop(cell.state, cell);
        this.endTurn(cell);
      } catch (e) {
        cell.turnOut.length = 0;
        cell.clearOps();
        this.cfg.events.crashed(cell.self, toError(e), 'stop', undefined, cell.incarnation);
      }
    }
    cell.status = 'stopped';
    this.discard(cell, reason);
    if (announce) this.cfg.events.stopped(cell.self, cell.incarnation);
    this.scheduleFlush();
  }

  /** Forgets a cell: timers, mailbox (as dead letters), registration. */
  private discard(cell: ActorCell, reason: DeadLetterReason = 'actor-stopped'): void {
    cell.status = 'stopped';
    cell.snapshotView?.end();
    for (const t of cell.timers.values()) this.clock.cancel(t);
    cell.timers.clear();
    this.dropMailbox(cell, reason);
    if (this.cells[cell.self.id] === cell) this.cells[cell.self.id] = undefined;
    if (this.byName.get(cell.self.name) === cell) this.byName.delete(cell.self.name);
    const i = this.startOrder.indexOf(cell);
    if (i >= 0) this.startOrder.splice(i, 1);
    cell.parent?.children.delete(cell);
    this.waitingForDurability.delete(cell);
  }

  /** Stops every actor, newest first. */
  stopAll(): void {
    while (this.startOrder.length > 0) this.endCell(this.startOrder[this.startOrder.length - 1]!, 'actor-stopped', true);
  }

  spawnChild(parent: ActorCell, def: ActorDefinition<any, any, any, any>, options: SpawnOptions<any>): ActorRef<any> {
    return this.spawn(def, { ...options, name: `${parent.self.name}/${options.name}` }, parent);
  }

  sharedBytes(n: number): Uint8Array {
    return this.transport?.sharedBytes?.(n) ?? freshBytes(n);
  }

  watch(cell: ActorCell, target: ActorRef<any>, on: boolean): void {
    if (target === null || typeof target !== 'object' || !Number.isInteger(target.node) || !Number.isInteger(target.id)) {
      throw new InvalidOptionError(`${on ? 'watch' : 'unwatch'} from "${cell.self.name}": the target must be an ActorRef, got ${String(target)}`);
    }
    if (cell.status !== 'running') return;
    const via = this.cfg.watchVia;
    if (via === undefined) {
      this.cfg.events.watch?.(cell.self, target, on);
      return;
    }
    const msg: WatchRequest = { type: '$watch', target, on };
    cell.turnOut.push(new Envelope(via.id, via.node, cell.self, Kind.Send, 0, msg));
    if (cell.current === null) this.endOutsideTurn(cell);
  }

  /**
   * Delivers a notice of the runtime (a death watch's `terminated`) from this host: like a send
   * from outside, but never cut by an injected partition (it is the runtime speaking, as its
   * supervision and heartbeats are).
   */
  notify(to: ActorRef<any>, msg: unknown): void {
    const env = new Envelope(to.id, to.node, null, Kind.Send, 0, msg);
    if (this.tap !== null) this.tap(env);
    if (env.toNode === this.node) this.deliver(env);
    else if (this.transport) this.transport.send(env);
    else this.deadLetter(env, 'unreachable', `no transport to node ${env.toNode}`);
    this.scheduleFlush();
  }

  stopFromActor(cell: ActorCell, ref?: ActorRef<any>): void {
    const target = ref === undefined ? cell : ref.node === this.node ? this.cells[ref.id] : undefined;
    if (!target) return;
    if (target !== cell && target.parent !== cell) {
      throw new InvalidOptionError(`actor "${cell.self.name}" may stop only itself or its children, not ${describeRef(ref!)}`);
    }
    if (cell.current !== null && target === cell) {
      cell.stopRequested = true; // after this turn
    } else {
      this.endCell(target, 'actor-stopped', true);
    }
  }

  /**
   * Marks an actor crashed: the failed turn has no effects, its mailbox becomes dead letters,
   * its children stop, and its supervisor decides about a restart. A child spawned with
   * `ctx.spawn` is linked to its parent: its crash crashes the parent too.
   */
  private crash(cell: ActorCell, error: unknown, env: Envelope | null, during: 'receive' | 'init' = 'receive'): void {
    if (cell.status !== 'running') return;
    cell.status = 'crashed';
    cell.turnOut.length = 0;
    cell.clearOps();
    cell.snapshotView?.end();
    for (const t of cell.timers.values()) this.clock.cancel(t);
    cell.timers.clear();
    this.cfg.events.crashed(cell.self, toError(error), during, env ? messageType(env.msg) : undefined, cell.incarnation);
    this.dropMailbox(cell, 'actor-crashed');
    for (const child of [...cell.children]) this.endCell(child, 'actor-stopped', true);
    const parent = cell.parent;
    if (parent) {
      const e = toError(error);
      this.crash(parent, new Error(`linked child "${cell.self.name}" crashed: ${e.message}`), null);
    }
  }

  /** Fault injection: crashes an actor as if its handler had thrown. */
  crashActor(id: number, reason = 'injected crash'): void {
    const cell = this.cells[id];
    if (cell) this.crash(cell, new Error(reason), null);
  }

  private dropMailbox(cell: ActorCell, reason: DeadLetterReason): void {
    for (let env = cell.mailbox.shift(); env !== undefined; env = cell.mailbox.shift()) {
      this.deadLetter(env, reason);
    }
    if (cell.waiting !== null) {
      for (let env = cell.waiting.shift(); env !== undefined; env = cell.waiting.shift()) {
        this.deadLetter(env, reason);
        this.answerEnqueue(cell, env, false);
      }
    }
  }

  // ---------------------------------------------------------------- sending

  /** Validates a message at its sender (see `HostLimits.validateMessages`). */
  private validate(msg: unknown): void {
    if (!this.limits.validateMessages) return;
    const hasCodec = this.cfg.hasCodec;
    if (hasCodec !== undefined && hasCodec(msg)) return;
    assertPlainData(msg);
  }

  /** Called by `ctx.send` / `ctx.reply`. */
  sendFrom(cell: ActorCell, to: ActorRef<any>, msg: unknown, kind: Kind, corr: number): void {
    this.validate(msg);
    if (to === null || typeof to !== 'object') {
      throw new InvalidOptionError(`send from "${cell.self.name}": target must be an ActorRef, got ${String(to)}`);
    }
    cell.turnOut.push(new Envelope(to.id, to.node, cell.self, kind, corr, msg));
    if (cell.current === null) this.endOutsideTurn(cell);
  }

  askFrom(cell: ActorCell | null, to: ActorRef<any>, msg: unknown, options?: AskOptions): Promise<unknown> {
    this.validate(msg);
    const timeoutMs = options?.timeoutMs ?? this.limits.askTimeoutMs;
    const signal = options?.signal;
    if (signal?.aborted)
      return Promise.reject(
        new AbortedError(`ask to ${describeRef(to)} with message "${messageType(msg)}": aborted before it was sent`, { cause: signal.reason }),
      );
    const corr = this.takeCorr();
    const from = cell ? cell.self : this.systemRef;
    return new Promise((resolve, reject) => {
      const timer = this.clock.schedule(timeoutMs, () => {
        this.asks.delete(corr);
        unlisten();
        reject(new AskTimeoutError(describeRef(to), messageType(msg), timeoutMs));
        this.cfg.settled?.();
      });
      const unlisten = this.onAbort(
        signal,
        corr,
        () =>
          new AbortedError(`ask to ${describeRef(to)} with message "${messageType(msg)}": aborted (a reply that comes is dropped)`, { cause: signal!.reason }),
      );
      this.asks.set(corr, {
        resolve: (v) => {
          unlisten();
          resolve(v);
        },
        reject: (e) => {
          unlisten();
          reject(e);
        },
        timer,
      });
      const env = new Envelope(to.id, to.node, from, Kind.Ask, corr, msg);
      if (cell) {
        cell.turnOut.push(env);
        if (cell.current === null) this.endOutsideTurn(cell);
      } else {
        this.route(env);
        this.scheduleFlush();
      }
    });
  }

  /**
   * A send from outside that waits for room when the mailbox is full. Resolves once the
   * message is in the mailbox.
   */
  enqueueFromOutside(to: ActorRef<any>, msg: unknown, timeoutMs = this.limits.askTimeoutMs, signal?: AbortSignal): Promise<void> {
    this.validate(msg);
    if (signal?.aborted) return Promise.reject(new AbortedError(`enqueue to ${describeRef(to)}: aborted before it was sent`, { cause: signal.reason }));
    const corr = this.takeCorr();
    return new Promise<void>((resolve, reject) => {
      const timer = this.clock.schedule(timeoutMs, () => {
        this.asks.delete(corr);
        unlisten();
        reject(new MailboxFullError(`enqueue to ${describeRef(to)}: no room in its mailbox within ${timeoutMs} ms (message "${messageType(msg)}")`));
        this.cfg.settled?.();
      });
      const unlisten = this.onAbort(
        signal,
        corr,
        () => new AbortedError(`enqueue to ${describeRef(to)}: aborted while waiting for room (it may still be admitted)`, { cause: signal!.reason }),
      );
      this.asks.set(corr, {
        resolve: (ok) => {
          unlisten();
          if (ok) resolve();
          else
            reject(
              new MailboxFullError(
                `enqueue to ${describeRef(to)}: its mailbox is full and ${this.limits.maxWaitingSenders} senders already wait (maxWaitingSenders)`,
              ),
            );
        },
        reject: (e) => {
          unlisten();
          reject(e);
        },
        timer,
      });
      this.route(new Envelope(to.id, to.node, this.systemRef, Kind.Enqueue, corr, msg));
      this.scheduleFlush();
    });
  }

  /** A send from outside any actor (the system API). */
  sendFromOutside(to: ActorRef<any>, msg: unknown): void {
    this.validate(msg);
    this.route(new Envelope(to.id, to.node, null, Kind.Send, 0, msg));
    this.scheduleFlush();
  }

  /** Effects made outside a turn (in a promise continuation) leave at once, like a turn of their own. */
  endOutsideTurn(cell: ActorCell): void {
    this.endTurn(cell);
    this.scheduleFlush();
  }

  /**
   * Rejects the pending ask `corr` when `signal` fires (it is forgotten: a late reply is dropped).
   * Returns what removes the listener once the ask settled otherwise.
   */
  private onAbort(signal: AbortSignal | undefined, corr: number, error: () => Error): () => void {
    if (signal === undefined) return noop;
    const abort = (): void => {
      const pending = this.asks.get(corr);
      if (pending === undefined) return;
      this.asks.delete(corr);
      this.clock.cancel(pending.timer);
      pending.reject(error());
      this.cfg.settled?.();
    };
    signal.addEventListener('abort', abort, { once: true });
    return () => signal.removeEventListener('abort', abort);
  }

  /** The next ask number; they travel as u32, so they wrap (an ask lives seconds, not 4 billion asks). */
  private takeCorr(): number {
    const c = this.nextCorr;
    this.nextCorr = c >= 0xffff_ffff ? 1 : c + 1;
    return c;
  }

  /**
   * Finishes a turn: writes its persisted state, then lets its messages leave, or holds them
   * until that state is durable (persist before send). Messages of later turns queue behind
   * held ones, so FIFO holds per sender.
   */
  endTurn(cell: ActorCell): void {
    const snaps = cell.snapshotView;
    if (cell.pendingCount > 0 || (snaps !== null && snaps.pendingDeletes)) {
      try {
        if (cell.pendingCount > 0) {
          const ticket = cell.store.write(cell.storeKey, cell.pendingOps, cell.pendingCount);
          // Write numbers only grow: a smaller one would let this turn's messages leave before its state is durable.
          assert(ticket >= cell.lastTicket, () => `store ${cell.store.kind} returned write ${ticket} after write ${cell.lastTicket} of "${cell.self.name}"`);
          cell.lastTicket = ticket;
        }
        // Snapshots deleted in the turn go after its state (which may have stopped referring to them).
        if (snaps !== null && snaps.pendingDeletes) snaps.applyDeletes();
      } catch (e) {
        // The store refused the turn's state (too large, full, not storable, failed): the turn
        // fails as if its handler had thrown; the actor crashes, not its worker.
        cell.clearOps();
        clearArray(cell.turnOut);
        snaps?.dropTurn();
        this.crash(cell, e, cell.current);
        return;
      }
      cell.clearOps();
    }
    const out = cell.turnOut;
    if (out.length === 0) return;
    const durable = cell.store.durableSeq;
    if (cell.lastTicket > durable || cell.heldHead < cell.held.length) {
      // Held messages leave in order, each once its gate is durable: gates never go down the queue.
      const held = cell.held;
      assert(held.length === cell.heldHead || held[held.length - 1]!.gate <= cell.lastTicket, () => `held messages of "${cell.self.name}" out of gate order`);
      for (let i = 0; i < out.length; i++) {
        const env = out[i]!;
        env.gate = cell.lastTicket;
        held.push(env);
      }
      clearArray(out);
      this.waitingForDurability.add(cell);
      return;
    }
    for (let i = 0; i < out.length; i++) this.route(out[i]!);
    clearArray(out);
  }

  /** Called by a store when writes up to `seq` are durable. */
  private onDurable(store: ActorStore): void {
    const durable = store.durableSeq;
    // What is durable stays durable: the durable write number only grows.
    const before = this.durableSeen.get(store) ?? 0;
    assert(durable >= before, () => `store ${store.kind} went back from durable write ${before} to ${durable}`);
    this.durableSeen.set(store, durable);
    for (const cell of this.waitingForDurability) {
      if (cell.store !== store) continue;
      const held = cell.held;
      let i = cell.heldHead;
      while (i < held.length && held[i]!.gate <= durable) this.route(held[i++]!);
      if (i === held.length) {
        clearArray(held);
        cell.heldHead = 0;
        this.waitingForDurability.delete(cell);
      } else {
        cell.heldHead = i;
      }
    }
    this.flushNow();
  }

  private storeFor(kind: StorageKind): ActorStore {
    const store = this.cfg.store(kind);
    if (!this.storesSeen.has(store)) {
      this.storesSeen.add(store);
      store.onDurable = () => this.onDurable(store);
    }
    return store;
  }

  /** Sends an envelope to its target: into a local mailbox, or to the transport. */
  route(env: Envelope): void {
    if (this.tap !== null) this.tap(env);
    if (env.toNode === this.node) this.deliver(env);
    else if (this.isolated !== null && (this.isolated.has(env.toNode) || this.isolated.has(this.node)) && !this.isWatchRequest(env)) {
      this.deadLetter(env, 'unreachable', `node ${this.isolated.has(this.node) ? this.node : env.toNode} is isolated (partition)`);
    } else if (this.transport) this.transport.send(env);
    else this.deadLetter(env, 'unreachable', `no transport to node ${env.toNode}`);
  }

  /** A watch on its way to the watch desk: the runtime speaking, never cut by an injected partition. */
  private isWatchRequest(env: Envelope): boolean {
    const via = this.cfg.watchVia;
    return via !== undefined && env.to === via.id && env.toNode === via.node;
  }

  /** Accepts an envelope addressed to this host. */
  deliver(env: Envelope): void {
    if (env.kind === Kind.Reply) {
      const pending = this.asks.get(env.corr);
      if (pending) {
        this.asks.delete(env.corr);
        this.clock.cancel(pending.timer);
        pending.resolve(env.msg);
        this.asksSettled++;
        this.cfg.settled?.();
      }
      return;
    }
    const cell = this.cells[env.to];
    if (cell === undefined || env.to === SYSTEM_ID) {
      this.deadLetter(env, 'no-such-actor');
      return;
    }
    if (cell.status !== 'running') {
      this.deadLetter(env, cell.status === 'crashed' ? 'actor-crashed' : 'actor-stopped');
      if (env.kind === Kind.Enqueue) this.answerEnqueue(cell, env, false);
      return;
    }
    if (env.kind === Kind.Enqueue) {
      this.deliverWaiting(cell, env);
      return;
    }
    if ((cell.waiting !== null && cell.waiting.length > 0) || !cell.mailbox.push(env)) {
      this.deadLetter(env, 'mailbox-full', `mailbox capacity ${this.limits.mailboxCapacity}`);
      return;
    }
    assert(
      cell.mailbox.length <= this.limits.mailboxCapacity,
      () => `the mailbox of "${cell.self.name}" holds ${cell.mailbox.length} messages, over mailboxCapacity ${this.limits.mailboxCapacity}`,
    );
    this.delivered++;
    if (!cell.scheduled) this.schedule(cell);
  }

  private deliverWaiting(cell: ActorCell, env: Envelope): void {
    if ((cell.waiting === null || cell.waiting.length === 0) && cell.mailbox.push(env)) {
      this.delivered++;
      this.answerEnqueue(cell, env, true);
      if (!cell.scheduled) this.schedule(cell);
      return;
    }
    cell.waiting ??= new Mailbox<Envelope>(this.limits.maxWaitingSenders);
    if (!cell.waiting.push(env)) {
      this.deadLetter(env, 'mailbox-full', `mailbox full and ${this.limits.maxWaitingSenders} senders waiting`);
      this.answerEnqueue(cell, env, false);
    }
  }

  /** Moves waiting outside messages into the mailbox as room appears. */
  private admitWaiting(cell: ActorCell): void {
    const waiting = cell.waiting!;
    while (waiting.length > 0 && !cell.mailbox.isFull) {
      const env = waiting.shift()!;
      cell.mailbox.push(env);
      this.delivered++;
      this.answerEnqueue(cell, env, true);
    }
  }

  private answerEnqueue(cell: ActorCell, env: Envelope, admitted: boolean): void {
    if (env.from) this.route(new Envelope(env.from.id, env.from.node, cell.self, Kind.Reply, env.corr, admitted));
  }

  deadLetter(env: Envelope, reason: DeadLetterReason, detail?: string): void {
    if (env.kind === Kind.Reply) return; // a late reply: its ask already timed out
    const to =
      env.toNode === this.node
        ? (this.cells[env.to]?.self ?? { node: env.toNode, id: env.to })
        : (this.cfg.resolveRef?.(env.toNode, env.to) ?? { node: env.toNode, id: env.to });
    this.cfg.events.deadLetter({ to, from: env.from, messageType: messageType(env.msg), reason, detail });
  }

  // ---------------------------------------------------------------- timers

  setTimer(cell: ActorCell, key: string, delayMs: number, msg: unknown): void {
    if (!(delayMs >= 0)) throw new InvalidOptionError(`setTimer "${key}": delayMs must be >= 0, got ${delayMs}`);
    const old = cell.timers.get(key);
    if (old !== undefined) this.clock.cancel(old);
    const handle = this.clock.schedule(delayMs, () => {
      if (cell.timers.get(key) !== handle) return;
      cell.timers.delete(key);
      if (cell.status !== 'running') return;
      this.deliver(new Envelope(cell.self.id, this.node, cell.self, Kind.Send, 0, msg));
    });
    cell.timers.set(key, handle);
  }

  cancelTimer(cell: ActorCell, key: string): void {
    const t = cell.timers.get(key);
    if (t !== undefined) {
      this.clock.cancel(t);
      cell.timers.delete(key);
    }
  }

  // ---------------------------------------------------------------- draining

  private schedule(cell: ActorCell): void {
    cell.scheduled = true;
    this.runQueue.push(cell);
    if (!this.drainPending && !this.draining) {
      this.drainPending = true;
      this.cfg.scheduler.soon(this.drainTask);
    }
  }

  /** When the first drain of this event-loop turn began (-1: none yet; see `drain`). */
  private turnStartedAt = -1;
  private readonly newTurn = (): void => {
    this.turnStartedAt = -1;
  };

  /** A port-fed host past `maxDrainMs` in this event-loop turn: new work should wait for the next. */
  overBudget(): boolean {
    return this.cfg.portFed === true && this.turnStartedAt >= 0 && this.clock.now() - this.turnStartedAt >= this.limits.maxDrainMs;
  }

  private readonly drainTask = (): void => {
    this.drainPending = false;
    this.drain();
  };

  /**
   * Runs queued actors, each for at most `maxMessagesPerSlice` messages before the next gets a
   * turn, and at most `maxMessagesPerDrain` in all before yielding; then flushes the transport.
   */
  drain(): void {
    if (this.draining) return;
    // The time budget is per event-loop turn, not per call: a burst of port messages calls drain
    // once each, and handling them all at once would starve timers (heartbeats, elections) for as
    // long as the burst lasts. Past it, the rest waits for the next turn.
    const now = this.clock.now();
    if (!this.cfg.portFed) {
      this.turnStartedAt = now;
    } else if (this.turnStartedAt < 0) {
      this.turnStartedAt = now;
      this.cfg.scheduler.later(this.newTurn);
    } else if (now - this.turnStartedAt >= this.limits.maxDrainMs) {
      if (this.runQueue.length > 0 && !this.drainPending) {
        this.drainPending = true;
        this.cfg.scheduler.later(this.drainTask);
      }
      return;
    }
    this.draining = true;
    let budget = this.limits.maxMessagesPerDrain;
    const slice = this.limits.maxMessagesPerSlice;
    const until = this.turnStartedAt + this.limits.maxDrainMs;
    // Back-pressure: a congested transport takes no more sends, so no turn starts while it is;
    // whoever feeds this host drains it again once the transport has room.
    const transport = this.transport !== null && this.transport.congested !== undefined ? this.transport : null;
    // The clock is read between slices, but not after every one when slices are short: a read
    // costs as much as a small turn. The gap grows while slices take little time.
    let every = 1;
    let skipped = 0;
    let lastCheck = now;
    const short = this.limits.maxDrainMs / 32;
    try {
      while (budget > 0) {
        if (budget < this.limits.maxMessagesPerDrain && ++skipped >= every) {
          skipped = 0;
          const t = this.clock.now();
          if (t >= until) break;
          every = t - lastCheck < short ? Math.min(every * 2, 32) : 1;
          lastCheck = t;
        }
        if (transport !== null && transport.congested!()) break;
        const cell = this.runQueue.shift();
        if (cell === undefined) break;
        let n = 0;
        while (n < slice && cell.status === 'running') {
          if (transport !== null && n > 0 && transport.congested!()) break;
          const env = cell.mailbox.shift();
          if (env === undefined) break;
          this.turn(cell, env);
          n++;
        }
        budget -= n;
        if (cell.waiting !== null && cell.waiting.length > 0 && cell.status === 'running') this.admitWaiting(cell);
        if (cell.mailbox.length > 0 && cell.status === 'running') this.runQueue.push(cell);
        else cell.scheduled = false;
      }
    } finally {
      this.draining = false;
    }
    this.flushAfterDrain();
    if (this.runQueue.length > 0 && !this.drainPending && !(transport?.congested!() ?? false)) {
      this.drainPending = true;
      this.cfg.scheduler.later(this.drainTask);
    }
  }

  /** Handles one message: the turn. */
  private turn(cell: ActorCell, env: Envelope): void {
    cell.current = env;
    try {
      const next = cell.def.receive(cell.state, env.msg, cell);
      if (next !== undefined) cell.state = next;
    } catch (e) {
      cell.current = null;
      this.crash(cell, e, env);
      return;
    }
    cell.current = null;
    cell.processed++;
    this.endTurn(cell);
    if (this.cfg.flushEachTurn === true && this.transport !== null) this.transport.flush();
    if (cell.stopRequested) {
      cell.stopRequested = false;
      this.endCell(cell, 'actor-stopped', true);
    }
  }

  /** Whether any actor has work queued. */
  get busy(): boolean {
    return this.runQueue.length > 0;
  }

  /** Whether messages are held until a store reports their turn's state durable (a store I/O completion is awaited). */
  get awaitingDurability(): boolean {
    return this.waitingForDurability.size > 0;
  }

  private scheduleFlush(): void {
    if (this.flushPending || !this.transport) return;
    this.flushPending = true;
    this.cfg.scheduler.soon(this.flushTask);
  }

  private readonly flushTask = (): void => {
    this.flushPending = false;
    this.transport?.flush();
  };

  /**
   * After a drain. The first drain of an event-loop turn posts at once (an isolated message gets
   * its answer with no added delay); later drains of the same turn (a burst of port messages)
   * leave their sends to one flush at the end of the turn, so they go out in few, large posts.
   */
  private flushAfterDrain(): void {
    if (!this.transport) return;
    if (!this.cfg.coalesceFlushes) {
      this.transport.flush();
      return;
    }
    if (!this.flushedThisTurn) {
      this.flushedThisTurn = true;
      this.transport.flush();
      this.cfg.scheduler.later(this.endOfTurn);
      return;
    }
    if (this.flushPending) return;
    this.flushPending = true;
    this.cfg.scheduler.later(this.flushTask);
  }

  private flushedThisTurn = false;
  private readonly endOfTurn = (): void => {
    this.flushedThisTurn = false;
  };

  flushNow(): void {
    this.transport?.flush();
  }

  /** Rejects pending asks and stops timers. */
  close(reason: Error): void {
    this.closed = true;
    for (const [corr, p] of this.asks) {
      this.clock.cancel(p.timer);
      p.reject(reason);
      this.asks.delete(corr);
    }
  }

  /** Per-actor counters, for statistics events (the runtime's own actors, named `$...`, left out). */
  stats(): { name: string; node: number; id: number; processed: number; mailbox: number; status: string }[] {
    return this.startOrder
      .filter((c) => !c.self.name.startsWith('$'))
      .map((c) => ({
        name: c.self.name,
        node: this.node,
        id: c.self.id,
        processed: c.processed,
        mailbox: c.mailbox.length,
        status: c.status,
      }));
  }
}

function noop(): void {}
