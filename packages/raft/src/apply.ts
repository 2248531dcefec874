/**
 * The seam with the replicas (`@synod/paxos`'s Replica, the one Multi-Paxos uses), which apply
 * entries to the state machine with the executor of `@synod/smr` (client sessions, exactly once,
 * in order), answer clients and take snapshots. A RaftNode hands its committed entries to the
 * replica on its own node, as the chosen slots a Multi-Paxos leader sends (`m-decide`: entry i
 * is slot i - 1), tells it the commit point (`m-heartbeat`, so it fetches what it misses),
 * answers its fetches (`m-fetch` → `m-entries`, from what the log still holds; the replica asks
 * its peers for the rest, and they offer their snapshot for what they cut), and reads the
 * replicas' `m-applied` reports: for flow control as leader, and to compact its own log up to
 * the local replica's snapshot point, keeping some entries for followers a little behind.
 */
import type { MApplied, MDecide, MEntries, MFetch, MHeartbeat, SlotValue } from '@synod/paxos';
import { persistCompacted } from './durable.js';
import type { RaftCtx, RaftNodeState } from './state.js';

/** Hands the committed entries the local replica has not been given yet. */
export function deliverCommitted(s: RaftNodeState, ctx: RaftCtx): void {
  const replica = s.replicas[s.index];
  if (!replica) return;
  // What is compacted away is in the replica's snapshot, or it fetches it from its peers.
  let from = Math.max(s.deliveredUpTo, s.log.snapIndex) + 1;
  while (from <= s.commitIndex) {
    const to = Math.min(s.commitIndex, from + s.opts.maxDecideEntries - 1);
    const values: SlotValue[] = [];
    for (let i = from; i <= to; i++) values.push(s.log.entry(i)!.value);
    ctx.send(replica, { type: 'm-decide', firstSlot: from - 1, values } satisfies MDecide);
    from = to + 1;
  }
  if (s.commitIndex > s.deliveredUpTo) s.deliveredUpTo = s.commitIndex;
}

/** Tells the local replica the commit point; it fetches what it lacks below it from this node (or its peers). */
export function tellCommitPoint(s: RaftNodeState, ctx: RaftCtx): void {
  const replica = s.replicas[s.index];
  if (!replica) return;
  ctx.send(replica, { type: 'm-heartbeat', ballot: s.term, leader: s.index, commitUpTo: s.commitIndex, round: 0 } satisfies MHeartbeat);
}

/**
 * A replica asks for committed entries it missed: give those this log still holds, from the
 * first it asks for. Entries compacted away it gets from its peers (their logs or snapshots).
 */
export function onReplicaFetch(s: RaftNodeState, m: MFetch, ctx: RaftCtx): void {
  const replica = s.replicas[m.replica];
  const from = m.fromSlot + 1;
  if (!replica || from < s.log.firstIndex) return;
  const to = Math.min(s.commitIndex, m.fromSlot + s.opts.maxDecideEntries, Math.max(m.toSlot, from));
  if (to < from) return;
  const values: SlotValue[] = [];
  for (let i = from; i <= to; i++) values.push(s.log.entry(i)!.value);
  ctx.send(replica, { type: 'm-entries', firstSlot: from - 1, values } satisfies MEntries);
}

/** A replica reports how far it applied and its snapshot point. */
export function onReplicaReport(s: RaftNodeState, m: MApplied, ctx: RaftCtx): void {
  const now = ctx.now();
  s.reports.set(m.replica, { snapshotAt: m.snapshotAt, applied: m.appliedUpTo, heardAt: now });
  updateQuorumApplied(s, now);
  if (m.replica === s.index && m.snapshotAt > s.localSnapshotAt) {
    s.localSnapshotAt = m.snapshotAt;
    compact(s, ctx);
  }
}

function updateQuorumApplied(s: RaftNodeState, now: number): void {
  const live: number[] = [];
  for (const r of s.reports.values()) if (now - r.heardAt <= s.opts.replicaTimeoutMs) live.push(r.applied);
  // Replicas not heard from lately do not hold the leader back (they may be down).
  if (live.length < s.majority) {
    s.quorumApplied = Number.POSITIVE_INFINITY;
    return;
  }
  live.sort((a, b) => b - a);
  s.quorumApplied = live[s.majority - 1]!;
  // Forget the counts of entries a majority applied (the one at the quorum point stays: the lag is counted from it).
  const keepFrom = s.quorumApplied;
  if (keepFrom - s.commandsFrom > s.commandsThrough.size) {
    s.commandsThrough.clear();
    s.commandsFrom = keepFrom;
  }
  while (s.commandsFrom < keepFrom) s.commandsThrough.delete(s.commandsFrom++);
}

/** Commands this leader appended in its reign that a majority of the replicas has not applied yet. */
export function applyLag(s: RaftNodeState): number {
  const qa = s.quorumApplied;
  if (qa === Number.POSITIVE_INFINITY) return 0;
  return s.proposedCommands - (s.commandsThrough.get(qa) ?? s.reignBase);
}

/**
 * Compacts the log up to the local replica's snapshot point (never past the commit index: only
 * entries known committed here are known to match the snapshot), keeping up to
 * `snapshotCatchUpEntries` / `snapshotCatchUpBytes` entries below it for followers a little behind.
 */
export function compact(s: RaftNodeState, ctx: RaftCtx): void {
  const log = s.log;
  const covered = Math.min(s.localSnapshotAt, s.commitIndex, log.lastIndex);
  // Only a new snapshot point (or the commit index passing one) can change what is compacted.
  if (covered <= s.compactedFor) return;
  s.compactedFor = covered;
  let to = covered;
  let kept = 0;
  let bytes = 0;
  while (to > log.snapIndex && kept < s.opts.snapshotCatchUpEntries) {
    const b = log.entry(to)!.bytes;
    if (bytes + b > s.opts.snapshotCatchUpBytes) break;
    bytes += b;
    kept++;
    to--;
  }
  if (to <= log.snapIndex) return;
  const oldSnap = log.snapIndex;
  const oldLast = log.lastIndex;
  log.compact(to);
  persistCompacted(s, oldSnap, oldLast, ctx);
}
