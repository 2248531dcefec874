/**
 * `ReplicatedStateMachine`: replicate any deterministic state machine across worker threads (or
 * embedded), and use it from ordinary async code. Every operation goes through one client
 * (`ClientCore` of @synod/smr): commands are encoded once here, where they enter, and the
 * operations of one tick leave in one message and come back in one.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'eventemitter3';
import { CanonicalError } from '@synod/canonical';
import {
  ActorSystem,
  InvalidOptionError,
  storageKinds,
  type ActorRef,
  type StorageKind,
  type StorageLimits,
  type StorageOptions,
  type SupervisionOptions,
  type SystemOptions,
} from '@synod/actors';
import { synodCodecs, type LeaderOptions, type MChanges, type MDivergence, type MSubscriptionRefused, type ReplicaOptions } from '@synod/paxos';
import {
  ClientClosedError,
  ClientCore,
  ClusterHaltedError,
  CommandFailedError,
  InvalidCommandError,
  NoLeaderError,
  OperationAbortedError,
  OutcomeUnknownError,
  OverloadedError,
  QuotaExceededError,
  ReadFailedError,
  readConsistencies,
  type ClientOptions,
  type ClientReply,
  type Completion,
  type ReadConsistency,
  type StateMachine,
} from '@synod/smr';
import { checkCluster, protocolByName, replicatedCodecs, startCluster, type Cluster } from './cluster.js';
import { connectCluster, type ConnectOptions } from './network.js';

export interface ReplicatedOptions<S = any, C = any, R = any, Q = any, A = any> {
  /** The state machine (made with `defineStateMachine` and exported from its module). */
  machine: StateMachine<S, C, R, Q, A>;
  /** Replica nodes (one worker each): survives the crash of any minority. Default 3. */
  replicas?: number;
  /**
   * Durable state of the protocol's actors and the replicas: `shared` (default in workers mode:
   * survives a worker crash), `file` (survives a process crash; give `dir`), `memory`
   * (benchmarks only: NOT crash-safe, a restarted acceptor forgets its promises).
   */
  storage?: StorageKind;
  /** Directory for `file` storage (when this call starts the system). */
  dir?: string;
  /** Default `workers`. Ignored when `system` is given. */
  mode?: 'workers' | 'embedded';
  /** Run inside this system (it must have `storage.dir` for `file`). */
  system?: ActorSystem;
  /** Options of the actor system this call starts (ignored with `system`), e.g. `heartbeat`. */
  systemOptions?: Omit<SystemOptions, 'mode' | 'codecs'>;
  /** Prefix of actor names. Default `rsm`. */
  name?: string;
  /** The replication protocol: `multipaxos` (default), `raft`, `epaxos`, or another registered with `registerProtocol`. */
  protocol?: string;
  /**
   * Options of the leader role. With `raft`, those that mean the same there (timing, window,
   * batch and queue bounds, flow control) set the RaftNodes' options.
   */
  leader?: Partial<LeaderOptions>;
  /** The protocol's own options, checked at start: with `raft`, `RaftOptions` of @synod/raft (e.g. `{ preVote: false }`); with `epaxos`, `EPaxosOptions` of @synod/epaxos. */
  protocolOptions?: object;
  replica?: Partial<ReplicaOptions>;
  supervision?: SupervisionOptions;
  /** An operation (with its retries across leaders) fails after this long. Default 5000. */
  operationTimeoutMs?: number;
  /** One attempt at one leader or replica waits this long before it is sent again. Default 1000. */
  attemptTimeoutMs?: number;
  /** Commands larger than this (encoded) are refused where they enter. Default 64 KiB. */
  maxCommandBytes?: number;
  /** Queries larger than this are refused. Default 16 KiB. */
  maxQueryBytes?: number;
  /** Commands of one session outstanding at once; more wait (at most `maxQueued` in all). Default 1024. */
  maxInflightPerSession?: number;
  /** Commands waiting for room at this client, over all sessions; beyond, operations fail with OverloadedError. Default 100 000. */
  maxQueued?: number;
}

