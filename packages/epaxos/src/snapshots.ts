/**
 * An EPaxos replica's snapshots: the executor's state and sessions (written and restored in chunks
 * over many turns, kept in `ctx.snapshots`, pulled by a peer one chunk at a time, as Multi-Paxos
 * replicas do) and, in the meta, which instances are in it. Replicas execute instances that do not
 * interfere in different orders, so a snapshot is not "the log up to an index": its meta names,
 * per leader, the prefix of instances executed, and the few executed beyond a gap, plus the
 * barriers passed, the executed instances' digest and the quota measure.
 *
 * The log is cut below what every live replica's snapshot covers (frontier.ts); a replica that
 * needs instances already cut gets a peer's snapshot instead, if that snapshot covers everything
 * it executed itself.
 *
 * Pure: it touches the world only through `ctx`.
 */
import { type SnapshotReader, type SnapshotWriter } from '@synod/actors';
import { WireReader, WireWriter } from '@synod/actors/internals';
import { snapshotBytesDue } from '@synod/smr';
import { assert } from './assert.js';
import { Status } from './instance.js';
import type { MSnapshotChunk, MSnapshotOffer, MSnapshotPull } from './messages.js';
import { executeAll } from './execution.js';
import { advanceExecuted } from './store.js';
import { SNAPSHOT_ID, type Ctx, type EPaxosState } from './state.js';

const META_FORMAT = 1;

export interface SnapshotMeta {
  executed: number[];
  /** Executed instances beyond the prefixes (keys). */
  extra: number[];
  barriers: number;
  logDigest: number;
  appliedBytes: number;
  overQuota: boolean;
  /** The executor's header (index, digest, sessions). */
  header: Uint8Array;
}

export function encodeMeta(m: SnapshotMeta): Uint8Array {
  const w = new WireWriter(256 + m.header.length);
  w.u8(META_FORMAT);
  w.uvar(m.executed.length);
  for (const e of m.executed) w.f64(e);
  w.uvar(m.extra.length);
  for (const k of m.extra) w.f64(k);
  w.f64(m.barriers);
  w.u32(m.logDigest >>> 0);
  w.f64(m.appliedBytes);
  w.bool(m.overQuota);
  w.bytes(m.header);
  return w.buf.slice(0, w.pos);
}

export function decodeMeta(bytes: Uint8Array): SnapshotMeta {
  const r = new WireReader();
  r.reset(bytes.slice().buffer);
  const format = r.u8();
  if (format !== META_FORMAT) throw new RangeError(`unknown epaxos snapshot format ${format} (this build reads format ${META_FORMAT})`);
  const n = r.uvar();
  const executed: number[] = [];
  for (let i = 0; i < n; i++) executed.push(r.f64());
  const x = r.uvar();
  const extra: number[] = [];
  for (let i = 0; i < x; i++) extra.push(r.f64());
  return { executed, extra, barriers: r.f64(), logDigest: r.u32(), appliedBytes: r.f64(), overQuota: r.bool(), header: r.bytes() };
}

function snapshotName(s: EPaxosState, meta: SnapshotMeta): string {
  return `${SNAPSHOT_ID}@${meta.executed.join('.')}+${meta.extra.length}`;
}

export function snapshotDue(s: EPaxosState): boolean {
  if (s.executedSinceSnapshot === 0) return false;
  const bytesDue = snapshotBytesDue(s.exec.stateBytes, s.opts.snapshotEveryBytes);
  return s.executedSinceSnapshot >= s.opts.snapshotEvery || s.bytesSinceSnapshot >= bytesDue;
}

const writers = new WeakMap<object, SnapshotWriter>();

/** What this replica has executed now, as a snapshot's meta sees it. */
function currentMeta(s: EPaxosState, header: Uint8Array): SnapshotMeta {
  const extra: number[] = [];
  s.instances.forEach((x, key) => {
    if (x.status === Status.Executed && Math.floor(key / 32) > s.executedUpTo[key % 32]!) extra.push(key);
  });
  for (const key of s.extraExecuted) extra.push(key);
  extra.sort((a, b) => a - b);
  return {
    executed: [...s.executedUpTo],
    extra,
    barriers: s.barriers,
    logDigest: s.logDigest,
    appliedBytes: s.appliedBytes,
    overQuota: s.exec.overQuota,
    header,
  };
}

