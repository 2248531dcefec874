/**
 * The shared-memory data plane between hosts: for every pair of hosts that talk, one ring per
 * direction (ring.ts), and one doorbell per reading host (doorbell.ts).
 *
 * A send encodes its envelope (binary for types with a codec, `WireWriter.value` for the rest)
 * and copies it into the destination's ring as one record; the records a host writes during a
 * drain are published together at its flush, and the reader's doorbell is rung only if it
 * sleeps. The reading host's run loop (ring-loop.ts) polls its rings, builds envelopes and
 * delivers them.
 *
 * Full rings are back-pressure, never loss: records that find no room wait, encoded and in order,
 * in the link's backlog; while a backlog holds more than `maxBacklogBytes` the transport reports
 * itself congested and the host runs no turns (reading goes on, so every backlog drains). A
 * record larger than a quarter of the ring travels over the pair's MessagePort, with a marker in
 * the ring at its place, so order holds. The MessagePorts otherwise carry nothing: the control
 * plane has its own.
 *
 * When a host dies the rings of its pairs are abandoned, not reset: records it published are
 * still delivered, records to it become dead letters, and its restarted worker gets new rings.
 */
import { isMainThread, type MessagePort } from 'node:worker_threads';
import { clearArray } from './arrays.js';
import type { ArenaStats, ArenaTable } from './arena.js';
import { CLONE_TAG, REPEAT_TAG, type CodecRegistry } from './codec.js';
export type { RingEnds } from './transport.js';
import { DOORBELL_MESSAGE, claimRing, ring as ringDoorbell, doorbellWord } from './doorbell.js';
import { Envelope, Kind } from './envelope.js';
import { errorText, messageType } from './errors.js';
import type { ActorHost, DeadLetterReason } from './host.js';
import type { MeshTransport, RingEnds } from './transport.js';
import type { ActorRef } from './ref.js';
import { ByteQueue } from './byte-queue.js';
import { RingReader, RingWriter, copyBytes } from './ring.js';
import { WireReader, WireWriter } from './wire.js';

const NO_SENDER = 0xffff;
/** Messages this small are encoded again rather than copied from the broadcast cache. */
const CACHE_MIN_BYTES = 64;
/** The first byte of a record that stands for one sent over the port (see SPILL in the header). */
const SPILL = 0xff;
const SPILL_MARKER = new Uint8Array([SPILL]);

/** Bounds of the ring transport. */
export interface RingTransportLimits {
  /**
   * Bytes of records waiting for room in one full ring. Past it the host runs no turns until
   * the reader has caught up (back-pressure); its rings are still read. Default 8 MiB.
   */
  maxBacklogBytes: number;
  /** Bytes queued for a node whose rings are not connected yet; beyond it messages are dead letters. Default 64 MiB. */
  maxPendingBytesPerLink: number;
  /**
   * When an arena is short of room, a thread holding many views of arena memory runs a full
   * garbage collection (so the blocks of the views it dropped come back) at most this often.
   * 0: never (blocks come back whenever V8 collects by itself). Default 100.
   */
  arenaCollectMs: number;
}

export const defaultRingTransportLimits: RingTransportLimits = {
  maxBacklogBytes: 8 * 1024 * 1024,
  maxPendingBytesPerLink: 64 * 1024 * 1024,
  arenaCollectMs: 100,
};

/** What a host's ring transport has done (statistics; `HostStats.transport`). */
export interface RingTransportStats {
  /** Times a backlog passed `maxBacklogBytes` and the host stopped running turns. */
  congestions: number;
  /** The largest backlog one link held, bytes. */
  peakBacklogBytes: number;
  /** Records too large for a ring, sent over the port. */
  spilled: number;
  /** Large values through shared arenas (absent when arenas are off). */
  arena?: ArenaStats;
}

