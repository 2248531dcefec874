/**
 * Supervision with Erlang/OTP semantics: strategies (one-for-one, one-for-all, rest-for-one),
 * restart types (permanent, transient, temporary), restart intensity (at most `maxRestarts` in
 * `windowMs`, then give up and escalate to the parent) and exponential backoff with jitter.
 *
 * Supervisors live on the main thread (or in the simulator) and act through a
 * {@link SupervisionRuntime}, so the same logic drives workers, embedded actors and simulated ones.
 */
import type { ActorDefinition, SpawnOptions } from './define.js';
import { InvalidOptionError, toError } from './errors.js';
import { refKey, type ActorRef } from './ref.js';

export type Strategy = 'one-for-one' | 'one-for-all' | 'rest-for-one';
/** permanent: always restarted; transient: only after a crash; temporary: never. */
export type RestartType = 'permanent' | 'transient' | 'temporary';

export interface BackoffOptions {
  /** Delay before the first restart of a child. Default 5. */
  initialMs: number;
  /** Upper bound of the delay. Default 2000. */
  maxMs: number;
  /** Growth per further restart of the same child within the window. Default 2. */
  factor: number;
  /** Relative random spread, 0..1: 0.2 gives delays within ±20%. Default 0.2. */
  jitter: number;
}

export interface SupervisionOptions {
  strategy?: Strategy;
  /** Restart intensity: more restarts than this within `windowMs` make the supervisor give up. Default 20. */
  maxRestarts?: number;
  /** Default 10000. */
  windowMs?: number;
  backoff?: Partial<BackoffOptions>;
}

/** An actor as a child of a supervisor. */
export interface ActorChildSpec<A = any> extends SpawnOptions<A> {
  actor: ActorDefinition<any, any, A, any>;
  /** Default `permanent`. */
  restart?: RestartType;
}

/** A supervisor as a child of another (a subtree). */
export interface SupervisorSpec extends SupervisionOptions {
  name: string;
  children?: ChildSpec[];
  /** As a child of its parent. Default `permanent`. */
  restart?: RestartType;
}

export type ChildSpec = ActorChildSpec | SupervisorSpec;

export const defaultSupervision: Required<Omit<SupervisionOptions, 'backoff'>> & { backoff: BackoffOptions } = {
  strategy: 'one-for-one',
  maxRestarts: 20,
  windowMs: 10_000,
  backoff: { initialMs: 5, maxMs: 2_000, factor: 2, jitter: 0.2 },
};

/** What supervisors need from the system they run in. */
export interface SupervisionRuntime {
  /** Starts an actor; with `ref`, restarts it under that ref. Rejects if its init throws. */
  startActor(spec: ActorChildSpec, incarnation: number, ref: ActorRef<any> | undefined, owner: Supervisor): Promise<ActorRef<any>>;
  /** Ends an actor without announcing a stop (it is about to be restarted, or its supervisor gave up). */
  terminateActor(ref: ActorRef<any>): Promise<void>;
  /** Stops an actor normally (shutdown, or an explicit stop). */
  stopActor(ref: ActorRef<any>): Promise<void>;
  /** An actor that was terminated will not come back (its supervisor gave it up). */
  forgotten(ref: ActorRef<any>): void;
  now(): number;
  random(): number;
  delay(ms: number): Promise<void>;
  restarted(ref: ActorRef<any>, attempt: number, delayMs: number): void;
  /** A restart failed: the actor's `init` threw (reported as a crash during init). */
  restartFailed(ref: ActorRef<any>, error: Error): void;
  escalated(supervisor: string, reason: string): void;
  /** The root gave up: the system fails. */
  rootFailed(reason: string): void;
}

interface ActorChild {
  kind: 'actor';
  spec: ActorChildSpec;
  ref: ActorRef<any>;
  incarnation: number;
  up: boolean;
  restartTimes: number[];
}

interface SupervisorChild {
  kind: 'supervisor';
  spec: SupervisorSpec;
  sup: Supervisor;
  up: boolean;
  restartTimes: number[];
}

type Child = ActorChild | SupervisorChild;

