import { EventEmitter } from 'eventemitter3';
import { randomCorrBase, realClock } from './clock.js';
import { CLONE_TAG, CodecRegistry, type CodecSet } from './codec.js';
import { abortable } from './abortable.js';
import { ActorLifecycle, type ActorPlacement } from './actor-lifecycle.js';
import type { AskOptions, Terminated } from './context.js';
import { defineActor, type ActorDefinition, type SpawnOptions } from './define.js';
import {
  AbortedError,
  ActorLoadError,
  ActorNotFoundError,
  DuplicateNameError,
  InvalidOptionError,
  NodeLostError,
  SystemStoppedError,
  deserializeError,
  errorText,
} from './errors.js';
import type { StatsReport, SystemEvents } from './events.js';
import { ActorHost, checkLimits, defaultLimits, realScheduler, type HostLimits, type WatchRequest } from './host.js';
import { HostNetwork } from './host-network.js';
import { consoleSink, isLogLevel, makeLogger, type LogLevel, type LogSink } from './logger.js';
import { checkMessageTrace, defaultMessageTrace, type MessageTraceOptions } from './message-trace.js';
import { Doorbell, createDoorbell } from './doorbell.js';
import { createActivity } from './activity.js';
import { ArenaTable, type ArenaRef } from './arena.js';
import { checkRingOptions, defaultRingOptions, makeArena, type MeshBoot, type RingOptions, type TransportKind } from './mesh.js';
import type { MeshTransport } from './transport.js';
import { PortTransport } from './port-transport.js';
import { MainRingDriver } from './ring-loop.js';
import { RingTransport } from './ring-transport.js';
import { Prng } from './random.js';
import { describeRef, type ActorRef } from './ref.js';
import type { MayAnswer, ReplyTo } from './replies.js';
import { checkSignal, checkTarget } from './spawn-checks.js';
import { createStores, type StorageOptions } from './stores.js';
import { Supervisor, checkSupervision, type RestartType, type SupervisionOptions, type SupervisionRuntime, type SupervisorSpec } from './supervisor.js';
import { assertPlainData } from './validate.js';
import { defaultHeartbeat, detectWorkerLoader, type HeartbeatOptions } from './worker-node.js';
import { WorkerPool } from './worker-pool.js';
import { NetTransport } from './net/net-transport.js';
import { checkNetworkOptions, type NetworkOptions } from './net/net-options.js';
import { createHash } from 'node:crypto';
import type { ActorSnapshot, HostStats, InspectProjection, NetworkSettings, WorkerEvent, WorkerFault } from './worker-protocol.js';
import { storageDefaults } from './stores/defaults.js';

/** Options of {@link ActorSystem.start}. Every bound is a named option with a default. */
export interface SystemOptions extends Partial<HostLimits> {
  /**
   * `workers` (default): actors run in worker threads, one per actor unless spawned with the
   * same `worker` key. `embedded`: every actor runs on the calling thread, same semantics.
   */
  mode?: 'workers' | 'embedded';
  /** Seeds every actor's `ctx.random` (per actor, from its name) and restart jitter. Default: random. */
  seed?: number;
  /** Codec sets for hot message types (binary on the wire between workers). */
  codecs?: CodecSet[];
  /**
   * The data plane between threads (workers mode). `rings` (default): shared-memory rings
   * between every pair of threads that talk, a hop in microseconds. `ports`: a MessagePort per
   * pair (the earlier transport, tens of microseconds per hop), kept as a fallback.
   */
  transport?: TransportKind;
  /** Bounds and waiting of the `rings` transport (see the README's Transport section). */
  rings?: Partial<RingOptions>;
  /** Timeout of each control-plane call (spawn, stop, inspect, ...). Default 10000. */
  controlTimeoutMs?: number;
  /** How often `stats` events are emitted; 0 turns them off. Default 1000. */
  statsIntervalMs?: number;
  /** Minimum level of `ctx.log` records passed to `logSink`. Default `info`. */
  logLevel?: LogLevel;
  /** Where log records go. Default: the console. */
  logSink?: LogSink;
  /** Durable storage locations and bounds. */
  storage?: StorageOptions;
  /** The root supervisor, parent of every actor spawned with `system.spawn`. */
  supervision?: SupervisionOptions;
  /** Worker liveness checks (workers mode). */
  heartbeat?: Partial<HeartbeatOptions>;
  /**
   * Booted workers kept ready (workers mode): a crashed worker's actors, or a new actor, get one
   * at once instead of waiting for a thread to start. Default 1; 0 turns it off.
   */
  spareWorkers?: number;
  /**
   * A module imported in every worker before anything else, whose `register()` lets workers
   * load TypeScript. Default: tsx's, when this process runs under tsx; else none.
   */
  workerLoader?: string | null;
  /**
   * Joins this system to others over the network (embedded mode): its actors get the node number
   * `network.node`, refs to other nodes' actors reach them over TCP with mutual TLS (see
   * {@link NetworkOptions}), and `system.net` injects faults and reads the transport's counters.
   */
  network?: NetworkOptions;
}

/** Options of `system.spawn`: where the actor runs, and how its supervisor treats it. */
export interface SystemSpawnOptions<A> extends SpawnOptions<A> {
  /** Default `permanent`: restarted after a crash or a stop. */
  restart?: RestartType;
  /** The supervisor to put it under. Default: the root supervisor. */
  supervisor?: Supervisor;
  /**
   * Stops waiting when it fires: the spawn rejects with `AbortedError`, and an actor that still
   * comes up is stopped.
   */
  signal?: AbortSignal;
}

