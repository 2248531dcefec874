/**
 * `ReplicatedStateMachine`: replicate any deterministic `apply(state, command)` with Multi-Paxos
 * across worker threads (or embedded), and use it from ordinary async code.
 */
import { randomUUID } from 'node:crypto';
import { serialize } from 'node:v8';
import { EventEmitter } from 'eventemitter3';
import {
  ActorSystem, AskTimeoutError, InvalidOptionError, storageKinds, type ActorRef, type StorageKind, type StorageOptions,
  type SupervisionOptions, type SystemOptions,
} from '@synod/actors';
import {
  multiPaxosCodecs, synodCodecs, type AppliedCommand, type LeaderOptions, type MChanges, type MReadResult, type MRedirect, type MResult,
  type MSubscriptionRefused, type ReadConsistency, type ReplicaOptions, type StateMachine,
} from '@synod/paxos';
import { checkCluster, startCluster, type Cluster } from './cluster.js';
import {
  CommandFailedError, InvalidCommandError, NoLeaderError, OutcomeUnknownError, ReadFailedError,
} from './errors.js';

export interface ReplicatedOptions<S = any, C = any, R = any, Q = any, A = any> {
  /** The state machine (made with `defineStateMachine` and exported from its module). */
  machine: StateMachine<S, C, R, Q, A>;
  /** Replica nodes (one worker each): survives the crash of any minority. Default 3. */
  replicas?: number;
  /**
   * Durable state of acceptors, leaders and replicas: `shared` (default in workers mode:
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
  leader?: Partial<LeaderOptions>;
  replica?: Partial<ReplicaOptions>;
  supervision?: SupervisionOptions;
  /** An operation (with its retries across leaders) fails after this long. Default 5000. */
  operationTimeoutMs?: number;
  /** One attempt at one leader or replica waits this long. Default 1000. */
  attemptTimeoutMs?: number;
  /** Commands larger than this (serialized) are refused where they enter. Default 64 KiB. */
  maxCommandBytes?: number;
  /** Queries larger than this are refused. Default 16 KiB. */
  maxQueryBytes?: number;
  /** Commands of one session in flight at once; more wait. Default 128 (below the replicas' session window). */
  maxInflightPerSession?: number;
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
}

/** Events of a replicated state machine. */
export interface ReplicatedEvents {
  /** Commands applied (as seen by one replica, in log order, each once). */
  applied: (commands: AppliedCommand[]) => void;
  /** The replica refused this subscriber (it has `maxSubscribers` already): no `applied` events will come. */
  'subscription-refused': (reason: string) => void;
}

/**
 * A client session: numbers its commands so that a retried command is applied once, and
 * remembers the log index of its last write and read (for `session` reads).
 */
export class Session {
  readonly id: string;
  private seq = 0;
  /** The log index after this session's last write or read (the highest seen). */
  lastIndex = 0;
  /** The log index of the last answered operation: after a write, where it was applied; after a read, how far its replica had applied. */
  lastOpIndex = 0;
  private inflight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly rsm: ReplicatedStateMachine<any, any, any, any, any>, id?: string) {
    this.id = id ?? randomUUID();
  }

  /** The next command number. */
  next(): number { return ++this.seq; }

  async slot(max: number): Promise<void> {
    if (this.inflight < max) { this.inflight++; return; }
    await new Promise<void>((r) => this.waiting.push(r));
    this.inflight++;
  }

  release(): void {
    this.inflight--;
    this.waiting.shift()?.();
  }

  /** Applies a command in this session. */
  execute(command: unknown, options: { timeoutMs?: number } = {}): Promise<unknown> {
    return this.rsm.executeIn(this, command, options);
  }

  /** Reads in this session (`session` consistency reads your own writes). */
  query(query: unknown, options: ReadOptions = {}): Promise<unknown> {
    return this.rsm.queryIn(this, query, options);
  }
}

