/**
 * `@synod/actors`: typed actors on Node.js worker threads (or embedded on one thread), with
 * bounded mailboxes, Erlang/OTP supervision, death watch, durable state with persist-before-send
 * and snapshots. The simulator is `@synod/actors/sim`; building blocks for protocol authors (wire
 * format, IntMap, Prng) are `@synod/actors/internals`.
 *
 * @module @synod/actors
 */
export { defineActor, isActorDefinition, type ActorDefinition, type Behavior, type DefineOptions, type SpawnOptions } from './define.js';
export type { ActorContext, AskOptions, ReplyToken, Terminated, TerminationReason } from './context.js';
export type { Replies, ReplyTo, ReplyOf, DeclaredReplies, MayAnswer } from './replies.js';
export { sameRef, refKey, isActorRef, describeRef, type ActorRef } from './ref.js';
export { ActorSystem, type StorageLimits, type SystemOptions } from './system.js';
export type { SystemEvents, StatsReport, ActorStatsReport } from './events.js';
export {
  SynodError,
  AskTimeoutError,
  ActorNotFoundError,
  SystemStoppedError,
  MessageEncodingError,
  ActorLoadError,
  ActorInitError,
  DuplicateNameError,
  ControlError,
  InvalidOptionError,
  MailboxFullError,
  AbortedError,
  NodeLostError,
  AssertionFailedError,
  isSynodError,
  registerErrors,
  serializeError,
  deserializeError,
  type SerializedError,
  type ErrorInfo,
} from './errors.js';
export { defineCodecs, isCodecSet, type MessageCodec, type CodecSet } from './codec.js';
export type { Logger, LogLevel, LogRecord, LogSink } from './logger.js';
export { storageKinds, type StorageKind } from './store.js';
export type { StorageOptions } from './stores.js';
export type { DeadLetter, DeadLetterReason, HostLimits } from './host.js';
export { defaultLimits } from './host.js';
export type { ActorSnapshot, HostStats, InspectProjection, NetworkSettings, WorkerFault } from './worker-protocol.js';
export { defaultMessageTrace, type MessageTraceOptions, type TraceWindow, type TracedMessage, type TraceAddress } from './message-trace.js';
export {
  Supervisor,
  defaultSupervision,
  type Strategy,
  type RestartType,
  type BackoffOptions,
  type SupervisionOptions,
  type ActorChildSpec,
  type SupervisorSpec,
  type ChildSpec,
} from './supervisor.js';
export type { SystemSpawnOptions } from './system.js';
export type { HeartbeatOptions } from './worker-node.js';
export type { PersistKey, Recovered } from './store.js';
export { FileStore, type FileStoreOptions, type FileRecovery, type FileStoreStats } from './stores/file-store.js';
export { StorageError, StoreLockedError, LogDamagedError, RecordTooLargeError, StoreFullError, SnapshotDamagedError } from './stores/errors.js';
export type { SnapshotStore, SnapshotWriter, SnapshotReader } from './snapshots.js';
export { MemorySnapshotStore } from './stores/memory-snapshots.js';
export type { LockPredecessor } from './stores/log-lock.js';
export type { ReplayResult } from './stores/replay.js';
export { workerStoreName } from './worker-pool.js';
export { NetTransport, type NetEvents, type NetFaultSettings, type NetStats } from './net/net-transport.js';
export {
  checkNetworkOptions,
  defaultNetLimits,
  MAX_MEMBER_NODE,
  type NetworkOptions,
  type NetPeer,
  type NetTlsOptions,
  type NetLimits,
} from './net/net-options.js';
export { NET_PROTOCOL_VERSION } from './net/handshake.js';
export {
  createDevCa,
  issueCertificate,
  writeDevCertificates,
  type DevCa,
  type DevCaOptions,
  type DevCertificate,
  type IssueCertificateOptions,
  type WriteDevCertificatesOptions,
  type CertificateFiles,
  type DevCertificateFiles,
} from './net/dev-certificates.js';
