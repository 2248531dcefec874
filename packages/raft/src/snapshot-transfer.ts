/**
 * InstallSnapshot (§7), for a follower whose next entry the leader has compacted away.
 *
 * What is sent is not a snapshot of Raft's own: it is the snapshot of the leader's node's
 * replica (`@synod/paxos`'s Replica: state machine state, client sessions, applied point), the
 * one that let the leader compact its log in the first place. A RaftNode holds no state machine,
 * and the replicas already take, persist and install these snapshots (a replica far behind asks
 * a peer replica for one): reusing them means one snapshot format, one place that knows the
 * state machine, and a follower whose replica installs the very state its leader's replica had.
 * A snapshot at replica point P stands for the Raft log up to index P (slot P - 1 is entry P), and
 * the leader knows the term of entry P from its own log.
 *
 * The leader asks its replica for its latest snapshot (an `m-fetch` from slot 0, answered with
 * `m-snapshot`), encodes it once, and sends it in chunks of `maxSnapshotChunkBytes`, at most
 * `maxSnapshotChunksInFlight` unacknowledged; the follower takes chunks only in order and
 * acknowledges each, and the leader resends from the last acknowledged byte when the stream
 * stalls for `snapshotRetryMs` (a chunk lost), or from where the follower says it is when that is
 * less (it restarted and lost the chunks it had). A follower accepts at most `maxSnapshotBytes`. Once whole, the
 * follower replaces its log by the compaction point (P, term of P) unless its log already holds
 * that entry, hands the snapshot to its own replica, and answers as it answers AppendEntries, so
 * the leader resumes replication from P + 1.
 */
import { WireReader, WireWriter } from '@synod/actors';
import type { MFetch, MSnapshot, ReplicaSnapshot } from '@synod/paxos';
import { persistReset } from './durable.js';
import { UNKNOWN_TERM } from './log.js';
import type { RAppendResp, RSnapshotAck, RSnapshotChunk } from './messages.js';
import type { IncomingSnapshot, RaftCtx, RaftNodeState } from './state.js';

const FORMAT = 1;

/** A replica snapshot as bytes (format byte, then the value). */
export function encodeSnapshot(snap: ReplicaSnapshot): Uint8Array {
  const w = new WireWriter(64 * 1024);
  w.u8(FORMAT);
  w.value(snap);
  return w.buf.slice(0, w.pos);
}

export function decodeSnapshot(bytes: Uint8Array): ReplicaSnapshot {
  const r = new WireReader();
  r.buf = bytes;
  r.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  r.pos = 0;
  const format = r.u8();
  if (format !== FORMAT) throw new RangeError(`unknown snapshot format ${format} (this build reads format ${FORMAT})`);
  return r.value() as ReplicaSnapshot;
}

// ------------------------------------------------------------------ leader

/**
 * Starts sending a snapshot to follower `to`, whose next entry is compacted away. When no
 * snapshot recent enough is at hand, asks the local replica for one (and the caller retries).
 * Returns whether a stream started.
 */
export function startSnapshot(s: RaftNodeState, to: number, ctx: RaftCtx): boolean {
  const pr = s.progress[to]!;
  // A follower not heard from lately may be down: do not stream to it (etcd does the same).
  if (!pr.recentActive) return false;
  const snap = s.outgoingSnapshot;
  if (!snap || snap.index < s.log.snapIndex) {
    askLocalSnapshot(s, ctx);
    return false;
  }
  pr.becomeSnapshot(snap.index);
  s.snapshotStreams[to] = { snapshot: snap, acked: 0, sent: 0, progressAt: ctx.now() };
  s.stats.snapshotsSent++;
  pump(s, to, ctx);
  return true;
}

function askLocalSnapshot(s: RaftNodeState, ctx: RaftCtx): void {
  const replica = s.replicas[s.index];
  const now = ctx.now();
  if (!replica || now - s.snapshotAskedAt < s.opts.snapshotRetryMs) return;
  s.snapshotAskedAt = now;
  ctx.send(replica, { type: 'm-fetch', fromSlot: 0, toSlot: 0, replica: s.index } satisfies MFetch);
}

