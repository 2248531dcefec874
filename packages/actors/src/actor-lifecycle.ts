/**
 * The runtime skeleton an actor system and a simulation share: starting and restarting actors
 * under their supervisors, what happens when a host reports that an actor started, stopped or
 * crashed, when a node is lost, and death watch. Where actors actually run (worker threads, this
 * thread, simulated nodes) is an {@link ActorPlacement}; what is reported goes to
 * {@link LifecycleEvents}.
 */
import type { ActorDefinition, SpawnOptions, Terminated, TerminationReason } from './context.js';
import { DeathWatch } from './death-watch.js';
import { ActorDirectory, type ActorRecord } from './directory.js';
import { errorText } from './errors.js';
import type { DeadLetter, HostEvents } from './host.js';
import type { ActorRef } from './ref.js';
import { checkSpawn } from './spawn-checks.js';
import type { ActorChildSpec, Supervisor } from './supervisor.js';

/** Where a runtime's actors run, and how it starts, restarts, ends and stops them there. */
export interface ActorPlacement {
  /** Starts a new actor and runs its `init`; resolves with its ref. */
  start(def: ActorDefinition<any, any, any, any>, options: SpawnOptions<any>): Promise<ActorRef<any>>;
  /** Starts incarnation `incarnation` of `ref` under the same ref (same node, same id). */
  restart(ref: ActorRef<any>, def: ActorDefinition<any, any, any, any>, options: SpawnOptions<any>, incarnation: number): Promise<void>;
  /** Ends an actor without a stop (its supervisor is about to restart it, or gave it up). */
  terminate(ref: ActorRef<any>): Promise<void>;
  /** Stops an actor normally (children first, then `onStop`). */
  stop(ref: ActorRef<any>): Promise<void>;
  /** Delivers a notice of the runtime (a death watch's `terminated`) to an actor. */
  notify(to: ActorRef<any>, notice: Terminated): void;
}

/** Where a node's actors went when it was lost: `worker` (a worker thread died) or `node` (a simulated node). */
export type NodeLoss = 'worker' | 'node';

/** What the lifecycle reports; the runtime turns it into its events (and traces). */
export interface LifecycleEvents {
  /** An actor joined the directory (a first start: restarts keep their record). */
  started(rec: ActorRecord): void;
  /** An actor left the directory: it ended for good. */
  ended(rec: ActorRecord, reason: TerminationReason): void;
  crashed(ref: ActorRef<any>, error: Error, during: 'init' | 'receive' | 'stop' | NodeLoss, messageType: string | undefined): void;
  deadLetter(letter: DeadLetter): void;
  /** Something the runtime refused but no caller waits for (a watch past its bound). */
  warn(message: string): void;
}

export class ActorLifecycle {
  readonly directory = new ActorDirectory();
  readonly deathWatch: DeathWatch;
  /** The runtime is shutting down: actors end, but no one is told (every watcher ends too). */
  closing = false;

  constructor(
    private readonly placement: ActorPlacement,
    private readonly events: LifecycleEvents,
  ) {
    this.deathWatch = new DeathWatch(
      (watcher, notice) => placement.notify(watcher, notice),
      (_w, why) => events.warn(why),
    );
  }

  // ---------------------------------------------------------------- supervision

  /**
   * Starts one supervised actor, or with `ref` restarts it under the same ref, so every ref to it
   * stays valid. The name is held while the start is in progress.
   */
  async startActor(spec: ActorChildSpec, incarnation: number, ref: ActorRef<any> | undefined, owner: Supervisor): Promise<ActorRef<any>> {
    const { actor: def, restart: _restart, ...options } = spec;
    void _restart;
    if (ref === undefined) {
      checkSpawn(def, options);
      this.directory.reserve(options.name);
      try {
        const started = await this.placement.start(def, options);
        this.register(started, null, owner, spec, 0);
        return started;
      } finally {
        this.directory.release(options.name);
      }
    }
    await this.placement.restart(ref, def, options, incarnation);
    const rec = this.directory.get(ref);
    if (rec !== undefined) this.directory.restarted(rec, incarnation);
    else this.register(ref, null, owner, spec, incarnation);
    return ref;
  }

  /** Stops an actor for good, now (its supervisor already let it go, or it has none). */
  async stopNow(ref: ActorRef<any>): Promise<void> {
    await this.placement.stop(ref);
    this.ended(ref, 'stopped');
  }

  terminate(ref: ActorRef<any>): Promise<void> {
    return this.placement.terminate(ref);
  }

  /** Its supervisor gave it up: it will not come back. */
  forgotten(ref: ActorRef<any>): void {
    this.ended(ref, 'failed', 'its supervisor gave up restarting it');
  }

  /** Adds an actor to the directory (once per ref) and says so. */
  register(ref: ActorRef<any>, parent: ActorRef<any> | null, supervisor: Supervisor | null, spec: ActorChildSpec | null, incarnation: number): void {
    const rec = this.directory.add(ref, parent, supervisor, spec, incarnation);
    if (rec !== undefined) this.events.started(rec);
  }

  /** An actor ended for good: out of the directory, its watchers told, its own watches dropped. */
  ended(ref: ActorRef<any>, reason: TerminationReason, detail?: string): void {
    const rec = this.directory.remove(ref);
    this.deathWatch.dropWatcher(ref);
    if (rec === undefined) return;
    if (!this.closing) this.deathWatch.ended(rec.ref, reason, detail);
    this.events.ended(rec, reason);
  }

  // ---------------------------------------------------------------- what hosts report

  /** The host events of every host of this runtime go here. */
  readonly hostEvents: Required<HostEvents> = {
    started: (ref, parent) => {
      // Supervised actors are registered by startActor; children announce themselves here.
      if (parent !== null) this.register(ref, parent, null, null, 0);
    },
    stopped: (ref, incarnation) => {
      this.deathWatch.dropWatcher(ref);
      const rec = this.directory.get(ref);
      const kept = rec?.supervisor ? rec.supervisor.childEnded(rec.ref, incarnation, false) : false;
      if (!kept) this.ended(ref, 'stopped');
    },
    crashed: (ref, error, during, messageType, incarnation) => {
      this.deathWatch.dropWatcher(ref);
      const rec = this.directory.get(ref);
      this.events.crashed(rec?.ref ?? ref, error, during, messageType);
      if (rec?.supervisor && during !== 'stop') {
        if (!rec.supervisor.childEnded(rec.ref, incarnation, true)) this.ended(rec.ref, 'failed', errorText(error));
      }
    },
    deadLetter: (letter) => this.events.deadLetter(letter),
    watch: (watcher, target, on) => {
      // The watcher may not be in the directory yet (a supervised actor watching from its init is
      // registered when its start completes): hosts report watches of running actors only.
      if (on) this.deathWatch.watch(watcher, target, this.directory.get(target) !== undefined);
      else this.deathWatch.unwatch(watcher, target);
    },
  };

  /**
   * A node died (a worker thread exited, a simulated node crashed): each of its actors crashed.
   * Supervised ones are restarted under the same refs; the others ended for good.
   */
  nodeLost(node: number, error: Error, during: NodeLoss): void {
    const recs = this.directory.onNode(node);
    // Every watcher of the node is gone, registered or not (one may die before its start completes).
    this.deathWatch.dropNode(node);
    for (const rec of recs) this.events.crashed(rec.ref, error, during, undefined);
    for (const rec of recs) {
      const kept = rec.supervisor ? rec.supervisor.childEnded(rec.ref, rec.incarnation, true) : false;
      if (!kept) this.ended(rec.ref, 'node-lost', error.message);
    }
  }
}