/** Options of one read. */
export interface ReadOptions {
  /**
   * `linearizable` (default): the leader confirms with a quorum that it still leads, then answers
   * at its commit index: sees every write acknowledged before the read began.
   * `lease`: the leader answers at once while its lease holds (acceptors promised no one else,
   * allowing for clock drift), else as `linearizable`. Linearizable if clocks drift less than
   * `leader.maxClockDrift`.
   * `session`: any replica that has applied this session's last write and last read: reads your
   * writes, and never goes back in time; may miss other clients' latest writes.
   * `eventual`: any replica's current state, at once: fastest, may be stale and go back in time.
   */
  consistency?: ReadConsistency;
  timeoutMs?: number;
  /** See at least what the session that made this token had seen (`session.token()`): causal consistency. */
  after?: string;
  /** Stops waiting (the read is not retried further). */
  signal?: AbortSignal;
}

/** Options of one command. */
export interface ExecuteOptions {
  timeoutMs?: number;
  /**
   * Take effect after what this token's session had seen (`session.token()`). Every command is
   * placed after every command already committed, so this always holds; it is accepted so that
   * code can state its causal dependencies the same way for reads and writes.
   */
  after?: string;
  /**
   * Stop waiting. A command not yet sent is dropped; one already sent goes on in its session's
   * order and may take effect (the error says which).
   */
  signal?: AbortSignal;
}

/** One applied command as change watchers see it (in log order). */
export interface AppliedChange<C = unknown, R = unknown> {
  /** The log slot it was applied in. */
  slot: number;
  command: C;
  ok: boolean;
  /** The result when `ok`, else the error text. */
  result: R | string;
}

/** Two replicas reached different states (or results) at the same log index: a non-deterministic state machine. */
export interface Divergence {
  /** The replicas that disagree (node numbers). */
  replicas: [number, number];
  /** The log indexes between which they began to disagree (they agreed at `from`, not at `to`). */
  from: number;
  to: number;
  detail: string;
}

/** Events of a replicated state machine. */
export interface ReplicatedEvents {
  /** Commands applied (as seen by one replica, in log order, each once; call `subscribe` first). */
  applied: (changes: AppliedChange[]) => void;
  /** The replica refused this subscriber (it has `maxSubscribers` already): no `applied` events will come. */
  'subscription-refused': (reason: string) => void;
  /** Replicas disagree: the state machine is not deterministic. Always on. */
  divergence: (d: Divergence) => void;
  /**
   * A replica stopped applying at a slot whose apply killed it `maxApplyAttempts` times (every
   * replica stops there: they apply the same log). Operations fail with ClusterHaltedError.
   */
  halted: (h: { replica: number; slot: number; detail: string }) => void;
}

const TOKEN = /^synod:(\d+)$/;

/**
 * A client session: numbers its commands so that a retried command is applied once and a
 * session's writes apply in the order issued, and remembers the log index it has seen (for
 * `session` reads and causal tokens).
 */
export class Session {
  /**
   * The log index of this session's last answered operation: after a write, where it was applied
   * (its slot + 1); after a read, how far the replica that answered had applied.
   */
  lastOpIndex = 0;

  /** @internal */
  constructor(
    private readonly rsm: ReplicatedStateMachine<any, any, any, any, any>,
    readonly no: number,
  ) {}

  /** This session's id: its client's id and its number (how the replicas know it). */
  get id(): string {
    return `${this.rsm.client.clientId}/${this.no}`;
  }

  /** The highest log index this session has seen (its writes' and reads'). */
  get lastIndex(): number {
    return this.rsm.client.lastIndex(this.no);
  }

  /**
   * A causal token: what this session has seen. Another session (of any client of this cluster)
   * that reads with `{ after: token }` sees at least that.
   */
  token(): string {
    return `synod:${this.lastIndex}`;
  }

  /** Applies a command in this session. */
  execute(command: unknown, options: ExecuteOptions = {}): Promise<unknown> {
    return this.rsm.executeIn(this, command, options);
  }

