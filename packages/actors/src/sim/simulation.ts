/**
 * The deterministic simulator: the same actor definitions that run in workers, on simulated
 * nodes in one thread, driven by one event queue in virtual time. Every choice (message delays,
 * losses, duplicates, fault targets, disk sync times, supervisor jitter, each actor's
 * `ctx.random`) comes from generators seeded by the simulation's seed, so a seed and a fault plan
 * replay a run event for event.
 *
 * Each node has a real {@link ActorHost} (mailboxes, turns, persist-before-send, timers, asks)
 * given a virtual clock, a scheduler that queues simulator tasks, a transport into the simulated
 * network, and stores over the simulated disk. Node 0 is the driver: the outside world, from
 * which `sim.send` and `sim.ask` come.
 */
import { EventEmitter } from 'eventemitter3';
import type { ActorCell } from '../cell.js';
import type { Clock } from '../clock.js';
import type { ActorDefinition } from '../define.js';
import { Envelope, Kind } from '../envelope.js';
import { DuplicateNameError, InvalidOptionError, messageType, type ErrorInfo } from '../errors.js';
import { ActorHost, defaultLimits, type DeadLetter, type HostEvents, type HostLimits, type Scheduler } from '../host.js';
import { consoleSink, type LogLevel, type LogSink } from '../logger.js';
import { Prng, deriveSeed } from '../random.js';
import { describeRef, refKey, type ActorRef } from '../ref.js';
import { MemoryStore, type ActorStore, type StorageKind } from '../store.js';
import { storageDefaults } from '../stores/defaults.js';
import { Supervisor, checkSupervision, type ActorChildSpec, type SupervisorSpec } from '../supervisor.js';
import { defaultHeartbeat } from '../worker-node.js';
import { Sampler } from './distribution.js';
import { SimDiskStore } from './disk.js';
import { PlanError, SimulationError } from './errors.js';
import { EventQueue, EventType, SimEvent } from './event-queue.js';
import { Network, Outcome, defaultNetwork } from './network.js';
import { SimNode, SimTransport, type ActorRecord } from './node.js';
import {
  checkRun, checkSpawn, checkTarget, defaultDisk, validateOptions,
  type RunOptions, type RunResult, type SimEvents, type SimFailure, type SimSpawnOptions, type SimStats, type SimulationOptions,
} from './options.js';
import { checkFault, checkPlan, type DiskPlan, type Fault, type FaultPlan, type NodeSelector } from './plan.js';
import { simSupervisionRuntime } from './sim-supervision.js';
import { Fingerprint, TraceLog, traceCode, type TraceKind, type TraceRecord } from './trace.js';
import { createView, type DeepReadonly, type Invariant, type SimView } from './view.js';

export type { RunOptions, RunResult, SimEvents, SimFailure, SimSpawnOptions, SimStats, SimulationOptions } from './options.js';
export { defaultDisk } from './options.js';

const DRIVER = 0;
const DELIVER_CODE = traceCode.deliver;

const kindNames = ['send', 'ask', 'reply', 'enqueue'] as const;

/**
 * A deterministic simulation of actors on simulated nodes.
 *
 * ```ts
 * const sim = new Simulation({ seed: 42, plan: { faults: [{ atMs: 100, kind: 'crash-node', node: 1 }] } });
 * const counter = await sim.spawn(Counter, { name: 'counter', storage: 'file' });
 * sim.invariant('never negative', (v) => (v.state<{ n: number }>('counter')?.n ?? 0) >= 0);
 * sim.send(counter, { type: 'inc' });
 * const result = await sim.run({ untilMs: 1_000 });
 * console.log(result.reason, result.fingerprint, sim.state('counter'));
 * ```
 */
export class Simulation {
  readonly seed: number;
  /** The fault plan in force (validated). */
  readonly plan: FaultPlan;
  /** The root supervisor: parent of every actor spawned with `sim.spawn`. */
  readonly root: Supervisor;
  /** Lifecycle, dead-letter and fault events. */
  readonly events = new EventEmitter<SimEvents>();
  /** Counters. */
  readonly stats: SimStats = {
    steps: 0, sends: 0, deliveries: 0, drops: 0, duplicates: 0, lost: 0, timers: 0, syncs: 0, faults: 0, crashes: 0, restarts: 0, deadLetters: 0,
  };
  /** The read-only view invariants get. */
  readonly view: SimView;

  private now = 0;
  private readonly queue = new EventQueue();
  private readonly nodes: SimNode[] = [];
  private readonly workerNodes = new Map<string, number>();
  private readonly network: Network;
  private readonly netRng: Prng;
  private readonly diskRng: Prng;
  private readonly supRng: Prng;
  private readonly disk: Required<DiskPlan>;
  private readonly syncSampler: Sampler;
  private readonly limits: HostLimits;
  private readonly maxStepsPerRun: number;
  private readonly heartbeatTimeoutMs: number;
  private readonly maxNodes: number;
  private readonly logLevel: LogLevel;
  private readonly logSink: LogSink;
  private readonly snapshotLimits: { maxChunkBytes: number; sharedSnapshotBytes: number };

  // Tasks a host asked to run "soon" (as microtasks would), run after the current event.
  // Parallel arrays that only grow: entries are overwritten, never shifted or truncated.
  private readonly readyFn: ((() => void) | undefined)[] = [];
  private readonly readyNode: number[] = [];
  private readonly readyEpoch: number[] = [];
  private readyHead = 0;
  private readyLen = 0;
  /** Some promise settled: its continuations must run before the next event. */
  private asyncPending = false;

