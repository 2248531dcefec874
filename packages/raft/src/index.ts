/**
 * `@synod/raft`: Raft as pure actor behaviours on `@synod/actors`, the way the paper and etcd's
 * raft library do it, feeding the replicas of `@synod/paxos` (which apply entries to the state
 * machine with the executor of `@synod/smr`: client sessions, snapshots in chunks), with the
 * safety properties of the paper's Figure 3 as invariants. `@synod/replicated` runs it with
 * `protocol: 'raft'`.
 */
export type {
  Entry,
  RVote,
  RVoteResp,
  RAppend,
  RAppendResp,
  RHeartbeat,
  RHeartbeatResp,
  RCommit,
  RTimeoutNow,
  RSnapshot,
  RTransfer,
  RForward,
  RaftPeerMsg,
  RaftMsg,
  MRaftConfigure,
  MRaftConfigured,
} from './messages.js';
export {
  defaultRaftOptions,
  resolveRaftOptions,
  tunedRaftOptions,
  raftOptionNames,
  RAFT_TUNABLE,
  type RaftOptions,
  type RaftTuning,
} from './options.js';
export { RaftLog, UNKNOWN_TERM } from './log.js';
export { Progress, Inflights, type ProgressState } from './progress.js';
export { NONE, type RaftNodeState, type RaftStatus, type RaftStats } from './state.js';
export { recoverRaft, HARD_KEY, SNAP_KEY, type HardState, type RecoveredRaft } from './durable.js';
export { RaftNode, MAX_RAFT_NODES, createRaftNodeState, receiveRaft, inspectRaftNode, type RaftNodeArgs } from './node.js';
export { RaftInvariants, type RaftViolation, type RaftClusterView } from './invariants.js';
export { raftCodecs } from './codec.js';