/** The state of the pair of rings to and from one other node. */
class Link {
  writer: RingWriter | null = null;
  reader: RingReader | null = null;
  /** Decodes this link's records in place (a view of the ring's memory). */
  wire: WireReader | null = null;
  peerBell: Int32Array | null = null;
  /** Ring the peer by a message on `port` (the main thread), not by `Atomics.notify`. */
  ringByPort = false;
  port: MessagePort | null = null;
  /** Encoded records waiting for room (or for the link to connect), oldest first. */
  readonly backlog = new ByteQueue();
  get backlogBytes(): number {
    return this.backlog.bytes;
  }
  /** Counted in `congestedLinks`. */
  congested = false;
  /** Records sent over the port (too large for the ring), in order, for the marker that stands for each. */
  spilled: ArrayBuffer[] = [];
  /** The reader stopped at a marker whose record has not arrived over the port yet. */
  awaitingSpill = false;
  dirty = false;
  down = false;
  /** The last message written in this flush: sent again (to another actor there), it is not re-encoded. */
  lastMsg: unknown = undefined;
  hasLastMsg = false;
  /** The last message read from this link (what a REPEAT record means). */
  lastRead: unknown = undefined;
  lastFromNode = -1;
  lastFromId = -1;
  lastFrom: ActorRef<any> | null = null;
  /** The peer's arena, retired when the peer dies. */
  arenaId = -1;
  constructor(readonly node: number) {}
}

/** The ring mesh of one host. */
export class RingTransport implements MeshTransport {
  private readonly links: (Link | undefined)[] = [];
  /** Links with a reader, in the order they are polled. */
  private readable: Link[] = [];
  private readonly dirty: Link[] = [];
  /** Links holding a backlog: retried at every flush. */
  private readonly backlogged = new Set<Link>();
  private congestedLinks = 0;
  private readonly scratch = new WireWriter(4096);
  /** The encoded tag and body of the last message encoded (see `encode`), until the next flush. */
  private readonly cache = new WireWriter(4096);
  private cachedMsg: unknown = undefined;
  private readonly spillReader = new WireReader();
  private pollFrom = 0;
  private readonly counters = { congestions: 0, peakBacklogBytes: 0, spilled: 0 };
  /** Called when there is work the run loop should come back for (a spilled record arrived). */
  onWork: () => void = () => {};
  /** A peer rang this host's doorbell by message (this host is the main thread; see `RingEnds.peerRingsByPort`). */
  onDoorbell: () => void = () => this.onWork();

  constructor(
    private readonly host: ActorHost,
    private readonly codecs: CodecRegistry,
    private readonly resolveRef: (node: number, id: number) => ActorRef<any>,
    private readonly limits: RingTransportLimits = defaultRingTransportLimits,
    private readonly onError: (what: string, error: unknown) => void = () => {},
    /** Shared arenas for large byte values; null: every value is copied into the ring. */
    private readonly arenas: ArenaTable | null = null,
  ) {
    this.spillReader.resolveRef = resolveRef;
    this.spillReader.arenas = arenas;
    // A spilled record arrives in an ArrayBuffer of its own: its bytes are handed out as views.
    this.spillReader.ownsMessage = true;
    this.scratch.arenas = arenas;
  }

  /** A reader of this transport's records (refs resolved, arena references read). */
  private newReader(): WireReader {
    const r = new WireReader();
    r.resolveRef = this.resolveRef;
    r.arenas = this.arenas;
    r.volatile = true;
    return r;
  }

  // ---------------------------------------------------------------- wiring

