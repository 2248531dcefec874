/**
 * The event loop of a simulation: events in virtual-time order, each a step (a delivery, a timer,
 * a host task, a disk sync, a simulator callback), the promise continuations they release run
 * between steps, and the invariants checked after every step.
 */
import { SimulationError } from './errors.js';
import { EventType, SimEvent } from './event-queue.js';
import type { Cluster } from './cluster.js';
import type { MessagePath } from './message-path.js';
import type { Network } from './network.js';
import { checkRun, type RunOptions, type RunResult } from './options.js';
import type { Tracer } from './tracer.js';
import type { Invariant, SimView } from './view.js';
import type { SimWorld } from './world.js';

export class EventLoop {
  private running = false;
  readonly invariants: { name: string; check: Invariant }[] = [];

  constructor(
    private readonly world: SimWorld,
    private readonly tracer: Tracer,
    private readonly network: Network,
    private readonly path: MessagePath,
    private readonly cluster: Cluster,
    private readonly view: SimView,
    private readonly maxStepsPerRun: number,
  ) {}

  /**
   * Runs events in virtual-time order until a bound is reached, an invariant fails, or nothing is
   * left to do. Asynchronous because supervisors and ask continuations are promises: they run
   * between events, at the virtual time they belong to.
   */
  async run(options: RunOptions): Promise<RunResult> {
    if (this.running) throw new SimulationError('run: this simulation is already running; await the first run before starting another');
    checkRun(options);
    this.running = true;
    const world = this.world;
    try {
      const stepLimit = world.stats.steps + (options.maxSteps ?? this.maxStepsPerRun);
      const timeLimit = options.untilMs ?? (options.forMs !== undefined ? world.now + options.forMs : Number.POSITIVE_INFINITY);
      const until = options.until;
      world.runReady();
      if (world.asyncPending) await this.settle();
      if (world.failure) return this.failedResult();
      if (until && until(this.view)) return this.result('until');
      const queue = world.queue;
      const invariants = this.invariants;
      for (;;) {
        if (world.stats.steps >= stepLimit) return this.result('steps');
        const ev = queue.peek();
        if (ev === undefined) {
          if (timeLimit !== Number.POSITIVE_INFINITY && timeLimit > world.now) world.advance(timeLimit);
          return this.result('idle');
        }
        if (ev.time > timeLimit) {
          if (timeLimit > world.now) world.advance(timeLimit);
          return this.result('time');
        }
        queue.pop();
        if (ev.time > world.now) world.advance(ev.time);
        if (!this.dispatch(ev)) continue;
        if (ev.type === EventType.Deliver) queue.release(ev);
        world.runReady();
        if (world.asyncPending) await this.settle();
        world.stats.steps++;
        if (invariants.length > 0) this.checkInvariants();
        if (world.failure) return this.failedResult();
        if (until !== undefined && until(this.view)) return this.result('until');
      }
    } finally {
      this.running = false;
    }
  }

  private failedResult(): RunResult {
    return this.result(this.world.failure!.kind === 'invariant' ? 'violation' : 'failed');
  }

  private result(reason: RunResult['reason']): RunResult {
    const world = this.world;
    const r: RunResult = { reason, steps: world.stats.steps, nowMs: world.now, fingerprint: this.tracer.fp.hex() };
    if (world.failure) r.failure = world.failure;
    return r;
  }

  /**
   * Lets promise continuations (supervisors, asks) run, then the tasks they queued, until none
   * are left. A macrotask turn runs every queued microtask, however deep the chain; nothing
   * else touches the simulation meanwhile, so this stays deterministic.
   */
  private async settle(): Promise<void> {
    const world = this.world;
    while (world.asyncPending) {
      world.asyncPending = false;
      await new Promise<void>((resolve) => setImmediate(resolve));
      world.runReady();
    }
  }

  private checkInvariants(): void {
    const world = this.world;
    for (const inv of this.invariants) {
      let verdict: void | boolean | string;
      try {
        verdict = inv.check(this.view);
      } catch (e) {
        verdict = e instanceof Error ? e.message : String(e);
      }
      if (verdict === false || typeof verdict === 'string') {
        const message = typeof verdict === 'string' ? verdict : `invariant "${inv.name}" does not hold`;
        world.failure = { kind: 'invariant', name: inv.name, message, step: world.stats.steps, timeMs: world.now };
        this.tracer.event('violation', -1, 0, 0, undefined, () => ({ detail: `${inv.name}: ${message}` }));
        return;
      }
    }
  }

  /** Runs one event; false when it was stale (a crashed host's timer) or deferred by a pause. */
  private dispatch(ev: SimEvent): boolean {
    const world = this.world;
    switch (ev.type) {
      case EventType.Deliver: {
        const node = world.nodes[ev.node]!;
        if (node.paused) {
          node.deferred.push(ev);
          return false;
        }
        const env = ev.env!;
        if (!node.up) {
          world.stats.lost++;
          this.tracer.message('lost', ev.arg, env, world.now, 'node down');
          this.path.reportDead(env, `node ${ev.node} is down`);
          return true;
        }
        if (this.network.isBlocked(ev.arg, ev.node)) {
          world.stats.drops++;
          this.tracer.message('drop', ev.arg, env, world.now, 'partitioned in flight');
          return true;
        }
        world.stats.deliveries++;
        this.tracer.delivery(ev.arg, env);
        node.host!.deliver(env);
        return true;
      }
      case EventType.Timer:
      case EventType.Task: {
        const node = world.nodes[ev.node]!;
        if (node.epoch !== ev.epoch || !node.up) return false;
        if (node.paused) {
          node.deferred.push(ev);
          return false;
        }
        if (ev.type === EventType.Timer) {
          world.stats.timers++;
          this.tracer.event('timer', ev.node, 0, 0, undefined, undefined);
        }
        ev.fn!();
        return true;
      }
      case EventType.Sync: {
        const node = world.nodes[ev.node]!;
        if (ev.arg !== node.disk.generation) return false;
        if (node.paused) {
          node.deferred.push(ev);
          return false;
        }
        const durable = node.disk.completeSync();
        world.stats.syncs++;
        this.tracer.event('sync', ev.node, durable, 0, undefined, () => ({ detail: `durable up to write ${durable}` }));
        node.disk.store?.onDurable?.(durable);
        if (node.disk.unsynced > 0) this.cluster.requestSync(node);
        return true;
      }
      case EventType.Call:
        ev.fn!();
        return true;
    }
  }
}