const SYSTEM_NODE = 0;

/** The bounds of a system's stores (see `ActorSystem.storageLimits` and `StorageOptions`). */
export interface StorageLimits {
  /** Bytes of each host's `shared` log buffer (`storage.sharedBytes`). */
  sharedBytes: number;
  /** Bytes of one log record: everything one turn of one actor persists (`storage.maxRecordBytes`). */
  maxRecordBytes: number;
  /** Bytes of one snapshot chunk (`storage.maxSnapshotChunkBytes`). */
  maxSnapshotChunkBytes: number;
}

/**
 * An actor system: spawns actors (in worker threads or embedded on this thread) under
 * supervisors, sends them messages, asks them questions, and shuts down gracefully.
 *
 * ```ts
 * const system = await ActorSystem.start({ mode: 'workers' });
 * const counter = await system.spawn(Counter, { name: 'counter' });
 * system.send(counter, { type: 'inc' });
 * console.log(await system.ask(counter, { type: 'get' })); // 1
 * await system.shutdown();
 * ```
 */
export class ActorSystem {
  /** Lifecycle, dead-letter and statistics events (eventemitter3, typed). */
  readonly events = new EventEmitter<SystemEvents>();
  readonly mode: 'workers' | 'embedded';
  readonly seed: number;
  /** The root of the supervision tree. */
  readonly root: Supervisor;
  private readonly host: ActorHost;
  /** This system's node number: 0, or `network.node` when it is on a network. */
  readonly node: number;

  /**
   * What the stores of this system hold at most (its `storage` options, defaults filled in): what
   * a protocol's durable log and a state machine's commands may plan on.
   * @example
   * const { maxRecordBytes } = system.storageLimits; // 16 MiB unless storage.maxRecordBytes says otherwise
   */
  get storageLimits(): StorageLimits {
    const o = this.options.storage;
    return {
      sharedBytes: o.sharedBytes ?? storageDefaults.sharedBytes,
      maxRecordBytes: o.maxRecordBytes ?? storageDefaults.maxRecordBytes,
      maxSnapshotChunkBytes: o.maxSnapshotChunkBytes ?? storageDefaults.maxSnapshotChunkBytes,
    };
  }
  /** The network transport (with `network`), else null. */
  readonly net: NetTransport | null = null;
  private readonly networkLayout: string;
  private readonly options: {
    controlTimeoutMs: number;
    statsIntervalMs: number;
    logLevel: LogLevel;
    logSink: LogSink;
    storage: StorageOptions;
    limits: HostLimits;
  };
  private readonly codecs = new CodecRegistry();
  private readonly codecSets: { set: CodecSet; exportName: string; base: number }[] = [];
  private readonly transport: MeshTransport | null = null;
  private readonly ringDriver: MainRingDriver | null = null;
  private readonly pool: WorkerPool | null = null;
  /** The runtime skeleton shared with the simulator: directory, supervised starts, host events, death watch. */
  private readonly lifecycle: ActorLifecycle;
  /** Watches made with `system.watch` so far (names their listeners). */
  private watchers = 0;
  private readonly locators = new WeakMap<object, { module: string; exportName: string }>();
  private state: 'running' | 'stopping' | 'stopped' = 'running';
  private shutdownPromise: Promise<void> | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private readonly lastProcessed = new Map<number, { time: number; delivered: number; perActor: Map<number, number> }>();
  private readonly hostStores;
  private readonly rng: Prng;
  /** Isolated nodes and message trace, the same on every host. */
  private network: NetworkSettings = { isolated: [], trace: null };
  private readonly hostNetwork: HostNetwork;

