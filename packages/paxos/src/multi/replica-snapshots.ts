/**
 * A replica's snapshots: taken at one index and written in chunks over many turns (the replica
 * goes on applying meanwhile), kept durable in `ctx.snapshots` beside its small durable state,
 * restored in chunks over many turns at a restart, and sent to a peer that fell behind one chunk
 * at a time, pulled by the peer. No snapshot is ever one record or one message, whatever its size.
 *
 * How often: every `snapshotEvery` slots, or once the slots applied since the last one hold
 * `snapshotEveryBytes`, but not before they hold a quarter of the state, so that writing
 * snapshots of a large state costs at most about four times what is applied; and up to as many
 * bytes as the state where the acceptors' budget leaves room (`maxSnapshotLagBytes`): one byte
 * written per byte applied. (Waiting for as many bytes as the state regardless was tried: a state
 * larger than the acceptors' budget then snapshots only when the leader asks, which stalled 64 KiB
 * writes at a third of the rate.)
 *
 * What: the whole state, or only what changed since the last snapshot where the machine can tell
 * (`MachineCore.snapshotChanges`), as a part on top of the last (`maxSnapshotChanges`). The
 * replica's snapshot is then its whole one and the parts since, read in order; a peer pulls it as
 * one stream of chunks and keeps it as its own whole one. A part records its index; at a restart a
 * part that does not stand after the one before it (left by a crash between finishing a whole
 * snapshot and deleting the parts it replaced) ends the chain and is deleted.
 *
 * Pure: it touches the world only through `ctx`.
 */
import { snapshotBytesDue, snapshotIndex } from '@synod/smr';
import type { SnapshotReader, SnapshotWriter } from '@synod/actors';
import { assert } from '../assert.js';
import type { MSnapshotChunk, MSnapshotOffer, MSnapshotPull } from './messages.js';
import { fetch } from './replica-catchup.js';
import { SNAPSHOT_ID, isPartId, partId, type Ctx, type ReplicaState, type SnapshotInfo, type SnapshotPart } from './replica-state.js';

/** Identifies one snapshot of a replica (its index): a peer pulling chunks of a replaced one is told so. */
function snapshotName(index: number): string {
  return `${SNAPSHOT_ID}@${index}`;
}

export function snapshotDue(s: ReplicaState): boolean {
  if (s.slotsSinceSnapshot === 0) return false;
  const bytesDue = snapshotBytesDue(s.exec.stateBytes, s.opts.snapshotEveryBytes, s.opts.maxSnapshotLagBytes);
  return s.slotsSinceSnapshot >= s.opts.snapshotEvery || s.bytesSinceSnapshot >= bytesDue;
}

/** Writers of snapshots being written, by replica state (not plain data: kept beside it). */
const writers = new WeakMap<object, SnapshotWriter>();

/**
 * Whether the next snapshot may hold changes only: on top of a snapshot this replica wrote or
 * kept, with room left in the chain (`maxSnapshotChanges`, and its parts of changes together
 * smaller than its whole one).
 */
function changesOnlyNext(s: ReplicaState): boolean {
  const snap = s.snapshot;
  if (snap === null || s.wholeSnapshotNext || snap.parts.length > s.opts.maxSnapshotChanges) return false;
  return snap.bytes - snap.parts[0]!.bytes < snap.parts[0]!.bytes;
}

/** Takes a snapshot at the applied point; its chunks are written over the next turns. */
export function startSnapshot(s: ReplicaState, ctx: Ctx): void {
  const { header, source, changes } = s.exec.snapshot(changesOnlyNext(s));
  const id = changes ? partId(s.snapshot!.parts.length) : SNAPSHOT_ID;
  s.writing = { id, changes, index: s.exec.appliedUpTo, header, source, chunks: 0, bytes: 0 };
  writers.set(s.writing, ctx.snapshots.create(id));
  s.slotsSinceSnapshot = 0;
  s.bytesSinceSnapshot = 0;
  ctx.send(ctx.self, { type: 'snapshot-step' });
}