  /** Reads in this session (`session` consistency reads your own writes). */
  query(query: unknown, options: ReadOptions = {}): Promise<unknown> {
    return this.rsm.queryIn(this, query, options);
  }
}

/**
 * A state machine replicated with Multi-Paxos (or another protocol: `protocol: 'raft'` or `'epaxos'`).
 *
 * ```ts
 * const rsm = await ReplicatedStateMachine.start({ machine: Counter, replicas: 3 });
 * await rsm.execute(5);          // 5
 * await rsm.query(null);         // 5 (linearizable)
 * await rsm.shutdown();
 * ```
 */
export class ReplicatedStateMachine<S = any, C = any, R = any, Q = any, A = any> {
  readonly events = new EventEmitter<ReplicatedEvents>();
  /** The session of `execute` and `query` called on this object. */
  readonly session: Session;
  /** @internal The client every operation goes through. */
  readonly client: ClientCore;
  private readonly inbox: ActorRef<ClientReply | MChanges | MDivergence | MSubscriptionRefused>;
  private flushScheduled = false;
  private readonly ticker: NodeJS.Timeout;
  private subscribed = false;
  private subscribedReplica = 0;
  private closed = false;
  /** Set once a replica reported it stopped applying (see the `halted` event). */
  private halted: string | null = null;
  private readonly opts: { operationTimeoutMs: number; maxCommandBytes: number; maxQueryBytes: number };

  private constructor(
    readonly system: ActorSystem,
    readonly cluster: Cluster,
    readonly machine: StateMachine<S, C, R, Q, A>,
    private readonly ownSystem: boolean,
    options: ReplicatedOptions<S, C, R, Q, A>,
  ) {
    this.opts = {
      operationTimeoutMs: options.operationTimeoutMs ?? 5_000,
      maxCommandBytes: options.maxCommandBytes ?? DEFAULT_MAX_COMMAND_BYTES,
      maxQueryBytes: options.maxQueryBytes ?? 16 * 1024,
    };
    const clientOptions: Partial<ClientOptions> = {};
    if (options.attemptTimeoutMs !== undefined) clientOptions.attemptTimeoutMs = options.attemptTimeoutMs;
    if (options.maxInflightPerSession !== undefined) clientOptions.maxInflightPerSession = options.maxInflightPerSession;
    if (options.maxQueued !== undefined) clientOptions.maxQueued = options.maxQueued;
    const clientId = randomBytes(12).toString('base64url');
    this.inbox = system.listener<ClientReply | MChanges | MDivergence | MSubscriptionRefused>(
      `${cluster.supervisor.name}-client-${clientId.slice(0, 8)}`,
      (m) => this.onMessage(m),
    );
    this.client = new ClientCore(
      clientId,
      { leaders: cluster.leaders, replicas: cluster.replicas, leaderless: cluster.leaderless },
      this.inbox as ActorRef<ClientReply>,
      clientOptions,
    );
    this.session = new Session(this, this.client.openSession());
    const attempt = this.client.options.attemptTimeoutMs;
    this.ticker = setInterval(() => this.tick(), Math.max(5, Math.min(50, Math.floor(attempt / 4))));
    this.ticker.unref();
    cluster.watchDivergence(this.inbox as ActorRef<MDivergence>);
  }