  private readonly records = new Map<number, ActorRecord>();
  private readonly names = new Map<string, ActorRecord>();
  /** Cells of actors started but not registered yet (a supervised spawn registers after init). */
  private readonly newCells = new Map<string, ActorCell>();
  private order = 0;
  private readonly invariants: { name: string; check: Invariant }[] = [];
  private failure: SimFailure | null = null;
  private running = false;
  private faultIds = 0;
  private readonly fp = new Fingerprint();
  private readonly log: TraceLog | null;

  constructor(options: SimulationOptions) {
    validateOptions(options);
    this.seed = options.seed >>> 0;
    this.plan = options.plan ?? {};
    checkPlan(this.plan);
    const limits: HostLimits = { ...defaultLimits };
    for (const k of Object.keys(defaultLimits) as (keyof HostLimits)[]) {
      if (options[k] !== undefined) (limits as any)[k] = options[k];
    }
    this.limits = limits;
    this.maxStepsPerRun = options.maxStepsPerRun ?? 100_000_000;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? defaultHeartbeat.timeoutMs;
    this.maxNodes = options.maxNodes ?? 1024;
    this.logLevel = options.logLevel ?? 'warn';
    this.logSink = options.logSink ?? consoleSink;
    this.snapshotLimits = {
      maxChunkBytes: options.maxSnapshotChunkBytes ?? storageDefaults.maxSnapshotChunkBytes,
      sharedSnapshotBytes: options.sharedSnapshotBytes ?? storageDefaults.sharedSnapshotBytes,
    };
    const trace = options.trace ?? false;
    this.log = trace === false ? null : new TraceLog(trace === true ? 1_000_000 : trace);
    // Independent streams: a change in how often one part draws does not shift the others.
    this.netRng = new Prng(deriveSeed(this.seed, '$network'));
    this.diskRng = new Prng(deriveSeed(this.seed, '$disk'));
    this.supRng = new Prng(deriveSeed(this.seed, '$supervision'));
    this.disk = { ...defaultDisk, ...this.plan.disk };
    this.syncSampler = new Sampler(this.disk.syncDelay);
    this.network = new Network(this.netRng, { ...defaultNetwork, ...this.plan.network }, this.plan.links ?? [], (sel) => this.tryResolveNode(sel));
    this.view = this.makeView();
    const self = this;
    this.root = new Supervisor({ name: '$root', ...options.supervision }, null, simSupervisionRuntime({
      get now() { return self.now; },
      startActor: (spec, incarnation, ref, owner) => this.startActor(spec, incarnation, ref, owner),
      terminateActor: (ref) => { const n = this.nodes[ref.node]; if (n?.up) n.host!.terminate(ref.id); },
      stopActor: (ref) => this.stopNow(ref),
      forget: (ref) => this.unregister(ref),
      sleep: (ms) => this.sleep(ms),
      restarted: (ref, attempt, delayMs) => {
        this.stats.restarts++;
        this.traceEvent('restart', ref.node, ref.id, attempt, undefined, () => ({ to: this.describe(ref.node, ref.id), detail: `attempt ${attempt} after ${delayMs} ms` }));
        this.events.emit('actor:restarted', { ref, attempt, delayMs });
      },
      restartFailed: (ref, error) => {
        this.stats.crashes++;
        this.traceEvent('crash', ref.node, ref.id, 0, undefined, () => ({ to: this.describe(ref.node, ref.id), detail: `init: ${error.message}` }));
        this.events.emit('actor:crashed', { ref, error, during: 'init', messageType: undefined });
      },
      escalated: (supervisor, reason) => {
        this.traceEvent('escalated', -1, 0, 0, undefined, () => ({ detail: `supervisor "${supervisor}": ${reason}` }));
        this.events.emit('supervisor:escalated', { supervisor, reason });
      },
      rootFailed: (reason) => {
        this.traceEvent('failed', -1, 0, 0, undefined, () => ({ detail: reason }));
        this.failure ??= { kind: 'system-failed', message: reason, step: this.stats.steps, timeMs: this.now };
        this.events.emit('system:failed', { reason });
      },
    }, this.supRng));
    this.addNode(); // node 0: the driver
    this.bringUp(this.nodes[DRIVER]!);
    (this.plan.faults ?? []).forEach((f, i) => {
      this.queue.push(f.atMs, EventType.Call, -1, 0, null, () => this.applyFault(f, i), i);
    });
  }

  // ------------------------------------------------------------------ actors

  /**
   * Starts an actor under a supervisor (the root by default), on its own node or on the node of
   * its `worker` key, as workers mode would. Resolves once its `init` ran; rejects like
   * `system.spawn` (`ActorInitError`, `DuplicateNameError`, `InvalidOptionError`).
   */
  spawn<S, M, A, D>(def: ActorDefinition<S, M, A, D>, options: SimSpawnOptions<A>): Promise<ActorRef<M>> {
    const { supervisor, ...spec } = options ?? ({} as SimSpawnOptions<A>);
    return (supervisor ?? this.root).startChild({ ...spec, actor: def }) as Promise<ActorRef<M>>;
  }

