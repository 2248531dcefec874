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
 *
 * This module is the public face; its parts, each in a module of its own: the shared state
 * (`world.ts`), the event loop (`event-loop.ts`), the nodes (`cluster.ts`), the network path of
 * a message (`message-path.ts`), fault injection (`faults.ts`), the fingerprint and trace
 * (`tracer.ts`), the supervision bridge (`sim-supervision.ts`) and the view (`view.ts`); the
 * directory, supervised starts, host events and death watch are the runtime skeleton it shares
 * with `ActorSystem` (`../actor-lifecycle.ts`).
 */
import type { EventEmitter } from 'eventemitter3';
import { ActorLifecycle } from '../actor-lifecycle.js';
import type { ActorCell } from '../cell.js';
import type { ActorDefinition, AskOptions } from '../context.js';
import { Envelope, Kind } from '../envelope.js';
import { InvalidOptionError, messageType } from '../errors.js';
import { defaultLimits, type HostEvents, type HostLimits } from '../host.js';
import { consoleSink } from '../logger.js';
import { Prng, deriveSeed } from '../random.js';
import { describeRef, refKey, type ActorRef } from '../ref.js';
import type { MayAnswer, ReplyTo } from '../replies.js';
import { checkSignal, checkTarget } from '../spawn-checks.js';
import { storageDefaults } from '../stores/defaults.js';
import { Supervisor, checkSupervision, type SupervisorSpec } from '../supervisor.js';
import { defaultHeartbeat } from '../worker-node.js';
import { Cluster, DRIVER } from './cluster.js';
import { Sampler } from './distribution.js';
import { SimulationError } from './errors.js';
import { EventLoop } from './event-loop.js';
import { EventType } from './event-queue.js';
import { Faults } from './faults.js';
import { MessagePath } from './message-path.js';
import { Network, defaultNetwork } from './network.js';
import type { SimNode } from './node.js';
import {
  defaultDisk,
  validateOptions,
  type RunOptions,
  type RunResult,
  type SimEvents,
  type SimFailure,
  type SimSpawnOptions,
  type SimStats,
  type SimulationOptions,
} from './options.js';
import { checkFault, checkPlan, type Fault, type FaultPlan } from './plan.js';
import { simSupervisionRuntime } from './sim-supervision.js';
import type { TraceRecord } from './trace.js';
import { Tracer } from './tracer.js';
import { createView, type DeepReadonly, type Invariant, type SimView } from './view.js';
import { SimWorld } from './world.js';

