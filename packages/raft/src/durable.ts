/**
 * What a RaftNode keeps durable, and how it comes back. Keyed entries, so a turn writes only what
 * it changed: `hard` holds the current term and vote, `snap` the compaction point, and each log
 * entry sits under its index. Everything is written in the turn that changes it; the runtime holds
 * that turn's messages until the write is durable (persist before send), which is what the paper
 * asks: a vote or an acknowledgement never leaves before what it promises is on disk.
 */
import type { PersistKey } from '@synod/actors';
import { RaftLog } from './log.js';
import type { Entry } from './messages.js';
import type { RaftCtx, RaftNodeState } from './state.js';

export const HARD_KEY = 'hard';
export const SNAP_KEY = 'snap';

/** Current term and vote (Figure 2's persistent state besides the log). */
export interface HardState {
  term: number;
  vote: number;
}
export interface SnapPoint {
  index: number;
  term: number;
}

export interface RecoveredRaft {
  /** Undefined on a first start (nothing was ever persisted). */
  hard: HardState | undefined;
  log: RaftLog;
}

/** The durable state as `init` finds it in the recovered entries. */
export function recoverRaft(entries: ReadonlyMap<PersistKey, unknown>): RecoveredRaft {
  const log = new RaftLog();
  const snap = entries.get(SNAP_KEY) as SnapPoint | undefined;
  if (snap) log.reset(snap.index, snap.term);
  const indices: number[] = [];
  for (const k of entries.keys()) if (typeof k === 'number' && k > log.snapIndex) indices.push(k);
  indices.sort((a, b) => a - b);
  // A turn's writes are atomic, so the entries are contiguous; stop at a gap all the same.
  for (const i of indices) {
    if (i !== log.lastIndex + 1) break;
    log.append([entries.get(i) as Entry]);
  }
  return { hard: entries.get(HARD_KEY) as HardState | undefined, log };
}

export function persistHard(s: RaftNodeState, ctx: RaftCtx): void {
  ctx.persistEntry(HARD_KEY, { term: s.term, vote: s.vote } satisfies HardState);
}

/** The entries from `from` to the end of the log were appended. */
export function persistAppended(s: RaftNodeState, from: number, ctx: RaftCtx): void {
  for (let i = from; i <= s.log.lastIndex; i++) ctx.persistEntry(i, s.log.entry(i));
}

/** The entries from `from` to `oldLast` were removed (a conflicting suffix). */
export function persistTruncated(from: number, oldLast: number, ctx: RaftCtx): void {
  for (let i = from; i <= oldLast; i++) ctx.persistEntry(i, undefined);
}

/** The log was compacted (or reset) from `oldSnap` to its current compaction point; `oldLast` was its last index before. */
export function persistCompacted(s: RaftNodeState, oldSnap: number, oldLast: number, ctx: RaftCtx): void {
  const upTo = Math.min(s.log.snapIndex, oldLast);
  for (let i = oldSnap + 1; i <= upTo; i++) ctx.persistEntry(i, undefined);
  ctx.persistEntry(SNAP_KEY, { index: s.log.snapIndex, term: s.log.snapTerm } satisfies SnapPoint);
}

/** The whole log was replaced by a compaction point (a snapshot installed): `oldSnap`..`oldLast` were its entries. */
export function persistReset(s: RaftNodeState, oldSnap: number, oldLast: number, ctx: RaftCtx): void {
  for (let i = oldSnap + 1; i <= oldLast; i++) ctx.persistEntry(i, undefined);
  ctx.persistEntry(SNAP_KEY, { index: s.log.snapIndex, term: s.log.snapTerm } satisfies SnapPoint);
}
