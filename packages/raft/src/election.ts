/**
 * Leader election (§5.2, §5.4.1), with PreVote (dissertation §9.6) and leadership transfer
 * (§3.10), as etcd's raft does them.
 *
 * A follower that hears no leader within its randomised election timeout first asks the others
 * whether they would vote for it in the next term (a pre-vote changes no one's term or vote);
 * with a majority it becomes a candidate: a new term, a vote for itself, RequestVote to all. A
 * node grants one vote per term, first come first served, to a candidate whose log is at least
 * as up-to-date as its own, and never while it heard a leader less than an election timeout ago
 * (the lease that CheckQuorum and lease reads rely on) unless the campaign is a transfer. A
 * candidate with a majority of votes is the leader: it appends a no-op of its term, whose commit
 * commits every earlier entry (§5.4.2) and makes its commit index current for reads.
 */
import { assert } from './assert.js';
import { leadershipLost } from './client-entry.js';
import { persistHard } from './durable.js';
import type { RTimeoutNow, RTransfer, RVote, RVoteResp } from './messages.js';
import { Progress } from './progress.js';
import { appendEntry, broadcastAppend, sendAppend, sendTimeoutNow } from './replication.js';
import { NONE, popcount, resetElectionTimer, type RaftCtx, type RaftNodeState } from './state.js';

/** Becomes (or stays) a follower in `term`, of `leader` when known. A new term forgets the vote (persisted). */
export function becomeFollower(s: RaftNodeState, term: number, leader: number, ctx: RaftCtx): void {
  const wasLeader = s.status === 'leader';
  if (term !== s.term) {
    assert(term > s.term, () => `raft: term went back from ${s.term} to ${term}`);
    s.term = term;
    s.vote = NONE;
    persistHard(s, ctx);
  }
  s.status = 'follower';
  s.leader = leader;
  s.votesGranted = 0;
  s.votesRefused = 0;
  const now = ctx.now();
  if (leader !== NONE) s.heardLeaderAt = now;
  resetElectionTimer(s, now, ctx);
  if (wasLeader) endReign(s, ctx);
}

/** What only a leader holds goes; what waited here goes back to its clients. */
function endReign(s: RaftNodeState, ctx: RaftCtx): void {
  leadershipLost(s, ctx);
  s.transferee = NONE;
  s.leaseUntil = 0;
  s.leaseDisabled = false;
  s.uncommittedBytes = 0;
}

/**
 * Campaigns: `pre` asks for pre-votes for the next term; `real` becomes a candidate in a new
 * term; `transfer` too, telling voters to ignore their leases (the leader asked for it).
 */
export function campaign(s: RaftNodeState, kind: 'pre' | 'real' | 'transfer', ctx: RaftCtx): void {
  assert(s.status !== 'leader', 'raft: a leader does not campaign');
  resetElectionTimer(s, ctx.now(), ctx);
  s.votesGranted = 1 << s.index;
  s.votesRefused = 0;
  s.leader = NONE;
  if (kind === 'pre') {
    s.status = 'pre-candidate';
    s.stats.preVotes++;
    if (s.majority === 1) {
      campaign(s, 'real', ctx);
      return;
    }
    requestVotes(s, s.term + 1, true, false, ctx);
    return;
  }
  s.term++;
  s.vote = s.index;
  persistHard(s, ctx);
  s.status = 'candidate';
  s.stats.elections++;
  if (s.majority === 1) {
    becomeLeader(s, ctx);
    return;
  }
  requestVotes(s, s.term, false, kind === 'transfer', ctx);
}

function requestVotes(s: RaftNodeState, term: number, pre: boolean, transfer: boolean, ctx: RaftCtx): void {
  const m: RVote = { type: 'r-vote', term, from: s.index, lastIndex: s.log.lastIndex, lastTerm: s.log.lastTerm, pre, transfer };
  for (let i = 0; i < s.nodes.length; i++) if (i !== s.index) ctx.send(s.nodes[i]!, m);
}

