import { MessageChannel } from 'node:worker_threads';
import { EventEmitter } from 'eventemitter3';
import { realClock } from './clock.js';
import { CodecRegistry, type CodecSet } from './codec.js';
import type { ActorDefinition, SpawnOptions } from './define.js';
import {
  ActorLoadError, ActorNotFoundError, DuplicateNameError, InvalidOptionError, SystemStoppedError, errorInfo,
} from './errors.js';
import type { StatsReport, SystemEvents } from './events.js';
import { ActorHost, checkLimits, defaultLimits, realScheduler, type HostEvents, type HostLimits } from './host.js';
import { consoleSink, isLogLevel, type LogLevel, type LogSink } from './logger.js';
import { PortTransport } from './port-transport.js';
import { describeRef, refKey, type ActorRef } from './ref.js';
import { storageKinds } from './store.js';
import { createStores, type StorageOptions } from './stores.js';
import { assertPlainData } from './validate.js';
import { WorkerNode, detectWorkerLoader } from './worker-node.js';
import type { ActorSnapshot, HostStats, WorkerEvent, WorkerMessage } from './worker-protocol.js';

/** Options of {@link ActorSystem.start}. Every bound is a named option with a default. */
export interface SystemOptions extends Partial<HostLimits> {
  /**
   * `workers` (default): actors run in worker threads, one per actor unless spawned with the
   * same `worker` key. `embedded`: every actor runs on the calling thread, same semantics.
   */
  mode?: 'workers' | 'embedded';
  /** Seeds every actor's `ctx.random` (per actor, from its name). Default: random. */
  seed?: number;
  /** Codec sets for hot message types (binary on the wire between workers). */
  codecs?: CodecSet[];
  /** Timeout of each control-plane call (spawn, stop, inspect, ...). Default 10000. */
  controlTimeoutMs?: number;
  /** How often `stats` events are emitted; 0 turns them off. Default 1000. */
  statsIntervalMs?: number;
  /** Minimum level of `ctx.log` records passed to `logSink`. Default `info`. */
  logLevel?: LogLevel;
  /** Where log records go. Default: the console. */
  logSink?: LogSink;
  /** Durable storage locations. */
  storage?: StorageOptions;
  /**
   * A module imported in every worker before anything else, whose `register()` lets workers
   * load TypeScript. Default: tsx's, when this process runs under tsx; else none.
   */
  workerLoader?: string | null;
}

interface ActorRecord {
  ref: ActorRef<any>;
  parent: ActorRef<any> | null;
  order: number;
}

const SYSTEM_NODE = 0;

