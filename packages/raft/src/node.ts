/**
 * The RaftNode actor: one per replica node, beside that node's Multi-Paxos `Replica` (which
 * applies what this node commits). It is election, log, replication and commitment in one
 * behaviour, as in the paper and etcd's raft; the parts live in their own modules:
 *
 *   election.ts           PreVote, RequestVote, becoming leader, leadership transfer
 *   replication.ts        AppendEntries, progress and pipelining, the commit rule, heartbeats
 *   snapshot-transfer.ts  InstallSnapshot: the compaction point (the state crosses between replicas)
 *   apply.ts              committed entries to the replica; its reports; log compaction
 *   client-entry.ts       client requests and reads (the client protocol of @synod/smr)
 *
 * This module holds the actor: its state at start and restart, the term rules every message
 * goes through first (§5.1, with the lease and PreVote exceptions of etcd's `Step`), the timers
 * (election timeout, heartbeats, CheckQuorum), and what follows a commit.
 *
 * Pure: it touches the world only through `ctx`.
 */
import { InvalidOptionError, defineActor, type ActorContext, type ActorRef } from '@synod/actors';
import { IntMap } from '@synod/actors/internals';
import { applyLag, compact, deliverCommitted, onReplicaFetch, onReplicaReport, tellCommitPoint } from './apply.js';
import { flushCommands, newClientEntryState, onForward, onReads, onRequest, pendingCommands, queueFlush, serveReads } from './client-entry.js';
import { HARD_KEY, recoverRaft, type RecoveredRaft } from './durable.js';
import { becomeFollower, campaign, onTimeoutNow, onTransfer, onVote, onVoteResp } from './election.js';
import type { MRaftConfigure, MRaftConfigured, RaftMsg, RaftPeerMsg } from './messages.js';
import { resolveRaftOptions, tunedRaftOptions, type RaftOptions } from './options.js';
import {
  appendEntry,
  broadcastAppend,
  broadcastCommit,
  commitTo,
  onAppend,
  onAppendResp,
  onHeartbeat,
  onHeartbeatResp,
  sendHeartbeats,
} from './replication.js';
import { onSnapshot } from './snapshot-transfer.js';
import { NONE, ROUNDS_TRACKED, inLease, resetElectionTimer, type RaftCtx, type RaftNodeState } from './state.js';

/** Votes are counted in bits of a 32-bit number. */
export const MAX_RAFT_NODES = 31;

export interface RaftNodeArgs {
  /** This node's number, 0..size-1. */
  index: number;
  /** How many nodes the cluster has (fixed: there are no membership changes). */
  size: number;
  /** Every RaftNode, by node number (this one included); may come later with `configure`. */
  nodes?: ActorRef<RaftMsg>[];
  /** Every replica, by node number; this node feeds `replicas[index]`. */
  replicas?: ActorRef<any>[];
  options?: Partial<RaftOptions>;
  /**
   * For campaigns that prove they catch bugs: a node that loses its term and vote on every
   * restart (its log it keeps), as one that did not persist them, or persisted them after
   * answering, would. It may vote twice in a term. NOT Raft: never set it outside such a test.
   */
  forgetful?: boolean;
}