/** Takes a snapshot of what is executed now; its chunks are written over the next turns. */
export function startSnapshot(s: EPaxosState, ctx: Ctx): void {
  const { header, source } = s.exec.snapshot();
  const meta = currentMeta(s, header);
  s.writing = { meta: encodeMeta(meta), source, chunks: 0, bytes: 0, executed: meta.executed };
  writers.set(s.writing, ctx.snapshots.create(SNAPSHOT_ID));
  s.executedSinceSnapshot = 0;
  s.bytesSinceSnapshot = 0;
  ctx.send(ctx.self, { type: 'snapshot-step' });
}

export function snapshotStep(s: EPaxosState, ctx: Ctx): void {
  const w = s.writing;
  if (w === null) return;
  const writer = writers.get(w)!;
  // A chunk goes straight into the snapshot store where it offers room (`shared`): one copy, not two.
  const space = (n: number) => writer.reserve?.(n) ?? null;
  try {
    for (let k = 0; k < s.opts.snapshotChunksPerTurn; k++) {
      const chunk = w.source.next(s.opts.snapshotChunkBytes, space);
      if (chunk === null) {
        writer.finish(w.meta);
        const meta = decodeMeta(w.meta);
        s.snapshot = { id: snapshotName(s, meta), meta: w.meta, chunks: w.chunks, bytes: w.bytes, executed: w.executed };
        s.writing = null;
        return;
      }
      writer.append(chunk);
      w.chunks++;
      w.bytes += chunk.byteLength;
    }
  } catch (e) {
    writer.abort();
    w.source.close?.();
    s.writing = null;
    ctx.log.error(
      `epaxos replica ${s.index}: a snapshot could not be stored (${(e as Error).message}); the previous one stays, and the log is not cut until one is stored`,
    );
    return;
  }
  ctx.send(ctx.self, { type: 'snapshot-step' });
}

// ------------------------------------------------------------------ restoring

const readers = new WeakMap<object, SnapshotReader>();
const pullWriters = new WeakMap<object, SnapshotWriter>();

/** At a (re)start: this replica's own snapshot, if any, is restored over the next turns. Returns its meta. */
export function restoreOwn(s: EPaxosState, ctx: Ctx): SnapshotMeta | null {
  let reader: SnapshotReader | undefined;
  let meta: SnapshotMeta;
  try {
    reader = ctx.snapshots.open(SNAPSHOT_ID);
    if (reader === undefined) return null;
    meta = decodeMeta(reader.meta);
  } catch (e) {
    ctx.log.error(`epaxos replica ${s.index}: its snapshot cannot be read (${(e as Error).message}); it starts empty and catches up from its peers`);
    ctx.snapshots.delete(SNAPSHOT_ID);
    return null;
  }
  s.snapshot = { id: snapshotName(s, meta), meta: reader.meta, chunks: reader.chunks, bytes: reader.bytes, executed: meta.executed };
  // What it holds counts as executed from now on, before the state is back: instances in it that
  // this replica does not hold (it installed a peer's snapshot) are answered `e-cut`, never "nothing".
  if (meta.executed.length === s.n) {
    s.executedUpTo = [...meta.executed];
    for (const key of meta.extra) if (!s.instances.has(key)) s.extraExecuted.add(key);
  }
  s.restoring = {
    from: -1,
    id: s.snapshot.id,
    meta: reader.meta,
    chunks: reader.chunks,
    bytes: reader.bytes,
    next: 0,
    sink: s.machine.core.restore(),
    askedAt: ctx.now(),
  };
  readers.set(s.restoring, reader);
  ctx.send(ctx.self, { type: 'restore-step' });
  return meta;
}