  /** Starts the replicas (and an actor system, unless one is given). */
  static async start<S, C, R, Q, A>(options: ReplicatedOptions<S, C, R, Q, A>): Promise<ReplicatedStateMachine<S, C, R, Q, A>> {
    const machine = options?.machine;
    if (!machine || (machine as { kind?: unknown }).kind !== 'synod.state-machine') {
      throw new InvalidOptionError('ReplicatedStateMachine.start: `machine` must be made with defineStateMachine()');
    }
    const replicas = options.replicas ?? 3;
    // Leader and replica options are checked here, before any thread or actor starts.
    const { replica } = checkCluster({
      replicas,
      leader: options.leader,
      replica: options.replica,
      protocol: options.protocol,
      protocolOptions: options.protocolOptions,
    });
    checkClientOptions(options);
    if ((options.maxInflightPerSession ?? 1024) > replica.sessionWindow) {
      throw new InvalidOptionError(
        `maxInflightPerSession (${options.maxInflightPerSession ?? 1024}) must not exceed replica.sessionWindow (${replica.sessionWindow}): ` +
          'the replicas keep the results of at most that many commands a session has outstanding',
      );
    }
    if (options.storage !== undefined && !storageKinds.includes(options.storage)) {
      throw new InvalidOptionError(`storage must be one of ${storageKinds.join(', ')}, got ${String(options.storage)}`);
    }
    const protocol = protocolByName(options.protocol);
    const ownSystem = !options.system;
    const codecs = replicatedCodecs(options.protocol).slice(1);
    if (options.system) for (const set of codecs) await options.system.registerCodecs(set);
    const storageOptions: StorageOptions = options.dir ? { dir: options.dir } : {};
    const system =
      options.system ??
      (await ActorSystem.start({
        logLevel: 'warn',
        ...options.systemOptions,
        mode: options.mode ?? 'workers',
        codecs: [synodCodecs, ...codecs],
        storage: { ...options.systemOptions?.storage, ...storageOptions },
      }));
    try {
      checkCommandBound(options.maxCommandBytes ?? DEFAULT_MAX_COMMAND_BYTES, system.storageLimits);
      for (const set of protocol.codecs ?? []) await system.registerCodecs(set);
      const storage = options.storage ?? (system.mode === 'workers' ? 'shared' : 'memory');
      if (storage === 'file' && ownSystem && !options.dir) throw new InvalidOptionError('storage "file" needs `dir`: the directory for the logs');
      const cluster = await startCluster(system, {
        name: options.name ?? 'rsm',
        protocol: options.protocol,
        replicas,
        machine,
        storage,
        leader: options.leader,
        replica: options.replica,
        protocolOptions: options.protocolOptions,
        supervision: options.supervision,
      });
      return new ReplicatedStateMachine(system, cluster, machine, ownSystem, options);
    } catch (e) {
      if (ownSystem) await system.shutdown();
      throw e;
    }
  }

  /**
   * A client of a cluster whose members are other processes (`synod node`, or `startMember`):
   * the same operations, read consistencies and errors as a cluster started here. Resolves once a
   * member answers; rejects, saying what the members said, if none does within `connectTimeoutMs`.
   *
   * ```ts
   * const rsm = await ReplicatedStateMachine.connect({
   *   machine: counter, clusterId: 'prod', members: ['1@10.0.0.1:7401', '2@10.0.0.2:7401', '3@10.0.0.3:7401'],
   *   tls: { ca: readFileSync('ca.pem'), cert: readFileSync('client-1.pem'), key: readFileSync('client-1-key.pem') },
   * });
   * ```
   */
  static async connect<S, C, R, Q, A>(
    options: ConnectOptions &
      Pick<
        ReplicatedOptions<S, C, R, Q, A>,
        'machine' | 'operationTimeoutMs' | 'attemptTimeoutMs' | 'maxCommandBytes' | 'maxQueryBytes' | 'maxInflightPerSession' | 'maxQueued'
      >,
  ): Promise<ReplicatedStateMachine<S, C, R, Q, A>> {
    const machine = options?.machine;
    if (!machine || (machine as { kind?: unknown }).kind !== 'synod.state-machine') {
      throw new InvalidOptionError('ReplicatedStateMachine.connect: `machine` must be made with defineStateMachine()');
    }
    checkClientOptions(options);
    const { system, cluster } = await connectCluster(options, machine);
    const rsm = new ReplicatedStateMachine<S, C, R, Q, A>(system, cluster, machine, true, options as ReplicatedOptions<S, C, R, Q, A>);
    // Watches and subscriptions are kept by the replicas only while this client is connected to them: made again when it reconnects.
    system.net!.events.on('peer:up', (node) => rsm.rewatch(node - 1));
    return rsm;
  }