/**
 * A state machine replicated with Multi-Paxos.
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
  private leaderGuess = 0;
  private nextReplica = 0;
  private listener: ActorRef<MChanges> | null = null;
  private closed = false;
  private readonly opts: Required<Pick<ReplicatedOptions, 'operationTimeoutMs' | 'attemptTimeoutMs' | 'maxCommandBytes' | 'maxQueryBytes' | 'maxInflightPerSession'>>;

  private constructor(
    readonly system: ActorSystem,
    readonly cluster: Cluster,
    readonly machine: StateMachine<S, C, R, Q, A>,
    private readonly ownSystem: boolean,
    options: ReplicatedOptions<S, C, R, Q, A>,
  ) {
    this.opts = {
      operationTimeoutMs: options.operationTimeoutMs ?? 5_000,
      attemptTimeoutMs: options.attemptTimeoutMs ?? 1_000,
      maxCommandBytes: options.maxCommandBytes ?? 64 * 1024,
      maxQueryBytes: options.maxQueryBytes ?? 16 * 1024,
      maxInflightPerSession: options.maxInflightPerSession ?? 128,
    };
    this.session = new Session(this);
  }

  /** Starts the replicas (and an actor system, unless one is given). */
  static async start<S, C, R, Q, A>(options: ReplicatedOptions<S, C, R, Q, A>): Promise<ReplicatedStateMachine<S, C, R, Q, A>> {
    const machine = options?.machine;
    if (!machine || (machine as { kind?: unknown }).kind !== 'synod.state-machine') {
      throw new InvalidOptionError('ReplicatedStateMachine.start: `machine` must be made with defineStateMachine()');
    }
    const replicas = options.replicas ?? 3;
    // The leader and replica options too, before any actor (or system) starts.
    const { replica } = checkCluster({ replicas, leader: options.leader, replica: options.replica });
    for (const k of ['operationTimeoutMs', 'attemptTimeoutMs', 'maxCommandBytes', 'maxQueryBytes', 'maxInflightPerSession'] as const) {
      const v = options[k];
      if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new InvalidOptionError(`${k} must be a positive integer, got ${String(v)}`);
    }
    if ((options.maxInflightPerSession ?? 128) > replica.sessionWindow) {
      throw new InvalidOptionError(`maxInflightPerSession (${options.maxInflightPerSession ?? 128}) must not exceed replica.sessionWindow (${replica.sessionWindow}): ` +
        'a retried command older than the session window can no longer be recognised as applied');
    }
    if (options.storage !== undefined && !storageKinds.includes(options.storage)) {
      throw new InvalidOptionError(`storage must be one of ${storageKinds.join(', ')}, got ${String(options.storage)}`);
    }
    const ownSystem = !options.system;
    if (options.system) await options.system.registerCodecs(multiPaxosCodecs);
    const storageOptions: StorageOptions = options.dir ? { dir: options.dir } : {};
    const system = options.system ?? await ActorSystem.start({
      logLevel: 'warn', ...options.systemOptions, mode: options.mode ?? 'workers', codecs: [synodCodecs, multiPaxosCodecs],
      storage: { ...options.systemOptions?.storage, ...storageOptions },
    });
    try {
      const storage = options.storage ?? (system.mode === 'workers' ? 'shared' : 'memory');
      if (storage === 'file' && ownSystem && !options.dir) throw new InvalidOptionError('storage "file" needs `dir`: the directory for the logs');
      const cluster = await startCluster(system, {
        name: options.name ?? 'rsm', replicas, machine, storage, leader: options.leader, replica: options.replica, supervision: options.supervision,
      });
      return new ReplicatedStateMachine(system, cluster, machine, ownSystem, options);
    } catch (e) {
      if (ownSystem) await system.shutdown();
      throw e;
    }
  }

  /** A new client session (its own exactly-once numbering and read-your-writes point). */
  newSession(id?: string): Session {
    return new Session(this, id);
  }

  /** Applies a command and resolves with its result (in this object's default session). */
  execute(command: C, options: { timeoutMs?: number } = {}): Promise<R> {
    return this.executeIn(this.session, command, options) as Promise<R>;
  }

  /** Reads (linearizable by default; see {@link ReadOptions}). */
  query(query: Q, options: ReadOptions = {}): Promise<A> {
    return this.queryIn(this.session, query, options) as Promise<A>;
  }

  /** @internal */
  async executeIn(session: Session, command: unknown, options: { timeoutMs?: number }): Promise<unknown> {
    this.assertOpen('execute');
    this.checkCommand(command);
    await session.slot(this.opts.maxInflightPerSession);
    try {
      const seq = session.next();
      const deadline = Date.now() + (options.timeoutMs ?? this.opts.operationTimeoutMs);
      let maybeApplied = false;
      let last = '';
      while (Date.now() < deadline) {
        const target = this.cluster.leaders[this.leaderGuess % this.cluster.leaders.length]!;
        let answer: MResult | MRedirect;
        try {
          answer = await this.system.ask<MResult | MRedirect>(target, { type: 'request', commands: [{ client: session.id, seq, op: command }] },
            { timeoutMs: Math.max(1, Math.min(this.opts.attemptTimeoutMs, deadline - Date.now())) });
        } catch (e) {
          if (!(e instanceof AskTimeoutError)) throw e;
          // It may have been proposed: from now on the outcome is unknown until a leader answers.
          maybeApplied = true;
          last = `no answer from ${target.name}`;
          this.leaderGuess++;
          continue;
        }
        if (answer.type === 'redirect') {
          last = `${target.name}: ${answer.reason}`;
          const i = answer.leader ? this.cluster.leaders.findIndex((l) => l.name === answer.leader!.name) : -1;
          if (i >= 0) this.leaderGuess = i;
          else { this.leaderGuess++; await sleep(20); }
          continue;
        }
        if (answer.index > session.lastIndex) session.lastIndex = answer.index;
        if (answer.index >= 0) session.lastOpIndex = answer.index;
        if (answer.ok) return answer.value;
        if (answer.index < 0) { last = answer.error ?? 'refused'; await sleep(10); continue; } // refused before replication: retry
        throw new CommandFailedError(`the command failed in the state machine (applied at index ${answer.index}, nothing changed): ${answer.error}`);
      }
      if (maybeApplied) {
        throw new OutcomeUnknownError(`command ${seq} of session ${session.id}: no leader confirmed it within the timeout; it may or may not have been applied (last: ${last}). Read the state to find out.`);
      }
      throw new NoLeaderError(`command ${seq} of session ${session.id}: no leader took it within the timeout, so it was not applied (last: ${last})`);
    } finally {
      session.release();
    }
  }

  /** @internal */
  async queryIn(session: Session, query: unknown, options: ReadOptions): Promise<unknown> {
    this.assertOpen('query');
    const consistency = options.consistency ?? 'linearizable';
    if (!['linearizable', 'lease', 'session', 'eventual'].includes(consistency)) {
      throw new InvalidOptionError(`consistency must be linearizable, lease, session or eventual, got ${JSON.stringify(consistency)}`);
    }
    this.checkQuery(query);
    const deadline = Date.now() + (options.timeoutMs ?? this.opts.operationTimeoutMs);
    let last = '';
    while (Date.now() < deadline) {
      const toLeader = consistency === 'linearizable' || consistency === 'lease';
      const refs = toLeader ? this.cluster.leaders : this.cluster.replicas;
      const target = refs[(toLeader ? this.leaderGuess : this.nextReplica++) % refs.length]!;
      let answer: MReadResult | MRedirect;
      try {
        answer = await this.system.ask<MReadResult | MRedirect>(target, {
          type: 'read', query, consistency, afterIndex: consistency === 'session' ? session.lastIndex : undefined,
        }, { timeoutMs: Math.max(1, Math.min(this.opts.attemptTimeoutMs, deadline - Date.now())) });
      } catch (e) {
        if (!(e instanceof AskTimeoutError)) throw e;
        last = `no answer from ${target.name}`;
        if (toLeader) this.leaderGuess++;
        continue;
      }
      if (answer.type === 'redirect') {
        last = `${target.name}: ${answer.reason}`;
        const i = answer.leader ? this.cluster.leaders.findIndex((l) => l.name === answer.leader!.name) : -1;
        if (i >= 0) this.leaderGuess = i;
        else { this.leaderGuess++; await sleep(20); }
        continue;
      }
      if (!answer.ok) {
        last = answer.error ?? 'read failed';
        if (/validat|must|invalid|unknown query/i.test(last)) throw new ReadFailedError(last);
        continue;
      }
      if (consistency === 'session' && answer.index > session.lastIndex) session.lastIndex = answer.index;
      session.lastOpIndex = answer.index;
      return answer.value;
    }
    throw new ReadFailedError(`${consistency} read failed within the timeout (last: ${last})`);
  }

  private checkCommand(command: unknown): void {
    try {
      this.machine.validateCommand?.(command);
    } catch (e) {
      throw new InvalidCommandError(`invalid command for "${this.machine.name}": ${e instanceof Error ? e.message : String(e)}; nothing was applied`);
    }
    let size: number;
    try { size = serialize(command).length; } catch (e) {
      throw new InvalidCommandError(`the command is not plain data (${e instanceof Error ? e.message : String(e)}); nothing was applied`);
    }
    if (size > this.opts.maxCommandBytes) {
      throw new InvalidCommandError(`the command is ${size} bytes, over maxCommandBytes (${this.opts.maxCommandBytes}); nothing was applied`);
    }
  }

  private checkQuery(query: unknown): void {
    try {
      this.machine.validateQuery?.(query);
    } catch (e) {
      throw new ReadFailedError(`invalid query for "${this.machine.name}": ${e instanceof Error ? e.message : String(e)}`);
    }
    let size: number;
    try { size = serialize(query).length; } catch (e) {
      throw new ReadFailedError(`the query is not plain data (${e instanceof Error ? e.message : String(e)})`);
    }
    if (size > this.opts.maxQueryBytes) throw new ReadFailedError(`the query is ${size} bytes, over maxQueryBytes (${this.opts.maxQueryBytes})`);
  }

  /**
   * Starts delivering `applied` events (from replica 0, or `replica`), across the replica's
   * restarts: it starts again with this subscriber, and the changes it applies again (from its
   * snapshot on) are not delivered twice.
   */
  subscribe(replica = 0): void {
    if (this.listener) return;
    // Slots arrive in order, each whole in one message: what is at or below the last slot delivered was delivered.
    let lastSlot = -1;
    this.listener = this.system.listener<MChanges | MSubscriptionRefused>(`${this.cluster.supervisor.name}-changes-${randomUUID().slice(0, 8)}`, (m) => {
      if (m.type === 'subscription-refused') {
        this.events.emit('subscription-refused', m.reason);
        return;
      }
      if (m.type !== 'changes') return;
      const fresh = m.changes.length > 0 && m.changes[0]!.slot > lastSlot ? m.changes : m.changes.filter((c) => c.slot > lastSlot);
      if (fresh.length === 0) return;
      lastSlot = fresh[fresh.length - 1]!.slot;
      this.events.emit('applied', fresh);
    });
    this.cluster.subscribe(replica, this.listener as ActorRef<MChanges>);
  }

  /** The node currently believed to lead (by index). */
  get leaderIndex(): number {
    return this.leaderGuess % this.cluster.leaders.length;
  }

  private assertOpen(op: string): void {
    if (this.closed) throw new InvalidOptionError(`${op}: this replicated state machine was shut down`);
  }

  /** Stops the replicas (and the system, if this object started it). */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownSystem) await this.system.shutdown();
    else await this.cluster.supervisor.shutdown();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