/** The local replica's snapshot arrived (the answer to `askLocalSnapshot`). */
export function onLocalSnapshot(s: RaftNodeState, m: MSnapshot, ctx: RaftCtx): void {
  if (s.status !== 'leader') return;
  const index = m.snapshot.appliedUpTo;
  const term = s.log.term(index);
  // Only a snapshot this log can vouch for: its point must be in the log (or its compaction point).
  if (term === UNKNOWN_TERM || index < s.log.snapIndex) return;
  if (s.outgoingSnapshot && s.outgoingSnapshot.index >= index) return;
  s.outgoingSnapshot = { index, term, bytes: encodeSnapshot(m.snapshot) };
  for (let to = 0; to < s.progress.length; to++) {
    if (to !== s.index && s.progress[to]!.state !== 'snapshot' && s.progress[to]!.next <= s.log.snapIndex) startSnapshot(s, to, ctx);
  }
}

/** Sends chunks while the stream's window has room. */
function pump(s: RaftNodeState, to: number, ctx: RaftCtx): void {
  const st = s.snapshotStreams[to];
  if (!st) return;
  const o = s.opts;
  const snap = st.snapshot;
  const total = snap.bytes.length;
  while (st.sent < total && st.sent - st.acked < o.maxSnapshotChunksInFlight * o.maxSnapshotChunkBytes) {
    const end = Math.min(total, st.sent + o.maxSnapshotChunkBytes);
    const chunk: RSnapshotChunk = {
      type: 'r-snapshot-chunk', term: s.term, from: s.index, index: snap.index, lastTerm: snap.term, offset: st.sent, total,
      // A copy: a view would carry the whole buffer across threads.
      data: snap.bytes.slice(st.sent, end),
    };
    ctx.send(s.nodes[to]!, chunk);
    st.sent = end;
  }
}

export function onSnapshotAck(s: RaftNodeState, m: RSnapshotAck, ctx: RaftCtx): void {
  const pr = s.progress[m.from];
  if (!pr) return;
  pr.recentActive = true;
  const st = s.snapshotStreams[m.from];
  if (!st || pr.state !== 'snapshot' || st.snapshot.index !== m.index || m.received === st.acked) return;
  if (m.received < st.acked) {
    // The follower has less than it acknowledged (it restarted, and lost what it had): start over from there.
    st.acked = m.received;
    st.sent = m.received;
  } else {
    st.acked = Math.min(m.received, st.snapshot.bytes.length);
    if (st.sent < st.acked) st.sent = st.acked;
  }
  st.progressAt = ctx.now();
  pump(s, m.from, ctx);
}

/** A stalled stream resends from the last acknowledged byte; a finished one whose answer was lost asks again. */
export function retrySnapshots(s: RaftNodeState, ctx: RaftCtx): void {
  const now = ctx.now();
  for (let to = 0; to < s.snapshotStreams.length; to++) {
    const st = s.snapshotStreams[to];
    if (!st) continue;
    if (s.progress[to]!.state !== 'snapshot') { s.snapshotStreams[to] = null; continue; }
    if (now - st.progressAt < s.opts.snapshotRetryMs) continue;
    st.progressAt = now;
    const total = st.snapshot.bytes.length;
    if (st.acked < total) {
      st.sent = st.acked;
      pump(s, to, ctx);
    } else {
      // Every byte arrived but the answer did not: an empty chunk at the end makes the follower answer again.
      const snap = st.snapshot;
      ctx.send(s.nodes[to]!, { type: 'r-snapshot-chunk', term: s.term, from: s.index, index: snap.index, lastTerm: snap.term, offset: total, total, data: new Uint8Array(0) } satisfies RSnapshotChunk);
    }
  }
}

/** The follower answered as to AppendEntries (its log now reaches the leader's): the stream is done. */
export function endSnapshotStream(s: RaftNodeState, to: number): void {
  s.snapshotStreams[to] = null;
}

// ------------------------------------------------------------------ follower

function answer(s: RaftNodeState, to: number, index: number, ctx: RaftCtx): void {
  ctx.send(s.nodes[to]!, { type: 'r-append-resp', term: s.term, from: s.index, index, reject: false, hintIndex: 0, hintTerm: 0 } satisfies RAppendResp);
}