/** The state a RaftNode starts with, from its arguments and what it recovered. */
export function createRaftNodeState(args: RaftNodeArgs, ctx: ActorContext<RaftMsg, never>, recovered: RecoveredRaft): RaftNodeState {
  const opts = resolveRaftOptions(args.options);
  if (!(Number.isInteger(args.size) && args.size >= 1 && args.size <= MAX_RAFT_NODES)) {
    throw new InvalidOptionError(`a Raft cluster has 1..${MAX_RAFT_NODES} nodes, got size ${String(args.size)}`);
  }
  if (!(Number.isInteger(args.index) && args.index >= 0 && args.index < args.size)) {
    throw new InvalidOptionError(`RaftNode index must be within 0..${args.size - 1}, got ${String(args.index)}`);
  }
  if (args.nodes && args.nodes.length > 0 && args.nodes.length !== args.size) {
    throw new InvalidOptionError(`RaftNode: ${args.nodes.length} node refs for a cluster of ${args.size}`);
  }
  const now = ctx.now();
  const { hard, log } = recovered;
  const s: RaftNodeState = {
    role: 'raft-node',
    index: args.index,
    nodes: args.nodes ?? [],
    replicas: args.replicas ?? [],
    opts,
    size: args.size,
    majority: Math.floor(args.size / 2) + 1,
    term: hard?.term ?? 0,
    vote: hard?.vote ?? NONE,
    log,
    status: 'follower',
    leader: NONE,
    commitIndex: log.snapIndex,
    electionDeadline: 0,
    electionWait: opts.electionTimeoutMs,
    heardLeaderAt: Number.NEGATIVE_INFINITY,
    // A node that had a term may have been inside a leader's lease when it went down: it keeps
    // refusing votes for an election timeout, as if it still were.
    voteLeaseUntil: hard ? now + opts.electionTimeoutMs : 0,
    votesGranted: 0,
    votesRefused: 0,
    progress: [],
    lastHeartbeatAt: Number.NEGATIVE_INFINITY,
    quorumCheckAt: 0,
    transferee: NONE,
    transferDeadline: 0,
    leaseDisabled: false,
    uncommittedBytes: 0,
    round: 0,
    roundSentAt: new Array(ROUNDS_TRACKED).fill(0),
    roundAcks: new Array(ROUNDS_TRACKED).fill(0),
    confirmedRound: 0,
    leaseUntil: 0,
    deliveredUpTo: log.snapIndex,
    toldReplicaAt: Number.NEGATIVE_INFINITY,
    localSnapshotAt: log.snapIndex,
    compactedFor: log.snapIndex,
    reports: new Map(),
    quorumApplied: Number.POSITIVE_INFINITY,
    proposedCommands: 0,
    commandsThrough: new IntMap(),
    reignBase: 0,
    commandsFrom: 0,
    client: newClientEntryState(),
    incarnationStart: now,
    stats: {
      elections: 0,
      preVotes: 0,
      leaderships: 0,
      entries: 0,
      commands: 0,
      snapshotsSent: 0,
      snapshotsInstalled: 0,
      transfers: 0,
      redirects: 0,
      forwarded: 0,
    },
  };
  // The preferred node campaigns at once at a cold start only; restarted, it waits like anyone.
  const coldStart = hard === undefined && log.lastIndex === 0;
  resetElectionTimer(s, now, ctx as RaftCtx);
  if (coldStart && args.index === opts.preferredLeader) s.electionDeadline = now;
  ctx.setTimer('tick', opts.tickMs, { type: 'tick' });
  return s;
}

/** A plain-data view for inspection and dashboards. */
export function inspectRaftNode(s: RaftNodeState): unknown {
  return {
    role: s.role,
    index: s.index,
    term: s.term,
    vote: s.vote,
    status: s.status,
    leader: s.leader,
    commitIndex: s.commitIndex,
    snapIndex: s.log.snapIndex,
    lastIndex: s.log.lastIndex,
    lastTerm: s.log.lastTerm,
    deliveredUpTo: s.deliveredUpTo,
    progress:
      s.status !== 'leader'
        ? []
        : s.progress.map((p) => ({ state: p.state, match: p.match, next: p.next, inflight: p.inflights.count, recentActive: p.recentActive })),
    transferee: s.transferee,
    uncommittedBytes: s.uncommittedBytes,
    applyLag: applyLag(s),
    pending: pendingCommands(s),
    reads: s.client.reads.length,
    routes: s.client.routes.size,
    stats: s.stats,
  };
}

export const RaftNode = defineActor<RaftNodeState, RaftMsg, RaftNodeArgs, never>({
  module: import.meta.url,
  label: 'RaftNode',
  storage: 'shared',
  init(args, ctx) {
    const entries = ctx.recoveredEntries();
    if (args.forgetful === true) entries.delete(HARD_KEY);
    return createRaftNodeState(args, ctx, recoverRaft(entries));
  },
  inspect: inspectRaftNode,
  receive: receiveRaft,
});