export function restoreStep(s: EPaxosState, ctx: Ctx): void {
  const r = s.restoring;
  if (r === null || r.from !== -1) return;
  const reader = readers.get(r)!;
  try {
    for (let k = 0; k < s.opts.snapshotChunksPerTurn && r.next < r.chunks; k++) r.sink.add(reader.chunk(r.next++));
    if (r.next < r.chunks) {
      ctx.send(ctx.self, { type: 'restore-step' });
      return;
    }
    install(s, decodeMeta(r.meta), r.sink.finish(), r.bytes, ctx);
  } catch (e) {
    // Instances it executed are cut from the log: only a peer's snapshot can bring them back.
    ctx.log.error(
      `epaxos replica ${s.index}: restoring its snapshot failed at chunk ${r.next} of ${r.chunks} (${(e as Error).message}); it waits for a peer's snapshot`,
    );
    s.restoring = null;
    s.snapshot = null;
    ctx.snapshots.delete(SNAPSHOT_ID);
    return;
  }
  executeAll(s, ctx);
}

/** Puts a snapshot in place: the executor's state, and which instances it holds. */
function install(s: EPaxosState, meta: SnapshotMeta, state: unknown, bytes: number, ctx: Ctx): void {
  assert(meta.executed.length === s.n, () => `epaxos replica ${s.index}: a snapshot of ${meta.executed.length} replicas in a cluster of ${s.n}`);
  s.exec.install(meta.header, state, bytes);
  s.exec.overQuota = meta.overQuota;
  s.executedUpTo = [...meta.executed];
  const extra = new Set(meta.extra);
  const gone: number[] = [];
  s.instances.forEach((x, key) => {
    const inSnapshot = Math.floor(key / 32) <= meta.executed[key % 32]! || extra.has(key);
    if (inSnapshot) {
      if (x.status === Status.Committed || x.status === Status.Executed) x.status = Status.Executed;
      // Committed elsewhere, with attributes this replica may not hold (its record is a vote):
      // it is dropped, and questions about it are answered `e-cut` (isCut), never with the vote.
      else gone.push(key);
    } else if (x.status === Status.Executed) {
      x.status = Status.Committed; // executed here, not in the snapshot: executed again on its state
    }
  });
  for (const key of gone) {
    s.instances.delete(key);
    ctx.persistEntry(key, undefined);
    s.pendingSince.delete(key);
    s.coordinating.delete(key);
    s.needed.delete(key);
  }
  // Instances in the snapshot that this replica does not hold are executed all the same.
  s.extraExecuted.clear();
  for (const key of extra) if (!s.instances.has(key)) s.extraExecuted.add(key);
  for (let q = 0; q < s.n; q++) advanceExecuted(s, q);
  s.barriers = meta.barriers;
  s.logDigest = meta.logDigest;
  s.appliedBytes = meta.appliedBytes;
  s.restoring = null;
  s.executedSinceSnapshot = 0;
  s.bytesSinceSnapshot = 0;
  s.checkpoints.clear();
  s.peerDigests = [];
  s.blocked.clear();
  s.waitsFor.clear();
  if (s.journal !== null) s.journal.installs++;
}

// ------------------------------------------------------------------ between replicas

/** Offers this replica's snapshot to a peer that needs instances cut from the log here. */
export function offerSnapshot(s: EPaxosState, to: number, ctx: Ctx): void {
  const snap = s.snapshot;
  const peer = s.peers[to];
  if (snap === null || !peer || s.restoring !== null) return;
  ctx.send(peer, { type: 'e-snapshot-offer', from: s.index, id: snap.id, meta: snap.meta, chunks: snap.chunks, bytes: snap.bytes } satisfies MSnapshotOffer);
}

/** A peer offers its snapshot: pulled only if it covers everything this replica executed (a catch-up, never a step back). */
export function onSnapshotOffer(s: EPaxosState, m: MSnapshotOffer, ctx: Ctx): void {
  if (s.restoring !== null) return;
  let meta: SnapshotMeta;
  try {
    meta = decodeMeta(m.meta);
  } catch {
    return;
  }
  if (meta.executed.length !== s.n) return;
  let ahead = false;
  const extra = new Set(meta.extra);
  for (let q = 0; q < s.n; q++) {
    if (meta.executed[q]! > s.executedUpTo[q]!) ahead = true;
  }
  if (!ahead) return;
  // Everything executed here must be in it (else installing it would undo it).
  let covers = true;
  s.instances.forEach((x, key) => {
    if (x.status === Status.Executed && Math.floor(key / 32) > meta.executed[key % 32]! && !extra.has(key)) covers = false;
  });
  for (const key of s.extraExecuted) if (Math.floor(key / 32) > meta.executed[key % 32]! && !extra.has(key)) covers = false;
  for (let q = 0; q < s.n && covers; q++) if (s.executedUpTo[q]! > meta.executed[q]!) covers = false;
  if (!covers) return;
  const peer = s.peers[m.from];
  if (!peer) return;
  s.restoring = { from: m.from, id: m.id, meta: m.meta, chunks: m.chunks, bytes: m.bytes, next: 0, sink: s.machine.core.restore(), askedAt: ctx.now() };
  pullWriters.set(s.restoring, ctx.snapshots.create(SNAPSHOT_ID));
  if (s.writing !== null) {
    writers.get(s.writing)?.abort();
    s.writing.source.close?.();
    s.writing = null;
  }
  ctx.send(peer, { type: 'e-snapshot-pull', from: s.index, id: m.id, chunk: 0 } satisfies MSnapshotPull);
}