export function isSupervisorSpec(spec: ChildSpec): spec is SupervisorSpec {
  return !('actor' in spec);
}

export function checkSupervision(o: SupervisionOptions, where: string): void {
  const strategies: Strategy[] = ['one-for-one', 'one-for-all', 'rest-for-one'];
  if (o.strategy !== undefined && !strategies.includes(o.strategy)) {
    throw new InvalidOptionError(`${where}: strategy must be one of ${strategies.join(', ')}, got ${JSON.stringify(o.strategy)}`);
  }
  const nonNegInt = (v: unknown, k: string) => {
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= 0))
      throw new InvalidOptionError(`${where}: ${k} must be an integer >= 0, got ${String(v)}`);
  };
  nonNegInt(o.maxRestarts, 'maxRestarts');
  nonNegInt(o.windowMs, 'windowMs');
  nonNegInt(o.backoff?.initialMs, 'backoff.initialMs');
  nonNegInt(o.backoff?.maxMs, 'backoff.maxMs');
  if (o.backoff?.factor !== undefined && !(o.backoff.factor >= 1)) throw new InvalidOptionError(`${where}: backoff.factor must be >= 1`);
  if (o.backoff?.jitter !== undefined && !(o.backoff.jitter >= 0 && o.backoff.jitter <= 1))
    throw new InvalidOptionError(`${where}: backoff.jitter must be within 0..1`);
}

function checkRestart(r: unknown, where: string): void {
  if (r !== undefined && r !== 'permanent' && r !== 'transient' && r !== 'temporary') {
    throw new InvalidOptionError(`${where}: restart must be permanent, transient or temporary, got ${JSON.stringify(r)}`);
  }
}

/** A supervisor: starts children in order, restarts them by its strategy, escalates when they keep failing. */
export class Supervisor {
  readonly name: string;
  private readonly strategy: Strategy;
  private readonly maxRestarts: number;
  private readonly windowMs: number;
  private readonly backoff: BackoffOptions;
  private readonly children: Child[] = [];
  private restartTimes: number[] = [];
  private status: 'running' | 'failed' | 'stopped' = 'running';
  /** One operation at a time: restarts, starts and stops never interleave. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly spec: SupervisorSpec,
    readonly parent: Supervisor | null,
    private readonly rt: SupervisionRuntime,
  ) {
    checkSupervision(spec, `supervisor "${spec.name}"`);
    this.name = spec.name;
    this.strategy = spec.strategy ?? defaultSupervision.strategy;
    this.maxRestarts = spec.maxRestarts ?? defaultSupervision.maxRestarts;
    this.windowMs = spec.windowMs ?? defaultSupervision.windowMs;
    this.backoff = { ...defaultSupervision.backoff, ...spec.backoff };
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.chain.then(op, op);
    this.chain = next.catch(() => {});
    return next;
  }

  /** Starts the initial children in order. If one fails, stops those started and rejects. */
  async start(): Promise<void> {
    try {
      for (const spec of this.spec.children ?? []) await this.startChild(spec);
    } catch (e) {
      await this.shutdown();
      throw e;
    }
  }

  /** Adds and starts a child (after the existing ones). */
  startChild(spec: ActorChildSpec): Promise<ActorRef<any>>;
  startChild(spec: SupervisorSpec): Promise<Supervisor>;
  startChild(spec: ChildSpec): Promise<ActorRef<any> | Supervisor>;
  startChild(spec: ChildSpec): Promise<ActorRef<any> | Supervisor> {
    checkRestart(spec.restart, `child "${spec.name}"`);
    return this.serial(async () => {
      if (this.status !== 'running') throw new InvalidOptionError(`supervisor "${this.name}" is ${this.status}; it cannot start "${spec.name}"`);
      if (isSupervisorSpec(spec)) {
        const sup = new Supervisor(spec, this, this.rt);
        await sup.start();
        this.children.push({ kind: 'supervisor', spec, sup, up: true, restartTimes: [] });
        return sup;
      }
      const ref = await this.rt.startActor(spec, 0, undefined, this);
      this.children.push({ kind: 'actor', spec, ref, incarnation: 0, up: true, restartTimes: [] });
      return ref;
    });
  }

