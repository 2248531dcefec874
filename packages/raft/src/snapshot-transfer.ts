/**
 * InstallSnapshot (§7), for a follower whose next entry the leader has compacted away.
 *
 * A RaftNode holds no state machine: its node's replica does (`@synod/paxos`'s Replica, which
 * takes its snapshots in chunks into `ctx.snapshots`), and a leader compacts its log only up to
 * that replica's snapshot point. So the snapshot a follower needs already exists on the replicas,
 * and the replicas already know how to move one: a replica that asks a peer (`m-fetch`) for slots
 * the peer has cut is offered the peer's snapshot and pulls it chunk by chunk
 * (`m-snapshot-offer` / `m-snapshot-pull` / `m-snapshot-chunk`), whatever its size, one chunk in
 * flight, kept durable as it arrives. Raft does not send the state a second way.
 *
 * What Raft sends is the part only Raft knows: the log up to `index` is committed, and the entry
 * at `index` has `lastTerm`. The follower replaces its log by that compaction point (unless its
 * log already holds that very entry: then it keeps what follows, as etcd does), moves its commit
 * index there, tells its replica the new commit point (the replica, behind it, fetches what it
 * misses from its peers: their logs, or their snapshots in chunks), and answers as it answers
 * AppendEntries, so the leader resumes replication from `index + 1` at once: the log never waits
 * for the state to cross. Why this is safe: everything up to `index` is committed (a leader
 * compacts only committed entries), so no election can need those entries again, and a
 * follower's vote compares only its last index and term, which the compaction point keeps.
 *
 * Pure: it touches the world only through `ctx`.
 */
import { tellCommitPoint } from './apply.js';
import { persistReset } from './durable.js';
import type { RAppendResp, RSnapshot } from './messages.js';
import type { RaftCtx, RaftNodeState } from './state.js';

// ------------------------------------------------------------------ leader

/**
 * Sends follower `to` the leader's compaction point; probing resumes after it (its answer, or the
 * next heartbeat's, moves the follower on). Returns whether it was sent.
 */
export function sendSnapshot(s: RaftNodeState, to: number, ctx: RaftCtx): boolean {
  const pr = s.progress[to]!;
  const log = s.log;
  ctx.send(s.nodes[to]!, { type: 'r-snapshot', term: s.term, from: s.index, index: log.snapIndex, lastTerm: log.snapTerm } satisfies RSnapshot);
  s.stats.snapshotsSent++;
  // The follower's log will end at the compaction point at least: probe from just past it.
  pr.becomeProbe();
  pr.next = log.snapIndex + 1;
  pr.probeSent = true;
  return true;
}

// ------------------------------------------------------------------ follower

/** The leader's compaction point (the caller checked the term and follows its sender). */
export function onSnapshot(s: RaftNodeState, m: RSnapshot, ctx: RaftCtx): void {
  const log = s.log;
  if (m.index > s.commitIndex) {
    if (!log.matchTerm(m.index, m.lastTerm)) {
      // The log does not reach (or contradicts) the compaction point: it is replaced by it.
      const oldSnap = log.snapIndex;
      const oldLast = log.lastIndex;
      log.reset(m.index, m.lastTerm);
      persistReset(s, oldSnap, oldLast, ctx);
    }
    // Entries still in the log go to the replica as usual; those that are not, it fetches from
    // its peers once it hears the commit point.
    s.commitIndex = m.index;
    s.stats.snapshotsInstalled++;
    tellCommitPoint(s, ctx);
  }
  ctx.send(s.nodes[m.from]!, {
    type: 'r-append-resp',
    term: s.term,
    from: s.index,
    index: s.commitIndex,
    reject: false,
    hintIndex: 0,
    hintTerm: 0,
  } satisfies RAppendResp);
}