/** Writes the next chunks of the snapshot being written; finishes it after the last. */
export function snapshotStep(s: ReplicaState, ctx: Ctx): void {
  const w = s.writing;
  if (w === null) return;
  const writer = writers.get(w)!;
  // A chunk goes straight into the snapshot store where it offers room (`shared`): one copy, not two.
  const space = (n: number) => writer.reserve?.(n) ?? null;
  try {
    for (let k = 0; k < s.opts.snapshotChunksPerTurn; k++) {
      const chunk = w.source.next(s.opts.snapshotChunkBytes, space);
      if (chunk === null) {
        // Durable before anything sent from now on leaves (the report below among them).
        writer.finish(w.header);
        const part: SnapshotPart = { id: w.id, index: w.index, chunks: w.chunks, bytes: w.bytes };
        if (w.changes) {
          const before = s.snapshot!;
          s.snapshot = { index: w.index, header: w.header, chunks: before.chunks + w.chunks, bytes: before.bytes + w.bytes, parts: [...before.parts, part] };
        } else {
          // The parts on top of the whole one it replaces go (after it is durable: see SnapshotStore.delete).
          deleteParts(s.snapshot, ctx);
          s.snapshot = { index: w.index, header: w.header, chunks: w.chunks, bytes: w.bytes, parts: [part] };
          s.wholeSnapshotNext = false;
        }
        s.writing = null;
        // Slots below the snapshot are in it: peers that need them get the snapshot.
        for (const slot of s.log.keysArray()) if (slot < w.index) s.log.delete(slot);
        ctx.send(ctx.self, { type: 'tick' });
        reportSnapshot(s, ctx);
        return;
      }
      writer.append(chunk);
      w.chunks++;
      w.bytes += chunk.byteLength;
    }
  } catch (e) {
    // The store could not hold it (a `shared` region too small for the state): keep the last
    // snapshot, say why, and try again after as many slots again (the quota should be lower).
    abortWriting(s);
    ctx.log.error(
      `replica ${s.index}: the snapshot at slot ${w.index} could not be stored (${(e as Error).message}); the previous one stays, and the log is not cut until one is stored`,
    );
    return;
  }
  ctx.send(ctx.self, { type: 'snapshot-step' });
}

/** Drops the snapshot being written; what changed since the last one is then unknown (see wholeSnapshotNext). */
function abortWriting(s: ReplicaState): void {
  const w = s.writing;
  if (w === null) return;
  writers.get(w)?.abort();
  w.source.close?.();
  s.writing = null;
  s.wholeSnapshotNext = true;
}

/** Deletes the parts of changes of `snap` (its whole one stays, or is replaced by a newer one). */
function deleteParts(snap: SnapshotInfo | null, ctx: Ctx): void {
  for (const p of snap?.parts ?? []) if (p.id !== SNAPSHOT_ID) ctx.snapshots.delete(p.id);
}

/** Which of `snap`'s parts holds its `chunk`-th chunk (an index into `parts`), and that chunk's index in it. */
function partOf(snap: SnapshotInfo, chunk: number): [part: number, chunk: number] {
  let i = chunk;
  for (let k = 0; k < snap.parts.length; k++) {
    if (i < snap.parts[k]!.chunks) return [k, i];
    i -= snap.parts[k]!.chunks;
  }
  throw new RangeError(`chunk ${chunk} of a snapshot of ${snap.chunks}`);
}

function reportSnapshot(s: ReplicaState, ctx: Ctx): void {
  s.reportedUpTo = s.exec.appliedUpTo;
  s.reportedCommands = s.exec.applied;
  for (const l of s.leaders) ctx.send(l, { type: 'm-applied', replica: s.index, appliedUpTo: s.exec.appliedUpTo, snapshotAt: s.snapshot?.index ?? 0 });
}

// ------------------------------------------------------------------ restoring

/** Readers of the parts of this replica's own snapshot being restored, in order. */
const readers = new WeakMap<object, SnapshotReader[]>();
/** Writers that keep a snapshot pulled from a peer. */
const pullWriters = new WeakMap<object, SnapshotWriter>();

/**
 * This replica's own snapshot in its store: the whole one and the parts of changes that stand on
 * it in order (parts that do not, and parts past a damaged one, are deleted). Throws when the whole
 * one cannot be read.
 */