/** A (pre-)vote request; the caller has applied the term rules (and the lease for a higher term). */
export function onVote(s: RaftNodeState, m: RVote, ctx: RaftCtx): void {
  const canVote =
    s.vote === m.from ||
    (s.vote === NONE && s.leader === NONE) ||
    // A pre-vote for a future term promises nothing.
    (m.pre && m.term > s.term);
  const to = s.nodes[m.from]!;
  if (canVote && s.log.isUpToDate(m.lastIndex, m.lastTerm)) {
    // The term of the request, not ours: a pre-candidate ignores answers of other terms.
    ctx.send(to, { type: 'r-vote-resp', term: m.term, from: s.index, granted: true, pre: m.pre } satisfies RVoteResp);
    if (!m.pre) {
      s.vote = m.from;
      resetElectionTimer(s, ctx.now(), ctx);
      persistHard(s, ctx);
    }
  } else {
    ctx.send(to, { type: 'r-vote-resp', term: s.term, from: s.index, granted: false, pre: m.pre } satisfies RVoteResp);
  }
}

/** An answer to our (pre-)vote request. */
export function onVoteResp(s: RaftNodeState, m: RVoteResp, ctx: RaftCtx): void {
  if (m.pre ? s.status !== 'pre-candidate' || (m.granted && m.term !== s.term + 1) : s.status !== 'candidate') return;
  const bit = 1 << m.from;
  if ((s.votesGranted | s.votesRefused) & bit) return;
  if (m.granted) s.votesGranted |= bit;
  else s.votesRefused |= bit;
  if (popcount(s.votesGranted) >= s.majority) {
    if (m.pre) campaign(s, 'real', ctx);
    else becomeLeader(s, ctx);
  } else if (popcount(s.votesRefused) >= s.majority) {
    becomeFollower(s, s.term, NONE, ctx);
  }
}

/** Elected: fresh progress for every follower, and a no-op of this term to commit. */
export function becomeLeader(s: RaftNodeState, ctx: RaftCtx): void {
  assert(s.status === 'candidate' && s.vote === s.index, 'raft: only a candidate that voted for itself becomes leader');
  const o = s.opts;
  const now = ctx.now();
  s.status = 'leader';
  s.leader = s.index;
  s.heardLeaderAt = now;
  s.stats.leaderships++;
  const next = s.log.lastIndex + 1;
  s.progress = s.nodes.map((_, i) => {
    const p = new Progress(next, o.maxInflightMsgs, o.maxInflightBytes);
    p.recentActive = i === s.index;
    if (i === s.index) {
      p.match = next - 1;
      p.becomeReplicate();
    }
    return p;
  });
  s.transferee = NONE;
  s.leaseUntil = 0;
  s.leaseDisabled = false;
  s.roundAcks.fill(0);
  s.confirmedRound = s.round;
  s.quorumCheckAt = now + o.electionTimeoutMs;
  s.lastHeartbeatAt = now;
  s.uncommittedBytes = 0;
  s.commandsThrough.clear();
  s.reignBase = s.proposedCommands;
  s.commandsFrom = s.log.lastIndex;
  appendEntry(s, null, 0, 0, ctx);
  broadcastAppend(s, ctx);
}

/** The leader asks this node to campaign now (a transfer): no pre-vote, leases ignored. */
export function onTimeoutNow(s: RaftNodeState, _m: RTimeoutNow, ctx: RaftCtx): void {
  if (s.status === 'follower') campaign(s, 'transfer', ctx);
}

/**
 * A request to hand leadership to `to`: the leader stops taking new entries, brings `to`
 * up to date, then tells it to campaign; given up after an election timeout. Others forward it
 * to the leader they know.
 */
export function onTransfer(s: RaftNodeState, m: RTransfer, ctx: RaftCtx): void {
  if (s.status !== 'leader') {
    if (s.leader !== NONE && s.leader !== s.index) ctx.send(s.nodes[s.leader]!, m);
    return;
  }
  const to = m.to;
  if (!Number.isInteger(to) || to < 0 || to >= s.nodes.length || to === s.index || to === s.transferee) return;
  s.transferee = to;
  s.transferDeadline = ctx.now() + s.opts.electionTimeoutMs;
  s.stats.transfers++;
  if (s.progress[to]!.match === s.log.lastIndex) sendTimeoutNow(s, to, ctx);
  else sendAppend(s, to, true, ctx);
}
