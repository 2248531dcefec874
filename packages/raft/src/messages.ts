/**
 * Messages of Raft (Ongaro & Ousterhout, and Ongaro's dissertation), named as in etcd's raft
 * library: RequestVote (and its PreVote round), AppendEntries, heartbeats, TimeoutNow and
 * InstallSnapshot. Every one carries the sender's term (§5.1): a node that sees a higher term
 * adopts it, a message with a lower term is stale.
 *
 * Log entries are the replicas' slots: entry `i` (1-based, as in the paper) is slot `i - 1`, and
 * its value is a slot value of `@synod/smr`'s log format (client requests concatenated by the
 * leader, never parsed by it), or `null` for the no-op a new leader appends. That is the seam
 * with the replicas (`@synod/paxos`'s Replica), which apply them.
 */
import type { ActorRef } from '@synod/actors';
import type { MApplied, MFetch, SlotValue } from '@synod/paxos';
import type { MClientReads, MClientRequest, MClientRoutesLost } from '@synod/smr';
import type { RaftTuning } from './options.js';

/** One log entry. Its index is its position in the log. Immutable once created. */
export interface Entry {
  readonly term: number;
  readonly value: SlotValue;
  /** The value's size in bytes (what the batch and in-flight bounds count). */
  readonly bytes: number;
}

/**
 * RequestVote (§5.2), or a PreVote (dissertation §9.6) when `pre`: "would you vote for me in
 * `term`?", asked without anyone changing term. `transfer`: the campaign of a leadership
 * transfer (§3.10), which voters grant even inside a leader's lease.
 */
export interface RVote {
  type: 'r-vote';
  term: number;
  from: number;
  lastIndex: number;
  lastTerm: number;
  pre: boolean;
  transfer: boolean;
}
/** For a granted pre-vote `term` is the future term asked about; otherwise the voter's term. */
export interface RVoteResp {
  type: 'r-vote-resp';
  term: number;
  from: number;
  granted: boolean;
  pre: boolean;
}

/** AppendEntries (§5.3): `entries` follow (`prevIndex`, `prevTerm`); `commit` is the leader's commit index. */
export interface RAppend {
  type: 'r-append';
  term: number;
  from: number;
  prevIndex: number;
  prevTerm: number;
  entries: Entry[];
  commit: number;
}
/**
 * The answer to AppendEntries (or to InstallSnapshot). Accepted: `index` is the last index known
 * to match the leader's log. Rejected: `index` is the rejected `prevIndex`, and (`hintIndex`,
 * `hintTerm`) the follower's guess of the last index where the logs may match (etcd's
 * findConflictByTerm), so the leader skips a whole divergent term per round trip.
 */
export interface RAppendResp {
  type: 'r-append-resp';
  term: number;
  from: number;
  index: number;
  reject: boolean;
  hintIndex: number;
  hintTerm: number;
}

/** The leader's heartbeat: `commit` is at most what this follower is known to match; `round` confirms reads. */
export interface RHeartbeat {
  type: 'r-heartbeat';
  term: number;
  from: number;
  commit: number;
  round: number;
}
export interface RHeartbeatResp {
  type: 'r-heartbeat-resp';
  term: number;
  from: number;
  round: number;
}

/**
 * The leader's commit index, sent to every follower in the turn it moves (at most the last entry
 * sent to the follower), and to a follower that acknowledges later. With the term of the entry
 * there: a follower holding that entry with that term holds the leader's log up to it (Log
 * Matching) and commits; one that does not (its entries are still on their way, or were lost)
 * ignores it. Unanswered: the follower learns what is committed without a round trip
 * (AppendEntries and heartbeats carry it as well, and are answered).
 */
export interface RCommit {
  type: 'r-commit';
  term: number;
  from: number;
  commit: number;
  /** The term of the leader's entry at `commit`. */
  commitTerm: number;
}

/** Leadership transfer (§3.10): the leader tells an up-to-date follower to campaign now. */
export interface RTimeoutNow {
  type: 'r-timeout-now';
  term: number;
  from: number;
}

/**
 * InstallSnapshot (§7) for a follower whose next entry the leader compacted away: the log up to
 * `index` (whose entry has `lastTerm`) is committed and covered by snapshots of the replicas. The
 * state itself does not ride here: the follower's replica pulls a peer replica's snapshot in
 * chunks (see snapshot-transfer.ts).
 */
export interface RSnapshot {
  type: 'r-snapshot';
  term: number;
  from: number;
  index: number;
  lastTerm: number;
}

/**
 * A client's reads, forwarded by a follower to the leader it knows (as etcd forwards ReadIndex
 * requests): the leader takes them as if the client had sent them (its replica answers the
 * client, whose address is in the message). Forwarded once at most: a node that does not lead
 * when it arrives redirects the client instead. (Requests are redirected, so that the client's
 * next ones go straight to the leader; the message can carry one all the same.)
 */
export interface RForward {
  type: 'r-forward';
  from: number;
  message: MClientRequest | MClientReads;
}

/** Asks the leader (any node forwards it there) to hand leadership to node `to`. */
export interface RTransfer {
  type: 'r-transfer';
  to: number;
}

/** What nodes send each other. */
export type RaftPeerMsg = RVote | RVoteResp | RAppend | RAppendResp | RHeartbeat | RHeartbeatResp | RCommit | RTimeoutNow | RSnapshot;

/** Everything a RaftNode receives: peers, clients (the client protocol of @synod/smr), replicas, itself. */
export type RaftMsg =
  | RaftPeerMsg
  | RTransfer
  | RForward
  | MClientRequest
  | MClientReads
  | MClientRoutesLost
  | MApplied
  | MFetch
  | { type: 'tick' }
  | { type: 'flush' }
  | { type: 'read-round' }
  | MRaftConfigure;

/**
 * Wiring (refs that did not exist at spawn) and tuning: the bounds that concern this node alone
 * (see `RaftTuning`) may change while it runs. Answered with `configured`.
 */
export interface MRaftConfigure {
  type: 'configure';
  nodes?: ActorRef<RaftMsg>[];
  replicas?: ActorRef<any>[];
  options?: Partial<RaftTuning>;
}
/** The answer to `configure`: `ok` false (with why) when it was refused, and then nothing changed. */
export interface MRaftConfigured {
  type: 'configured';
  ok: boolean;
  error?: string;
}
