/**
 * The options, results and counters of a simulation, and the checks of what callers pass in
 * (each refusal says which option is wrong and what it takes).
 */
import type { SpawnOptions } from '../context.js';
import { InvalidOptionError } from '../errors.js';
import { checkLimits, type DeadLetter, type HostLimits } from '../host.js';
import { isLogLevel, type LogLevel, type LogSink } from '../logger.js';
import type { ActorRef } from '../ref.js';
import { checkSupervision, type RestartType, type Supervisor, type SupervisionOptions } from '../supervisor.js';
import type { DiskPlan, Fault, FaultPlan } from './plan.js';
import type { SimView } from './view.js';

/** Options of a {@link Simulation}. Every bound is a named option with a default. */
export interface SimulationOptions extends Partial<HostLimits> {
  /** Seeds every random choice of the run. Same seed and plan: same run. */
  seed: number;
  /** What goes wrong, and when (plain JSON). Default: nothing (background network only). */
  plan?: FaultPlan;
  /** The root supervisor's strategy, intensity and backoff, as in workers mode. */
  supervision?: SupervisionOptions;
  /**
   * Keep readable trace records (`sim.trace`): `true` keeps up to 1,000,000, a number keeps up
   * to that many (the newest). Default false: only the fingerprint, which is much cheaper.
   */
  trace?: boolean | number;
  /** A `run` without `maxSteps` stops after this many steps. Default 100,000,000. */
  maxStepsPerRun?: number;
  /**
   * A node paused at least this long is declared dead, as the workers mode's heartbeat would:
   * it is crashed and its supervisors restart its actors. 0 turns it off. Default 2000.
   */
  heartbeatTimeoutMs?: number;
  /** Nodes (workers) a simulation may have, driver included. Default 1024. */
  maxNodes?: number;
  /** Minimum level of `ctx.log` records passed to `logSink`. Default `warn`. */
  logLevel?: LogLevel;
  /** Where log records go (their time is virtual). Default: the console. */
  logSink?: LogSink;
  /**
   * Bytes the `shared` snapshots (`ctx.snapshots`) of one node may take, as
   * `storage.sharedSnapshotBytes` bounds a worker's: `StoreFullError` beyond. Default 256 MiB.
   */
  sharedSnapshotBytes?: number;
  /** Largest snapshot chunk and meta, as `storage.maxSnapshotChunkBytes`. Default 8 MiB. */
  maxSnapshotChunkBytes?: number;
}

/** Options of `sim.spawn`: as `system.spawn` in workers mode. */
export interface SimSpawnOptions<A> extends SpawnOptions<A> {
  /** Default `permanent`. */
  restart?: RestartType;
  /** The supervisor to put it under. Default: the root. */
  supervisor?: Supervisor;
}

/** How far `sim.run` goes. At least one bound is required. */
export interface RunOptions {
  /** Stop once virtual time would pass this (absolute, ms). */
  untilMs?: number;
  /** Stop after this much more virtual time. */
  forMs?: number;
  /** Stop after this many more steps. */
  maxSteps?: number;
  /** Stop as soon as this holds (checked after every step). */
  until?: (view: SimView) => boolean;
}

/** Why a run went wrong. */
export interface SimFailure {
  /** `invariant`: an invariant was violated; `system-failed`: the root supervisor gave up. */
  kind: 'invariant' | 'system-failed';
  /** The invariant's name. */
  name?: string;
  message: string;
  /** The step after which it was detected (steps completed). */
  step: number;
  timeMs: number;
}

/** The end of a `sim.run`. */
export interface RunResult {
  /**
   * `until`: the predicate held; `time`: virtual time reached the bound; `steps`: the step
   * bound; `idle`: nothing left to do; `violation`: an invariant failed; `failed`: the root
   * supervisor gave up.
   */
  reason: 'until' | 'time' | 'steps' | 'idle' | 'violation' | 'failed';
  /** Steps completed since the simulation started. */
  steps: number;
  nowMs: number;
  fingerprint: string;
  failure?: SimFailure;
}

/** Counters of a simulation. */
export interface SimStats {
  steps: number;
  /** Messages the network accepted from senders. */
  sends: number;
  /** Messages handed to a node's host (duplicates included). */
  deliveries: number;
  /** Lost to a partition or to a drop rate. */
  drops: number;
  duplicates: number;
  /** Arrived at a crashed node. */
  lost: number;
  timers: number;
  syncs: number;
  faults: number;
  crashes: number;
  restarts: number;
  deadLetters: number;
}