function openOwn(s: ReplicaState, ctx: Ctx): { info: SnapshotInfo; readers: SnapshotReader[] } | undefined {
  const listed = new Set(ctx.snapshots.list());
  const whole = listed.has(SNAPSHOT_ID) ? ctx.snapshots.open(SNAPSHOT_ID) : undefined;
  const found = whole === undefined ? [] : [whole];
  let index = whole === undefined ? -1 : snapshotIndex(whole.meta);
  for (let k = 1; whole !== undefined && listed.has(partId(k)); k++) {
    let part: SnapshotReader | undefined;
    try {
      part = ctx.snapshots.open(partId(k));
    } catch (e) {
      ctx.log.error(`replica ${s.index}: part ${k} of its snapshot cannot be read (${(e as Error).message}); it restores the parts before it`);
    }
    if (part === undefined || snapshotIndex(part.meta) <= index) break;
    index = snapshotIndex(part.meta);
    found.push(part);
  }
  // Parts left over (of a chain a newer whole snapshot replaced, or past a damaged one).
  for (const id of listed) if (isPartId(id) && !found.some((r) => r.id === id)) ctx.snapshots.delete(id);
  if (whole === undefined) return undefined;
  const parts = found.map((r) => ({ id: r.id, index: snapshotIndex(r.meta), chunks: r.chunks, bytes: r.bytes }));
  const last = found[found.length - 1]!;
  const info: SnapshotInfo = {
    index,
    header: last.meta,
    chunks: parts.reduce((n, p) => n + p.chunks, 0),
    bytes: parts.reduce((n, p) => n + p.bytes, 0),
    parts,
  };
  return { info, readers: found };
}

/** Forgets this replica's own snapshot, every part of it. */
function deleteOwn(ctx: Ctx): void {
  for (const id of ctx.snapshots.list()) if (id === SNAPSHOT_ID || isPartId(id)) ctx.snapshots.delete(id);
}

/** At a (re)start: the replica's own snapshot, if it has one, is restored over the next turns. */
export function restoreOwn(s: ReplicaState, ctx: Ctx): void {
  let own: ReturnType<typeof openOwn>;
  try {
    own = openOwn(s, ctx);
  } catch (e) {
    // Damaged: start empty; peers will offer theirs (Paxos replicas can always rebuild from peers).
    ctx.log.error(`replica ${s.index}: its snapshot cannot be read (${(e as Error).message}); it starts empty and catches up from its peers`);
    deleteOwn(ctx);
    return;
  }
  if (own === undefined) return;
  const { info } = own;
  s.snapshot = info;
  s.restoring = {
    from: -1,
    id: snapshotName(info.index),
    header: info.header,
    chunks: info.chunks,
    bytes: info.bytes,
    next: 0,
    sink: s.machine.core.restore(),
    askedAt: ctx.now(),
  };
  readers.set(s.restoring, own.readers);
  ctx.send(ctx.self, { type: 'restore-step' });
}

/** Restores the next chunks of the replica's own snapshot; true once it is in place. */
export function restoreStep(s: ReplicaState, ctx: Ctx): boolean {
  const r = s.restoring;
  if (r === null || r.from !== -1) return false;
  const parts = readers.get(r)!;
  try {
    // Views, not copies: the machine copies what it keeps (one copy into fresh memory, not two).
    for (let k = 0; k < s.opts.snapshotChunksPerTurn && r.next < r.chunks; k++) {
      const [part, i] = partOf(s.snapshot!, r.next++);
      r.sink.add(parts[part]!.chunkView(i));
    }
    if (r.next < r.chunks) {
      ctx.send(ctx.self, { type: 'restore-step' });
      return false;
    }
    install(s, r.header, r.sink.finish(), r.bytes);
  } catch (e) {
    ctx.log.error(
      `replica ${s.index}: restoring its snapshot failed at chunk ${r.next} of ${r.chunks} (${(e as Error).message}); it starts empty and catches up from its peers`,
    );
    s.restoring = null;
    s.snapshot = null;
    deleteOwn(ctx);
    return false;
  }
  return true;
}

function install(s: ReplicaState, header: Uint8Array, state: unknown, bytes: number): void {
  const index = snapshotIndex(header);
  // The applied point only moves forward (a restart begins at 0, then at its snapshot).
  assert(index >= s.exec.appliedUpTo, () => `replica ${s.index}: a snapshot at ${index} would take it back from ${s.exec.appliedUpTo}`);
  s.exec.install(header, state, bytes);
  // A restored state's changes count from the snapshot it came from (`MachineCore.snapshotChanges`).
  s.wholeSnapshotNext = false;
  s.restoring = null;
  s.log.clear();
  s.slotsSinceSnapshot = 0;
  s.bytesSinceSnapshot = 0;
  s.checkpoints.clear();
  assert(s.exec.appliedUpTo === index, () => `replica ${s.index}: installing the snapshot at ${index} left it at ${s.exec.appliedUpTo}`);
}