export function onSnapshotPull(s: EPaxosState, m: MSnapshotPull, ctx: Ctx): void {
  const peer = s.peers[m.from];
  if (!peer) return;
  const snap = s.snapshot;
  let bytes: Uint8Array | null = null;
  if (snap !== null && snap.id === m.id && m.chunk < snap.chunks) {
    try {
      bytes = ctx.snapshots.open(SNAPSHOT_ID)?.chunk(m.chunk) ?? null;
    } catch (e) {
      ctx.log.error(`epaxos replica ${s.index}: chunk ${m.chunk} of its snapshot cannot be read (${(e as Error).message})`);
    }
  }
  ctx.send(peer, {
    type: 'e-snapshot-chunk',
    from: s.index,
    id: m.id,
    chunk: m.chunk,
    bytes: bytes ?? new Uint8Array(0),
    missing: bytes === null,
  } satisfies MSnapshotChunk);
}

export function onSnapshotChunk(s: EPaxosState, m: MSnapshotChunk, ctx: Ctx): void {
  const r = s.restoring;
  if (r === null || r.from !== m.from || r.id !== m.id || r.next !== m.chunk) return;
  const writer = pullWriters.get(r);
  if (m.missing) {
    writer?.abort();
    s.restoring = null;
    return;
  }
  r.sink.add(m.bytes);
  if (writer !== undefined) {
    try {
      writer.append(m.bytes);
    } catch (e) {
      ctx.log.error(
        `epaxos replica ${s.index}: the snapshot pulled from replica ${m.from} cannot be kept locally (${(e as Error).message}); it will not be installed`,
      );
      writer.abort();
      pullWriters.delete(r);
    }
  }
  r.next++;
  r.askedAt = ctx.now();
  if (r.next < r.chunks) {
    ctx.send(s.peers[r.from]!, { type: 'e-snapshot-pull', from: s.index, id: r.id, chunk: r.next } satisfies MSnapshotPull);
    return;
  }
  const kept = pullWriters.get(r);
  if (kept === undefined) {
    // Installed without a durable copy, a restart would not know which instances it holds (and
    // would answer for them as if it never heard of them): it stays behind until one can be kept.
    s.restoring = null;
    ctx.log.error(
      `epaxos replica ${s.index}: the snapshot pulled from replica ${m.from} could not be kept, so it is not installed; this replica stays behind until its storage can hold one`,
    );
    return;
  }
  const meta = decodeMeta(r.meta);
  install(s, meta, r.sink.finish(), r.bytes, ctx);
  // Durable with the state that names it (the finish is durable before this turn's writes).
  kept.finish(r.meta);
  s.snapshot = { id: r.id, meta: r.meta, chunks: r.chunks, bytes: r.bytes, executed: meta.executed };
  executeAll(s, ctx);
}

/** On ticks: a chunk asked of a peer that did not come is asked again. */
export function onSnapshotTick(s: EPaxosState, ctx: Ctx): void {
  const r = s.restoring;
  if (r === null || r.from < 0 || ctx.now() - r.askedAt < 4 * s.eopts.askAfterMs) return;
  r.askedAt = ctx.now();
  ctx.send(s.peers[r.from]!, { type: 'e-snapshot-pull', from: s.index, id: r.id, chunk: r.next } satisfies MSnapshotPull);
}