  /** Joins the rings (and port) of the pair with `node`; anything queued for it goes in now. */
  connect(node: number, port: MessagePort, ends?: RingEnds): void {
    if (ends === undefined) throw new TypeError(`connect to node ${node}: the ring transport needs the pair's rings`);
    const old = this.links[node];
    if (old?.port) old.port.close();
    const link = old ?? new Link(node);
    this.links[node] = link;
    link.down = false;
    link.port = port;
    link.writer = new RingWriter(ends.out);
    link.reader = new RingReader(ends.in);
    link.peerBell = doorbellWord(ends.peerDoorbell);
    link.ringByPort = ends.peerRingsByPort === true;
    if (ends.peerArena && this.arenas !== null) {
      this.arenas.add(ends.peerArena);
      link.arenaId = ends.peerArena.id;
    }
    link.wire = this.newReader();
    link.wire.resetView(link.reader.data);
    link.lastRead = undefined;
    link.lastFromNode = -1;
    link.spilled = [];
    link.awaitingSpill = false;
    port.on('message', (data: ArrayBuffer | number) => {
      if (data === DOORBELL_MESSAGE) {
        this.onDoorbell();
        return;
      }
      link.spilled.push(data as ArrayBuffer);
      if (link.awaitingSpill) this.onWork();
    });
    port.on('messageerror', (e: unknown) => this.onError(`a large record from node ${node} could not be deserialized`, e));
    if (!this.readable.includes(link)) this.readable.push(link);
    if (link.backlogBytes > 0) {
      this.backlogged.add(link);
      this.markDirty(link);
    }
    this.flush();
    // The peer may have written (and rung) before this end was connected: read now, whatever
    // the run loop is doing (a parked loop would otherwise wait for a doorbell already rung).
    this.onWork();
  }

  /**
   * Forgets the pair with `node` (its host died): records it published are delivered, records
   * to it (in its ring or waiting) become dead letters.
   */
  disconnect(node: number): void {
    const link = this.links[node];
    if (!link || link.down) return;
    if (link.reader) this.readLink(link, Number.POSITIVE_INFINITY);
    link.port?.close();
    link.port = null;
    link.down = true;
    // Its unread records are dropped below, and with them their arena references: a value
    // placed in this flush may be gone, and must be placed again if sent again.
    this.arenas?.flushed();
    this.readable = this.readable.filter((l) => l !== link);
    if (link.arenaId >= 0) this.arenas?.retire(link.arenaId);
    if (link.writer) {
      link.writer.publish();
      const unread = new RingReader(link.writer.buffer);
      const r = this.newReader();
      r.resetView(unread.data);
      let last: unknown;
      while (unread.next()) {
        r.pos = unread.offset;
        if (r.buf[r.pos] !== SPILL) last = this.deadRecord(r, link, last, 'unreachable');
        unread.advance();
      }
    }
    this.dropBacklog(link, 'unreachable');
    link.writer = null;
    link.reader = null;
    link.wire = null;
    link.peerBell = null;
  }

  /** Closes every port (the rings are garbage once no one holds them). */
  close(): void {
    for (const link of this.links) link?.port?.close();
    this.arenas?.close();
  }

  // ---------------------------------------------------------------- sending

  send(env: Envelope): void {
    let link = this.links[env.toNode];
    if (link === undefined) {
      link = new Link(env.toNode);
      this.links[env.toNode] = link;
    }
    if (link.down) {
      this.host.deadLetter(env, 'unreachable', `node ${env.toNode} is down`);
      return;
    }
    const n = this.encode(env, link);
    if (n < 0) return;
    const w = link.writer;
    if (w === null) {
      if (link.backlogBytes > this.limits.maxPendingBytesPerLink) {
        this.host.deadLetter(env, 'unreachable', `node ${env.toNode} is not connected and its queue is full (maxPendingBytesPerLink)`);
        return;
      }
      this.toBacklog(link, this.scratch.buf, n);
      return;
    }
    if (!link.dirty) this.markDirty(link);
    if (n > w.maxPayload) {
      this.spill(link, n);
      return;
    }
    if (link.backlogBytes === 0) {
      const at = w.claim(n);
      if (at >= 0) {
        copyBytes(this.scratch.buf, 0, w.data, at, n);
        return;
      }
    }
    this.toBacklog(link, this.scratch.buf, n);
  }