/** Handles one message (exported for variants of the node that share its behaviour). */
export function receiveRaft(s: RaftNodeState, msg: RaftMsg, ctx: ActorContext<RaftMsg, never>): void {
  const c = ctx as RaftCtx;
  const committed = s.commitIndex;
  switch (msg.type) {
    case 'r-vote':
    case 'r-vote-resp':
    case 'r-append':
    case 'r-append-resp':
    case 'r-heartbeat':
    case 'r-heartbeat-resp':
    case 'r-commit':
    case 'r-timeout-now':
    case 'r-snapshot':
      if (configured(s)) step(s, msg, c);
      break;
    case 'r-transfer':
      if (configured(s)) onTransfer(s, msg, c);
      break;
    case 'client-request':
      onRequest(s, msg, c);
      break;
    case 'client-reads':
      onReads(s, msg, c);
      break;
    case 'client-routes-lost':
      // This node's replica restarted: every client's route goes to it again (MClientRoutesLost).
      if (msg.replica === s.index) s.client.routes.clear();
      break;
    case 'r-forward':
      if (configured(s)) onForward(s, msg, c);
      break;
    case 'flush':
      onFlush(s, c);
      break;
    case 'read-round':
      s.client.readRoundQueued = false;
      if (s.status === 'leader') sendHeartbeats(s, c);
      break;
    case 'm-applied': {
      const before = s.quorumApplied;
      onReplicaReport(s, msg, c);
      // Flow control (maxApplyLag) may have room again.
      if (s.status === 'leader' && s.quorumApplied > before) queueFlush(s, c);
      break;
    }
    case 'm-fetch':
      onReplicaFetch(s, msg, c);
      break;
    case 'tick':
      onTick(s, c);
      break;
    case 'configure':
      configure(s, msg, c);
      break;
  }
  if (s.commitIndex > committed) onCommitted(s, c);
}

/** Wiring and tuning; answers `configured` (refused tuning changes nothing, and says why). */
function configure(s: RaftNodeState, m: MRaftConfigure, ctx: RaftCtx): void {
  let opts = s.opts;
  try {
    if (m.nodes && m.nodes.length !== s.size)
      throw new InvalidOptionError(`raft node ${s.index}: configure gave ${m.nodes.length} nodes to a cluster of ${s.size}`);
    if (m.options !== undefined) opts = tunedRaftOptions(s.opts, m.options, `raft node ${s.index}: configure`);
  } catch (e) {
    const error = (e as Error).message;
    ctx.log.warn(error);
    ctx.reply({ type: 'configured', ok: false, error } satisfies MRaftConfigured);
    return;
  }
  if (m.nodes) s.nodes = m.nodes;
  if (m.replicas) s.replicas = m.replicas;
  s.opts = opts;
  // Room may have opened (a larger window or batch): take waiting requests now.
  if (s.status === 'leader') queueFlush(s, ctx);
  ctx.reply({ type: 'configured', ok: true } satisfies MRaftConfigured);
}

/** Peers are known (they may come after the start, with `configure`). */
function configured(s: RaftNodeState): boolean {
  return s.nodes.length === s.size;
}

/** Whether a peer message comes from the leader of its term. */
function fromLeader(m: RaftPeerMsg): boolean {
  return m.type === 'r-append' || m.type === 'r-heartbeat' || m.type === 'r-commit' || m.type === 'r-snapshot';
}

/**
 * Every peer message goes through the term rules first (§5.1): a higher term makes this node a
 * follower of it — except a vote request inside a leader's lease, ignored without a term change
 * (CheckQuorum), and the pre-vote round, which changes no term; a lower term is stale.
 */
