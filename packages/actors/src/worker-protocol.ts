import type { MessagePort } from 'node:worker_threads';
import type { ArenaRef } from './arena.js';
import type { ErrorInfo } from './errors.js';
import type { DeadLetter, HostLimits } from './host.js';
import type { LogLevel, LogRecord } from './logger.js';
import type { MeshBoot } from './mesh.js';
import type { MessageTraceOptions, TraceWindow } from './message-trace.js';
import type { ActorRef } from './ref.js';
import type { RingEnds, RingTransportStats } from './ring-transport.js';
import type { StorageKind } from './store.js';
import type { StorageOptions } from './stores.js';

/** What a worker is started with: the same for every worker of a system (so spares can wait booted). */
export interface WorkerBoot {
  seed: number;
  limits: HostLimits;
  logLevel: LogLevel;
  statsIntervalMs: number;
  storage: StorageOptions;
  /** The data plane: rings or ports, and their bounds. */
  mesh: MeshBoot;
  controlPort: MessagePort;
  /** The main thread pings here; the worker answers while its event loop turns. */
  heartbeatPort: MessagePort;
}

/** What makes a booted worker a node of the system. */
export interface AdoptRequest {
  node: number;
  /** Stable name of this host's durable data (file log name, shared buffer owner). */
  storeName: string;
  /** The main thread's buffer for this host's `shared` storage. */
  sharedBuffer: SharedArrayBuffer | undefined;
  /** The main thread's buffer for this host's `shared` snapshots (`storage.sharedSnapshotBytes`). */
  sharedSnapshotBuffer?: SharedArrayBuffer;
  /** The worker's end of its mesh link to the main thread. */
  mainPort: MessagePort;
  /** Rings: this worker's doorbell (created anew for every worker that takes the node). */
  doorbell?: SharedArrayBuffer;
  /** Rings: the worker's ends of its rings with the main thread. */
  mainRings?: RingEnds;
  /** Rings with arenas: this worker's own arena (new for every worker that takes the node). */
  arena?: ArenaRef;
  /** Rings with arenas: the arenas of every live thread, so references into them can be read from the start. */
  arenas?: ArenaRef[];
}

export interface SpawnRequest {
  module: string;
  exportName: string;
  name: string;
  args: unknown;
  storage: StorageKind | undefined;
  id: number | undefined;
  /** 0 for a first start; a supervisor's restart number otherwise (same id). */
  incarnation: number;
  /** Modules to import first (SpawnOptions.preload). */
  preload?: string[];
}

export interface ActorSnapshot {
  ref: ActorRef<any>;
  status: string;
  state: unknown;
  mailbox: number;
  processed: number;
  incarnation: number;
}

export interface ActorStats {
  name: string;
  node: number;
  id: number;
  processed: number;
  mailbox: number;
  status: string;
}

export interface HostStats {
  node: number;
  delivered: number;
  actors: ActorStats[];
  /** The ring transport's counters (rings only). */
  transport?: RingTransportStats;
}

/**
 * A function that reads what an inspection wants of an actor's state, named by where it is
 * exported so a worker can import it: `(state) => plainData`. It gets the live state and must
 * not change it.
 */
export interface InspectProjection {
  /** The module's URL (`import.meta.url` of the module exporting it). */
  module: string;
  exportName: string;
}

/** Observation and fault injection on the messages of every host (the same for all of them). */
export interface NetworkSettings {
  /** Nodes cut off from all others (see `ActorHost.isolated`). */
  isolated: number[];
  /** Record windows of messages (see `message-trace.ts`); null: off. */
  trace: MessageTraceOptions | null;
}

/** The control plane a worker exposes over comlink. Never on the message hot path. */
export interface WorkerControl {
  adopt(req: AdoptRequest): void;
  connect(node: number, port: MessagePort, rings?: RingEnds): void;
  disconnect(node: number): void;
  registerCodecs(module: string, exportName: string, baseTag: number): Promise<void>;
  activateCodecs(module: string): void;
  directory(add: ActorRef<any>[], remove: ActorRef<any>[]): void;
  spawn(req: SpawnRequest): Promise<{ id: number }>;
  stop(id: number): boolean;
  /** Ends an actor without a stop event (its supervisor will restart it). */
  terminate(id: number): boolean;
  crash(id: number, reason: string): void;
  /** Fault injection: the worker ends itself in one of the ways a real worker can fail. */
  fail(kind: WorkerFault): void;
  inspect(id: number, projection?: InspectProjection): Promise<ActorSnapshot | undefined>;
  stats(): HostStats;
  ping(): number;
  /** Applies partition and trace settings to this host. */
  network(settings: NetworkSettings): void;
  shutdown(): Promise<void>;
}

/**
 * How a worker can be made to fail: `exit` calls process.exit inside it, `uncaught` throws an
 * error nobody catches, `hang` spins forever (only heartbeats notice).
 */
export type WorkerFault = 'exit' | 'uncaught' | 'hang';

/** Events a worker posts to the main thread (batched). */
export type WorkerEvent =
  | { e: 'started'; ref: ActorRef<any>; parent: ActorRef<any> | null; restart: boolean }
  | { e: 'stopped'; ref: ActorRef<any>; incarnation: number }
  | { e: 'crashed'; ref: ActorRef<any>; error: ErrorInfo; during: 'init' | 'receive' | 'stop'; messageType: string | undefined; incarnation: number }
  | { e: 'dead'; letter: DeadLetter }
  | { e: 'log'; record: LogRecord }
  | ({ e: 'stats' } & HostStats)
  | { e: 'trace'; window: TraceWindow };

export type WorkerMessage = { t: 'ready' } | { t: 'events'; events: WorkerEvent[] };
