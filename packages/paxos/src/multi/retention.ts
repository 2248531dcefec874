/**
 * Chosen slots the leader keeps for replicas that missed them, and the log's truncation.
 *
 * The leader keeps the values of the last `maxRetainedSlots` chosen slots and answers a
 * replica's fetch from them; a replica that needs older ones installs a peer's snapshot. Once
 * every live replica has a snapshot covering a slot, the leader tells the acceptors to drop the
 * slots below it.
 *
 * Pure: it touches the world only through `ctx`.
 */
import { type ActorContext, type ActorRef } from '@synod/actors';
import { IntMap } from '@synod/actors/internals';
import { assert } from '../assert.js';
import type { MEntries, MFetch, MTruncate, MultiAcceptorMsg, SlotValue } from './messages.js';

/** Slots one fetch is answered with at most. */
const MAX_FETCH_SLOTS = 512;

export interface RetentionState {
  /** Chosen values kept for replicas that missed them (from `decidedFrom` up to the commit point). */
  decided: IntMap<SlotValue>;
  decidedFrom: number;
  /** The acceptors were told to drop the slots below (it only grows). */
  truncatedBelow: number;
  /** Bytes of the values in `decided`. */
  decidedBytes: number;
  /** Bytes of each chosen slot the acceptors still keep (from `truncatedBelow` on), and their sum. */
  keptBytes: IntMap<number>;
  keptBytesTotal: number;
  /** When the replicas were last asked for snapshots (see `askSnapshots`). */
  snapshotsAskedAt: number;
}

type Ctx = ActorContext<any, unknown>;

export function newRetention(): RetentionState {
  return {
    decided: new IntMap(),
    decidedFrom: 0,
    decidedBytes: 0,
    truncatedBelow: 0,
    keptBytes: new IntMap(),
    keptBytesTotal: 0,
    snapshotsAskedAt: Number.NEGATIVE_INFINITY,
  };
}

/** A new reign keeps what it decides from `from` on. */
export function startReign(r: RetentionState, from: number): void {
  r.decided.clear();
  r.decidedFrom = from;
  r.decidedBytes = 0;
  r.keptBytes.clear();
  r.keptBytesTotal = 0;
}

/** Keeps the values of slots `first`.. just chosen; the oldest beyond `maxRetainedSlots` or `maxRetainedBytes` go. */
export function keep(r: RetentionState, first: number, values: readonly SlotValue[], maxRetainedSlots: number, maxRetainedBytes: number): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    r.decided.set(first + i, v);
    if (v !== null) r.decidedBytes += v.byteLength;
    if (first + i >= r.truncatedBelow && v !== null) {
      r.keptBytes.set(first + i, v.byteLength);
      r.keptBytesTotal += v.byteLength;
    }
  }
  const commitUpTo = first + values.length;
  // Bounded: a replica that needs older slots installs a peer's snapshot.
  while (r.decidedFrom < commitUpTo && (commitUpTo - r.decidedFrom > maxRetainedSlots || r.decidedBytes > maxRetainedBytes)) dropOldest(r);
  assert(r.decidedFrom <= commitUpTo, () => `leader: kept slots start at ${r.decidedFrom}, past the commit point ${commitUpTo}`);
}

/**
 * The acceptors keep half of `maxAcceptorBytes` or more: asks the replicas for snapshots now, at
 * most once every `everyMs`. A replica snapshots by itself only once its log outgrows a quarter
 * of its state; with a state larger than four times the acceptors' budget the leader would wait
 * for truncation that never comes.
 */
export function askSnapshots(r: RetentionState, maxAcceptorBytes: number, now: number, everyMs: number, replicas: readonly ActorRef<any>[], ctx: Ctx): void {
  if (r.keptBytesTotal * 2 < maxAcceptorBytes || now - r.snapshotsAskedAt < everyMs) return;
  r.snapshotsAskedAt = now;
  for (const rep of replicas) ctx.send(rep, { type: 'snapshot-now' });
}

/**
 * Every live replica's snapshot covers the slots below `below`: the acceptors may drop them
 * (only chosen slots, and only forward).
 */
export function truncate(r: RetentionState, below: number, commitUpTo: number, acceptors: readonly ActorRef<MultiAcceptorMsg>[], ctx: Ctx): void {
  if (below <= r.truncatedBelow || below > commitUpTo) return;
  forgetBelow(r, below);
  const t: MTruncate = { type: 'm-truncate', below };
  for (const a of acceptors) ctx.send(a, t);
}

/** Slots below `below` were dropped by the acceptors (see `skipTruncated`): nothing below is kept here either. */
export function forgetBelow(r: RetentionState, below: number): void {
  if (below <= r.truncatedBelow) return;
  for (const slot of r.keptBytes.keysArray()) {
    if (slot >= below) continue;
    r.keptBytesTotal -= r.keptBytes.get(slot)!;
    r.keptBytes.delete(slot);
  }
  r.truncatedBelow = below;
  while (r.decidedFrom < below) dropOldest(r);
  assert(r.keptBytesTotal >= 0 && r.decidedBytes >= 0, 'leader: negative bytes kept');
}

function dropOldest(r: RetentionState): void {
  const v = r.decided.get(r.decidedFrom);
  if (v) r.decidedBytes -= v.byteLength;
  r.decided.delete(r.decidedFrom++);
}

/** A replica asks for chosen slots it missed: give what we kept. */
export function onFetch(r: RetentionState, m: MFetch, commitUpTo: number, ctx: Ctx): void {
  const from = Math.max(m.fromSlot, r.decidedFrom);
  const to = Math.min(commitUpTo, m.fromSlot + MAX_FETCH_SLOTS, Math.max(m.toSlot, m.fromSlot + 1));
  const values: SlotValue[] = [];
  for (let slot = from; slot < to; slot++) {
    if (!r.decided.has(slot)) break;
    values.push(r.decided.get(slot) as SlotValue);
  }
  if (values.length) ctx.reply({ type: 'm-entries', firstSlot: from, values } satisfies MEntries);
}