function step(s: RaftNodeState, m: RaftPeerMsg, ctx: RaftCtx): void {
  if (m.from < 0 || m.from >= s.nodes.length || m.from === s.index) return;
  const now = ctx.now();
  if (m.term > s.term) {
    if (m.type === 'r-vote' && !m.transfer && inLease(s, now)) return;
    if (m.type === 'r-vote' && m.pre) {
      // Never change the term for a pre-vote.
    } else if (m.type === 'r-vote-resp' && m.pre && m.granted) {
      // The future term our pre-campaign asked about: the term moves only if we campaign.
    } else {
      becomeFollower(s, m.term, fromLeader(m) ? m.from : NONE, ctx);
    }
  } else if (m.term < s.term) {
    if (fromLeader(m)) {
      // A leader of an older term (partitioned, or deposed while it paused): an answer with our
      // term makes it step down. With CheckQuorum and PreVote this node may not otherwise tell it.
      ctx.send(s.nodes[m.from]!, { type: 'r-append-resp', term: s.term, from: s.index, index: 0, reject: false, hintIndex: 0, hintTerm: 0 });
    } else if (m.type === 'r-vote' && m.pre) {
      ctx.send(s.nodes[m.from]!, { type: 'r-vote-resp', term: s.term, from: s.index, granted: false, pre: true });
    }
    return;
  }
  switch (m.type) {
    case 'r-vote':
      onVote(s, m, ctx);
      break;
    case 'r-vote-resp':
      onVoteResp(s, m, ctx);
      break;
    case 'r-append':
    case 'r-heartbeat':
    case 'r-commit':
    case 'r-snapshot':
      if (s.status === 'leader') {
        // Two leaders of one term cannot be (election safety); the invariants report it.
        ctx.log.error(`node ${s.index}, leader of term ${s.term}, got ${m.type} from node ${m.from} of the same term`);
        return;
      }
      if (s.status !== 'follower' || s.leader !== m.from) becomeFollower(s, m.term, m.from, ctx);
      s.heardLeaderAt = now;
      s.electionDeadline = now + s.electionWait;
      if (m.type === 'r-append') onAppend(s, m, ctx);
      else if (m.type === 'r-heartbeat') onHeartbeat(s, m, ctx);
      // Only with the leader's entry there: then the logs match up to it (Log Matching, §5.3).
      else if (m.type === 'r-commit') {
        if (s.log.matchTerm(m.commit, m.commitTerm)) commitTo(s, m.commit);
      } else onSnapshot(s, m, ctx);
      break;
    case 'r-append-resp':
      if (s.status === 'leader') onAppendResp(s, m, ctx);
      break;
    case 'r-heartbeat-resp':
      if (s.status === 'leader') onHeartbeatResp(s, m, ctx);
      break;
    case 'r-timeout-now':
      onTimeoutNow(s, m, ctx);
      break;
  }
}

/** The commit index moved: the replica gets the entries; a leader serves reads, appends more and spreads the news. */
function onCommitted(s: RaftNodeState, ctx: RaftCtx): void {
  // The local replica first: it answers the client, so its entries are the first message of the
  // turn (on one thread, the followers' turns would otherwise run before it).
  deliverCommitted(s, ctx);
  // Followers hear it in this turn too: their replicas apply while this one does (news sent a
  // turn later arrived as the next entry did, and their apply delayed its ack).
  if (s.status === 'leader') broadcastCommit(s, ctx);
  if (s.localSnapshotAt > s.log.snapIndex) compact(s, ctx);
  if (s.status !== 'leader') return;
  serveReads(s, ctx);
  if (s.client.pendingCommands > 0) queueFlush(s, ctx);
}

/** Batches waiting commands into entries and sends what followers lack. */
function onFlush(s: RaftNodeState, ctx: RaftCtx): void {
  s.client.flushQueued = false;
  if (s.status !== 'leader') return;
  const appended = flushCommands(s, (value, commands, bytes) => appendEntry(s, value, commands, bytes, ctx));
  if (appended > 0) broadcastAppend(s, ctx);
}

function onTick(s: RaftNodeState, ctx: RaftCtx): void {
  const o = s.opts;
  ctx.setTimer('tick', o.tickMs, { type: 'tick' });
  if (!configured(s)) return;
  const now = ctx.now();
  if (now - s.toldReplicaAt >= o.heartbeatMs) {
    s.toldReplicaAt = now;
    tellCommitPoint(s, ctx);
  }
  if (s.status === 'leader') {
    if (now - s.lastHeartbeatAt >= o.heartbeatMs) sendHeartbeats(s, ctx);
    if (s.transferee !== NONE && now >= s.transferDeadline) {
      // The transfer did not happen in time: lead on, and take client entries again.
      s.transferee = NONE;
      queueFlush(s, ctx);
    }
    if (o.checkQuorum && now >= s.quorumCheckAt) checkQuorum(s, now, ctx);
    return;
  }
  if (now >= s.electionDeadline) campaign(s, o.preVote ? 'pre' : 'real', ctx);
}

/**
 * CheckQuorum: a leader that has not heard from a majority within an election timeout steps
 * down, so a partitioned leader stops taking writes and its followers' leases can end.
 */
function checkQuorum(s: RaftNodeState, now: number, ctx: RaftCtx): void {
  let active = 0;
  for (let i = 0; i < s.progress.length; i++) if (i === s.index || s.progress[i]!.recentActive) active++;
  if (active < s.majority) {
    becomeFollower(s, s.term, NONE, ctx);
    return;
  }
  for (let i = 0; i < s.progress.length; i++) if (i !== s.index) s.progress[i]!.recentActive = false;
  s.quorumCheckAt = now + s.opts.electionTimeoutMs;
}
