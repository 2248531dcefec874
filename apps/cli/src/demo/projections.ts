/**
 * What the observer reads of each protocol actor's state, computed inside the actor's worker
 * (`system.inspect(ref, { project })`): a few figures instead of a clone of the whole state.
 * An acceptor's or a leader's state holds every accepted slot with its commands, hundreds of
 * kilobytes under load; cloning that four times a second per actor stole enough CPU on a small
 * machine to delay heartbeats and cause needless elections.
 *
 * Each function gets the live state and must not change it.
 */
import type { AcceptorStateView, LeaderStateView, RaftStateView, ReplicaStateView } from '@synod/dashboard/protocol';
import { formatBallot, type LeaderState, type MultiAcceptorState, type ReplicaState } from '@synod/paxos';
import { NONE, type RaftNodeState } from '@synod/raft';

export function acceptorSummary(state: unknown): AcceptorStateView {
  const s = state as MultiAcceptorState;
  let highestSlot = -1;
  let highestBallot = 0;
  s.accepted.forEach((rec, slot) => {
    if (slot > highestSlot) {
      highestSlot = slot;
      highestBallot = rec.ballot;
    }
  });
  return {
    promised: formatBallot(s.promised),
    acceptedSlots: s.accepted.size,
    highestSlot: highestSlot < 0 ? null : highestSlot,
    highestBallot: highestSlot < 0 ? null : formatBallot(highestBallot),
    truncatedBelow: s.truncatedBelow,
  };
}

/** The leader's view, plus its raw ballot so the observer can tell which of two leaders is newer. */
export function leaderSummary(state: unknown): LeaderStateView & { ballotValue: number } {
  const s = state as LeaderState;
  const e = s.election;
  return {
    status: e.status,
    ballot: formatBallot(e.ballot),
    ballotValue: e.ballot,
    commitUpTo: s.pipeline.commitUpTo,
    nextSlot: s.pipeline.nextSlot,
    inflight: s.pipeline.inflight.size,
    pending: s.batching.pending.length - s.batching.pendingHead,
    following: e.leaderIndex >= 0 ? e.leaderIndex : null,
  };
}

/** A Raft node's view, plus its term as the observer compares leaders by (the newer term wins). */
export function raftSummary(state: unknown): RaftStateView & { ballotValue: number } {
  const s = state as RaftNodeState;
  return {
    status: s.status,
    term: s.term,
    ballotValue: s.term,
    leader: s.leader === NONE ? null : s.leader,
    commitIndex: s.commitIndex,
    lastIndex: s.log.lastIndex,
    snapIndex: s.log.snapIndex,
    pending: s.client.pendingCommands,
  };
}

export function replicaSummary(state: unknown): ReplicaStateView {
  const s = state as ReplicaState;
  const machine = s.exec.state as { keys?: { size?: unknown } } | undefined;
  return {
    appliedUpTo: s.exec.appliedUpTo,
    knownUpTo: s.knownUpTo,
    keys: typeof machine?.keys?.size === 'number' ? machine.keys.size : 0,
    sessions: s.exec.sessions.size,
    snapshotAt: s.snapshot?.index ?? 0,
  };
}