  private constructor(options: SystemOptions) {
    this.mode = options.mode ?? 'workers';
    this.node = options.network?.node ?? SYSTEM_NODE;
    this.networkLayout = options.network?.layout ?? '';
    this.seed = options.seed ?? (Math.random() * 2 ** 32) >>> 0;
    this.rng = new Prng(this.seed ^ 0x5eed);
    const limits: HostLimits = { ...defaultLimits };
    for (const k of Object.keys(defaultLimits) as (keyof HostLimits)[]) {
      if (options[k] !== undefined) (limits as any)[k] = options[k];
    }
    this.options = {
      controlTimeoutMs: options.controlTimeoutMs ?? 10_000,
      statsIntervalMs: options.statsIntervalMs ?? 1_000,
      logLevel: options.logLevel ?? 'info',
      logSink: options.logSink ?? consoleSink,
      storage: options.storage ?? {},
      limits,
    };
    this.hostStores = createStores(this.options.storage, { node: this.node, storeName: 'main', sharedBuffer: undefined });
    this.lifecycle = new ActorLifecycle(this.placement(), {
      started: (rec) => {
        this.pool?.broadcastDirectory([rec.ref], []);
        this.events.emit('actor:started', { ref: rec.ref, parent: rec.parent });
      },
      ended: (rec) => {
        this.pool?.broadcastDirectory([], [rec.ref]);
        this.events.emit('actor:stopped', { ref: rec.ref });
      },
      crashed: (ref, error, during, messageType) =>
        this.events.emit('actor:crashed', { ref, error, during: during === 'node' ? 'worker' : during, messageType }),
      deadLetter: (letter) => this.events.emit('dead-letter', letter),
      warn: (message) => this.log({ level: 'warn', actor: '$system', message, time: realClock.now() }),
    });
    const events = this.lifecycle.hostEvents;
    const kind = options.transport ?? 'rings';
    const mesh: MeshBoot = { kind, rings: { ...defaultRingOptions, ...options.rings }, activity: kind === 'rings' ? createActivity() : null };
    const rings = this.mode === 'workers' && mesh.kind === 'rings';
    this.host = new ActorHost({
      node: this.node,
      seed: this.seed,
      clock: realClock,
      scheduler: realScheduler,
      coalesceFlushes: this.mode === 'workers' && !rings,
      // Embedded, every actor and the caller's own awaits run on this thread: a chain of
      // operations (a caller awaiting one command after another) drains the host from microtask
      // to microtask, and would never let the event loop run (the caller's timers, the actors'
      // heartbeats) without a budget per event-loop turn.
      portFed: this.mode === 'embedded' || !rings,
      flushEachTurn: rings,
      limits,
      events,
      logLevel: this.options.logLevel,
      logSink: (r) => this.log(r),
      store: (kind) => this.hostStores.get(kind),
      resolveRef: (node, id) => this.resolveRef(node, id),
      corrBase: randomCorrBase(),
      hasCodec: (msg) => this.codecs.tagFor(msg) !== CLONE_TAG,
    });
    if (this.mode === 'workers') {
      const onError = (what: string, e: unknown) => this.log({ level: 'error', actor: '$system', message: `${what}: ${errorText(e)}`, time: realClock.now() });
      const resolve = (node: number, id: number) => this.resolveRef(node, id);
      let mainDoorbell: SharedArrayBuffer | null = null;
      let mainArena: ArenaRef | null = null;
      if (rings) {
        mainDoorbell = createDoorbell();
        mainArena = makeArena(mesh.rings);
        const arenas = mainArena ? new ArenaTable(mainArena, mesh.rings.arenaMinBytes) : null;
        const t = new RingTransport(this.host, this.codecs, resolve, mesh.rings, onError, arenas);
        this.transport = t;
        this.ringDriver = new MainRingDriver(this.host, t, new Doorbell(mainDoorbell), mesh.activity);
        this.ringDriver.start();
      } else {
        this.transport = new PortTransport(this.host, this.codecs, resolve, undefined, onError);
      }
      this.host.transport = this.transport;
      const watchVia = this.watchDesk();
      this.pool = new WorkerPool({
        watchVia,
        seed: this.seed,
        limits,
        logLevel: this.options.logLevel,
        statsIntervalMs: this.options.statsIntervalMs,
        storage: this.options.storage,
        controlTimeoutMs: this.options.controlTimeoutMs,
        heartbeat: { ...defaultHeartbeat, ...options.heartbeat },
        spareWorkers: options.spareWorkers ?? 1,
        loader: options.workerLoader !== undefined ? options.workerLoader : detectWorkerLoader(),
        mesh,
        transport: this.transport,
        mainDoorbell,
        mainArena,
        codecSets: () => this.codecSets,
        directory: () => [...this.lifecycle.directory.records.values()].map((r) => r.ref),
        network: () => this.network,
        onEvents: (events) => {
          for (const e of events) this.onWorkerEvent(e);
        },
        onExit: (node, code, reason) => this.onWorkerExit(node, code, reason),
      });
    }
    if (options.network) {
      const limits = checkNetworkOptions(options.network);
      const netLog = makeLogger(
        '$net',
        this.options.logLevel,
        (r) => this.log(r),
        () => realClock.now(),
      );
      this.net = new NetTransport(
        this.host,
        this.codecs,
        (node, id) => this.resolveRef(node, id),
        options.network,
        limits,
        () => this.codecDigest(),
        (level, message) => netLog[level](message),
      );
      this.host.transport = this.net;
    }
    this.hostNetwork = new HostNetwork(this.host, (window) => this.events.emit('messages', window));
    this.root = new Supervisor({ name: '$root', ...options.supervision }, null, this.supervisionRuntime());
  }

  /**
   * The watch desk: an actor of the runtime on this thread that receives the death watches of
   * worker actors (they travel as messages, in order with everything else the watcher sends).
   * Not in the directory: it is no user's actor.
   */
  private watchDesk(): ActorRef<WatchRequest> {
    const events = this.lifecycle.hostEvents;
    const desk = defineActor<null, WatchRequest>({
      label: 'watch desk',
      init: () => null,
      receive: (_s, m, ctx) => {
        const watcher = ctx.sender;
        if (watcher !== undefined && m?.type === '$watch') events.watch!(watcher, m.target, m.on);
      },
    });
    return this.host.spawn(desk, { name: '$watch' });
  }

  /** Starts a system. In workers mode no worker starts until the first spawn. */
  static async start(options: SystemOptions = {}): Promise<ActorSystem> {
    validateOptions(options);
    const system = new ActorSystem(options);
    for (const set of options.codecs ?? []) await system.registerCodecs(set);
    if (system.net) {
      try {
        await system.net.start();
      } catch (e) {
        await system.shutdown();
        throw e;
      }
    }
    system.startStats();
    return system;
  }

  // ------------------------------------------------------------------ spawning