  /** Starts a supervisor with its children (under the root, or under `parent`). */
  supervise(spec: SupervisorSpec, parent: Supervisor = this.root): Promise<Supervisor> {
    if (!spec || typeof spec.name !== 'string' || !spec.name) return Promise.reject(new InvalidOptionError('supervise: spec.name must be a non-empty string'));
    checkSupervision(spec, `supervisor "${spec.name}"`);
    return parent.startChild(spec);
  }

  /** Stops an actor for good (its supervisor does not restart it). */
  async stop(ref: ActorRef<any>): Promise<void> {
    const rec = this.records.get(refKey(ref.node, ref.id));
    if (rec?.supervisor && (await rec.supervisor.stopChild(rec.ref))) return;
    this.stopNow(ref);
  }

  /** The ref of a known actor, by name. */
  lookup<M = unknown>(name: string): ActorRef<M> | undefined {
    return this.names.get(name)?.ref;
  }

  /** The node an actor lives on. */
  nodeOf(name: string): number | undefined {
    return this.names.get(name)?.ref.node;
  }

  /** The live state of a running actor (read it, do not change it). */
  state<S = unknown>(name: string): DeepReadonly<S> | undefined {
    return this.view.state<S>(name);
  }

  /** Nodes so far, driver (0) included. */
  get nodeCount(): number { return this.nodes.length; }

  /** Virtual time, ms. */
  get nowMs(): number { return this.now; }

  /** The fingerprint of everything that happened so far (16 hex digits). */
  get fingerprint(): string { return this.fp.hex(); }

  /** Readable trace records (only with the `trace` option; the newest when bounded). */
  get trace(): readonly TraceRecord[] { return this.log?.records ?? []; }

  /** The failure that stopped the simulation, if any. */
  get failed(): SimFailure | null { return this.failure; }

  // ------------------------------------------------------------------ outside world

  /** Sends from outside (node 0, the driver). Subject to the network like any message. */
  send<M>(to: ActorRef<M>, message: M): void {
    checkTarget(to, 'send');
    this.driver.sendFromOutside(to, message);
  }

  /**
   * Asks from outside. The promise settles while the simulation runs (virtual time): the reply,
   * or `AskTimeoutError` after `timeoutMs` of virtual time.
   */
  ask<R = unknown, M = unknown>(to: ActorRef<M>, message: M, options: { timeoutMs?: number } = {}): Promise<R> {
    try {
      checkTarget(to, 'ask');
    } catch (e) {
      return Promise.reject(e);
    }
    return this.driver.askFrom(null, to, message, options.timeoutMs) as Promise<R>;
  }

  /**
   * Asks from outside and runs the simulation until the answer (or the ask's timeout) comes:
   * the convenient form for test drivers. `maxSteps` bounds the run (default `maxStepsPerRun`).
   */
  async call<R = unknown, M = unknown>(to: ActorRef<M>, message: M, options: { timeoutMs?: number; maxSteps?: number } = {}): Promise<R> {
    let settled = false;
    const p = this.ask<R, M>(to, message, options);
    p.then(() => { settled = true; }, () => { settled = true; });
    const r = await this.run({ until: () => settled, maxSteps: options.maxSteps ?? this.maxStepsPerRun });
    if (!settled) {
      const why = r.failure ? `: ${r.failure.kind === 'invariant' ? `invariant "${r.failure.name}" failed` : 'the root supervisor gave up'}: ${r.failure.message}` : '';
      throw new SimulationError(`call to ${describeRef(to)} with "${messageType(message)}" did not settle: the run ended (${r.reason}) at ${r.nowMs.toFixed(3)} ms${why}`);
    }
    return p;
  }

  /**
   * Registers an invariant, checked after every step from now on. A violation stops the run
   * (`reason: 'violation'`) and is reported with its step and virtual time.
   */
  invariant(name: string, check: Invariant): this {
    if (typeof name !== 'string' || !name) throw new InvalidOptionError('invariant: name must be a non-empty string');
    if (typeof check !== 'function') throw new InvalidOptionError(`invariant "${name}": check must be a function`);
    this.invariants.push({ name, check });
    return this;
  }

  /** Applies a fault now (the same JSON as a plan's faults, without `atMs`). */
  fault(f: Fault): void {
    checkFault(f);
    this.applyFault(f, -1);
  }

  // ------------------------------------------------------------------ running

  /**
   * Runs events in virtual-time order until a bound is reached, an invariant fails, or nothing is
   * left to do. Asynchronous because supervisors and ask continuations are promises: they run
   * between events, at the virtual time they belong to.
   */
  async run(options: RunOptions): Promise<RunResult> {
    if (this.running) throw new SimulationError('run: this simulation is already running; await the first run before starting another');
    checkRun(options);
    this.running = true;
    try {
      const stepLimit = this.stats.steps + (options.maxSteps ?? this.maxStepsPerRun);
      const timeLimit = options.untilMs ?? (options.forMs !== undefined ? this.now + options.forMs : Number.POSITIVE_INFINITY);
      const until = options.until;
      this.runReady();
      if (this.asyncPending) await this.settle();
      if (this.failure) return this.failedResult();
      if (until && until(this.view)) return this.result('until');
      const queue = this.queue;
      const invariants = this.invariants;
      for (;;) {
        if (this.stats.steps >= stepLimit) return this.result('steps');
        const ev = queue.peek();
        if (ev === undefined) {
          if (timeLimit !== Number.POSITIVE_INFINITY && timeLimit > this.now) this.now = timeLimit;
          return this.result('idle');
        }
        if (ev.time > timeLimit) {
          this.now = timeLimit;
          return this.result('time');
        }
        queue.pop();
        if (ev.time > this.now) this.now = ev.time;
        if (!this.dispatch(ev)) continue;
        if (ev.type === EventType.Deliver) queue.release(ev);
        this.runReady();
        if (this.asyncPending) await this.settle();
        this.stats.steps++;
        if (invariants.length > 0) this.checkInvariants();
        if (this.failure) return this.failedResult();
        if (until !== undefined && until(this.view)) return this.result('until');
      }
    } finally {
      this.running = false;
    }
  }