  /** Encodes an envelope into the scratch writer; returns its bytes, or -1 (a dead letter) when it cannot be encoded. */
  private encode(env: Envelope, link: Link): number {
    const w = this.scratch;
    w.pos = 0;
    w.ensure(32);
    const buf = w.buf;
    const view = w.view;
    buf[0] = env.kind;
    view.setUint32(1, env.to, true);
    const from = env.from;
    if (from === null) {
      view.setUint16(5, NO_SENDER, true);
      view.setUint32(7, 0, true);
    } else {
      view.setUint16(5, from.node, true);
      view.setUint32(7, from.id, true);
    }
    let p = 11;
    if (env.kind !== Kind.Send) {
      view.setUint32(p, env.corr, true);
      p += 4;
    }
    const msg = env.msg;
    if (link.hasLastMsg && msg === link.lastMsg) {
      view.setUint16(p, REPEAT_TAG, true);
      return p + 2;
    }
    if (msg === this.cachedMsg && msg !== undefined) {
      // The same message object as the last one encoded, for another node (a broadcast): its
      // bytes, not its encoding again.
      const c = this.cache;
      w.pos = p;
      w.ensure(c.pos);
      w.buf.set(c.buf.subarray(0, c.pos), p);
      link.lastMsg = msg;
      link.hasLastMsg = true;
      return p + c.pos;
    }
    const tag = this.codecs.tagFor(msg);
    view.setUint16(p, tag, true);
    w.pos = p + 2;
    const arenaUses = this.arenas === null ? 0 : this.arenas.stats.placed + this.arenas.stats.forwarded;
    try {
      if (tag === CLONE_TAG) w.value(msg);
      else this.codecs.codec(tag).encode(msg, w);
    } catch (e) {
      link.hasLastMsg = false;
      this.host.deadLetter(
        env,
        'encoding',
        tag === CLONE_TAG ? `not structured-clone safe: ${errorText(e)}` : `codec for "${messageType(msg)}" threw: ${errorText(e)}`,
      );
      return -1;
    }
    link.lastMsg = msg;
    link.hasLastMsg = true;
    // Keep the bytes for a broadcast of the same object, unless they hold arena references
    // (each record must hold its own) or are too small to be worth it.
    const n = w.pos - p;
    if (n >= CACHE_MIN_BYTES && (this.arenas === null || this.arenas.stats.placed + this.arenas.stats.forwarded === arenaUses)) {
      const c = this.cache;
      c.pos = 0;
      c.ensure(n);
      c.buf.set(w.buf.subarray(p, w.pos), 0);
      c.pos = n;
      this.cachedMsg = msg;
    } else {
      this.cachedMsg = undefined;
    }
    return w.pos;
  }

  /** Sends a record too large for the ring over the port, with a marker at its place in the ring order. */
  private spill(link: Link, n: number): void {
    const bytes = this.scratch.buf.slice(0, n);
    this.scratch.pos = 0;
    this.counters.spilled++;
    // The record goes now; its marker waits its turn behind any backlog, so order holds.
    link.port!.postMessage(bytes.buffer, [bytes.buffer]);
    if (link.backlogBytes === 0) {
      const at = link.writer!.claim(1);
      if (at >= 0) {
        link.writer!.data[at] = SPILL;
        return;
      }
    }
    this.toBacklog(link, SPILL_MARKER, 1);
  }

  private toBacklog(link: Link, record: Uint8Array, n: number): void {
    link.backlog.push(record, n);
    this.backlogged.add(link);
    if (link.backlogBytes > this.counters.peakBacklogBytes) this.counters.peakBacklogBytes = link.backlogBytes;
    if (!link.congested && link.backlogBytes > this.limits.maxBacklogBytes && link.writer !== null) {
      link.congested = true;
      this.congestedLinks++;
      this.counters.congestions++;
    }
  }