/**
 * An actor system: spawns actors (in worker threads or embedded on this thread), sends them
 * messages, asks them questions, and shuts down gracefully.
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
  private readonly host: ActorHost;
  private readonly options: Required<Pick<SystemOptions, 'controlTimeoutMs' | 'statsIntervalMs' | 'logLevel'>> & { logSink: LogSink; storage: StorageOptions; limits: HostLimits };
  private readonly codecs = new CodecRegistry();
  private readonly codecSets: { set: CodecSet; exportName: string; base: number }[] = [];
  private readonly transport: PortTransport | null = null;
  private readonly workers = new Map<number, WorkerNode>();
  private readonly workersByKey = new Map<string, Promise<WorkerNode>>();
  private nextNode = 1;
  private readonly records = new Map<number, ActorRecord>();
  private readonly names = new Map<string, ActorRecord>();
  private readonly reserved = new Set<string>();
  private readonly tombstones = new Set<number>();
  private order = 0;
  private readonly locators = new WeakMap<object, { module: string; exportName: string }>();
  private readonly loader: string | null;
  private state: 'running' | 'stopping' | 'stopped' = 'running';
  private shutdownPromise: Promise<void> | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private readonly lastProcessed = new Map<number, { time: number; delivered: number; perActor: Map<number, number> }>();
  private readonly hostStores;
  private readonly sharedBuffers = new Map<string, SharedArrayBuffer>();

  private constructor(options: SystemOptions) {
    this.mode = options.mode ?? 'workers';
    this.seed = options.seed ?? (Math.random() * 2 ** 32) >>> 0;
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
    this.loader = options.workerLoader !== undefined ? options.workerLoader : detectWorkerLoader();
    this.hostStores = createStores(this.options.storage, { node: SYSTEM_NODE, storeName: 'main', sharedBuffer: undefined });
    const events: HostEvents = {
      started: (ref, parent, restart) => this.onWorkerEvent({ e: 'started', ref, parent, restart }),
      stopped: (ref) => this.onWorkerEvent({ e: 'stopped', ref }),
      crashed: (ref, error, during, messageType) => this.onWorkerEvent({ e: 'crashed', ref, error, during, messageType }),
      deadLetter: (letter) => this.onWorkerEvent({ e: 'dead', letter }),
    };
    this.host = new ActorHost({
      node: SYSTEM_NODE,
      seed: this.seed,
      clock: realClock,
      scheduler: realScheduler,
      limits,
      events,
      logLevel: this.options.logLevel,
      logSink: (r) => this.log(r),
      store: (kind) => this.hostStores.get(kind),
      resolveRef: (node, id) => this.records.get(refKey(node, id))?.ref ?? { name: `#${node}.${id}`, node, id },
    });
    if (this.mode === 'workers') {
      this.transport = new PortTransport(this.host, this.codecs, (node, id) => this.resolveRef(node, id), undefined,
        (what, e) => this.log({ level: 'error', actor: '$system', message: `${what}: ${errorInfo(e).message}`, time: realClock.now() }));
      this.host.transport = this.transport;
    }
  }

  /** Starts a system. In workers mode no worker starts until the first spawn. */
  static async start(options: SystemOptions = {}): Promise<ActorSystem> {
    validateOptions(options);
    const system = new ActorSystem(options);
    for (const set of options.codecs ?? []) await system.registerCodecs(set);
    system.startStats();
    return system;
  }

  // ------------------------------------------------------------------ spawning

  /**
   * Starts an actor and resolves with its ref once its `init` has run. Rejects with
   * `ActorLoadError` (module or export missing), `ActorInitError` (init threw) or
   * `DuplicateNameError`; the system stays up either way.
   */
  async spawn<S, M, A, D>(def: ActorDefinition<S, M, A, D>, options: SpawnOptions<A>): Promise<ActorRef<M>> {
    this.assertRunning('spawn');
    if (!def || (def as { kind?: unknown }).kind !== 'synod.actor') {
      throw new InvalidOptionError('spawn: the first argument must be a definition made with defineActor()');
    }
    if (!options || typeof options.name !== 'string' || options.name.length === 0 || options.name.startsWith('$') || options.name.includes('/')) {
      throw new InvalidOptionError(`spawn: options.name must be a non-empty string without "/" and not starting with "$", got ${JSON.stringify(options?.name)}`);
    }
    if (options.storage !== undefined && !storageKinds.includes(options.storage)) {
      throw new InvalidOptionError(`spawn "${options.name}": storage must be one of ${storageKinds.join(', ')}, got ${String(options.storage)}`);
    }
    const name = options.name;
    if (this.names.has(name) || this.reserved.has(name)) {
      throw new DuplicateNameError(`spawn: an actor named "${name}" is already running; names must be unique`);
    }
    this.reserved.add(name);
    try {
      let ref: ActorRef<M>;
      if (this.mode === 'embedded') {
        ref = this.host.spawn(def, options);
      } else {
        assertPlainData(options.args);
        const loc = await this.locate(def);
        const node = await this.placeFor(options.worker, name);
        const { id } = await node.call(`spawn "${name}"`, (c) => c.spawn({
          module: loc.module, exportName: loc.exportName, name, args: options.args, storage: options.storage, id: undefined,
        }), this.options.controlTimeoutMs);
        ref = { name, node: node.node, id };
      }
      this.register(ref, null);
      return ref;
    } finally {
      this.reserved.delete(name);
    }
  }

  /** Finds which export of its module a definition is, so a worker can import it. */
  private async locate(def: ActorDefinition<any, any, any, any>): Promise<{ module: string; exportName: string }> {
    const cached = this.locators.get(def);
    if (cached) return cached;
    if (!def.module) {
      throw new ActorLoadError(`this actor definition${def.label ? ` (${def.label})` : ''} has no module: add \`module: import.meta.url\` to defineActor(...) so workers can load it`);
    }
    let ns: Record<string, unknown>;
    try {
      ns = await import(def.module);
    } catch (e) {
      throw new ActorLoadError(`could not load actor module ${def.module}: ${errorInfo(e).message}`);
    }
    for (const [exportName, value] of Object.entries(ns)) {
      if (value === def) {
        const loc = { module: def.module, exportName };
        this.locators.set(def, loc);
        return loc;
      }
    }
    throw new ActorLoadError(`the definition given to spawn is not exported by ${def.module}; export it (export const X = defineActor(...)) so workers can find it`);
  }

  private async placeFor(key: string | undefined, actorName: string): Promise<WorkerNode> {
    if (key === undefined) return this.startWorker(undefined, actorName);
    let p = this.workersByKey.get(key);
    if (!p) {
      p = this.startWorker(key, key);
      this.workersByKey.set(key, p);
      p.catch(() => this.workersByKey.delete(key));
    }
    const node = await p;
    if (node.gone) {
      this.workersByKey.delete(key);
      return this.placeFor(key, actorName);
    }
    return node;
  }

  /** The main thread's buffer for a host's `shared` storage: it outlives the worker. */
  private sharedBufferFor(storeName: string): SharedArrayBuffer {
    let b = this.sharedBuffers.get(storeName);
    if (!b) {
      b = new SharedArrayBuffer(this.options.storage.sharedBytes ?? 32 * 1024 * 1024);
      this.sharedBuffers.set(storeName, b);
    }
    return b;
  }

  private async startWorker(key: string | undefined, storeName: string): Promise<WorkerNode> {
    const nodeId = this.nextNode++;
    const node = new WorkerNode(nodeId, {
      seed: this.seed,
      limits: this.options.limits,
      logLevel: this.options.logLevel,
      statsIntervalMs: this.options.statsIntervalMs,
      storage: this.options.storage,
      storeName,
      sharedBuffer: this.sharedBufferFor(storeName),
    }, this.loader, key);
    node.onMessage = (m: WorkerMessage) => {
      if (m.t === 'events') for (const e of m.events) this.onWorkerEvent(e);
    };
    node.onExit = (code, reason) => this.onWorkerExit(node, code, reason);
    await node.ready;
    const timeout = this.options.controlTimeoutMs;
    this.workers.set(nodeId, node);
    this.transport!.connect(nodeId, node.mainPort);
    // Join the mesh: a direct channel to every other live worker.
    const joins: Promise<void>[] = [];
    for (const other of this.workers.values()) {
      if (other === node || other.gone) continue;
      const { port1, port2 } = new MessageChannel();
      joins.push(other.connect(nodeId, port1, timeout), node.connect(other.node, port2, timeout));
    }
    await Promise.all(joins);
    for (const { set, exportName, base } of this.codecSets) {
      await node.call('register codecs', (c) => c.registerCodecs(set.module, exportName, base), timeout);
      await node.call('activate codecs', (c) => c.activateCodecs(set.module), timeout);
    }
    const refs = [...this.records.values()].map((r) => r.ref);
    if (refs.length) await node.call('directory', (c) => c.directory(refs, []), timeout);
    return node;
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
      throw new ActorLoadError(`could not load codec module ${set.module}: ${errorInfo(e).message}`);
    });
    for (const [k, v] of Object.entries(ns)) if (v === set) exportName = k;
    if (!exportName) throw new ActorLoadError(`the codec set is not exported by ${set.module}; export it so workers can load it`);
    const base = this.codecs.nextBase;
    this.codecs.register(set, base);
    this.codecSets.push({ set, exportName, base });
    const live = [...this.workers.values()].filter((w) => !w.gone);
    const t = this.options.controlTimeoutMs;
    await Promise.all(live.map((w) => w.call('register codecs', (c) => c.registerCodecs(set.module, exportName!, base), t)));
    await Promise.all(live.map((w) => w.call('activate codecs', (c) => c.activateCodecs(set.module), t)));
    this.codecs.activate(set.module);
  }

  private register(ref: ActorRef<any>, parent: ActorRef<any> | null): void {
    const key = refKey(ref.node, ref.id);
    if (this.records.has(key)) return;
    const rec: ActorRecord = { ref, parent, order: this.order++ };
    this.records.set(key, rec);
    this.names.set(ref.name, rec);
    this.tombstones.delete(key);
    if (this.mode === 'workers') this.broadcastDirectory([ref], []);
    this.events.emit('actor:started', { ref, parent });
  }

  private unregister(ref: ActorRef<any>): void {
    const key = refKey(ref.node, ref.id);
    const rec = this.records.get(key);
    if (!rec) return;
    this.records.delete(key);
    if (this.names.get(ref.name) === rec) this.names.delete(ref.name);
    this.tombstones.add(key);
    if (this.tombstones.size > 100_000) this.tombstones.delete(this.tombstones.values().next().value!);
    if (this.mode === 'workers') this.broadcastDirectory([], [ref]);
    this.events.emit('actor:stopped', { ref });
  }

  private broadcastDirectory(add: ActorRef<any>[], remove: ActorRef<any>[]): void {
    for (const w of this.workers.values()) {
      if (w.gone) continue;
      w.call('directory', (c) => c.directory(add, remove), this.options.controlTimeoutMs).catch(() => {});
    }
  }

  private resolveRef(node: number, id: number): ActorRef<any> {
    return this.records.get(refKey(node, id))?.ref ?? { name: `#${node}.${id}`, node, id };
  }

  // ------------------------------------------------------------------ events from hosts

  private onWorkerEvent(e: WorkerEvent): void {
    switch (e.e) {
      case 'started':
        // Top-level actors are registered by spawn(); children announce themselves here.
        if (e.parent !== null && !e.restart) this.register(e.ref, e.parent);
        break;
      case 'stopped':
        this.unregister(e.ref);
        break;
      case 'crashed':
        this.events.emit('actor:crashed', { ref: this.resolveRef(e.ref.node, e.ref.id), error: e.error, during: e.during, messageType: e.messageType });
        break;
      case 'dead':
        this.events.emit('dead-letter', e.letter);
        break;
      case 'log':
        this.log(e.record);
        break;
      case 'stats':
        this.emitStats(e);
        break;
    }
  }

  private onWorkerExit(node: WorkerNode, code: number | null, reason: string): void {
    this.workers.delete(node.node);
    this.transport?.disconnect(node.node);
    for (const w of this.workers.values()) {
      if (!w.gone) w.call('disconnect', (c) => c.disconnect(node.node), this.options.controlTimeoutMs).catch(() => {});
    }
    if (this.state === 'running') {
      this.events.emit('worker:exited', { node: node.node, code, reason });
      for (const rec of [...this.records.values()]) {
        if (rec.ref.node !== node.node) continue;
        this.events.emit('actor:crashed', { ref: rec.ref, error: { name: 'WorkerExit', message: `worker ${node.node} ${reason}` }, during: 'worker', messageType: undefined });
        this.unregister(rec.ref);
      }
    }
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

  /** Sends and waits for the actor's `ctx.reply`. Rejects with `AskTimeoutError` after `timeoutMs`. */
  ask<R = unknown, M = unknown>(to: ActorRef<M>, message: M, options: { timeoutMs?: number } = {}): Promise<R> {
    try {
      this.assertRunning('ask');
      this.assertTarget(to, 'ask');
    } catch (e) {
      return Promise.reject(e);
    }
    return this.host.askFrom(null, to, message, options.timeoutMs) as Promise<R>;
  }

  /**
   * Sends a message, waiting for room when the mailbox is full (backpressure for producers
   * outside the system). Resolves once the message is in the mailbox.
   */
  enqueue<M>(to: ActorRef<M>, message: M, options: { timeoutMs?: number } = {}): Promise<void> {
    try {
      this.assertRunning('enqueue');
      this.assertTarget(to, 'enqueue');
    } catch (e) {
      return Promise.reject(e);
    }
    return this.host.enqueueFromOutside(to, message, options.timeoutMs);
  }

  private assertTarget(to: ActorRef<any>, op: string): void {
    if (!to || typeof to !== 'object' || !Number.isInteger(to.node) || !Number.isInteger(to.id)) {
      throw new InvalidOptionError(`${op}: the target must be an ActorRef returned by spawn, got ${String(to)}`);
    }
    const key = refKey(to.node, to.id);
    if (this.records.has(key)) return;
    const nodeExists = this.mode === 'embedded' ? to.node === SYSTEM_NODE && this.host.has(to.id) : this.workers.has(to.node);
    if (this.tombstones.has(key) || !nodeExists) {
      throw new ActorNotFoundError(`${op}: no actor ${describeRef(to)}: it was stopped or never existed`);
    }
  }

  /** The ref of a live actor by name. */
  lookup<M = unknown>(name: string): ActorRef<M> | undefined {
    return this.names.get(name)?.ref;
  }

  /** Every live actor, in start order. */
  actors(): ActorRef<any>[] {
    return [...this.records.values()].sort((a, b) => a.order - b.order).map((r) => r.ref);
  }

  // ------------------------------------------------------------------ control

  /** Stops an actor (its children first) and resolves when it is gone. */
  async stop(ref: ActorRef<any>): Promise<void> {
    this.assertRunning('stop');
    this.assertTarget(ref, 'stop');
    await this.stopQuiet(ref);
  }

  private async stopQuiet(ref: ActorRef<any>): Promise<void> {
    if (ref.node === SYSTEM_NODE) {
      this.host.stop(ref.id);
    } else {
      const w = this.workers.get(ref.node);
      if (w && !w.gone) await w.call(`stop ${describeRef(ref)}`, (c) => c.stop(ref.id), this.options.controlTimeoutMs);
    }
    this.unregister(ref);
  }

  /** A snapshot of an actor's state, mailbox depth and counters. */
  async inspect(ref: ActorRef<any>): Promise<ActorSnapshot> {
    this.assertRunning('inspect');
    this.assertTarget(ref, 'inspect');
    const snap = ref.node === SYSTEM_NODE
      ? this.host.inspect(ref.id)
      : await this.workers.get(ref.node)!.call(`inspect ${describeRef(ref)}`, (c) => c.inspect(ref.id), this.options.controlTimeoutMs);
    if (!snap) throw new ActorNotFoundError(`inspect: no actor ${describeRef(ref)}`);
    return snap;
  }

  /** Counters of every host, fetched now. */
  async stats(): Promise<HostStats[]> {
    this.assertRunning('stats');
    const out: HostStats[] = [{ node: SYSTEM_NODE, delivered: this.host.delivered, actors: this.host.stats() }];
    for (const w of this.workers.values()) {
      if (!w.gone) out.push(await w.call('stats', (c) => c.stats(), this.options.controlTimeoutMs));
    }
    return out;
  }

  /** The worker node ids in use (workers mode). */
  workerNodes(): number[] {
    return [...this.workers.keys()];
  }

  /** Fault injection: ends the worker hosting `node` abruptly, as a crash would. */
  async killWorker(node: number): Promise<void> {
    const w = this.workers.get(node);
    if (!w) throw new InvalidOptionError(`killWorker: no worker node ${node}`);
    await w.terminate();
  }

  private startStats(): void {
    const every = this.options.statsIntervalMs;
    if (every <= 0) return;
    this.statsTimer = setInterval(() => {
      if (this.host.actors().length > 0) {
        this.emitStats({ node: SYSTEM_NODE, delivered: this.host.delivered, actors: this.host.stats() });
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
      time: now, node: s.node, actors,
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

  /**
   * Graceful shutdown: stops actors in reverse start order, ends every worker, and resolves
   * when all are gone. Later calls return the same promise; other calls are refused.
   */
  shutdown(): Promise<void> {
    if (this.shutdownPromise) return this.shutdownPromise;
    this.state = 'stopping';
    this.shutdownPromise = (async () => {
      if (this.statsTimer) clearInterval(this.statsTimer);
      const recs = [...this.records.values()].filter((r) => r.parent === null).sort((a, b) => b.order - a.order);
      for (const rec of recs) {
        try { await this.stopQuiet(rec.ref); } catch { /* its worker is gone: nothing left to stop */ }
      }
      this.host.stopAll();
      const t = this.options.controlTimeoutMs;
      await Promise.all([...this.workers.values()].map(async (w) => {
        try { await w.call('shutdown', (c) => c.shutdown(), t); } catch { /* terminate below */ }
        await w.terminate();
      }));
      this.transport?.close();
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
  checkLimits(o);
  for (const k of ['controlTimeoutMs'] as const) {
    const v = o[k];
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new InvalidOptionError(`option ${k} must be a positive integer, got ${String(v)}`);
  }
  if (o.statsIntervalMs !== undefined && !(Number.isInteger(o.statsIntervalMs) && o.statsIntervalMs >= 0)) {
    throw new InvalidOptionError(`option statsIntervalMs must be an integer >= 0, got ${String(o.statsIntervalMs)}`);
  }
  if (o.logLevel !== undefined && !isLogLevel(o.logLevel)) throw new InvalidOptionError(`logLevel must be debug, info, warn, error or silent, got ${String(o.logLevel)}`);
  if (o.seed !== undefined && !Number.isInteger(o.seed)) throw new InvalidOptionError(`seed must be an integer, got ${String(o.seed)}`);
}

