/** Errors of replicated operations: defined with the client in @synod/smr, re-exported here for users. */
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
} from '@synod/smr';