  /**
   * Starts an actor under a supervisor (the root by default) and resolves with its ref once
   * its `init` has run. Rejects with `ActorLoadError` (module or export missing),
   * `ActorInitError` (init threw) or `DuplicateNameError`; the system stays up either way.
   */
  async spawn<S, M, A, D>(def: ActorDefinition<S, M, A, D>, options: SystemSpawnOptions<A>): Promise<ActorRef<M>> {
    this.assertRunning('spawn');
    const { supervisor, signal, ...spec } = options ?? ({} as SystemSpawnOptions<A>);
    checkSignal(signal, 'spawn');
    if (signal?.aborted) throw new AbortedError(`spawn "${spec.name}": aborted before it began`, { cause: signal.reason });
    const started = (supervisor ?? this.root).startChild({ ...spec, actor: def }) as Promise<ActorRef<M>>;
    if (signal === undefined) return started;
    return abortable(started, signal, `spawn "${spec.name}"`).catch((e: unknown) => {
      // Given up while starting: what still comes up is not wanted.
      if (e instanceof AbortedError)
        started.then(
          (ref) => this.stop(ref).catch(() => {}),
          () => {},
        );
      throw e;
    });
  }

  /**
   * Starts a supervisor (under the root, or under `spec`'s parent given as `parent`) with its
   * children, in order. Resolves with the supervisor; use its `startChild` to add more.
   */
  async supervise(spec: SupervisorSpec, parent: Supervisor = this.root): Promise<Supervisor> {
    this.assertRunning('supervise');
    if (!spec || typeof spec.name !== 'string' || !spec.name) throw new InvalidOptionError('supervise: spec.name must be a non-empty string');
    checkSupervision(spec, `supervisor "${spec.name}"`);
    return parent.startChild(spec);
  }

  /** The bridge between supervisors and this system's hosts. */
  private supervisionRuntime(): SupervisionRuntime {
    return {
      startActor: (spec, incarnation, ref, owner) => this.lifecycle.startActor(spec, incarnation, ref, owner),
      terminateActor: (ref) => this.lifecycle.terminate(ref),
      stopActor: (ref) => this.lifecycle.stopNow(ref),
      forgotten: (ref) => this.lifecycle.forgotten(ref),
      now: () => realClock.now(),
      random: () => this.rng.next(),
      delay: (ms) => new Promise((r) => setTimeout(r, ms)),
      restarted: (ref, attempt, delayMs) => this.events.emit('actor:restarted', { ref, attempt, delayMs }),
      restartFailed: (ref, error) => this.events.emit('actor:crashed', { ref, error, during: 'init', messageType: undefined }),
      escalated: (supervisor, reason) => this.events.emit('supervisor:escalated', { supervisor, reason }),
      rootFailed: (reason) => {
        this.events.emit('system:failed', { reason });
        void this.shutdown();
      },
    };
  }

  /** Where this system's actors run: this thread (embedded, listeners) or worker threads. */
  private placement(): ActorPlacement {
    const timeoutMs = () => this.options.controlTimeoutMs;
    return {
      start: async (def, options) => {
        if (this.mode === 'embedded') {
          await this.preload(options.preload);
          return this.host.spawn(def, options, null, undefined, 0);
        }
        assertPlainData(options.args);
        const loc = await this.locate(def);
        const node = await this.pool!.place(options.worker, options.name);
        const { id } = await node.call(
          `spawn "${options.name}"`,
          (c) =>
            c.spawn({
              module: loc.module,
              exportName: loc.exportName,
              name: options.name,
              args: options.args,
              storage: options.storage,
              id: undefined,
              incarnation: 0,
              preload: options.preload,
            }),
          timeoutMs(),
        );
        return { name: options.name, node: node.node, id };
      },
      restart: async (ref, def, options, incarnation) => {
        if (this.mode === 'embedded') {
          await this.preload(options.preload);
          this.host.replace(ref.id, def, options, incarnation);
          return;
        }
        const loc = await this.locate(def);
        const node = await this.pool!.ensure(ref.node);
        await node.call(
          `restart ${describeRef(ref)}`,
          (c) =>
            c.spawn({
              module: loc.module,
              exportName: loc.exportName,
              name: ref.name,
              args: options.args,
              storage: options.storage,
              id: ref.id,
              incarnation,
              preload: options.preload,
            }),
          timeoutMs(),
        );
      },
      terminate: async (ref) => {
        if (ref.node === this.node) this.host.terminate(ref.id);
        else await this.pool!.get(ref.node)?.call(`terminate ${describeRef(ref)}`, (c) => c.terminate(ref.id), timeoutMs());
      },
      stop: async (ref) => {
        if (ref.node === this.node) this.host.stop(ref.id);
        else await this.pool!.get(ref.node)?.call(`stop ${describeRef(ref)}`, (c) => c.stop(ref.id), timeoutMs());
      },
      notify: (to, notice) => this.host.notify(to, notice),
    };
  }

  private async preload(urls: string[] | undefined): Promise<void> {
    for (const url of urls ?? []) {
      await import(url).catch((e) => {
        throw new ActorLoadError(`could not load preload module ${url}: ${errorText(e)}`);
      });
    }
  }

