/**
 * Log replication (§5.3) and commitment (§5.4.2), the way etcd's raft does them.
 *
 * Leader: appends client batches (and a no-op when elected) to its log, and streams entries to
 * each follower according to its {@link Progress}: one probe at a time until the logs are known
 * to match, then a pipeline of AppendEntries bounded in messages and bytes. A rejection carries
 * the follower's hint, so a divergent term is skipped per round trip. An entry is committed once
 * a majority stores it and it is of the leader's current term (the commit rule of Figure 8: an
 * older entry is committed only by a later entry of the current term above it). Heartbeats carry
 * the commit index (at most what the follower is known to match) and number rounds that confirm
 * linearizable reads and renew the lease.
 *
 * Follower: accepts entries that follow an entry it holds with the same index and term (the
 * consistency check), deletes a conflicting suffix, never an entry it knows committed.
 */
import type { SlotValue } from '@synod/paxos';
import { assert } from './assert.js';
import { serveReads } from './client-entry.js';
import { persistAppended, persistTruncated } from './durable.js';
import { UNKNOWN_TERM } from './log.js';
import type { Entry, RAppend, RAppendResp, RCommit, RHeartbeat, RHeartbeatResp, RTimeoutNow } from './messages.js';
import { sendSnapshot } from './snapshot-transfer.js';
import { ROUNDS_TRACKED, popcount, type RaftCtx, type RaftNodeState } from './state.js';

// ------------------------------------------------------------------ leader: appending

/** Appends one entry of this leader's term (persisted in this turn). The caller broadcasts. */
export function appendEntry(s: RaftNodeState, value: SlotValue, commands: number, bytes: number, ctx: RaftCtx): void {
  assert(s.status === 'leader', 'raft: only a leader appends entries of its own');
  const e: Entry = { term: s.term, value, bytes };
  s.log.append([e]);
  const index = s.log.lastIndex;
  persistAppended(s, index, ctx);
  s.progress[s.index]!.match = index;
  s.progress[s.index]!.next = index + 1;
  s.uncommittedBytes += bytes;
  s.proposedCommands += commands;
  s.commandsThrough.set(index, s.proposedCommands);
  s.stats.entries++;
  s.stats.commands += commands;
  // A single-node cluster commits at once.
  if (s.majority === 1) maybeCommit(s);
}

/**
 * Sends follower `to` what it lacks, if its progress allows: entries from `next` (up to
 * `maxAppendBytes`), or an empty AppendEntries (it carries the commit index) when
 * `sendIfEmpty`. A follower the log no longer reaches gets a snapshot. Returns whether anything
 * was sent.
 */
export function sendAppend(s: RaftNodeState, to: number, sendIfEmpty: boolean, ctx: RaftCtx): boolean {
  const pr = s.progress[to]!;
  if (pr.state === 'probe' && pr.probeSent) return false;
  const prevIndex = pr.next - 1;
  const prevTerm = s.log.term(prevIndex);
  if (prevTerm === UNKNOWN_TERM) {
    // The entry before `next` is compacted away (or `next` ran past the log): install a snapshot.
    if (prevIndex < s.log.snapIndex) return sendSnapshot(s, to, ctx);
    pr.next = s.log.lastIndex + 1;
    return false;
  }
  const entries = pr.state === 'replicate' && pr.inflights.full() ? [] : s.log.slice(pr.next, s.opts.maxAppendBytes);
  if (entries.length === 0 && !sendIfEmpty) return false;
  const m: RAppend = { type: 'r-append', term: s.term, from: s.index, prevIndex, prevTerm, entries, commit: s.commitIndex };
  ctx.send(s.nodes[to]!, m);
  let bytes = 0;
  for (const e of entries) bytes += e.bytes;
  pr.sentEntries(entries.length, prevIndex + entries.length, bytes);
  // The follower commits up to the commit index carried, but not past the entries it now holds.
  const commits = Math.min(s.commitIndex, prevIndex + entries.length);
  if (commits > pr.sentCommit) pr.sentCommit = commits;
  return true;
}

/** Sends every follower the entries it lacks (as many messages as the pipeline allows). */
export function broadcastAppend(s: RaftNodeState, ctx: RaftCtx): void {
  for (let to = 0; to < s.nodes.length; to++) {
    if (to === s.index) continue;
    while (sendAppend(s, to, false, ctx)) {
      /* until the window or the log is exhausted */
    }
  }
}

/**
 * Tells each follower a commit index it has not heard yet (an unanswered `r-commit`), in the turn
 * the commit index moved: all of them at once, as a Multi-Paxos leader sends its decision to
 * every replica. A follower that has not acknowledged yet is told up to the last entry sent to it,
 * which reaches it first; the entry's term lets it check that it holds it. (Told only once it
 * acknowledged, the slower follower waited a round trip more for the news, and the leader spent
 * a turn sending it while its replica had a client to answer.)
 */
export function broadcastCommit(s: RaftNodeState, ctx: RaftCtx): void {
  for (let to = 0; to < s.nodes.length; to++) if (to !== s.index) sendCommit(s, to, ctx);
}