/** Events of `sim.events` (eventemitter3). */
export interface SimEvents {
  'actor:started': (e: { ref: ActorRef<any>; parent: ActorRef<any> | null }) => void;
  'actor:stopped': (e: { ref: ActorRef<any> }) => void;
  'actor:crashed': (e: { ref: ActorRef<any>; error: Error; during: 'init' | 'receive' | 'stop' | 'node'; messageType: string | undefined }) => void;
  'actor:restarted': (e: { ref: ActorRef<any>; attempt: number; delayMs: number }) => void;
  'dead-letter': (e: DeadLetter) => void;
  fault: (e: { fault: Fault; timeMs: number }) => void;
  'supervisor:escalated': (e: { supervisor: string; reason: string }) => void;
  'system:failed': (e: { reason: string }) => void;
}

/** Default background disk: 1..5 ms per sync, unsynced writes lost at a crash, no torn writes. */
export const defaultDisk: Required<DiskPlan> = {
  syncDelay: { kind: 'uniform', minMs: 1, maxMs: 5 },
  unsyncedOnCrash: 'lost',
  tornWriteRate: 0,
};

/** Checks the options of `new Simulation`. */
export function validateOptions(o: SimulationOptions): void {
  if (!o || typeof o !== 'object') throw new InvalidOptionError('new Simulation(options): options must be an object with a `seed`');
  if (!Number.isInteger(o.seed)) throw new InvalidOptionError(`Simulation: seed must be an integer, got ${String(o.seed)}`);
  checkLimits(o);
  const posInt = (v: unknown, k: string) => {
    if (v !== undefined && !(Number.isInteger(v) && (v as number) > 0))
      throw new InvalidOptionError(`Simulation: ${k} must be a positive integer, got ${String(v)}`);
  };
  posInt(o.maxStepsPerRun, 'maxStepsPerRun');
  posInt(o.maxNodes, 'maxNodes');
  posInt(o.sharedSnapshotBytes, 'sharedSnapshotBytes');
  posInt(o.maxSnapshotChunkBytes, 'maxSnapshotChunkBytes');
  if (o.heartbeatTimeoutMs !== undefined && !(typeof o.heartbeatTimeoutMs === 'number' && o.heartbeatTimeoutMs >= 0)) {
    throw new InvalidOptionError('Simulation: heartbeatTimeoutMs must be a number >= 0 (0 turns it off)');
  }
  if (o.trace !== undefined && typeof o.trace !== 'boolean' && !(Number.isInteger(o.trace) && o.trace > 0)) {
    throw new InvalidOptionError('Simulation: trace must be true, false or a positive number of records to keep');
  }
  if (o.logLevel !== undefined && !isLogLevel(o.logLevel))
    throw new InvalidOptionError(`Simulation: logLevel must be debug, info, warn, error or silent, got ${String(o.logLevel)}`);
  if (o.supervision) checkSupervision(o.supervision, 'Simulation: supervision');
}

/** Checks the bounds of `sim.run`. */
export function checkRun(o: RunOptions): void {
  if (!o || typeof o !== 'object') throw new InvalidOptionError('run(options): give at least one bound: untilMs, forMs, maxSteps or until');
  if (o.untilMs === undefined && o.forMs === undefined && o.maxSteps === undefined && o.until === undefined) {
    throw new InvalidOptionError('run: give at least one bound (untilMs, forMs, maxSteps or until), or the run may never end');
  }
  const num = (v: unknown, k: string) => {
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && !Number.isNaN(v)))
      throw new InvalidOptionError(`run: ${k} must be a number >= 0, got ${String(v)}`);
  };
  num(o.untilMs, 'untilMs');
  num(o.forMs, 'forMs');
  if (o.maxSteps !== undefined && !(Number.isInteger(o.maxSteps) && o.maxSteps >= 0))
    throw new InvalidOptionError(`run: maxSteps must be an integer >= 0, got ${String(o.maxSteps)}`);
  if (o.until !== undefined && typeof o.until !== 'function') throw new InvalidOptionError('run: until must be a function of the view');
}
