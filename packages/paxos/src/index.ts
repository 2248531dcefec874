export { ballot, nextBallot, roundOf, proposerOf, formatBallot, ZERO_BALLOT, MAX_PROPOSER_ID, type Ballot } from './ballot.js';
export { sameValue, valueKey, type Value } from './value.js';
export * from './messages.js';
export { Acceptor, type AcceptorArgs, type AcceptorState, type AcceptorRecord } from './acceptor.js';
export { Proposer, defaultProposerOptions, type ProposerArgs, type ProposerOptions, type ProposerState } from './proposer.js';
export { Learner, defaultLearnerOptions, type LearnerArgs, type LearnerOptions, type LearnerState } from './learner.js';
export { synodCodecs } from './codec.js';
export {
  SynodInvariants, checkSynodStates, isAcceptorState, isLearnerState, isProposerState,
  type ActorView, type MessageView, type ClusterView, type Violation,
} from './invariants.js';
export { createSynod, SynodError, type Synod, type SynodOptions } from './synod.js';
export { InvariantViolation } from './assert.js';
export type {
  Command, Batch, SlotValue, MPrepare, AcceptedEntry, MPromise, MAccept, MAccepted, MReject, MHeartbeat, MHeartbeatAck, MTruncate,
  MultiAcceptorMsg, MDecide, MApplied, MRequest, MResult, MRedirect, ReadConsistency, MRead, MReadResult, MFetch, MEntries, MSnapshot,
  ReplicaSnapshot,
} from './multi/messages.js';
export { MultiAcceptor, type MultiAcceptorArgs, type MultiAcceptorState, type SlotRecord } from './multi/acceptor.js';
export { Leader, defaultLeaderOptions, type LeaderArgs, type LeaderOptions, type LeaderState, type LeaderMsg } from './multi/leader.js';
export {
  Replica, defaultReplicaOptions, type ReplicaArgs, type ReplicaOptions, type ReplicaState, type ReplicaMsg, type AppliedCommand, type MChanges, type MProgress,
} from './multi/replica.js';
export { defineStateMachine, stateMachineByKey, isStateMachine, type StateMachine, type StateMachineOptions, type Applied } from './multi/state-machine.js';
export { MultiPaxosInvariants, type MultiViolation } from './multi/invariants.js';
export { encodeBatch, batchOf, BatchEncoder } from './multi/batch-encoding.js';
export { multiPaxosCodecs } from './multi/codec.js';