function sendCommit(s: RaftNodeState, to: number, ctx: RaftCtx): void {
  const pr = s.progress[to]!;
  const commit = Math.min(s.commitIndex, Math.max(pr.match, pr.next - 1));
  if (pr.sentCommit >= commit) return;
  const commitTerm = s.log.term(commit);
  if (commitTerm === UNKNOWN_TERM) return;
  ctx.send(s.nodes[to]!, { type: 'r-commit', term: s.term, from: s.index, commit, commitTerm } satisfies RCommit);
  pr.sentCommit = commit;
}

/**
 * Advances the commit index to the highest index a majority stores, if that entry is of the
 * current term (§5.4.2). Returns whether it advanced.
 */
export function maybeCommit(s: RaftNodeState): boolean {
  const q = quorumMatch(s);
  if (q <= s.commitIndex || s.log.term(q) !== s.term) return false;
  for (let i = s.commitIndex + 1; i <= q; i++) {
    const e = s.log.entry(i);
    if (e && e.term === s.term) s.uncommittedBytes -= e.bytes;
  }
  if (s.uncommittedBytes < 0) s.uncommittedBytes = 0;
  s.commitIndex = q;
  return true;
}

/** The highest index a majority stores: the majority-th largest match (no allocation: acknowledgements come often). */
function quorumMatch(s: RaftNodeState): number {
  const m = matchScratch;
  const n = s.progress.length;
  for (let i = 0; i < n; i++) m[i] = s.progress[i]!.match;
  // Insertion sort, descending: n is at most 31.
  for (let i = 1; i < n; i++) {
    const v = m[i]!;
    let j = i - 1;
    while (j >= 0 && m[j]! < v) {
      m[j + 1] = m[j]!;
      j--;
    }
    m[j + 1] = v;
  }
  return m[s.majority - 1]!;
}
const matchScratch = new Float64Array(32);

// ------------------------------------------------------------------ leader: answers

/** A follower's answer to AppendEntries (or to a snapshot). */
export function onAppendResp(s: RaftNodeState, m: RAppendResp, ctx: RaftCtx): void {
  const pr = s.progress[m.from];
  if (!pr || m.from === s.index) return;
  pr.recentActive = true;
  if (m.reject) {
    // Skip the follower's divergent term at once: probe at the last index whose term is at
    // most the one it reports there.
    let next = m.hintIndex;
    if (m.hintTerm > 0) next = s.log.findConflictByTerm(m.hintIndex, m.hintTerm)[0];
    if (pr.state === 'probe' && m.index === pr.next - 1 && m.index === pr.match && m.hintIndex < pr.match) {
      // The follower's log ends below what it acknowledged: it lost durable data (memory
      // storage, a damaged disk). Say so once, and replicate again from where its log ends, or it
      // would never catch up. Only the leader's view moves back: nothing committed does.
      if (!pr.lossReported) {
        pr.lossReported = true;
        ctx.log.error(
          `node ${m.from} acknowledged entries up to ${pr.match} but its log now ends at ${m.hintIndex}: it lost durable data (check its storage); replicating to it again from there`,
        );
      }
      pr.forgetMatch(next);
      sendAppend(s, m.from, true, ctx);
      return;
    }
    if (pr.maybeDecrTo(m.index, next)) {
      if (pr.state === 'replicate') pr.becomeProbe();
      sendAppend(s, m.from, true, ctx);
    }
    return;
  }
  const updated = pr.maybeUpdate(m.index);
  if (!(updated || (pr.match === m.index && pr.state === 'probe'))) {
    return;
  } else if (pr.state === 'probe') {
    pr.becomeReplicate();
  } else if (pr.state === 'replicate') {
    pr.inflights.freeLE(m.index);
  }
  // A new commit index: the caller tells every follower. Else this follower may not have heard
  // the commit index its entries reached (it acknowledged after the others).
  if (!maybeCommit(s)) sendCommit(s, m.from, ctx);
  // Flow control freed room: send as much as now fits.
  while (sendAppend(s, m.from, false, ctx)) {
    /* fill the window */
  }
  if (m.from === s.transferee && pr.match === s.log.lastIndex) sendTimeoutNow(s, m.from, ctx);
}

// ------------------------------------------------------------------ leader: heartbeats

/** A heartbeat round to every follower: a new round number for read confirmation and the lease. */
export function sendHeartbeats(s: RaftNodeState, ctx: RaftCtx): void {
  const now = ctx.now();
  s.lastHeartbeatAt = now;
  s.round++;
  const slot = s.round % ROUNDS_TRACKED;
  s.roundSentAt[slot] = now;
  s.roundAcks[slot] = 1 << s.index;
  for (let to = 0; to < s.nodes.length; to++) {
    if (to === s.index) continue;
    const pr = s.progress[to]!;
    // Never a commit index past what the follower is known to match (it may hold other entries there).
    const commit = Math.min(pr.match, s.commitIndex);
    ctx.send(s.nodes[to]!, { type: 'r-heartbeat', term: s.term, from: s.index, commit, round: s.round } satisfies RHeartbeat);
    if (commit > pr.sentCommit) pr.sentCommit = commit;
  }
  if (s.majority === 1) confirmRound(s, s.round, ctx);
}

