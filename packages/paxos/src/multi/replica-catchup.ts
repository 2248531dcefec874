/**
 * Catch-up: a replica behind what it knows is chosen asks, in turn, the leader (which keeps the
 * chosen slots no replica may have) and its peers (which keep the slots applied since their last
 * snapshot, and the snapshot itself). A peer asked for slots it no longer has offers its snapshot,
 * which then crosses in chunks (replica-snapshots.ts).
 *
 * Pure: it touches the world only through `ctx`.
 */
import type { MEntries, MFetch, MSnapshotOffer, SlotValue } from './messages.js';
import type { Ctx, ReplicaState } from './replica-state.js';
import { SNAPSHOT_ID } from './replica-state.js';

export function fetch(s: ReplicaState, ctx: Ctx, force: boolean): void {
  const now = ctx.now();
  if (!force && now < s.fetchAt) return;
  s.fetchAt = now + s.opts.fetchRetryMs;
  const m: MFetch = { type: 'm-fetch', fromSlot: s.exec.appliedUpTo, toSlot: s.knownUpTo, replica: s.index };
  // Every other attempt asks the leader (it keeps chosen slots no replica may have); the others
  // ask the peers in turn (they may have a snapshot, and spare the leader).
  const askLeader = s.nextPeer % 2 === 0 && s.leaderIndex >= 0 && s.leaders[s.leaderIndex] !== undefined;
  s.nextPeer++;
  if (askLeader) {
    ctx.send(s.leaders[s.leaderIndex]!, m);
    return;
  }
  const peers = s.replicas.length;
  if (peers < 2) return;
  let i = s.nextPeer % peers;
  if (i === s.index) i = ++s.nextPeer % peers;
  ctx.send(s.replicas[i]!, m);
}

/** A peer asks for slots: from our log if we still have them, else we offer our snapshot. */
export function onFetch(s: ReplicaState, m: MFetch, ctx: Ctx): void {
  if (s.restoring !== null) return; // nothing to give while our own state is being put in place
  const snap = s.snapshot;
  const snapAt = snap?.index ?? 0;
  const peer = s.replicas[m.replica];
  if (!peer) return;
  if (m.fromSlot < snapAt && snap !== null) {
    ctx.send(peer, {
      type: 'm-snapshot-offer',
      replica: s.index,
      id: SNAPSHOT_ID,
      header: snap.header,
      chunks: snap.chunks,
      bytes: snap.bytes,
    } satisfies MSnapshotOffer);
    return;
  }
  const from = Math.max(m.fromSlot, snapAt);
  const to = Math.min(s.exec.appliedUpTo, from + s.opts.maxFetchSlots);
  if (to <= from) return;
  const values: SlotValue[] = [];
  for (let slot = from; slot < to; slot++) {
    const v = s.log.get(slot);
    if (v === undefined && !s.log.has(slot)) break;
    values.push(v as SlotValue);
  }
  if (values.length) ctx.send(peer, { type: 'm-entries', firstSlot: from, values } satisfies MEntries);
}