  /** Finds which export of its module a definition is, so a worker can import it. */
  private async locate(def: ActorDefinition<any, any, any, any>): Promise<{ module: string; exportName: string }> {
    const cached = this.locators.get(def);
    if (cached) return cached;
    if (!def.module) {
      throw new ActorLoadError(
        `this actor definition${def.label ? ` (${def.label})` : ''} has no module: add \`module: import.meta.url\` to defineActor(...) so workers can load it`,
      );
    }
    let ns: Record<string, unknown>;
    try {
      ns = await import(def.module);
    } catch (e) {
      throw new ActorLoadError(`could not load actor module ${def.module}: ${errorText(e)}`);
    }
    for (const [exportName, value] of Object.entries(ns)) {
      if (value === def) {
        const loc = { module: def.module, exportName };
        this.locators.set(def, loc);
        return loc;
      }
    }
    throw new ActorLoadError(
      `the definition given to spawn is not exported by ${def.module}; export it (export const X = defineActor(...)) so workers can find it`,
    );
  }

  /**
   * Registers a codec set on every node (now and future). Decoding is enabled everywhere before
   * any node starts encoding, so no node ever receives a tag it cannot read.
   */
  async registerCodecs(set: CodecSet): Promise<void> {
    this.assertRunning('registerCodecs');
    if (this.codecSets.some((c) => c.set.module === set.module)) return;
    let exportName: string | undefined;
    const ns: Record<string, unknown> = await import(set.module).catch((e) => {
      throw new ActorLoadError(`could not load codec module ${set.module}: ${errorText(e)}`);
    });
    for (const [k, v] of Object.entries(ns)) if (v === set) exportName = k;
    if (!exportName) throw new ActorLoadError(`the codec set is not exported by ${set.module}; export it so workers can load it`);
    const base = this.codecs.nextBase;
    this.codecs.register(set, base);
    this.codecSets.push({ set, exportName, base });
    await this.pool?.registerCodecs(set, exportName, base);
    this.codecs.activate(set.module);
  }

  /** A digest of the codecs in tag order: two systems that exchange binary messages must agree on it. */
  private codecDigest(): string {
    const h = createHash('sha256');
    h.update(`layout:${this.networkLayout};`);
    for (const { set, base } of this.codecSets) h.update(`${base}:${set.codecs.map((c) => c.type).join(',')};`);
    return h.digest('base64url').slice(0, 22);
  }

  private resolveRef(node: number, id: number): ActorRef<any> {
    return this.lifecycle.directory.get({ node, id })?.ref ?? { name: node === 0 && id === 0 ? '$system' : `#${node}.${id}`, node, id };
  }

  // ------------------------------------------------------------------ events from hosts

  /** Events a worker posted (its host's events, logs, statistics, message traces). */
  private onWorkerEvent(e: WorkerEvent): void {
    const events = this.lifecycle.hostEvents;
    switch (e.e) {
      case 'started':
        events.started(e.ref, e.parent, e.restart);
        break;
      case 'stopped':
        events.stopped(e.ref, e.incarnation);
        break;
      case 'crashed':
        events.crashed(e.ref, deserializeError(e.error), e.during, e.messageType, e.incarnation);
        break;
      case 'dead':
        events.deadLetter(e.letter);
        break;
      case 'log':
        this.log(e.record);
        break;
      case 'stats':
        this.emitStats(e);
        break;
      case 'trace':
        this.events.emit('messages', e.window);
        break;
    }
  }

  /** A worker died: each of its actors crashed. Supervised ones are restarted (same refs). */
  private onWorkerExit(node: number, code: number | null, reason: string): void {
    if (this.state !== 'running') return;
    this.events.emit('worker:exited', { node, code, reason });
    this.lifecycle.nodeLost(node, new NodeLostError(node, `its worker ${reason}`), 'worker');
  }

  private log(record: Parameters<LogSink>[0]): void {
    this.events.emit('log', record);
    this.options.logSink(record);
  }

  // ------------------------------------------------------------------ messaging

  /**
   * Sends a message from outside the system. Throws `ActorNotFoundError` for an actor that
   * was stopped or never existed, `MessageEncodingError` for a message that is not plain data.
   * When the mailbox is full the message is dropped and reported as a dead letter; use
   * {@link enqueue} to wait for room instead.
   */
  send<M>(to: ActorRef<M>, message: M): void {
    this.assertRunning('send');
    this.assertTarget(to, 'send');
    this.host.sendFromOutside(to, message);
  }

  /**
   * Sends and waits for the actor's `ctx.reply`: resolves with what the message declares its
   * handler answers (`Replies<R>`), `unknown` when it declares nothing. Rejects with
   * `AskTimeoutError` after `timeoutMs`, `AbortedError` when `signal` fires.
   */
  ask<M, const X extends M>(to: ActorRef<M>, message: X, options?: AskOptions): Promise<ReplyTo<M, X>>;
  /**
   * The same, with the reply type given (`ask<number>(...)`): refused by the compiler when the
   * target's messages declare other replies.
   */
  ask<R = never>(to: ActorRef<MayAnswer<NoInfer<R>>>, message: unknown, options?: AskOptions): Promise<R>;
  ask(to: ActorRef<any>, message: unknown, options: AskOptions = {}): Promise<unknown> {
    try {
      this.assertRunning('ask');
      this.assertTarget(to, 'ask');
      checkSignal(options.signal, 'ask');
    } catch (e) {
      return Promise.reject(e);
    }
    return this.host.askFrom(null, to, message, options);
  }