  private failedResult(): RunResult {
    return this.result(this.failure!.kind === 'invariant' ? 'violation' : 'failed');
  }

  private result(reason: RunResult['reason']): RunResult {
    const r: RunResult = { reason, steps: this.stats.steps, nowMs: this.now, fingerprint: this.fp.hex() };
    if (this.failure) r.failure = this.failure;
    return r;
  }

  /**
   * Lets promise continuations (supervisors, asks) run, then the tasks they queued, until none
   * are left. A macrotask turn runs every queued microtask, however deep the chain; nothing
   * else touches the simulation meanwhile, so this stays deterministic.
   */
  private async settle(): Promise<void> {
    while (this.asyncPending) {
      this.asyncPending = false;
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.runReady();
    }
  }

  private checkInvariants(): void {
    for (const inv of this.invariants) {
      let verdict: void | boolean | string;
      try {
        verdict = inv.check(this.view);
      } catch (e) {
        verdict = e instanceof Error ? e.message : String(e);
      }
      if (verdict === false || typeof verdict === 'string') {
        const message = typeof verdict === 'string' ? verdict : `invariant "${inv.name}" does not hold`;
        this.failure = { kind: 'invariant', name: inv.name, message, step: this.stats.steps, timeMs: this.now };
        this.traceEvent('violation', -1, 0, 0, undefined, () => ({ detail: `${inv.name}: ${message}` }));
        return;
      }
    }
  }

  /** Runs one event; false when it was stale (a crashed host's timer) or deferred by a pause. */
  private dispatch(ev: SimEvent): boolean {
    switch (ev.type) {
      case EventType.Deliver: {
        const node = this.nodes[ev.node]!;
        if (node.paused) { node.deferred.push(ev); return false; }
        const env = ev.env!;
        if (!node.up) {
          this.stats.lost++;
          this.traceMessage('lost', ev.arg, env, this.now, 'node down');
          this.reportDead(env, `node ${ev.node} is down`);
          return true;
        }
        if (this.network.isBlocked(ev.arg, ev.node)) {
          this.stats.drops++;
          this.traceMessage('drop', ev.arg, env, this.now, 'partitioned in flight');
          return true;
        }
        this.stats.deliveries++;
        this.traceDelivery(ev.arg, env);
        node.host!.deliver(env);
        return true;
      }
      case EventType.Timer:
      case EventType.Task: {
        const node = this.nodes[ev.node]!;
        if (node.epoch !== ev.epoch || !node.up) return false;
        if (node.paused) { node.deferred.push(ev); return false; }
        if (ev.type === EventType.Timer) {
          this.stats.timers++;
          this.traceEvent('timer', ev.node, 0, 0, undefined, undefined);
        }
        ev.fn!();
        return true;
      }
      case EventType.Sync: {
        const node = this.nodes[ev.node]!;
        if (ev.arg !== node.disk.generation) return false;
        if (node.paused) { node.deferred.push(ev); return false; }
        const durable = node.disk.completeSync();
        this.stats.syncs++;
        this.traceEvent('sync', ev.node, durable, 0, undefined, () => ({ detail: `durable up to write ${durable}` }));
        node.disk.store?.onDurable?.(durable);
        if (node.disk.unsynced > 0) this.requestSync(node);
        return true;
      }
      case EventType.Call:
        ev.fn!();
        return true;
    }
  }

  private runReady(): void {
    if (this.readyLen === 0) return;
    const fns = this.readyFn;
    while (this.readyHead < this.readyLen) {
      const i = this.readyHead++;
      const fn = fns[i]!;
      fns[i] = undefined;
      const node = this.nodes[this.readyNode[i]!]!;
      const epoch = this.readyEpoch[i]!;
      if (node.epoch !== epoch || !node.up) continue;
      if (node.paused) {
        node.deferred.push(new SimEvent(this.now, 0, EventType.Task, node.id, epoch, null, fn, 0));
        continue;
      }
      fn();
    }
    this.readyHead = 0;
    this.readyLen = 0;
  }

  private soon(node: number, epoch: number, fn: () => void): void {
    const i = this.readyLen++;
    this.readyFn[i] = fn;
    this.readyNode[i] = node;
    this.readyEpoch[i] = epoch;
  }