  /** @internal Watches (and the subscription) sent again to replica `i` after its connection came back. */
  private rewatch(i: number): void {
    const replica = this.cluster.replicas[i];
    if (this.closed || !replica) return;
    this.system.send(replica, { type: 'watch-divergence', to: this.inbox } as never);
    if (this.subscribed && this.subscribedReplica === i) this.system.send(replica, { type: 'subscribe', to: this.inbox } as never);
  }

  /** A new client session (its own exactly-once numbering, order and read-your-writes point). */
  newSession(): Session {
    this.assertOpen('newSession');
    return new Session(this, this.client.openSession());
  }

  /** Applies a command and resolves with its result (in this object's default session). */
  execute(command: C, options: ExecuteOptions = {}): Promise<R> {
    return this.executeIn(this.session, command, options) as Promise<R>;
  }

  /** Reads (linearizable by default; see {@link ReadOptions}). */
  query(query: Q, options: ReadOptions = {}): Promise<A> {
    return this.queryIn(this.session, query, options) as Promise<A>;
  }

  /** @internal */
  executeIn(session: Session, command: unknown, options: ExecuteOptions): Promise<unknown> {
    try {
      this.assertOpen('execute');
      if (options.after !== undefined) this.client.observe(session.no, parseToken(options.after));
    } catch (e) {
      return Promise.reject(e);
    }
    let bytes: Uint8Array;
    try {
      bytes = this.machine.client.encodeCommand(command as C, this.opts.maxCommandBytes);
    } catch (e) {
      const why =
        e instanceof CanonicalError && e.problem === 'too-large'
          ? `the command is over maxCommandBytes (${this.opts.maxCommandBytes} bytes encoded)${e.path ? ` at ${e.path}` : ''}`
          : ((e as Error)?.message ?? String(e));
      return Promise.reject(new InvalidCommandError(`invalid command for "${this.machine.name}": ${why}; nothing was applied`, { cause: e }));
    }
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(new OperationAbortedError('aborted before it was sent: nothing was applied', { cause: signal.reason }));
    const timeoutMs = options.timeoutMs ?? this.opts.operationTimeoutMs;
    return new Promise((resolve, reject) => {
      let settled = false;
      // Only with a signal: the common call allocates nothing but its promise and this callback.
      const onAbort =
        signal === undefined
          ? undefined
          : (): void => {
              if (settled) return;
              settled = true;
              reject(
                new OperationAbortedError("aborted while in flight: it may still take effect, in its session's order (read the state to find out)", {
                  cause: signal.reason,
                }),
              );
            };
      if (onAbort) signal!.addEventListener('abort', onAbort, { once: true });
      this.client.execute(session.no, bytes, Date.now() + timeoutMs, (c) => {
        if (settled) return;
        settled = true;
        if (onAbort) signal!.removeEventListener('abort', onAbort);
        if (c.kind === 'ok' || c.kind === 'failed' || c.kind === 'quota') session.lastOpIndex = c.index;
        if (c.kind === 'ok') {
          try {
            resolve(this.machine.client.decodeResult(c.bytes));
          } catch (e) {
            reject(e);
          }
        } else if (this.halted !== null && c.kind === 'unknown')
          reject(new ClusterHaltedError(`${c.detail}; this command may have been applied before that slot, or not at all`));
        else reject(commandError(c, timeoutMs));
      });
      this.scheduleFlush();
    });
  }