  /**
   * Sends a message, waiting for room when the mailbox is full (backpressure for producers
   * outside the system). Resolves once the message is in the mailbox; rejects with
   * `MailboxFullError` after `timeoutMs`, `AbortedError` when `signal` fires.
   */
  enqueue<M>(to: ActorRef<M>, message: M, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    try {
      this.assertRunning('enqueue');
      this.assertTarget(to, 'enqueue');
      checkSignal(options.signal, 'enqueue');
    } catch (e) {
      return Promise.reject(e);
    }
    return this.host.enqueueFromOutside(to, message, options.timeoutMs, options.signal);
  }

  private assertTarget(to: ActorRef<any>, op: string): void {
    checkTarget(to, op);
    const dir = this.lifecycle.directory;
    if (dir.get(to) !== undefined) return;
    const nodeExists = this.mode === 'embedded' ? (to.node === this.node ? this.host.has(to.id) : this.net !== null) : !!this.pool?.has(to.node);
    if (dir.ended(to) || !nodeExists) {
      throw new ActorNotFoundError(`${op}: no actor ${describeRef(to)}: it was stopped or never existed`);
    }
  }

  /**
   * An actor on this thread that hands every message it gets to `handler`: how code outside the
   * system receives messages from actors (subscriptions, notifications, death watch). Not
   * supervised; a handler that throws is reported as a crash of the listener. Stop it with
   * `system.stop`.
   *
   * ```ts
   * const inbox = system.listener<Changed>('changes', (m) => console.log(m));
   * system.send(replica, { type: 'subscribe', to: inbox });
   * ```
   */
  listener<M>(name: string, handler: (message: M, sender: ActorRef<any> | undefined) => void): ActorRef<M> {
    this.assertRunning('listener');
    if (typeof handler !== 'function') throw new InvalidOptionError('listener: handler must be a function');
    if (this.lifecycle.directory.taken(name)) throw new DuplicateNameError(`listener: an actor named "${name}" is already running`);
    const def = defineActor<null, M>({
      label: `listener ${name}`,
      init: () => null,
      receive: (_s, m, ctx) => {
        handler(m, ctx.sender);
      },
    });
    const ref = this.host.spawn(def, { name });
    this.lifecycle.register(ref, null, null, null, 0);
    return ref;
  }

  /**
   * Death watch from outside the system: `handler` is called once when `ref` ends for good
   * (stopped, failed and not restarted, its node lost; never for a restart by its supervisor).
   * Returns what cancels the watch. Costs a small actor on this thread while it waits.
   */
  watch(ref: ActorRef<any>, handler: (notice: Terminated) => void): () => void {
    this.assertRunning('watch');
    checkTarget(ref, 'watch');
    if (typeof handler !== 'function') throw new InvalidOptionError('watch: handler must be a function');
    let inbox: ActorRef<Terminated> | null = null;
    const done = (): void => {
      if (inbox === null) return;
      const r = inbox;
      inbox = null;
      this.lifecycle.deathWatch.unwatch(r, ref);
      this.host.stop(r.id);
    };
    // An actor of the runtime on this thread (not in the directory: it is no user's actor).
    const def = defineActor<null, Terminated>({
      label: 'watch from outside',
      init: () => null,
      receive: (_s, notice, ctx) => {
        if (notice?.type !== 'terminated' || inbox === null) return;
        inbox = null;
        ctx.stop(); // once: it ends after this turn
        handler(notice);
      },
    });
    inbox = this.host.spawn(def, { name: `$watch/${++this.watchers}` });
    this.lifecycle.hostEvents.watch(inbox, ref, true);
    return done;
  }

  /** The ref of a live actor by name. */
  lookup<M = unknown>(name: string): ActorRef<M> | undefined {
    return this.lifecycle.directory.byNameOf(name)?.ref;
  }

  /** Every live actor, in start order. */
  actors(): ActorRef<any>[] {
    return this.lifecycle.directory.inOrder().map((r) => r.ref);
  }

  // ------------------------------------------------------------------ control

  /** Stops an actor for good (its children first; its supervisor does not restart it). */
  async stop(ref: ActorRef<any>): Promise<void> {
    this.assertRunning('stop');
    this.assertTarget(ref, 'stop');
    const rec = this.lifecycle.directory.get(ref);
    if (rec?.supervisor && (await rec.supervisor.stopChild(rec.ref))) return;
    await this.lifecycle.stopNow(ref);
  }

  /**
   * A snapshot of an actor's state, mailbox depth and counters. The state is the definition's
   * `inspect` view (or the whole state), cloned; with `project`, what that exported function
   * returns for the live state instead (a few figures of a large state cost only those).
   */
  async inspect(ref: ActorRef<any>, options: { project?: InspectProjection; signal?: AbortSignal } = {}): Promise<ActorSnapshot> {
    checkSignal(options.signal, 'inspect');
    return abortable(this.inspectNow(ref, options.project), options.signal, `inspect ${describeRef(ref)}`);
  }

  private async inspectNow(ref: ActorRef<any>, projection: InspectProjection | undefined): Promise<ActorSnapshot> {
    this.assertRunning('inspect');
    this.assertTarget(ref, 'inspect');
    if (projection !== undefined && !(typeof projection.module === 'string' && typeof projection.exportName === 'string')) {
      throw new InvalidOptionError('inspect: project must be { module, exportName } naming an exported function');
    }
    let snap: ActorSnapshot | undefined;
    if (ref.node === this.node) {
      let project: ((state: unknown) => unknown) | undefined;
      if (projection) {
        const fn = ((await import(projection.module)) as Record<string, unknown>)[projection.exportName];
        if (typeof fn !== 'function')
          throw new ActorLoadError(`module ${projection.module} exports no function "${projection.exportName}" to project inspected states with`);
        project = fn as (state: unknown) => unknown;
      }
      snap = this.host.inspect(ref.id, project);
    } else {
      const w = this.pool!.get(ref.node);
      if (!w) throw new ActorNotFoundError(`inspect: the worker of ${describeRef(ref)} is down (restarting?)`);
      snap = await w.call(`inspect ${describeRef(ref)}`, (c) => c.inspect(ref.id, projection), this.options.controlTimeoutMs);
    }
    if (!snap) throw new ActorNotFoundError(`inspect: no actor ${describeRef(ref)}`);
    return snap;
  }