// ------------------------------------------------------------------ between replicas

/** A peer offers its snapshot (we asked for slots it cut): pull it, chunk by chunk. */
export function onSnapshotOffer(s: ReplicaState, m: MSnapshotOffer, ctx: Ctx): void {
  const index = snapshotIndex(m.header);
  if (index <= s.exec.appliedUpTo || s.restoring !== null || s.halted !== null) return;
  const peer = s.replicas[m.replica];
  if (!peer) return;
  const id = snapshotName(index);
  s.restoring = { from: m.replica, id, header: m.header, chunks: m.chunks, bytes: m.bytes, next: 0, sink: s.machine.core.restore(), askedAt: ctx.now() };
  // Kept locally as it arrives, so that once installed it is this replica's own durable snapshot.
  pullWriters.set(s.restoring, ctx.snapshots.create(SNAPSHOT_ID));
  // The snapshot being written (of an older state) is of no use any more.
  abortWriting(s);
  ctx.send(peer, { type: 'm-snapshot-pull', replica: s.index, id, chunk: 0 } satisfies MSnapshotPull);
}

/** A peer pulls a chunk of our snapshot. */
export function onSnapshotPull(s: ReplicaState, m: MSnapshotPull, ctx: Ctx): void {
  const peer = s.replicas[m.replica];
  if (!peer) return;
  const snap = s.snapshot;
  let bytes: Uint8Array | null = null;
  if (snap !== null && snapshotName(snap.index) === m.id && m.chunk < snap.chunks) {
    try {
      const [k, i] = partOf(snap, m.chunk);
      bytes = ctx.snapshots.open(snap.parts[k]!.id)?.chunk(i) ?? null;
    } catch (e) {
      ctx.log.error(`replica ${s.index}: chunk ${m.chunk} of its snapshot cannot be read (${(e as Error).message})`);
    }
  }
  const reply: MSnapshotChunk =
    bytes === null
      ? { type: 'm-snapshot-chunk', replica: s.index, id: m.id, chunk: m.chunk, bytes: new Uint8Array(0), missing: true }
      : { type: 'm-snapshot-chunk', replica: s.index, id: m.id, chunk: m.chunk, bytes, missing: false };
  ctx.send(peer, reply);
}

/** A chunk we pulled arrives; true once the whole snapshot is in place. */
export function onSnapshotChunk(s: ReplicaState, m: MSnapshotChunk, ctx: Ctx): boolean {
  const r = s.restoring;
  if (r === null || r.from !== m.replica || r.id !== m.id || r.next !== m.chunk) return false;
  const writer = pullWriters.get(r);
  if (m.missing) {
    // The peer replaced its snapshot meanwhile: start over (it offers the new one).
    writer?.abort();
    s.restoring = null;
    fetch(s, ctx, true);
    return false;
  }
  r.sink.add(m.bytes);
  if (writer !== undefined) {
    try {
      writer.append(m.bytes);
    } catch (e) {
      ctx.log.error(
        `replica ${s.index}: the snapshot pulled from replica ${m.replica} cannot be kept locally (${(e as Error).message}); it is installed all the same`,
      );
      writer.abort();
      pullWriters.delete(r);
    }
  }
  r.next++;
  r.askedAt = ctx.now();
  if (r.next < r.chunks) {
    ctx.send(s.replicas[r.from]!, { type: 'm-snapshot-pull', replica: s.index, id: r.id, chunk: r.next } satisfies MSnapshotPull);
    return false;
  }
  const kept = pullWriters.get(r);
  install(s, r.header, r.sink.finish(), r.bytes);
  if (kept !== undefined) {
    kept.finish(r.header);
    // It replaces this replica's own whole snapshot: the parts on top of that one go.
    deleteParts(s.snapshot, ctx);
    const index = snapshotIndex(r.header);
    s.snapshot = { index, header: r.header, chunks: r.chunks, bytes: r.bytes, parts: [{ id: SNAPSHOT_ID, index, chunks: r.chunks, bytes: r.bytes }] };
  } else {
    s.snapshot = null;
  }
  return true;
}
