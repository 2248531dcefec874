/**
 * `@synod/raft`: Raft as pure actor behaviours on `@synod/actors`, the way the paper and etcd's
 * raft library do it, feeding the Multi-Paxos replicas of `@synod/paxos` (which apply entries to
 * the state machine, with client sessions and snapshots), with the safety properties of the
 * paper's Figure 3 as invariants.
 */
export type {
  Entry, RVote, RVoteResp, RAppend, RAppendResp, RHeartbeat, RHeartbeatResp, RTimeoutNow, RSnapshotChunk, RSnapshotAck, RTransfer,
  RaftPeerMsg, RaftMsg,
} from './messages.js';
export { defaultRaftOptions, resolveRaftOptions, type RaftOptions } from './options.js';
export { RaftLog, UNKNOWN_TERM } from './log.js';
export { Progress, Inflights, type ProgressState } from './progress.js';
export { NONE, type RaftNodeState, type RaftStatus, type RaftStats } from './state.js';
export { recoverRaft, HARD_KEY, SNAP_KEY, type HardState, type RecoveredRaft } from './durable.js';
export { encodeSnapshot, decodeSnapshot } from './snapshot-transfer.js';
export { RaftNode, MAX_RAFT_NODES, createRaftNodeState, receiveRaft, inspectRaftNode, type RaftNodeArgs } from './node.js';
export { RaftInvariants, type RaftViolation } from './invariants.js';
