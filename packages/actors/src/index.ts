export { defineActor, isActorDefinition, type ActorDefinition, type Behavior, type DefineOptions, type SpawnOptions } from './define.js';
export type { ActorContext, AskOptions, ReplyToken } from './context.js';
export { sameRef, refKey, isActorRef, describeRef, type ActorRef } from './ref.js';
export { ActorSystem, type SystemOptions } from './system.js';
export type { SystemEvents, StatsReport, ActorStatsReport } from './events.js';
export {
  SynodError, AskTimeoutError, ActorNotFoundError, SystemStoppedError, MessageEncodingError, ActorLoadError,
  ActorInitError, DuplicateNameError, ControlError, InvalidOptionError, MailboxFullError, type ErrorInfo,
} from './errors.js';
export { defineCodecs, isCodecSet, type MessageCodec, type CodecSet } from './codec.js';
export { WireWriter, WireReader } from './wire.js';
export { Mailbox } from './mailbox.js';
export { Prng, hashString } from './random.js';
export type { Logger, LogLevel, LogRecord, LogSink } from './logger.js';
export { storageKinds, type StorageKind, type ActorStore } from './store.js';
export type { StorageOptions } from './stores.js';
export type { DeadLetter, DeadLetterReason, HostLimits } from './host.js';
export { defaultLimits } from './host.js';
export type { ActorSnapshot, HostStats, InspectProjection, NetworkSettings, WorkerFault } from './worker-protocol.js';
export { defaultMessageTrace, type MessageTraceOptions, type TraceWindow, type TracedMessage, type TraceAddress } from './message-trace.js';
export {
  Supervisor, defaultSupervision, type Strategy, type RestartType, type BackoffOptions, type SupervisionOptions,
  type ActorChildSpec, type SupervisorSpec, type ChildSpec,
} from './supervisor.js';
export type { SystemSpawnOptions } from './system.js';
export type { HeartbeatOptions } from './worker-node.js';
export type { PersistKey, PersistOp, Recovered } from './store.js';
export { FileStore, type FileStoreOptions, type FileRecovery, type FileStoreStats } from './stores/file-store.js';
export { SharedStore, type SharedStoreOptions } from './stores/shared-store.js';
export { StorageError, StoreLockedError, LogDamagedError, RecordTooLargeError, StoreFullError, SnapshotDamagedError } from './stores/errors.js';
export type { SnapshotStore, SnapshotWriter, SnapshotReader, SnapshotBackend } from './snapshots.js';
export { MemorySnapshotStore } from './stores/memory-snapshots.js';
export { FileSnapshots, type SnapshotRecovery } from './stores/file-snapshots.js';
export { SharedSnapshots } from './stores/shared-snapshots.js';
export type { LockPredecessor } from './stores/log-lock.js';
export type { ReplayResult } from './stores/replay.js';
export { IntMap } from './int-map.js';
export { workerStoreName } from './worker-pool.js';