/** A chunk from the leader of this term (the caller checked the term and follows its sender). */
export function onSnapshotChunk(s: RaftNodeState, m: RSnapshotChunk, ctx: RaftCtx): void {
  if (m.index <= s.commitIndex) {
    // Already this far (an earlier install, or the log caught up): say so, the leader moves on.
    s.incomingSnapshot = null;
    answer(s, m.from, s.commitIndex, ctx);
    return;
  }
  let inc = s.incomingSnapshot;
  if (!inc || inc.term !== s.term || inc.from !== m.from || inc.index !== m.index || inc.lastTerm !== m.lastTerm || inc.total !== m.total) {
    // Only the start of a stream opens one. Past it, this node has none of it (it restarted, or
    // never got the start): say so, and the leader starts over.
    if (m.offset !== 0) {
      ctx.send(s.nodes[m.from]!, { type: 'r-snapshot-ack', term: s.term, from: s.index, index: m.index, received: 0 } satisfies RSnapshotAck);
      return;
    }
    if (m.total > s.opts.maxSnapshotBytes) {
      ctx.log.warn(`snapshot at index ${m.index} from node ${m.from} has ${m.total} bytes, more than maxSnapshotBytes (${s.opts.maxSnapshotBytes}): refused; raise maxSnapshotBytes on every node`);
      return;
    }
    inc = s.incomingSnapshot = { from: m.from, term: s.term, index: m.index, lastTerm: m.lastTerm, total: m.total, received: 0, chunks: [] };
  }
  // In order only: the leader resends from what was acknowledged, after a while (a chunk lost
  // on the way), or at once when this node has less than it acknowledged.
  if (m.offset !== inc.received || inc.received + m.data.length > inc.total || m.data.length === 0) {
    if (m.offset < inc.received) ctx.send(s.nodes[m.from]!, { type: 'r-snapshot-ack', term: s.term, from: s.index, index: m.index, received: inc.received } satisfies RSnapshotAck);
    return;
  }
  inc.chunks.push(m.data);
  inc.received += m.data.length;
  ctx.send(s.nodes[m.from]!, { type: 'r-snapshot-ack', term: s.term, from: s.index, index: m.index, received: inc.received } satisfies RSnapshotAck);
  if (inc.received === inc.total) install(s, inc, ctx);
}

function install(s: RaftNodeState, inc: IncomingSnapshot, ctx: RaftCtx): void {
  s.incomingSnapshot = null;
  const bytes = new Uint8Array(inc.total);
  let at = 0;
  for (const c of inc.chunks) { bytes.set(c, at); at += c.length; }
  let snapshot: ReplicaSnapshot;
  try {
    snapshot = decodeSnapshot(bytes);
  } catch (e) {
    ctx.log.error(`snapshot at index ${inc.index} from node ${inc.from} could not be decoded (${e instanceof Error ? e.message : String(e)}): ignored`);
    return;
  }
  if (snapshot.appliedUpTo !== inc.index) {
    ctx.log.error(`snapshot from node ${inc.from} says index ${inc.index} but holds the state at ${snapshot.appliedUpTo}: ignored`);
    return;
  }
  const log = s.log;
  if (!log.matchTerm(inc.index, inc.lastTerm)) {
    // The log does not reach (or contradicts) the snapshot's point: it is replaced by it.
    const oldSnap = log.snapIndex;
    const oldLast = log.lastIndex;
    log.reset(inc.index, inc.lastTerm);
    persistReset(s, oldSnap, oldLast, ctx);
  }
  // Otherwise the entries after the point stay (etcd fast-forwards the commit the same way).
  if (inc.index > s.commitIndex) s.commitIndex = inc.index;
  if (inc.index > s.deliveredUpTo) s.deliveredUpTo = inc.index;
  s.stats.snapshotsInstalled++;
  const replica = s.replicas[s.index];
  if (replica) ctx.send(replica, { type: 'm-snapshot', snapshot } satisfies MSnapshot);
  answer(s, inc.from, inc.index, ctx);
}
