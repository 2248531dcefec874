/**
 * A RaftNode's state: the persistent state of the paper's Figure 2 (current term, vote, log),
 * the volatile state of every node and of a leader, and what it knows of the replicas it feeds.
 */
import type { ActorContext, ActorRef } from '@synod/actors';
import type { IntMap } from '@synod/actors/internals';
import type { ClientEntryState } from './client-entry.js';
import type { RaftLog } from './log.js';
import type { RaftMsg } from './messages.js';
import type { RaftOptions } from './options.js';
import type { Progress } from './progress.js';

/** No node (no vote cast, no leader known). */
export const NONE = -1;

export type RaftStatus = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** A replica's last `m-applied` report. */
export interface ReplicaReport {
  snapshotAt: number;
  applied: number;
  heardAt: number;
}

export interface RaftStats {
  elections: number;
  preVotes: number;
  leaderships: number;
  entries: number;
  commands: number;
  /** InstallSnapshot messages sent (as leader) and installed (as follower). */
  snapshotsSent: number;
  snapshotsInstalled: number;
  transfers: number;
  /** Client messages sent back to their clients (no leader known), and handed on to the leader. */
  redirects: number;
  forwarded: number;
}

export interface RaftNodeState {
  role: 'raft-node';
  /** This node's number, 0..n-1. */
  index: number;
  /** Every RaftNode, by node number (this one included). */
  nodes: ActorRef<RaftMsg>[];
  /** Every replica, by node number; this node feeds `replicas[index]`. */
  replicas: ActorRef<any>[];
  opts: RaftOptions;
  /** Nodes in the cluster (fixed). */
  size: number;
  majority: number;

  // ---- persistent (Figure 2): persisted in the turn that changes it, before any message leaves
  /** The latest term this node has seen. */
  term: number;
  /** The candidate this node voted for in `term`, or NONE. */
  vote: number;
  log: RaftLog;

  // ---- volatile, every node
  status: RaftStatus;
  /** The leader of `term`, when known. */
  leader: number;
  /** The highest index known to be committed. */
  commitIndex: number;
  /** A follower or candidate campaigns at this time. */
  electionDeadline: number;
  /**
   * This node's randomised election timeout (§5.2), drawn anew when it becomes a follower,
   * campaigns or grants a vote (as etcd resets it), not at every message from the leader.
   */
  electionWait: number;
  /** When the current leader was last heard from (the lease that makes this node refuse votes). */
  heardLeaderAt: number;
  /** After a restart this node refuses votes until then: it may have been inside a lease it forgot. */
  voteLeaseUntil: number;
  /** Votes (or pre-votes) granted and refused in the running campaign, one bit per node. */
  votesGranted: number;
  votesRefused: number;

  // ---- volatile, leader
  progress: Progress[];
  lastHeartbeatAt: number;
  /** CheckQuorum runs at this time. */
  quorumCheckAt: number;
  /** A leadership transfer target, or NONE; it ends by this time. */
  transferee: number;
  transferDeadline: number;
  /** Lease reads are off for the rest of this reign (a transfer was started: a campaign may bypass leases). */
  leaseDisabled: boolean;
  /** Bytes of entries this leader appended that are not committed yet. */
  uncommittedBytes: number;
  /**
   * Heartbeat rounds: reads are confirmed by a majority's answers to a round sent after they
   * arrived. The last ROUNDS_TRACKED rounds collect answers (one bit per node) at `round %
   * ROUNDS_TRACKED`, so answers slower than the heartbeat interval still confirm their round.
   */
  round: number;
  roundSentAt: number[];
  roundAcks: number[];
  confirmedRound: number;
  /** Lease reads are served without a round until then (local clock). */
  leaseUntil: number;
  // ---- the replicas
  /** Committed entries up to here were handed to the local replica. */
  deliveredUpTo: number;
  /** When the local replica was last told the commit point. */
  toldReplicaAt: number;
  /** The local replica's snapshot point (raft index): the log may be compacted up to it. */
  localSnapshotAt: number;
  /** The point the log was last compacted for (min of the snapshot point and the commit index then). */
  compactedFor: number;
  reports: Map<number, ReplicaReport>;
  /** The index a majority of the replicas heard from lately has applied (Infinity: too few heard). */
  quorumApplied: number;
  /** Commands this node appended as leader, in all its reigns. */
  proposedCommands: number;
  /** `proposedCommands` after each entry appended in this reign, for entries not yet applied by a majority. */
  commandsThrough: IntMap<number>;
  /** `proposedCommands` when this reign began. */
  reignBase: number;
  /** The lowest index `commandsThrough` may hold. */
  commandsFrom: number;

  client: ClientEntryState;
  /** When this incarnation started (observers tell restarts apart). */
  incarnationStart: number;
  stats: RaftStats;
}

export type RaftCtx = ActorContext<RaftMsg, never>;

/** Heartbeat rounds that still collect answers (see `RaftNodeState.round`). */
export const ROUNDS_TRACKED = 16;

export function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v; v &= v - 1) n++;
  return n;
}

/** A fresh randomised election timeout (§5.2): in [electionTimeoutMs, 2 x electionTimeoutMs). */
export function electionTimeout(s: RaftNodeState, ctx: RaftCtx): number {
  return s.opts.electionTimeoutMs * (1 + ctx.random());
}

/** Draws a fresh election timeout and starts it from `now`. */
export function resetElectionTimer(s: RaftNodeState, now: number, ctx: RaftCtx): void {
  s.electionWait = electionTimeout(s, ctx);
  s.electionDeadline = now + s.electionWait;
}

/**
 * Whether this node refuses to vote for another node now: it leads, or heard its leader within an
 * election timeout, or may have before a restart.
 */
export function inLease(s: RaftNodeState, now: number): boolean {
  return s.status === 'leader' || (s.leader !== NONE && now - s.heardLeaderAt < s.opts.electionTimeoutMs) || now < s.voteLeaseUntil;
}

/** Whether the leader's commit index is current: an entry of its own term is committed (§8). */
export function committedInCurrentTerm(s: RaftNodeState): boolean {
  return s.log.term(s.commitIndex) === s.term;
}