  /** Refs of the live actor children, in start order. */
  actors(): ActorRef<any>[] {
    return this.children.filter((c): c is ActorChild => c.kind === 'actor').map((c) => c.ref);
  }

  /** The supervisor children, in start order. */
  supervisors(): Supervisor[] {
    return this.children.filter((c): c is SupervisorChild => c.kind === 'supervisor').map((c) => c.sup);
  }

  /** Whether this supervisor directly supervises `ref`. */
  owns(ref: ActorRef<any>): boolean {
    return this.findActor(ref) !== undefined;
  }

  private findActor(ref: ActorRef<any>): ActorChild | undefined {
    const key = refKey(ref.node, ref.id);
    for (const c of this.children) if (c.kind === 'actor' && refKey(c.ref.node, c.ref.id) === key) return c;
    return undefined;
  }

  /**
   * Changes the `args` a child actor gets when it is restarted (its current incarnation keeps
   * what it has: tell it separately). For wiring actors that need each other's refs.
   */
  setChildArgs(ref: ActorRef<any>, args: unknown): void {
    const c = this.findActor(ref);
    if (!c) throw new InvalidOptionError(`supervisor "${this.name}" has no child ${ref.name}`);
    c.spec = { ...c.spec, args };
  }

  /** The incarnation of a child actor (how many times it was restarted). */
  incarnationOf(ref: ActorRef<any>): number | undefined {
    return this.findActor(ref)?.incarnation;
  }

  /**
   * A child actor ended: crashed (`abnormal`) or stopped normally. Returns whether it will be
   * restarted; when not, it is no longer a child.
   */
  childEnded(ref: ActorRef<any>, incarnation: number, abnormal: boolean): boolean {
    const c = this.findActor(ref);
    if (!c || c.incarnation !== incarnation || !c.up) return c !== undefined && this.status === 'running';
    c.up = false;
    if (this.status !== 'running' || !wantsRestart(c.spec.restart, abnormal)) {
      this.remove(c);
      return false;
    }
    void this.serial(() => this.recover(c));
    return true;
  }

  private childSupervisorFailed(sup: Supervisor): void {
    const c = this.children.find((x) => x.kind === 'supervisor' && x.sup === sup);
    if (!c || !c.up) return;
    c.up = false;
    if (this.status !== 'running' || !wantsRestart(c.spec.restart, true)) {
      this.remove(c);
      for (const ref of sup.allActors()) this.rt.forgotten(ref);
      return;
    }
    void this.serial(() => this.recover(c));
  }

  private remove(c: Child): void {
    const i = this.children.indexOf(c);
    if (i >= 0) this.children.splice(i, 1);
  }

  /** Applies the strategy after `failed` went down. */
  private async recover(failed: Child): Promise<void> {
    if (this.status !== 'running' || failed.up || !this.children.includes(failed)) return;
    const now = this.rt.now();
    this.restartTimes = this.restartTimes.filter((t) => now - t < this.windowMs);
    this.restartTimes.push(now);
    if (this.restartTimes.length > this.maxRestarts) {
      await this.fail(`more than ${this.maxRestarts} restarts within ${this.windowMs} ms (last: "${failed.spec.name}")`);
      return;
    }
    failed.restartTimes = failed.restartTimes.filter((t) => now - t < this.windowMs);
    failed.restartTimes.push(now);
    const attempt = failed.restartTimes.length;
    const delayMs = this.backoffDelay(attempt);

    const i = this.children.indexOf(failed);
    const group = this.strategy === 'one-for-one' ? [failed] : this.strategy === 'one-for-all' ? this.children.slice() : this.children.slice(i);
    // The others of the group go down first, newest first.
    for (const c of [...group].reverse()) {
      if (c !== failed && c.up) {
        c.up = false;
        await this.terminate(c);
      }
    }
    if (delayMs > 0) await this.rt.delay(delayMs);
    for (const c of group) {
      if (this.status !== 'running') return;
      if (c.up || !this.children.includes(c)) continue;
      try {
        await this.restartOne(c, attempt, delayMs);
      } catch (e) {
        // Its init (or a grandchild's) failed: that is one more failure of this child, said as
        // a crash and counted toward the restart intensity like any other.
        c.up = false;
        if (c.kind === 'actor') this.rt.restartFailed(c.ref, toError(e));
        await this.recover(c);
        return;
      }
    }
  }