  private callAt(time: number, fn: () => void): SimEvent {
    return this.queue.push(time, EventType.Call, -1, 0, null, fn, 0);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.callAt(this.now + Math.max(0, ms), () => {
        this.asyncPending = true;
        resolve();
      });
    });
  }

  // ------------------------------------------------------------------ nodes

  private addNode(): SimNode {
    if (this.nodes.length >= this.maxNodes) {
      throw new InvalidOptionError(`this simulation already has ${this.maxNodes} nodes (maxNodes); give actors a shared \`worker\` key or raise maxNodes`);
    }
    const node = new SimNode(this.nodes.length, this.snapshotLimits);
    node.startSync = () => {
      node.syncRequested = false;
      if (node.disk.beginSync()) {
        this.queue.push(this.now + this.syncSampler.sample(this.diskRng), EventType.Sync, node.id, 0, null, null, node.disk.generation);
      }
    };
    this.nodes.push(node);
    this.network.setNodes(this.nodes.length);
    return node;
  }

  private get driver(): ActorHost { return this.nodes[DRIVER]!.host!; }

  /** Starts a fresh host on a node (first start, or after a crash): a new worker. */
  private bringUp(node: SimNode): ActorHost {
    const epoch = ++node.epoch;
    const id = node.id;
    const queue = this.queue;
    const clock: Clock = {
      now: () => this.now,
      schedule: (delayMs, fn) => queue.push(this.now + (delayMs > 0 ? delayMs : 0), EventType.Timer, id, epoch, null, fn, 0),
      cancel: (handle) => { queue.remove(handle as SimEvent); },
    };
    const scheduler: Scheduler = {
      soon: (fn) => this.soon(id, epoch, fn),
      later: (fn) => { queue.push(this.now, EventType.Task, id, epoch, null, fn, 0); },
    };
    const events: HostEvents = {
      started: (ref, parent, restart) => this.onStarted(node, ref, parent, restart),
      stopped: (ref, incarnation) => this.onStopped(ref, incarnation),
      crashed: (ref, error, during, mt, incarnation) => this.onCrashed(ref, error, during, mt, incarnation),
      deadLetter: (letter) => this.onDeadLetter(letter),
    };
    node.memory = null;
    node.file = null;
    const host = new ActorHost({
      node: id,
      seed: this.seed,
      clock,
      scheduler,
      limits: this.limits,
      events,
      logLevel: this.logLevel,
      logSink: this.logSink,
      store: (kind) => this.storeFor(node, kind),
      resolveRef: (n, i) => this.records.get(refKey(n, i))?.ref ?? { name: `#${n}.${i}`, node: n, id: i },
      settled: () => { this.asyncPending = true; },
      // Each incarnation of a node numbers its asks apart (deterministically): a reply stored
      // before a crash must not resolve a new ask.
      corrBase: 1 + (deriveSeed(this.seed, `$corr/${id}/${epoch}`) % 2 ** 31),
    });
    node.transport = new SimTransport(id, this.transmitFn);
    host.transport = node.transport;
    node.host = host;
    node.up = true;
    node.paused = false;
    if (id !== DRIVER) this.traceEvent('node-up', id, epoch, 0, undefined, () => ({ detail: `incarnation ${epoch}` }));
    return host;
  }

  private storeFor(node: SimNode, kind: StorageKind): ActorStore {
    switch (kind) {
      case 'memory': return (node.memory ??= new MemoryStore(this.snapshotLimits));
      case 'shared': return node.shared;
      case 'file': return (node.file ??= new SimDiskStore(node.disk, () => this.requestSync(node), this.snapshotLimits));
    }
  }

  private requestSync(node: SimNode): void {
    if (node.syncRequested) return;
    node.syncRequested = true;
    // Once per step: every write of the step joins the same sync (group commit).
    this.soon(node.id, node.epoch, node.startSync);
  }

  /** A node where a new actor goes: its worker key's node, or a new one. */
  private place(worker: string | undefined): number {
    if (worker !== undefined) {
      const existing = this.workerNodes.get(worker);
      if (existing !== undefined) return existing;
      const node = this.addNode();
      this.workerNodes.set(worker, node.id);
      return node.id;
    }
    return this.addNode().id;
  }

  /** Crashes a node as a worker crash would. */
  private crashNode(node: SimNode, downMs: number, why: string): void {
    if (!node.up) return;
    node.up = false;
    node.paused = false;
    node.pauseToken++;
    // Messages that waited for a paused node die with it, like those in a dead worker's port.
    for (const ev of node.deferred) {
      if (ev.type !== EventType.Deliver) continue;
      this.stats.lost++;
      this.traceMessage('lost', ev.arg, ev.env!, this.now, 'node crashed while paused');
      this.reportDead(ev.env!, `node ${node.id} crashed`);
    }
    node.deferred = [];
    node.downUntil = this.now + downMs;
    node.transport!.dead = true;
    node.host = null;
    node.memory = null;
    node.file = null;
    node.syncRequested = false;
    this.traceEvent('node-down', node.id, 0, 0, undefined, () => ({ detail: why }));
    const unsynced = node.disk.unsynced;
    const keep = this.disk.unsyncedOnCrash === 'random-prefix' ? this.diskRng.int(unsynced + 1) : 0;
    const torn = this.disk.tornWriteRate > 0 && keep < unsynced && this.diskRng.next() < this.disk.tornWriteRate;
    const loss = node.disk.crash(keep, torn);
    if (unsynced > 0) {
      this.traceEvent('disk-loss', node.id, loss.kept, loss.lost + (loss.torn ? 1 << 20 : 0), undefined,
        () => ({ detail: `${loss.lost} unsynced write(s) lost, ${loss.kept} kept${loss.torn ? ', the first lost one torn' : ''}` }));
    }
    const recs = [...this.records.values()].filter((r) => r.ref.node === node.id).sort((a, b) => a.order - b.order);
    for (const rec of recs) {
      this.stats.crashes++;
      this.traceEvent('crash', node.id, rec.ref.id, 0, undefined, () => ({ to: this.describe(rec.ref.node, rec.ref.id), detail: why }));
      this.events.emit('actor:crashed', { ref: rec.ref, error: { name: 'NodeCrash', message: `node ${node.id}: ${why}` }, during: 'node', messageType: undefined });
    }
    for (const rec of recs) {
      const kept = rec.supervisor ? rec.supervisor.childEnded(rec.ref, rec.incarnation, true) : false;
      if (!kept) this.unregister(rec.ref);
    }
    this.asyncPending = true;
  }

  private pauseNode(node: SimNode, durationMs: number): void {
    if (!node.up) return;
    node.paused = true;
    const token = ++node.pauseToken;
    node.pausedUntil = Math.max(node.pausedUntil, this.now + durationMs);
    this.traceEvent('pause', node.id, 0, 0, undefined, () => ({ detail: `until ${node.pausedUntil.toFixed(3)} ms` }));
    const hb = this.heartbeatTimeoutMs;
    if (hb > 0 && node.pausedUntil - this.now >= hb) {
      this.callAt(this.now + hb, () => {
        if (node.pauseToken === token && node.paused) this.crashNode(node, 0, `no heartbeat for ${hb} ms (paused)`);
      });
    }
    this.callAt(node.pausedUntil, () => {
      if (node.pauseToken !== token || !node.paused) return;
      node.paused = false;
      this.traceEvent('resume', node.id, node.deferred.length, 0, undefined, () => ({ detail: `${node.deferred.length} deferred event(s)` }));
      const deferred = node.deferred;
      node.deferred = [];
      for (const ev of deferred) this.queue.reschedule(ev, this.now);
    });
  }

  // ------------------------------------------------------------------ the network

  private readonly transmitFn = (from: number, env: Envelope): void => this.transmit(from, env);

  private transmit(from: number, env: Envelope): void {
    const to = env.toNode;
    this.stats.sends++;
    if (!(to >= 0 && to < this.nodes.length)) {
      this.traceMessage('drop', from, env, this.now, 'no such node');
      this.nodes[from]?.host?.deadLetter(env, 'unreachable', `no node ${to} in this simulation`);
      return;
    }
    const net = this.network;
    switch (net.decide(from, to, this.now)) {
      case Outcome.Partitioned:
        this.stats.drops++;
        this.traceMessage('drop', from, env, this.now, 'partitioned');
        return;
      case Outcome.Dropped:
        this.stats.drops++;
        this.traceMessage('drop', from, env, this.now, 'lost');
        return;
      case Outcome.Deliver: {
        const at = net.at;
        this.traceMessage('send', from, env, at, undefined);
        this.queue.pushDelivery(at, to, env, from);
        const dupAt = net.dupAt;
        if (dupAt === dupAt) {
          this.stats.duplicates++;
          const copy = new Envelope(env.to, env.toNode, env.from, env.kind, env.corr, env.msg);
          this.traceMessage('duplicate', from, copy, dupAt, undefined);
          this.queue.pushDelivery(dupAt, to, copy, from);
        }
      }
    }
  }

  /** A message reached a crashed node: lost, reported as a dead letter (as in workers mode). */
  private reportDead(env: Envelope, detail: string): void {
    if (env.kind === Kind.Reply) return;
    this.stats.deadLetters++;
    const rec = this.records.get(refKey(env.toNode, env.to));
    if (this.events.listenerCount('dead-letter') > 0) {
      this.events.emit('dead-letter', { to: rec?.ref ?? { node: env.toNode, id: env.to }, from: env.from, messageType: messageType(env.msg), reason: 'unreachable', detail });
    }
  }

  // ------------------------------------------------------------------ faults

  private applyFault(f: Fault, index: number): void {
    this.stats.faults++;
    this.traceEvent('fault', -1, index, traceCode[f.kind as TraceKind] ?? 0, f.kind, () => ({ detail: JSON.stringify(f) }));
    if (this.events.listenerCount('fault') > 0) this.events.emit('fault', { fault: f, timeMs: this.now });
    const where = index >= 0 ? `plan.faults[${index}]` : 'fault';
    const endAfter = (id: number, durationMs: number | undefined) => {
      if (durationMs === undefined) return;
      this.callAt(this.now + durationMs, () => {
        if (this.network.end(id)) this.traceEvent('heal', -1, id, 0, undefined, () => ({ detail: `${f.kind} ended after ${durationMs} ms` }));
      });
    };
    switch (f.kind) {
      case 'partition': {
        const id = ++this.faultIds;
        this.network.add({ id, kind: 'groups', groups: f.groups.map((g, i) => g.map((n, j) => this.resolveNode(n, `${where}.groups[${i}][${j}]`))) });
        endAfter(id, f.durationMs);
        break;
      }
      case 'isolate': {
        const id = ++this.faultIds;
        this.network.add({ id, kind: 'isolate', node: this.resolveNode(f.node, `${where}.node`) });
        endAfter(id, f.durationMs);
        break;
      }
      case 'cut': {
        const id = ++this.faultIds;
        this.network.add({ id, kind: 'cut', from: this.resolveNode(f.from, `${where}.from`), to: this.resolveNode(f.to, `${where}.to`) });
        endAfter(id, f.durationMs);
        break;
      }
      case 'degrade': {
        const id = ++this.faultIds;
        const { kind: _k, from, to, durationMs, ...rates } = f as Extract<Fault, { kind: 'degrade' }> & { atMs?: number };
        delete (rates as { atMs?: number }).atMs;
        this.network.add({
          id, kind: 'degrade', rates,
          from: from === undefined || from === '*' ? '*' : this.resolveNode(from, `${where}.from`),
          to: to === undefined || to === '*' ? '*' : this.resolveNode(to, `${where}.to`),
        });
        endAfter(id, durationMs);
        break;
      }
      case 'heal': {
        const n = this.network.heal();
        this.traceEvent('heal', -1, n, 0, undefined, () => ({ detail: `${n} network fault(s) ended` }));
        break;
      }
      case 'crash-node': {
        const n = this.resolveNode(f.node, `${where}.node`);
        if (n === DRIVER) throw new PlanError(`${where}: node 0 is the driver (the outside world); it cannot crash`);
        this.crashNode(this.nodes[n]!, f.downMs ?? 0, index >= 0 ? `crash-node (plan.faults[${index}])` : 'crash-node');
        break;
      }
      case 'crash-actor': {
        const rec = this.names.get(f.actor);
        if (!rec) throw new PlanError(`${where}: no actor named "${f.actor}" in this simulation`);
        const node = this.nodes[rec.ref.node]!;
        if (node.up && !node.paused) node.host!.crashActor(rec.ref.id, `injected crash${index >= 0 ? ` (plan.faults[${index}])` : ''}`);
        break;
      }
      case 'pause': {
        const n = this.resolveNode(f.node, `${where}.node`);
        if (n === DRIVER) throw new PlanError(`${where}: node 0 is the driver (the outside world); it cannot pause`);
        this.pauseNode(this.nodes[n]!, f.durationMs);
        break;
      }
    }
  }

  private tryResolveNode(sel: NodeSelector): number | undefined {
    if (typeof sel === 'number') return sel < this.nodes.length ? sel : undefined;
    return this.names.get(sel)?.ref.node;
  }

  private resolveNode(sel: NodeSelector, where: string): number {
    const n = this.tryResolveNode(sel);
    if (n === undefined) {
      throw new PlanError(typeof sel === 'number'
        ? `${where}: node ${sel} does not exist (this simulation has nodes 0..${this.nodes.length - 1}; 0 is the driver)`
        : `${where}: no actor named "${sel}" in this simulation`);
    }
    return n;
  }

  // ------------------------------------------------------------------ supervision bridge

  private async startActor(spec: ActorChildSpec, incarnation: number, ref: ActorRef<any> | undefined, owner: Supervisor): Promise<ActorRef<any>> {
    const { actor: def, restart: _restart, ...options } = spec;
    void _restart;
    if (ref === undefined) {
      checkSpawn(def, options);
      if (this.names.has(options.name)) throw new DuplicateNameError(`spawn: an actor named "${options.name}" is already running; names must be unique`);
      const node = this.nodes[this.place(options.worker)]!;
      const host = node.up ? node.host! : this.bringUp(node);
      const newRef = host.spawn(def, options, null, undefined, 0);
      this.register(newRef, null, owner, spec, 0);
      return newRef;
    }
    // A restart: same node, same id, so every ref to it stays valid. A crashed node with
    // `downMs` comes back only after that.
    const node = this.nodes[ref.node]!;
    if (node.downUntil > this.now) await this.sleep(node.downUntil - this.now);
    const host = node.up ? node.host! : this.bringUp(node);
    host.replace(ref.id, def, options, incarnation);
    const rec = this.records.get(refKey(ref.node, ref.id));
    if (rec) rec.incarnation = incarnation;
    else this.register(ref, null, owner, spec, incarnation);
    return ref;
  }

  private stopNow(ref: ActorRef<any>): void {
    const node = this.nodes[ref.node];
    if (node?.up) node.host!.stop(ref.id);
    this.unregister(ref);
  }

  private register(ref: ActorRef<any>, parent: ActorRef<any> | null, supervisor: Supervisor | null, spec: ActorChildSpec | null, incarnation: number): void {
    const key = refKey(ref.node, ref.id);
    if (this.records.has(key)) return;
    const rec: ActorRecord = { ref, parent, supervisor, spec, incarnation, order: this.order++, cell: this.newCells.get(ref.name) };
    this.newCells.delete(ref.name);
    this.records.set(key, rec);
    this.names.set(ref.name, rec);
    if (this.network.rulesUseNames) this.network.invalidate();
    this.events.emit('actor:started', { ref, parent });
  }

  private unregister(ref: ActorRef<any>): void {
    const key = refKey(ref.node, ref.id);
    const rec = this.records.get(key);
    if (!rec) return;
    this.records.delete(key);
    if (this.names.get(ref.name) === rec) this.names.delete(ref.name);
    rec.cell = undefined;
    this.events.emit('actor:stopped', { ref });
  }

  // ------------------------------------------------------------------ host events

  private onStarted(node: SimNode, ref: ActorRef<any>, parent: ActorRef<any> | null, restart: boolean): void {
    const cell = node.host?.actors().find((c) => c.self.id === ref.id);
    const rec = this.records.get(refKey(ref.node, ref.id));
    if (rec) rec.cell = cell;
    else if (cell) this.newCells.set(ref.name, cell);
    if (parent !== null) this.register(ref, parent, null, null, 0);
    this.traceEvent('start', ref.node, ref.id, restart ? 1 : 0, undefined, () => ({ to: this.describe(ref.node, ref.id, ref.name), detail: restart ? 'restart' : undefined }));
  }

  private onStopped(ref: ActorRef<any>, incarnation: number): void {
    this.traceEvent('stop', ref.node, ref.id, incarnation, undefined, () => ({ to: this.describe(ref.node, ref.id) }));
    const rec = this.records.get(refKey(ref.node, ref.id));
    const kept = rec?.supervisor ? rec.supervisor.childEnded(rec.ref, incarnation, false) : false;
    if (!kept) this.unregister(ref);
    this.asyncPending = true;
  }

  private onCrashed(ref: ActorRef<any>, error: ErrorInfo, during: 'init' | 'receive' | 'stop', mt: string | undefined, incarnation: number): void {
    this.stats.crashes++;
    this.traceEvent('crash', ref.node, ref.id, incarnation, mt, () => ({ to: this.describe(ref.node, ref.id), detail: `${during}: ${error.message}` }));
    const rec = this.records.get(refKey(ref.node, ref.id));
    this.events.emit('actor:crashed', { ref: rec?.ref ?? ref, error, during, messageType: mt });
    if (rec?.supervisor && during !== 'stop') {
      if (!rec.supervisor.childEnded(rec.ref, incarnation, true)) this.unregister(rec.ref);
    }
    this.asyncPending = true;
  }

  private onDeadLetter(letter: DeadLetter): void {
    this.stats.deadLetters++;
    this.traceEvent('dead-letter', letter.to.node, letter.to.id, 0, letter.messageType, () => ({
      to: this.describe(letter.to.node, letter.to.id), message: letter.messageType, detail: letter.reason + (letter.detail ? `: ${letter.detail}` : ''),
    }));
    if (this.events.listenerCount('dead-letter') > 0) this.events.emit('dead-letter', letter);
  }

  // ------------------------------------------------------------------ trace

  /** Folds a message event into the fingerprint (and the readable trace, when kept). */
  /**
   * A delivery, the most frequent event: its message was folded in at its send, so the
   * delivery adds only where and when (which fixes the order deliveries ran in).
   */
  private traceDelivery(fromNode: number, env: Envelope): void {
    const fp = this.fp;
    fp.int((DELIVER_CODE << 26) ^ (fromNode << 12) ^ env.toNode);
    fp.time(this.now);
    if (this.log !== null) this.logMessage('deliver', fromNode, env, this.now, undefined);
  }

  private traceMessage(kind: TraceKind, fromNode: number, env: Envelope, at: number, detail: string | undefined): void {
    const fp = this.fp;
    // Packed into three words: nodes and ids are small, and a fingerprint only needs to differ.
    fp.int((traceCode[kind] << 26) ^ (env.kind << 24) ^ (fromNode << 12) ^ env.toNode);
    fp.int(((env.from === null ? 0xfff : env.from.id) << 16) ^ env.to);
    fp.time(at);
    const msg = env.msg;
    fp.str(typeof msg === 'object' && msg !== null && typeof (msg as { type?: unknown }).type === 'string' ? (msg as { type: string }).type : typeof msg);
    if (this.log !== null) this.logMessage(kind, fromNode, env, at, detail);
  }

  private logMessage(kind: TraceKind, fromNode: number, env: Envelope, at: number, detail: string | undefined): void {
    this.log!.push({
      step: this.stats.steps, timeMs: this.now, kind,
      from: env.from === null ? `outside(${fromNode})` : this.describe(env.from.node, env.from.id, env.from.name),
      to: this.describe(env.toNode, env.to),
      message: `${messageType(env.msg)}${env.kind === Kind.Send ? '' : ` [${kindNames[env.kind]}]`}`,
      detail: kind === 'send' || kind === 'duplicate' ? `arrives at ${at.toFixed(3)}` : detail,
    });
  }

  /** Folds any other event in: its kind, node, two numbers, the time, and a label. */
  private traceEvent(kind: TraceKind, node: number, a: number, b: number, label: string | undefined, describe: (() => Partial<TraceRecord>) | undefined): void {
    const fp = this.fp;
    fp.int(traceCode[kind]);
    fp.int(node);
    fp.int(a);
    fp.int(b);
    fp.time(this.now);
    if (label !== undefined) fp.str(label);
    if (this.log !== null) {
      const rec: TraceRecord = { step: this.stats.steps, timeMs: this.now, kind, ...(describe ? describe() : {}) };
      if (node >= 0 && rec.to === undefined) rec.node = node;
      this.log.push(rec);
    }
  }

  private describe(node: number, id: number, name?: string): string {
    const n = name ?? this.records.get(refKey(node, id))?.ref.name ?? (id === 0 ? 'outside' : '?');
    return `${n}(${node}.${id})`;
  }

  // ------------------------------------------------------------------ the view

  private makeView(): SimView {
    const sim = this;
    return createView({
      get now() { return sim.now; },
      get steps() { return sim.stats.steps; },
      records: this.records,
      names: this.names,
      nodes: this.nodes,
      queue: this.queue,
    });
  }
}