export type { RunOptions, RunResult, SimEvents, SimFailure, SimSpawnOptions, SimStats, SimulationOptions } from './options.js';
export { defaultDisk } from './options.js';

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
  /** The read-only view invariants get. */
  readonly view: SimView;

  private readonly world = new SimWorld();
  private readonly tracer: Tracer;
  private readonly network: Network;
  private readonly cluster: Cluster;
  private readonly path: MessagePath;
  private readonly faults: Faults;
  private readonly loop: EventLoop;
  private readonly lifecycle: ActorLifecycle;
  /** The cell of each actor's current incarnation, by ref key (for the view). */
  private readonly cells = new Map<number, ActorCell>();

  constructor(options: SimulationOptions) {
    validateOptions(options);
    this.seed = options.seed >>> 0;
    this.plan = options.plan ?? {};
    checkPlan(this.plan);
    const limits: HostLimits = { ...defaultLimits };
    for (const k of Object.keys(defaultLimits) as (keyof HostLimits)[]) {
      if (options[k] !== undefined) (limits as any)[k] = options[k];
    }
    const world = this.world;
    const snapshotLimits = {
      maxChunkBytes: options.maxSnapshotChunkBytes ?? storageDefaults.maxSnapshotChunkBytes,
      sharedSnapshotBytes: options.sharedSnapshotBytes ?? storageDefaults.sharedSnapshotBytes,
    };
    // Independent streams: a change in how often one part draws does not shift the others.
    const netRng = new Prng(deriveSeed(this.seed, '$network'));
    const diskRng = new Prng(deriveSeed(this.seed, '$disk'));
    const supRng = new Prng(deriveSeed(this.seed, '$supervision'));
    const disk = { ...defaultDisk, ...this.plan.disk };
    const lookup = (node: number, id: number) => this.lifecycle.directory.get({ node, id })?.ref;
    this.tracer = new Tracer(world, options.trace ?? false, lookup);
    this.network = new Network(netRng, { ...defaultNetwork, ...this.plan.network }, this.plan.links ?? [], (sel) => this.faults.tryResolveNode(sel));
    this.path = new MessagePath(world, this.network, this.tracer, lookup);
    this.cluster = new Cluster(
      world,
      {
        seed: this.seed,
        limits,
        maxNodes: options.maxNodes ?? 1024,
        logLevel: options.logLevel ?? 'warn',
        logSink: options.logSink ?? consoleSink,
        snapshotLimits,
        syncDelay: new Sampler(disk.syncDelay),
        diskRng,
      },
      this.network,
      this.tracer,
      (node) => this.hostEvents(node),
      this.path.transmit,
      (n, i) => lookup(n, i) ?? { name: `#${n}.${i}`, node: n, id: i },
    );
    this.lifecycle = this.makeLifecycle();
    this.faults = new Faults(
      world,
      this.network,
      this.tracer,
      this.lifecycle,
      this.path,
      disk,
      diskRng,
      options.heartbeatTimeoutMs ?? defaultHeartbeat.timeoutMs,
    );
    this.view = createView({
      get now() {
        return world.now;
      },
      get steps() {
        return world.stats.steps;
      },
      records: this.lifecycle.directory.records,
      names: this.lifecycle.directory.names,
      cellOf: (rec) => this.cells.get(refKey(rec.ref.node, rec.ref.id)),
      nodes: world.nodes,
      queue: world.queue,
    });
    this.loop = new EventLoop(world, this.tracer, this.network, this.path, this.cluster, this.view, options.maxStepsPerRun ?? 100_000_000);
    this.root = new Supervisor({ name: '$root', ...options.supervision }, null, this.supervisionRuntime(supRng));
    this.cluster.bringUp(this.cluster.addNode()); // node 0: the driver
    (this.plan.faults ?? []).forEach((f, i) => {
      world.queue.push(f.atMs, EventType.Call, -1, 0, null, () => this.faults.apply(f, i), i);
    });
  }

  /** Lifecycle, dead-letter and fault events. */
  get events(): EventEmitter<SimEvents> {
    return this.world.events;
  }

  /** Counters. */
  get stats(): SimStats {
    return this.world.stats;
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
    const rec = this.lifecycle.directory.get(ref);
    if (rec?.supervisor && (await rec.supervisor.stopChild(rec.ref))) return;
    await this.lifecycle.stopNow(ref);
  }

  /** The ref of a known actor, by name. */
  lookup<M = unknown>(name: string): ActorRef<M> | undefined {
    return this.lifecycle.directory.byNameOf(name)?.ref;
  }

  /** The node an actor lives on. */
  nodeOf(name: string): number | undefined {
    return this.lifecycle.directory.byNameOf(name)?.ref.node;
  }

  /** The live state of a running actor (read it, do not change it). */
  state<S = unknown>(name: string): DeepReadonly<S> | undefined {
    return this.view.state<S>(name);
  }

  /** Nodes so far, driver (0) included. */
  get nodeCount(): number {
    return this.world.nodes.length;
  }

  /** Virtual time, ms. */
  get nowMs(): number {
    return this.world.now;
  }

  /** The fingerprint of everything that happened so far (16 hex digits). */
  get fingerprint(): string {
    return this.tracer.fp.hex();
  }

  /** Readable trace records (only with the `trace` option; the newest when bounded). */
  get trace(): readonly TraceRecord[] {
    return this.tracer.log?.records ?? [];
  }

  /** The failure that stopped the simulation, if any. */
  get failed(): SimFailure | null {
    return this.world.failure;
  }

  // ------------------------------------------------------------------ outside world

  /** Sends from outside (node 0, the driver). Subject to the network like any message. */
  send<M>(to: ActorRef<M>, message: M): void {
    checkTarget(to, 'send');
    this.cluster.driver.sendFromOutside(to, message);
  }

  /**
   * Asks from outside. The promise settles while the simulation runs (virtual time): the reply
   * (typed by what the message declares, as `system.ask`), `AskTimeoutError` after `timeoutMs` of
   * virtual time, or `AbortedError` when `signal` fires.
   */
  ask<M, const X extends M>(to: ActorRef<M>, message: X, options?: AskOptions): Promise<ReplyTo<M, X>>;
  /** The same, with the reply type given: refused by the compiler when the target declares other replies. */
  ask<R = never>(to: ActorRef<MayAnswer<NoInfer<R>>>, message: unknown, options?: AskOptions): Promise<R>;
  ask(to: ActorRef<any>, message: unknown, options: AskOptions = {}): Promise<unknown> {
    try {
      checkTarget(to, 'ask');
      checkSignal(options.signal, 'ask');
    } catch (e) {
      return Promise.reject(e);
    }
    return this.cluster.driver.askFrom(null, to, message, options);
  }

  /**
   * Asks from outside and runs the simulation until the answer (or the ask's timeout) comes:
   * the convenient form for test drivers. `maxSteps` bounds the run (default `maxStepsPerRun`).
   */
  call<M, const X extends M>(to: ActorRef<M>, message: X, options?: AskOptions & { maxSteps?: number }): Promise<ReplyTo<M, X>>;
  /** The same, with the reply type given: refused by the compiler when the target declares other replies. */
  call<R = never>(to: ActorRef<MayAnswer<NoInfer<R>>>, message: unknown, options?: AskOptions & { maxSteps?: number }): Promise<R>;
  async call(to: ActorRef<any>, message: unknown, options: AskOptions & { maxSteps?: number } = {}): Promise<unknown> {
    let settled = false;
    const p = this.ask(to, message, options);
    p.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    const r = await this.run(options.maxSteps !== undefined ? { until: () => settled, maxSteps: options.maxSteps } : { until: () => settled });
    if (!settled) {
      const why = r.failure
        ? `: ${r.failure.kind === 'invariant' ? `invariant "${r.failure.name}" failed` : 'the root supervisor gave up'}: ${r.failure.message}`
        : '';
      throw new SimulationError(
        `call to ${describeRef(to)} with "${messageType(message)}" did not settle: the run ended (${r.reason}) at ${r.nowMs.toFixed(3)} ms${why}`,
      );
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
    this.loop.invariants.push({ name, check });
    return this;
  }

  /** Applies a fault now (the same JSON as a plan's faults, without `atMs`). */
  fault(f: Fault): void {
    checkFault(f);
    this.faults.apply(f, -1);
  }

  /**
   * Runs events in virtual-time order until a bound is reached, an invariant fails, or nothing is
   * left to do. Asynchronous because supervisors and ask continuations are promises: they run
   * between events, at the virtual time they belong to.
   */
  run(options: RunOptions): Promise<RunResult> {
    return this.loop.run(options);
  }

  // ------------------------------------------------------------------ wiring

  /** The runtime skeleton shared with ActorSystem, over simulated nodes. */
  private makeLifecycle(): ActorLifecycle {
    const world = this.world;
    const cluster = this.cluster;
    return new ActorLifecycle(
      {
        start: async (def, options) => cluster.hostOf(cluster.place(options.worker)).spawn(def, options, null, undefined, 0),
        restart: async (ref, def, options, incarnation) => {
          // Same node, same id, so every ref to it stays valid. A crashed node with `downMs` comes
          // back only after that.
          const node = world.nodes[ref.node]!;
          if (node.downUntil > world.now) await world.sleep(node.downUntil - world.now);
          cluster.hostOf(node).replace(ref.id, def, options, incarnation);
        },
        terminate: async (ref) => {
          const n = world.nodes[ref.node];
          if (n?.up) n.host!.terminate(ref.id);
        },
        stop: async (ref) => {
          const n = world.nodes[ref.node];
          if (n?.up) n.host!.stop(ref.id);
        },
        notify: (to, notice) => this.path.notify(DRIVER, new Envelope(to.id, to.node, null, Kind.Send, 0, notice)),
      },
      {
        started: (rec) => {
          if (this.network.rulesUseNames) this.network.invalidate();
          world.events.emit('actor:started', { ref: rec.ref, parent: rec.parent });
        },
        ended: (rec) => {
          this.cells.delete(refKey(rec.ref.node, rec.ref.id));
          world.events.emit('actor:stopped', { ref: rec.ref });
        },
        crashed: (ref, error, during, mt) => world.events.emit('actor:crashed', { ref, error, during: during === 'worker' ? 'node' : during, messageType: mt }),
        deadLetter: (letter) => {
          world.stats.deadLetters++;
          this.tracer.event('dead-letter', letter.to.node, letter.to.id, 0, letter.messageType, () => ({
            to: this.tracer.describe(letter.to.node, letter.to.id),
            message: letter.messageType,
            detail: letter.reason + (letter.detail ? `: ${letter.detail}` : ''),
          }));
          if (world.events.listenerCount('dead-letter') > 0) world.events.emit('dead-letter', letter);
        },
        warn: (message) => this.tracer.event('refused', -1, 0, 0, undefined, () => ({ detail: message })),
      },
    );
  }

  /** The events of one node's host: traced, then handled by the shared lifecycle. */
  private hostEvents(node: SimNode): HostEvents {
    const world = this.world;
    const tracer = this.tracer;
    const shared = this.lifecycle.hostEvents;
    return {
      started: (ref, parent, restart) => {
        const cell = node.host?.actors().find((c) => c.self.id === ref.id);
        if (cell !== undefined) this.cells.set(refKey(ref.node, ref.id), cell);
        shared.started(ref, parent, restart);
        tracer.event('start', ref.node, ref.id, restart ? 1 : 0, undefined, () => ({
          to: tracer.describe(ref.node, ref.id, ref.name),
          detail: restart ? 'restart' : undefined,
        }));
      },
      stopped: (ref, incarnation) => {
        tracer.event('stop', ref.node, ref.id, incarnation, undefined, () => ({ to: tracer.describe(ref.node, ref.id) }));
        shared.stopped(ref, incarnation);
        world.asyncPending = true;
      },
      crashed: (ref, error, during, mt, incarnation) => {
        world.stats.crashes++;
        tracer.event('crash', ref.node, ref.id, incarnation, mt, () => ({ to: tracer.describe(ref.node, ref.id), detail: `${during}: ${error.message}` }));
        shared.crashed(ref, error, during, mt, incarnation);
        world.asyncPending = true;
      },
      deadLetter: shared.deadLetter,
      watch: shared.watch,
    };
  }

  /** The bridge between supervisors and the simulated nodes. */
  private supervisionRuntime(rng: Prng) {
    const world = this.world;
    const tracer = this.tracer;
    const lifecycle = this.lifecycle;
    return simSupervisionRuntime(
      {
        get now() {
          return world.now;
        },
        startActor: (spec, incarnation, ref, owner) => lifecycle.startActor(spec, incarnation, ref, owner),
        terminateActor: (ref) => lifecycle.terminate(ref),
        stopActor: (ref) => lifecycle.stopNow(ref),
        forget: (ref) => lifecycle.forgotten(ref),
        sleep: (ms) => world.sleep(ms),
        restarted: (ref, attempt, delayMs) => {
          world.stats.restarts++;
          tracer.event('restart', ref.node, ref.id, attempt, undefined, () => ({
            to: tracer.describe(ref.node, ref.id),
            detail: `attempt ${attempt} after ${delayMs} ms`,
          }));
          world.events.emit('actor:restarted', { ref, attempt, delayMs });
        },
        restartFailed: (ref, error) => {
          world.stats.crashes++;
          tracer.event('crash', ref.node, ref.id, 0, undefined, () => ({ to: tracer.describe(ref.node, ref.id), detail: `init: ${error.message}` }));
          world.events.emit('actor:crashed', { ref, error, during: 'init', messageType: undefined });
        },
        escalated: (supervisor, reason) => {
          tracer.event('escalated', -1, 0, 0, undefined, () => ({ detail: `supervisor "${supervisor}": ${reason}` }));
          world.events.emit('supervisor:escalated', { supervisor, reason });
        },
        rootFailed: (reason) => {
          tracer.event('failed', -1, 0, 0, undefined, () => ({ detail: reason }));
          world.failure ??= { kind: 'system-failed', message: reason, step: world.stats.steps, timeMs: world.now };
          world.events.emit('system:failed', { reason });
        },
      },
      rng,
    );
  }
}