  /** Moves backlog records into the ring while they fit, in runs of one copy. */
  private drainBacklog(link: Link): void {
    const w = link.writer!;
    const q = link.backlog;
    const cap = w.capacity >> 1; // a run is at most half the ring, so a wrap never blocks it
    let asked = false;
    for (;;) {
      while (q.count > 0) {
        const bytes = q.runBytes(cap);
        const at = w.claimRun(bytes);
        if (at < 0) {
          // Not the whole run: try the first record alone before waiting for room.
          const one = q.firstBytes();
          if (one === bytes) break;
          const at1 = w.claimRun(one);
          if (at1 < 0) break;
          w.data.set(q.run(one), at1);
          q.drop(one);
          continue;
        }
        w.data.set(q.run(bytes), at);
        q.drop(bytes);
      }
      if (q.count === 0 || asked) break;
      // Ask the reader to ring when it frees room, then look once more: it may have freed some
      // between the failed claim and the request, and would then not ring. It rings only a
      // sleeping host, so the run loop's sleep checks the request once more (see hasWork).
      w.wantRoom();
      asked = true;
    }
    if (q.count === 0) this.backlogged.delete(link);
    if (link.congested && link.backlogBytes <= this.limits.maxBacklogBytes) {
      link.congested = false;
      this.congestedLinks--;
    }
  }

  private markDirty(link: Link): void {
    link.dirty = true;
    this.dirty.push(link);
  }

  /** Publishes everything written since the last flush, and moves what waits into rings with room. */
  flush(): void {
    if (this.backlogged.size > 0) {
      for (const link of this.backlogged) {
        if (link.writer !== null) {
          this.drainBacklog(link);
          if (!link.dirty) this.markDirty(link);
        }
      }
    }
    // Messages are immutable once sent, but only within a flush is that leaned on.
    this.cachedMsg = undefined;
    this.arenas?.flushed();
    const dirty = this.dirty;
    for (let i = 0; i < dirty.length; i++) {
      const link = dirty[i]!;
      link.dirty = false;
      link.hasLastMsg = false;
      link.lastMsg = undefined;
      const w = link.writer;
      if (w !== null && w.pending) {
        w.publish();
        this.ring(link);
      }
    }
    clearArray(dirty);
  }

  /** Rings the peer's doorbell (see doorbell.ts): by `Atomics.notify`, or by a message to the main thread. */
  private ring(link: Link): void {
    if (!link.ringByPort) ringDoorbell(link.peerBell!);
    else if (claimRing(link.peerBell!)) link.port!.postMessage(DOORBELL_MESSAGE);
  }

  /**
   * Room for `n` bytes in this host's arena, sent by reference (see ArenaTable.allocate); none on
   * the main thread, which never runs the collections that free views it held (see maybeCollect):
   * its arena would fill with them.
   */
  sharedBytes(n: number): Uint8Array | null {
    return this.arenas === null || isMainThread ? null : this.arenas.allocate(n);
  }

  /** What this transport has done so far. */
  stats(): RingTransportStats {
    const out: RingTransportStats = { ...this.counters };
    if (this.arenas !== null) {
      this.arenas.reclaim();
      out.arena = { ...this.arenas.stats };
    }
    return out;
  }

  /** Between turns: a collection when arena memory runs short (see ArenaTable.maybeCollect). */
  maybeCollect(): void {
    this.arenas?.maybeCollect(this.limits.arenaCollectMs);
  }

  /** True while some link's backlog is past `maxBacklogBytes`: the host should run no turns. */
  congested(): boolean {
    return this.congestedLinks > 0;
  }

  /** Records waiting for room in full rings (bytes), for statistics and tests. */
  backlogBytes(): number {
    let n = 0;
    for (const link of this.backlogged) n += link.backlogBytes;
    return n;
  }

  // ---------------------------------------------------------------- receiving

  /** Whether any ring has records to read (or a spilled record arrived for a reader waiting on it). */
  hasData(): boolean {
    const links = this.readable;
    for (let i = 0; i < links.length; i++) {
      const link = links[i]!;
      if (link.awaitingSpill ? link.spilled.length > 0 : link.reader!.hasData()) return true;
    }
    return false;
  }

  /**
   * Whether the run loop has work before it sleeps (its sleep predicate, checked after the sleep
   * is announced): records to read, or a backlog whose reader has freed room since the request
   * (see `drainBacklog`). The reader rings a writer's doorbell only if that writer already
   * sleeps: one that freed room just before the writer announced its sleep leaves the request
   * answered and no one ringing, and a writer that then parked waited for ever with its backlog.
   */
  hasWork(): boolean {
    if (this.hasData()) return true;
    for (const link of this.backlogged) {
      if (link.writer !== null && !link.writer.roomAsked) return true;
    }
    return false;
  }

