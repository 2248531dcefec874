/**
 * `@synod/smr`: what every replication protocol of Synod shares. State machines on bytes
 * (`defineStateMachine` for plain data), the format of commands in the log, client sessions and
 * the executor that applies committed commands exactly once and in order, how replicas answer
 * clients, and the client protocol with its one client (`ClientCore`).
 *
 * @module @synod/smr
 */
export {
  bytesSink,
  bytesSource,
  isStateMachine,
  registerMachine,
  stateMachineByKey,
  type AppliedBytes,
  type MachineClient,
  type MachineCore,
  type SnapshotSink,
  type SnapshotSource,
  type StateMachine,
} from './machine.js';
export { defineStateMachine, ResultNotPlainDataError, type Applied, type StateMachineOptions } from './state-machine.js';
export { REQUEST_FORMAT, SLOT_FORMAT, RequestWriter, SlotBuilder, SlotReader, slotOf, type CommandInSlot } from './log-format.js';
export { Outcome, describeThrown } from './outcome.js';
export { Session, SessionTable, Verdict } from './sessions.js';
export {
  Executor,
  defaultExecutorOptions,
  mixOutcome,
  snapshotBytesDue,
  snapshotIndex,
  SNAPSHOT_FORMAT,
  type ExecutorOptions,
  type ResultSink,
} from './executor.js';
export {
  clientCodecs,
  forEachEntry,
  readConsistencies,
  ReadResultsWriter,
  ReadsWriter,
  ReadStatus,
  ResultsWriter,
  type ClientReply,
  type MClientReadResults,
  type MClientReads,
  type MClientRedirect,
  type MClientRequest,
  type MClientResults,
  type MClientRoute,
  type MClientRoutesLost,
  type ReadConsistency,
} from './protocol.js';
export { ClientAnswers, defaultAnswerOptions, type AnswerOptions } from './answers.js';
export {
  ClientCore,
  defaultClientOptions,
  type ClientIO,
  type ClientOptions,
  type ClusterAddress,
  type Completion,
  type Done,
} from './client.js';
export {
  ClientClosedError,
  ClusterHaltedError,
  CommandFailedError,
  InvalidCommandError,
  NoLeaderError,
  OperationAbortedError,
  OutcomeUnknownError,
  OverloadedError,
  QuotaExceededError,
  ReadFailedError,
  ReplicationError,
  type ReplicationErrorCode,
} from './errors.js';
export { ByteReader } from './byte-reader.js';