export function onHeartbeatResp(s: RaftNodeState, m: RHeartbeatResp, ctx: RaftCtx): void {
  const pr = s.progress[m.from];
  if (!pr || m.from === s.index) return;
  pr.recentActive = true;
  pr.probeSent = false;
  // A follower behind (or whose appends were lost) gets an append now: in a full window an
  // empty one, whose answer tells where the follower really is.
  if (pr.match < s.log.lastIndex || pr.state === 'probe') sendAppend(s, m.from, true, ctx);
  // Answers to a round already confirmed, or too old to be tracked, add nothing.
  if (m.round <= s.confirmedRound || m.round > s.round || s.round - m.round >= ROUNDS_TRACKED) return;
  const slot = m.round % ROUNDS_TRACKED;
  const bit = 1 << m.from;
  if (s.roundAcks[slot]! & bit) return;
  s.roundAcks[slot]! |= bit;
  if (popcount(s.roundAcks[slot]!) === s.majority) confirmRound(s, m.round, ctx);
}

/**
 * A majority answered `round`: this node was still the leader when the round was sent (reads
 * that arrived before it are confirmed, and those of earlier rounds), and every one of them
 * refuses other candidates for an election timeout after hearing it (the lease).
 */
function confirmRound(s: RaftNodeState, round: number, ctx: RaftCtx): void {
  s.confirmedRound = round;
  const lease = s.roundSentAt[round % ROUNDS_TRACKED]! + s.opts.electionTimeoutMs * (1 - s.opts.maxClockDrift);
  if (lease > s.leaseUntil) s.leaseUntil = lease;
  serveReads(s, ctx);
}

// ------------------------------------------------------------------ leader: transfer

/** Tells an up-to-date follower to campaign now (§3.10). From here on this reign serves no lease reads. */
export function sendTimeoutNow(s: RaftNodeState, to: number, ctx: RaftCtx): void {
  // The transferee's campaign bypasses the followers' leases: ours is no promise any more.
  s.leaseDisabled = true;
  s.leaseUntil = 0;
  ctx.send(s.nodes[to]!, { type: 'r-timeout-now', term: s.term, from: s.index } satisfies RTimeoutNow);
}

// ------------------------------------------------------------------ follower

function reply(s: RaftNodeState, to: number, m: Omit<RAppendResp, 'type' | 'term' | 'from'>, ctx: RaftCtx): void {
  ctx.send(s.nodes[to]!, { type: 'r-append-resp', term: s.term, from: s.index, ...m } satisfies RAppendResp);
}

/** Moves the commit index up to `index` (never down, never past the log). */
export function commitTo(s: RaftNodeState, index: number): void {
  if (index <= s.commitIndex) return;
  assert(index <= s.log.lastIndex, () => `raft: commit index ${index} beyond the last index ${s.log.lastIndex}`);
  s.commitIndex = index;
}

/** AppendEntries from the leader of this term (the caller checked the term and follows its sender). */
export function onAppend(s: RaftNodeState, m: RAppend, ctx: RaftCtx): void {
  const log = s.log;
  if (m.prevIndex < s.commitIndex) {
    // Everything up to the commit index is known to match: say how far.
    reply(s, m.from, { index: s.commitIndex, reject: false, hintIndex: 0, hintTerm: 0 }, ctx);
    return;
  }
  if (!log.matchTerm(m.prevIndex, m.prevTerm)) {
    // Not the entry the leader has there: hint at the last index that may match.
    const [hintIndex, hintTerm] = log.findConflictByTerm(Math.min(m.prevIndex, log.lastIndex), m.prevTerm);
    reply(s, m.from, { index: m.prevIndex, reject: true, hintIndex, hintTerm }, ctx);
    return;
  }
  const lastNew = m.prevIndex + m.entries.length;
  let k = 0;
  for (; k < m.entries.length; k++) {
    const i = m.prevIndex + 1 + k;
    if (i > log.lastIndex) break;
    if (log.term(i) !== m.entries[k]!.term) {
      // A conflicting suffix: the leader's entries win (§5.3). Never a committed one.
      assert(i > s.commitIndex, () => `raft: the leader of term ${m.term} conflicts with committed entry ${i}`);
      const oldLast = log.lastIndex;
      log.truncateFrom(i);
      persistTruncated(i, oldLast, ctx);
      break;
    }
  }
  if (k < m.entries.length) {
    const from = log.lastIndex + 1;
    log.append(m.entries.slice(k));
    persistAppended(s, from, ctx);
  }
  commitTo(s, Math.min(m.commit, lastNew));
  reply(s, m.from, { index: lastNew, reject: false, hintIndex: 0, hintTerm: 0 }, ctx);
}

/** The leader's heartbeat (the caller checked the term and follows its sender). */
export function onHeartbeat(s: RaftNodeState, m: RHeartbeat, ctx: RaftCtx): void {
  commitTo(s, Math.min(m.commit, s.log.lastIndex));
  ctx.send(s.nodes[m.from]!, { type: 'r-heartbeat-resp', term: s.term, from: s.index, round: m.round } satisfies RHeartbeatResp);
}
