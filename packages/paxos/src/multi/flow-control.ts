/**
 * What the replicas report to the leaders (how far each applied, where its snapshot stands), and
 * what the leader makes of it: flow control and the truncation point.
 *
 * Flow control: the leader proposes at most `maxApplyLag` commands beyond what a majority of the
 * replicas heard from lately has applied, so slow replicas bound the backlog of decided slots
 * in front of them. Truncation: once the snapshots of a majority of the live replicas cover a
 * slot, the acceptors may drop it (a replica behind that point catches up from a peer's
 * snapshot, sent in chunks), so one slow replica does not hold the acceptors' logs back.
 *
 * Replicas not heard from for `replicaTimeoutMs` count for neither: they may be down, and must
 * not hold the leader back.
 */
import { IntMap } from '@synod/actors/internals';
import type { MApplied } from './messages.js';

/** One replica's last report. */
export interface ReplicaReport {
  /** Its snapshot covers the slots below. */
  at: number;
  /** It applied the slots below. */
  applied: number;
  /** When we heard it. */
  heard: number;
}

export interface FlowControlState {
  /** By replica number, its last report. */
  replicas: Map<number, ReplicaReport>;
  /** The slot a majority of the replicas heard from lately has applied up to (Infinity: too few heard). */
  quorumApplied: number;
  /** Commands this leader proposed in its reigns, in all. */
  proposedCommands: number;
  /** `proposedCommands` after each slot proposed in this reign, for slots not yet applied by a majority. */
  commandsThrough: IntMap<number>;
  /** `proposedCommands` when this reign began. */
  reignBase: number;
  /** The lowest slot `commandsThrough` may hold (its counts are of consecutive slots, from the reign's first new proposal). */
  commandsFrom: number;
  /** The last slot this reign proposed (counted in `commandsThrough`); below the reign's first slot when none. */
  lastProposed: number;
}

export function newFlowControl(): FlowControlState {
  return {
    replicas: new Map(),
    quorumApplied: Number.POSITIVE_INFINITY,
    proposedCommands: 0,
    commandsThrough: new IntMap(),
    reignBase: 0,
    commandsFrom: 0,
    lastProposed: -1,
  };
}

/** A new reign counts its lag from `from` (its first slot). */
export function startReign(f: FlowControlState, from: number): void {
  f.commandsThrough.clear();
  f.reignBase = f.proposedCommands;
  f.commandsFrom = from;
  f.lastProposed = from - 1;
}

/** `count` commands proposed in `slot`. */
export function recordProposed(f: FlowControlState, slot: number, count: number): void {
  // The first count of a reign may come after slots it re-proposed (no counts: not its commands).
  if (f.commandsThrough.size === 0 && slot > f.commandsFrom) f.commandsFrom = slot;
  f.proposedCommands += count;
  f.commandsThrough.set(slot, f.proposedCommands);
  f.lastProposed = slot;
}

/** Commands proposed in this reign that a majority of the replicas has not applied yet. */
export function applyLag(f: FlowControlState): number {
  const qa = f.quorumApplied;
  if (qa === Number.POSITIVE_INFINITY || qa - 1 >= f.lastProposed) return 0;
  // No count below the reign's first proposal: none of its commands is applied yet.
  return f.proposedCommands - (f.commandsThrough.get(qa - 1) ?? f.reignBase);
}

/**
 * A replica's report. Returns whether the majority's applied point moved up (room for more
 * proposals), and the slot below which every live replica has a snapshot (null when fewer than
 * a majority is live: then nothing may be truncated).
 */
export function onApplied(
  f: FlowControlState,
  m: MApplied,
  now: number,
  majority: number,
  replicaTimeoutMs: number,
): { advanced: boolean; snapshotsCover: number | null } {
  f.replicas.set(m.replica, { at: m.snapshotAt, applied: m.appliedUpTo, heard: now });
  const live = [...f.replicas.values()].filter((r) => now - r.heard <= replicaTimeoutMs);
  if (live.length < majority) {
    f.quorumApplied = Number.POSITIVE_INFINITY;
    return { advanced: false, snapshotsCover: null };
  }
  const applied = live.map((r) => r.applied).sort((a, b) => b - a);
  const before = f.quorumApplied;
  f.quorumApplied = applied[majority - 1]!;
  // Forget the counts of slots a majority applied (the one just below stays: the lag is counted
  // from it). The counts are of consecutive slots from `commandsFrom`, so this walks no gap.
  const keepFrom = f.quorumApplied - 1;
  if (keepFrom > f.lastProposed) {
    // Everything this reign proposed is applied: no count is needed any more.
    f.commandsThrough.clear();
    f.commandsFrom = keepFrom;
  } else {
    while (f.commandsFrom < keepFrom) f.commandsThrough.delete(f.commandsFrom++);
  }
  const covered = live.map((r) => r.at).sort((a, b) => b - a);
  return { advanced: f.quorumApplied > before, snapshotsCover: covered[majority - 1]! };
}