  /** Whether a backlog waits for a reader to free room (the loop should retry it when woken). */
  get hasBacklog(): boolean {
    return this.backlogged.size > 0;
  }

  /** Reads at most `budget` records from the rings into mailboxes; returns how many. */
  poll(budget: number): number {
    const links = this.readable;
    const k = links.length;
    if (k === 0) return 0;
    let n = 0;
    const start = this.pollFrom < k ? this.pollFrom : 0;
    for (let j = 0; j < k && n < budget; j++) {
      const link = links[(start + j) % k]!;
      n += this.readLink(link, budget - n);
    }
    this.pollFrom = start + 1;
    return n;
  }

  private readLink(link: Link, budget: number): number {
    const rr = link.reader!;
    if (link.awaitingSpill ? link.spilled.length === 0 : !rr.hasData()) return 0;
    link.awaitingSpill = false;
    const r = link.wire!;
    const host = this.host;
    let n = 0;
    while (n < budget && rr.next()) {
      r.pos = rr.offset;
      let env: Envelope | null;
      try {
        if (r.buf[r.pos] === SPILL) {
          const data = link.spilled.shift();
          if (data === undefined) {
            link.awaitingSpill = true;
            break;
          }
          const sr = this.spillReader;
          sr.reset(data);
          env = this.decode(sr, link);
        } else {
          env = this.decode(r, link);
        }
      } catch (e) {
        env = null;
        this.onError(`a record from node ${link.node} could not be decoded (codec mismatch between nodes?)`, e);
      }
      rr.advance();
      n++;
      if (env !== null) host.deliver(env);
    }
    if (rr.release()) this.ring(link);
    return n;
  }

  private decode(r: WireReader, link: Link): Envelope {
    const buf = r.buf;
    const view = r.view;
    let p = r.pos;
    const kind = buf[p]! as Kind;
    const to = view.getUint32(p + 1, true);
    const fromNode = view.getUint16(p + 5, true);
    const fromId = view.getUint32(p + 7, true);
    p += 11;
    let corr = 0;
    if (kind !== Kind.Send) {
      corr = view.getUint32(p, true);
      p += 4;
    }
    const tag = view.getUint16(p, true);
    r.pos = p + 2;
    let msg: unknown;
    if (tag === REPEAT_TAG) msg = link.lastRead;
    else {
      msg = tag === CLONE_TAG ? r.value() : this.codecs.codec(tag).decode(r);
      link.lastRead = msg;
    }
    if (fromNode !== link.lastFromNode || fromId !== link.lastFromId) {
      link.lastFromNode = fromNode;
      link.lastFromId = fromId;
      link.lastFrom = fromNode === NO_SENDER ? null : this.resolveRef(fromNode, fromId);
    }
    return new Envelope(to, this.host.node, link.lastFrom, kind, corr, msg);
  }

  // ---------------------------------------------------------------- dead letters

  /** Reports the record at `r` as a dead letter; returns its message (a REPEAT that follows means it). */
  private deadRecord(r: WireReader, link: Link, last: unknown, reason: DeadLetterReason): unknown {
    const saved = link.lastRead;
    link.lastRead = last;
    try {
      const env = this.decode(r, link);
      env.toNode = link.node;
      this.host.deadLetter(env, reason, `node ${link.node} went away`);
      return env.msg;
    } catch {
      return undefined;
    } finally {
      link.lastRead = saved;
    }
  }

  private dropBacklog(link: Link, reason: DeadLetterReason): void {
    const r = this.newReader();
    let last: unknown;
    const q = link.backlog;
    while (q.count > 0) {
      const rec = q.peek();
      if (rec[0] !== SPILL) {
        r.resetView(rec.slice());
        last = this.deadRecord(r, link, last, reason);
      }
      q.shift();
    }
    q.clear();
    this.backlogged.delete(link);
    if (link.congested) {
      link.congested = false;
      this.congestedLinks--;
    }
  }
}
