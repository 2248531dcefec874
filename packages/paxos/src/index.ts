/**
 * `@synod/paxos`: the Synod (single-decree Paxos, the seed's §6) as acceptor, proposer and learner
 * actors, and Multi-Paxos (leader election, leases, pipelining, batching, snapshots), with the
 * safety properties of Lamport's TLA+ specification as invariants.
 *
 * @module @synod/paxos
 */
export { ballot, nextBallot, roundOf, proposerOf, formatBallot, ZERO_BALLOT, MAX_PROPOSER_ID, type Ballot } from './ballot.js';
export { sameValue, valueKey, type Value } from './value.js';
export * from './messages.js';
export { Acceptor, type AcceptorArgs, type AcceptorState, type AcceptorRecord } from './acceptor.js';
export { Proposer, defaultProposerOptions, type ProposerArgs, type ProposerOptions, type ProposerState } from './proposer.js';
export { Learner, defaultLearnerOptions, type LearnerArgs, type LearnerOptions, type LearnerState } from './learner.js';
export { synodCodecs } from './codec.js';
export {
  SynodInvariants,
  checkSynodStates,
  isAcceptorState,
  isLearnerState,
  isProposerState,
  type ActorView,
  type MessageView,
  type ClusterView,
  type Violation,
} from './invariants.js';
export { createSynod, ProposalFailedError, type Synod, type SynodOptions } from './synod.js';
export { InvariantViolation } from './assert.js';
export { QuorumTally, majorityOf, MAX_ACCEPTORS } from './quorum.js';
export type { SubscriptionRefused } from './messages.js';
export type {
  SlotValue,
  MPrepare,
  AcceptedEntry,
  MPromise,
  MAccept,
  MAccepted,
  MReject,
  MHeartbeat,
  MHeartbeatAck,
  MCampaign,
  MTruncate,
  MultiAcceptorMsg,
  MDecide,
  MApplied,
  MFetch,
  MEntries,
  MTruncated,
  MSnapshotOffer,
  MSnapshotPull,
  MSnapshotChunk,
  MDigest,
} from './multi/messages.js';
export { MultiAcceptor, type MultiAcceptorArgs, type MultiAcceptorState, type SlotRecord } from './multi/acceptor.js';
export {
  Leader,
  type LeaderArgs,
  type LeaderState,
  type LeaderMsg,
  type LeaderDurable,
  type LeaderStatus,
  type MConfigure,
  type MConfigured,
} from './multi/leader.js';
export {
  defaultLeaderOptions,
  defaultReplicaOptions,
  leaderOptions,
  replicaOptions,
  checkLeaderTuning,
  checkClusterOptions,
  checkAcceptorArgs,
  leaderQuorums,
  type LeaderOptions,
  type LeaderTuning,
  type ReplicaOptions,
  type LeaderQuorums,
} from './multi/options.js';
export {
  Replica,
  type ReplicaArgs,
  type ReplicaState,
  type ReplicaMsg,
  type AppliedChange,
  type MChanges,
  type MProgress,
  type MSubscriptionRefused,
  type MDivergence,
} from './multi/replica.js';
export { MultiPaxosInvariants, type MultiViolation } from './multi/invariants.js';
export { multiPaxosCodecs } from './multi/codec.js';