  /** Counters of every host, fetched now. */
  async stats(options: { signal?: AbortSignal } = {}): Promise<HostStats[]> {
    checkSignal(options.signal, 'stats');
    return abortable(this.statsNow(), options.signal, 'stats');
  }

  private async statsNow(): Promise<HostStats[]> {
    this.assertRunning('stats');
    const main: HostStats = { node: this.node, delivered: this.host.delivered, actors: this.host.stats() };
    if (this.transport instanceof RingTransport) main.transport = this.transport.stats();
    const out: HostStats[] = [main];
    for (const w of this.pool?.live() ?? []) out.push(await w.call('stats', (c) => c.stats(), this.options.controlTimeoutMs));
    return out;
  }

  /** The worker node ids in use (workers mode). */
  workerNodes(): number[] {
    return this.pool?.nodes() ?? [];
  }

  /** Fault injection: ends the worker thread of `node` abruptly, as a crash would. */
  async killWorker(node: number): Promise<void> {
    if (!this.pool?.has(node)) throw new InvalidOptionError(`killWorker: no worker node ${node}`);
    await this.pool.kill(node);
  }

  /**
   * Fault injection: makes the worker of `node` fail from the inside: `exit` (process.exit),
   * `uncaught` (an uncaught error), `hang` (an endless loop, detected by heartbeats), or
   * `terminate` (ended from outside, as `killWorker`). Its supervisors restart its actors.
   */
  async failWorker(node: number, kind: WorkerFault | 'terminate'): Promise<void> {
    if (!this.pool?.has(node)) throw new InvalidOptionError(`failWorker: no worker node ${node}`);
    if (kind === 'terminate') return this.pool.kill(node);
    if (kind !== 'exit' && kind !== 'uncaught' && kind !== 'hang')
      throw new InvalidOptionError(`failWorker: kind must be terminate, exit, uncaught or hang, got ${JSON.stringify(kind)}`);
    const w = this.pool.get(node);
    if (!w) return;
    try {
      await w.call(`fail worker ${node} (${kind})`, (c) => c.fail(kind), this.options.controlTimeoutMs);
    } catch (e) {
      // The worker exits just after it answers, and its exit can reach this thread before the
      // answer (which is then lost with the control port): gone is what `exit` and `uncaught` ask.
      if (kind === 'hang' || !w.gone) throw e;
    }
  }

  /** Fault injection: crashes an actor as if its handler had thrown `reason`. */
  async crash(ref: ActorRef<any>, reason = 'injected crash'): Promise<void> {
    this.assertTarget(ref, 'crash');
    if (ref.node === this.node) this.host.crashActor(ref.id, reason);
    else await this.pool!.get(ref.node)?.call(`crash ${describeRef(ref)}`, (c) => c.crash(ref.id, reason), this.options.controlTimeoutMs);
  }

  /**
   * Fault injection: cuts worker node `node` off from every other node, the main thread
   * included, both ways, as a network partition would. Messages crossing the cut are dropped
   * when they leave and reported as `unreachable` dead letters; the control plane (inspect,
   * kill, supervision heartbeats) still reaches it. It stays isolated across restarts of its
   * worker, until {@link heal}.
   */
  async isolate(node: number): Promise<void> {
    this.assertRunning('isolate');
    if (!this.pool?.has(node)) throw new InvalidOptionError(`isolate: no worker node ${node} (only worker nodes can be isolated)`);
    if (this.network.isolated.includes(node)) return;
    await this.setNetwork({ ...this.network, isolated: [...this.network.isolated, node].sort((a, b) => a - b) });
  }

  /** Ends the isolation of `node`, or of every node when none is given. */
  async heal(node?: number): Promise<void> {
    this.assertRunning('heal');
    const isolated = node === undefined ? [] : this.network.isolated.filter((n) => n !== node);
    if (isolated.length === this.network.isolated.length) return;
    await this.setNetwork({ ...this.network, isolated });
  }

  /** The worker nodes isolated now, in order. */
  isolatedNodes(): number[] {
    return this.network.isolated.slice();
  }

  /**
   * Starts recording windows of messages on every host (`messages` events: every message sent
   * during `windowMs` once every `periodMs`, at most `maxPerWindow` per host), or stops with
   * null. For live views; off by default, when it costs one comparison per message.
   */
  async traceMessages(options: Partial<MessageTraceOptions> | null): Promise<void> {
    this.assertRunning('traceMessages');
    const trace = options === null ? null : { ...defaultMessageTrace, ...options };
    if (trace !== null) checkMessageTrace(trace);
    await this.setNetwork({ ...this.network, trace });
  }

  private async setNetwork(settings: NetworkSettings): Promise<void> {
    this.network = settings;
    this.hostNetwork.apply(settings);
    await this.pool?.broadcastNetwork(settings);
  }