  /** @internal */
  queryIn(session: Session, query: unknown, options: ReadOptions): Promise<unknown> {
    let consistency: ReadConsistency;
    let after = 0;
    let bytes: Uint8Array;
    try {
      consistency = options.consistency ?? 'linearizable';
      this.assertOpen('query');
      if (!readConsistencies.includes(consistency)) {
        throw new InvalidOptionError(`consistency must be linearizable, lease, session or eventual, got ${JSON.stringify(consistency)}`);
      }
      if (options.after !== undefined) after = parseToken(options.after);
      try {
        bytes = this.machine.client.encodeQuery(query as Q, this.opts.maxQueryBytes);
      } catch (e) {
        throw new ReadFailedError(`invalid query for "${this.machine.name}": ${(e as Error)?.message ?? String(e)}`, { cause: e });
      }
      if (options.signal?.aborted) throw new OperationAbortedError('aborted before it was sent', { cause: options.signal.reason });
    } catch (e) {
      return Promise.reject(e);
    }
    const timeoutMs = options.timeoutMs ?? this.opts.operationTimeoutMs;
    const signal = options.signal;
    return new Promise((resolve, reject) => {
      let settled = false;
      const onAbort = (): void => {
        if (settled) return;
        settled = true;
        reject(new OperationAbortedError('read aborted', { cause: signal!.reason }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.client.read(session.no, bytes, consistency, after, Date.now() + timeoutMs, (c) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (c.kind === 'ok') {
          session.lastOpIndex = c.index;
          try {
            resolve(this.machine.client.decodeAnswer(c.bytes, query as Q));
          } catch (e) {
            reject(e);
          }
        } else if (this.halted !== null) reject(new ClusterHaltedError(this.halted));
        else reject(readError(c, consistency, timeoutMs));
      });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // After every promise continuation of this tick has run (a tick callback runs once the
    // microtask queue is empty): every operation issued in this tick leaves together, without
    // waiting for the event loop to go round.
    process.nextTick(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private readonly io = {
    send: (to: ActorRef<any>, m: unknown) => {
      if (this.system.running) this.system.send(to, m);
    },
    now: () => Date.now(),
  };

  private flush(): void {
    if (!this.closed) this.client.flush(this.io);
  }

  private tick(): void {
    if (this.closed) return;
    if (this.client.tick(Date.now())) this.scheduleFlush();
  }

  private onMessage(m: ClientReply | MChanges | MDivergence | MSubscriptionRefused): void {
    switch (m.type) {
      case 'changes':
        this.emitChanges(m);
        return;
      case 'subscription-refused':
        this.events.emit('subscription-refused', m.reason);
        return;
      case 'divergence':
        if (m.halted) {
          if (this.halted === null) {
            this.halted = m.detail;
            this.client.abandonAll(m.detail);
          }
          this.events.emit('halted', { replica: m.replica, slot: m.to, detail: m.detail });
        } else {
          this.events.emit('divergence', { replicas: [m.replica, m.peer], from: m.from, to: m.to, detail: m.detail });
        }
        return;
    }
    if (this.client.receive(m, Date.now())) this.scheduleFlush();
  }

  /** Slots arrive in order, each whole in one message: what is at or below the last slot delivered was delivered (a restarted replica applies again from its snapshot). */
  private lastChangeSlot = -1;

  private emitChanges(m: MChanges): void {
    const fresh = m.changes.filter((c) => c.slot > this.lastChangeSlot);
    if (fresh.length === 0) return;
    this.lastChangeSlot = fresh[fresh.length - 1]!.slot;
    const decodeCommand = this.machine.client.decodeCommand;
    const text = new TextDecoder();
    const changes: AppliedChange[] = fresh.map((c) => ({
      slot: c.slot,
      command: decodeCommand ? decodeCommand(c.command) : c.command,
      ok: c.ok,
      result: c.ok ? this.machine.client.decodeResult(c.result) : text.decode(c.result),
    }));
    this.events.emit('applied', changes);
  }

  /** Starts delivering `applied` events (from replica 0, or `replica`); they go on across its restarts. */
  subscribe(replica = 0): void {
    if (this.subscribed) return;
    this.subscribed = true;
    this.subscribedReplica = replica;
    this.cluster.subscribe(replica, this.inbox as ActorRef<MChanges>);
  }

  /** The node currently believed to lead (by index). */
  get leaderIndex(): number {
    return this.client.leaderIndex;
  }

  private assertOpen(op: string): void {
    if (this.closed) throw new ClientClosedError(`${op}: this replicated state machine was shut down`);
    if (this.halted !== null) throw new ClusterHaltedError(`${op}: ${this.halted}`);
  }

  /** Stops the replicas (and the system, if this object started it). Operations still pending fail with ClientClosedError. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ticker);
    this.client.close('the replicated state machine was shut down');
    if (this.ownSystem) await this.system.shutdown();
    else await this.cluster.supervisor.shutdown();
  }

  /** `await using rsm = await ReplicatedStateMachine.start(…)`: shuts down at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }
}

/** `maxCommandBytes` unless set. */
const DEFAULT_MAX_COMMAND_BYTES = 64 * 1024;
/** What travels and is stored around a command's bytes: its request, slot and record framing, and a snapshot entry's key. */
const COMMAND_FRAMING_BYTES = 64 * 1024;

/**
 * A command must fit where it is stored whole: in one log record (an acceptor's slot, a Raft
 * entry, an EPaxos instance) and, as a value, in one snapshot chunk. A bigger one would be
 * accepted here and then refused by every store, again and again: the cluster would stop.
 */
function checkCommandBound(maxCommandBytes: number, limits: StorageLimits): void {
  const cap = Math.min(limits.maxRecordBytes, limits.maxSnapshotChunkBytes) - COMMAND_FRAMING_BYTES;
  if (maxCommandBytes > cap) {
    throw new InvalidOptionError(
      `maxCommandBytes (${maxCommandBytes}) is more than the cluster can store: a command is stored whole in one log record ` +
        `(storage.maxRecordBytes ${limits.maxRecordBytes}) and kept whole in one snapshot chunk (storage.maxSnapshotChunkBytes ` +
        `${limits.maxSnapshotChunkBytes}), less ${COMMAND_FRAMING_BYTES} bytes of framing: at most ${cap}; lower maxCommandBytes, or raise both storage limits`,
    );
  }
}

function checkClientOptions(
  options: Partial<Record<'operationTimeoutMs' | 'attemptTimeoutMs' | 'maxCommandBytes' | 'maxQueryBytes' | 'maxInflightPerSession' | 'maxQueued', unknown>>,
): void {
  for (const k of ['operationTimeoutMs', 'attemptTimeoutMs', 'maxCommandBytes', 'maxQueryBytes', 'maxInflightPerSession', 'maxQueued'] as const) {
    const v = options[k];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) > 0)) throw new InvalidOptionError(`${k} must be a positive integer, got ${String(v)}`);
  }
}

function parseToken(token: string): number {
  const m = typeof token === 'string' ? TOKEN.exec(token) : null;
  if (!m) throw new InvalidOptionError(`after: not a session token (got ${JSON.stringify(token)}; use session.token())`);
  return Number(m[1]);
}

function commandError(c: Exclude<Completion, { kind: 'ok' }>, timeoutMs: number): Error {
  switch (c.kind) {
    case 'failed':
      return new CommandFailedError(
        `the command failed in the state machine, identically on every replica (applied at index ${c.index}; what apply changed before it failed is kept): ${c.message}`,
        c.index,
      );
    case 'quota':
      return new QuotaExceededError(c.message);
    case 'timeout':
      return c.sent
        ? new OutcomeUnknownError(
            `${c.detail} within ${timeoutMs} ms: it may or may not have been applied (it is still sent, in its session's order, until a leader answers; read the state to find out)`,
          )
        : new NoLeaderError(`${c.detail} within ${timeoutMs} ms, so it was not applied`);
    case 'unknown':
      return new OutcomeUnknownError(c.detail);
    case 'refused':
      return c.reason === 'closed' ? new ClientClosedError(c.message) : new OverloadedError(c.message);
    case 'read-failed':
      return new ReadFailedError(c.message);
  }
}

function readError(c: Exclude<Completion, { kind: 'ok' }>, consistency: ReadConsistency, timeoutMs: number): Error {
  switch (c.kind) {
    case 'read-failed':
      return new ReadFailedError(`the query failed in the state machine: ${c.message}`);
    case 'timeout':
      return new ReadFailedError(`${consistency} read got no answer within ${timeoutMs} ms (${c.detail})`);
    case 'refused':
      return c.reason === 'closed' ? new ClientClosedError(c.message) : new OverloadedError(c.message);
    default:
      return new ReadFailedError(`${consistency} read failed`);
  }
}