  private async restartOne(c: Child, attempt: number, delayMs: number): Promise<void> {
    if (c.kind === 'actor') {
      const incarnation = c.incarnation + 1;
      c.incarnation = incarnation;
      c.ref = await this.rt.startActor(c.spec, incarnation, c.ref, this);
      c.up = true;
      this.rt.restarted(c.ref, attempt, delayMs);
    } else {
      await c.sup.restart();
      c.up = true;
    }
  }

  private async terminate(c: Child): Promise<void> {
    try {
      if (c.kind === 'actor') await this.rt.terminateActor(c.ref);
      else await c.sup.terminateAll();
    } catch {
      /* already gone (its worker died): nothing to end */
    }
  }

  private backoffDelay(attempt: number): number {
    const b = this.backoff;
    const base = Math.min(b.maxMs, b.initialMs * b.factor ** (attempt - 1));
    const spread = b.jitter * (2 * this.rt.random() - 1);
    return Math.max(0, Math.round(base * (1 + spread)));
  }

  /** Gives up: ends every child and escalates to the parent (at the root, the system fails). */
  private async fail(reason: string): Promise<void> {
    this.status = 'failed';
    await this.terminateAll();
    this.rt.escalated(this.name, reason);
    if (this.parent) this.parent.childSupervisorFailed(this);
    else this.rt.rootFailed(`supervisor "${this.name}" gave up: ${reason}`);
  }

  /** Ends every child quietly, newest first (this supervisor failed, or its parent restarts it). */
  private async terminateAll(): Promise<void> {
    for (const c of [...this.children].reverse()) {
      if (!c.up && c.kind === 'actor') continue;
      c.up = false;
      await this.terminate(c);
    }
  }

  /** Restarts this supervisor's whole subtree under the same refs (its parent decided so). */
  private async restart(): Promise<void> {
    this.status = 'running';
    this.restartTimes = [];
    for (const c of this.children) {
      if (c.up) continue;
      if (c.kind === 'actor' && !wantsRestart(c.spec.restart, true)) {
        this.remove(c);
        this.rt.forgotten(c.ref);
        continue;
      }
      await this.restartOne(c, 1, 0);
    }
  }

  /** Stops one child for good (an explicit stop). Resolves when it is gone. */
  stopChild(ref: ActorRef<any>): Promise<boolean> {
    return this.serial(async () => {
      const c = this.findActor(ref);
      if (!c) return false;
      this.remove(c);
      if (c.up) {
        c.up = false;
        await this.rt.stopActor(c.ref);
      }
      return true;
    });
  }

  /** Stops every child normally, newest first, then this supervisor. */
  shutdown(): Promise<void> {
    const wasRunning = this.status === 'running';
    this.status = 'stopped';
    const run = async () => {
      for (const c of [...this.children].reverse()) {
        this.remove(c);
        try {
          if (c.kind === 'actor') {
            if (c.up) await this.rt.stopActor(c.ref);
          } else await c.sup.shutdown();
        } catch {
          // Its worker is gone: nothing left to stop.
        }
        c.up = false;
      }
    };
    return wasRunning ? this.serial(run) : run();
  }

  /** Every actor in this subtree, depth first in start order. */
  allActors(): ActorRef<any>[] {
    const out: ActorRef<any>[] = [];
    for (const c of this.children) {
      if (c.kind === 'actor') out.push(c.ref);
      else out.push(...c.sup.allActors());
    }
    return out;
  }
}

function wantsRestart(type: RestartType | undefined, abnormal: boolean): boolean {
  const t = type ?? 'permanent';
  return t === 'permanent' || (t === 'transient' && abnormal);
}