  private startStats(): void {
    const every = this.options.statsIntervalMs;
    if (every <= 0) return;
    this.statsTimer = setInterval(() => {
      if (this.host.actors().some((c) => !c.self.name.startsWith('$'))) {
        this.emitStats({ node: this.node, delivered: this.host.delivered, actors: this.host.stats() });
      }
    }, every);
    this.statsTimer.unref();
  }

  private emitStats(s: HostStats): void {
    const now = realClock.now();
    const last = this.lastProcessed.get(s.node);
    const dt = last ? (now - last.time) / 1000 : 0;
    const perActor = new Map<number, number>();
    const actors = s.actors.map((a) => {
      perActor.set(a.id, a.processed);
      const before = last?.perActor.get(a.id);
      return { ...a, messagesPerSecond: dt > 0 && before !== undefined ? Math.max(0, (a.processed - before) / dt) : 0 };
    });
    this.lastProcessed.set(s.node, { time: now, delivered: s.delivered, perActor });
    const report: StatsReport = {
      time: now,
      node: s.node,
      actors,
      messagesPerSecond: dt > 0 && last ? Math.max(0, (s.delivered - last.delivered) / dt) : 0,
    };
    this.events.emit('stats', report);
  }

  private assertRunning(op: string): void {
    if (this.state !== 'running') throw new SystemStoppedError(op);
  }

  /** True until `shutdown` begins. */
  get running(): boolean {
    return this.state === 'running';
  }

  /** `await using system = await ActorSystem.start(...)`: shuts the system down at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  /**
   * Graceful shutdown: stops actors in reverse start order (through the supervision tree),
   * ends every worker, and resolves when all are gone. Later calls return the same promise;
   * other calls are refused.
   */
  shutdown(): Promise<void> {
    if (this.shutdownPromise) return this.shutdownPromise;
    this.lifecycle.closing = true;
    this.state = 'stopping';
    this.shutdownPromise = (async () => {
      if (this.statsTimer) clearInterval(this.statsTimer);
      this.hostNetwork.stop();
      await this.root.shutdown();
      // Anything not under a supervisor (none, normally), newest first.
      for (const rec of this.lifecycle.directory
        .inOrder()
        .filter((r) => r.parent === null)
        .reverse()) {
        try {
          await this.lifecycle.stopNow(rec.ref);
        } catch {
          /* its worker is gone */
        }
      }
      this.host.stopAll();
      await this.pool?.close();
      this.ringDriver?.close();
      this.transport?.close();
      await this.net?.close();
      this.host.close(new SystemStoppedError('ask'));
      await this.hostStores.close();
      this.state = 'stopped';
      this.events.emit('system:stopped');
    })();
    return this.shutdownPromise;
  }
}

function validateOptions(o: SystemOptions): void {
  if (o.mode !== undefined && o.mode !== 'workers' && o.mode !== 'embedded') {
    throw new InvalidOptionError(`mode must be 'workers' or 'embedded', got ${JSON.stringify(o.mode)}`);
  }
  if (o.transport !== undefined && o.transport !== 'rings' && o.transport !== 'ports') {
    throw new InvalidOptionError(`transport must be 'rings' or 'ports', got ${JSON.stringify(o.transport)}`);
  }
  if (o.rings !== undefined) checkRingOptions(o.rings);
  if (o.network !== undefined) {
    if (o.mode !== 'embedded') throw new InvalidOptionError("network needs mode 'embedded': a networked node runs its actors on its own thread");
    checkNetworkOptions(o.network);
  }
  checkLimits(o);
  if (o.controlTimeoutMs !== undefined && !(Number.isInteger(o.controlTimeoutMs) && o.controlTimeoutMs > 0)) {
    throw new InvalidOptionError(`option controlTimeoutMs must be a positive integer, got ${String(o.controlTimeoutMs)}`);
  }
  if (o.statsIntervalMs !== undefined && !(Number.isInteger(o.statsIntervalMs) && o.statsIntervalMs >= 0)) {
    throw new InvalidOptionError(`option statsIntervalMs must be an integer >= 0, got ${String(o.statsIntervalMs)}`);
  }
  if (o.logLevel !== undefined && !isLogLevel(o.logLevel))
    throw new InvalidOptionError(`logLevel must be debug, info, warn, error or silent, got ${String(o.logLevel)}`);
  if (o.seed !== undefined && !Number.isInteger(o.seed)) throw new InvalidOptionError(`seed must be an integer, got ${String(o.seed)}`);
  if (o.supervision) checkSupervision(o.supervision, 'supervision');
  if (o.spareWorkers !== undefined && !(Number.isInteger(o.spareWorkers) && o.spareWorkers >= 0 && o.spareWorkers <= 64)) {
    throw new InvalidOptionError(`spareWorkers must be an integer within 0..64, got ${String(o.spareWorkers)}`);
  }
  const hb = o.heartbeat;
  if (hb?.intervalMs !== undefined && !(Number.isInteger(hb.intervalMs) && hb.intervalMs >= 0))
    throw new InvalidOptionError('heartbeat.intervalMs must be an integer >= 0 (0 turns heartbeats off)');
  if (hb?.timeoutMs !== undefined && !(Number.isInteger(hb.timeoutMs) && hb.timeoutMs > 0))
    throw new InvalidOptionError('heartbeat.timeoutMs must be a positive integer');
}
