/**
 * The network transport: envelopes between processes and machines over TCP, with TLS 1.3 and
 * mutual authentication (node:tls). One connection per pair of nodes: a member dials the members
 * with higher numbers, a client dials every member, and the listener answers on the connection
 * it was dialed on. Per-pair order holds (one TCP stream); persist-before-send holds because the
 * host hands an envelope over only once its turn's state is durable.
 *
 * Envelopes for a peer are encoded into one batch per flush (`maxBatchBytes` at most) and sent as
 * one frame: `u8 kind | u32 to | u16 fromNode | u32 fromId | u32 corr (not for sends) | u16 tag |
 * payload` per envelope, the same records as between workers, with structured-clone messages
 * inline (`u32 length | v8 serialization`). A frame that is malformed, oversized or claims
 * another sender closes its connection with a logged reason; nothing it carried is delivered.
 */
import net from 'node:net';
import tls from 'node:tls';
import { deserialize, serialize } from 'node:v8';
import { EventEmitter } from 'eventemitter3';
import { CLONE_TAG, REPEAT_TAG, type CodecRegistry } from '../codec.js';
import { Envelope, Kind } from '../envelope.js';
import { errorText, messageType } from '../errors.js';
import type { ActorHost } from '../host.js';
import type { ActorRef } from '../ref.js';
import type { Transport } from '../transport.js';
import { WireReader, WireWriter } from '../wire.js';
import { FRAME_HEADER_BYTES, FrameError, FrameReader, FrameType, MAX_HANDSHAKE_FRAME_BYTES, frameHeader, jsonFrame } from './frames.js';
import { checkHello, makeHello, parseJsonFrame } from './handshake.js';
import { MAX_MEMBER_NODE, MAX_NODE, type NetLimits, type NetPeer, type NetworkOptions } from './net-options.js';

const NO_SENDER = 0xffff;

/** The codec tag of an encoded record. */
function tagAt(record: Uint8Array, kind: Kind): number {
  const p = kind !== Kind.Send ? 15 : 11;
  return record[p]! | (record[p + 1]! << 8);
}

/** What the transport reports (in-thread events). */
export interface NetEvents {
  /** A connection to `node` finished its handshake. */
  'peer:up': (node: number) => void;
  /** The connection to `node` closed. */
  'peer:down': (node: number, reason: string) => void;
  /** A peer refused this node's hello (`node` is the peer dialed), or this node refused a connection. */
  refused: (node: number | null, reason: string) => void;
}

/** Faults injected into this node's traffic (tests, benchmarks, the dashboard). */
export interface NetFaultSettings {
  /** Share of outgoing frames dropped, 0..1. */
  dropRate: number;
  /** Delay added to every outgoing frame (order is kept). */
  delayMs: number;
  /** Peers this node sends nothing to. */
  blockedOut: number[];
  /** Peers whose frames this node ignores. */
  blockedIn: number[];
}

/** Counters of the transport. */
export interface NetStats {
  framesSent: number;
  bytesSent: number;
  framesReceived: number;
  bytesReceived: number;
  /** Connections closed for a bad frame or a refused handshake. */
  refused: number;
  /** Peers with a connection up now. */
  connected: number[];
}

/** One connection, before and after its handshake. */
class Conn {
  node = -1;
  ready = false;
  closed = false;
  instance = '';
  readonly reader: FrameReader;
  timer: NodeJS.Timeout | null = null;
  constructor(
    readonly socket: net.Socket,
    /** This side dialed (it sends the hello). */
    readonly dialer: boolean,
    /** The member dialed (dialer side). */
    readonly peer: NetPeer | null,
  ) {
    this.reader = new FrameReader(MAX_HANDSHAKE_FRAME_BYTES);
  }
  get label(): string {
    return this.node >= 0 ? `node ${this.node}` : `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }
}

/** The messages queued for one peer, and its connection. */
class Link {
  readonly writer = new WireWriter(16 * 1024);
  count = 0;
  dirty = false;
  lastMsg: unknown = undefined;
  /** Whole batches waiting for a connection. */
  backlog: Buffer[] = [];
  backlogBytes = 0;
  conn: Conn | null = null;
  constructor(
    readonly node: number,
    readonly member: boolean,
  ) {}
  queuedBytes(): number {
    return this.backlogBytes + this.writer.pos + (this.conn?.socket.writableLength ?? 0);
  }
}

export class NetTransport implements Transport {
  readonly events = new EventEmitter<NetEvents>();
  private readonly links = new Map<number, Link>();
  private readonly dirty: Link[] = [];
  private readonly conns = new Set<Conn>();
  private readonly peers = new Map<number, NetPeer>();
  private readonly reader = new WireReader();
  private server: net.Server | null = null;
  private closing = false;
  private readonly redials = new Map<number, { delayMs: number; timer: NodeJS.Timeout | null }>();
  private faults: NetFaultSettings = { dropRate: 0, delayMs: 0, blockedOut: [], blockedIn: [] };
  private readonly blockedOut = new Set<number>();
  private readonly blockedIn = new Set<number>();
  private readonly counters = { framesSent: 0, bytesSent: 0, framesReceived: 0, bytesReceived: 0, refused: 0 };
  /** The last refusal a peer gave this node, by peer (what a client that cannot connect reports). */
  readonly lastRefusal = new Map<number, string>();
  private readonly instance = Math.random().toString(36).slice(2);
  private readonly role: 'node' | 'client';

  constructor(
    private readonly host: ActorHost,
    private readonly codecs: CodecRegistry,
    private readonly resolveRef: (node: number, id: number) => ActorRef<any>,
    private readonly options: NetworkOptions,
    private readonly limits: NetLimits,
    /** The digest of the codecs in use (checked in the handshake). */
    private readonly codecDigest: () => string,
    private readonly log: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void,
  ) {
    this.reader.resolveRef = resolveRef;
    for (const p of options.peers) this.peers.set(p.node, p);
    this.role = options.node <= MAX_MEMBER_NODE ? 'node' : 'client';
  }

  /** The port this node listens on (after `start`), or null for a client. */
  get port(): number | null {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : null;
  }

  /** Starts listening (members) and dialing. Resolves once the listener is bound. */
  async start(): Promise<void> {
    const listen = this.options.listen;
    if (listen) {
      const tlsOptions = this.options.tls;
      const server =
        tlsOptions === 'insecure'
          ? net.createServer((s) => this.accept(s))
          : tls.createServer(
              { ca: tlsOptions.ca, cert: tlsOptions.cert, key: tlsOptions.key, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' },
              (s) => this.accept(s),
            );
      server.on('tlsClientError', (e: Error, s: tls.TLSSocket) => {
        this.counters.refused++;
        // Node reports a client certificate that does not verify as a hang-up; the reason is on the socket.
        const why = (s as tls.TLSSocket & { authorizationError?: Error | string }).authorizationError;
        const reason = `refused a TLS connection from ${s.remoteAddress ?? '?'}: ${why ? `its certificate: ${String(why)}` : e.message}`;
        this.log('warn', reason);
        this.events.emit('refused', null, reason);
      });
      this.server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(listen.port, listen.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', (e) => this.log('error', `the listener failed: ${errorText(e)}`));
    }
    for (const p of this.peers.values()) if (this.dials(p.node)) this.dial(p);
  }

  /** This node dials `node` (rather than waiting for it): clients dial all, members the higher numbers. */
  private dials(node: number): boolean {
    return this.role === 'client' || node > this.options.node;
  }

  // ---------------------------------------------------------------- connections

  private dial(peer: NetPeer): void {
    if (this.closing) return;
    const t = this.options.tls;
    const socket =
      t === 'insecure'
        ? net.connect({ host: peer.host, port: peer.port })
        : tls.connect({
            host: peer.host,
            port: peer.port,
            ca: t.ca,
            cert: t.cert,
            key: t.key,
            minVersion: 'TLSv1.3',
            ...(net.isIP(peer.host) === 0 ? { servername: peer.host } : {}),
          });
    const conn = new Conn(socket, true, peer);
    conn.node = peer.node;
    this.conns.add(conn);
    socket.setNoDelay(true);
    socket.once(t === 'insecure' ? 'connect' : 'secureConnect', () => {
      socket.write(
        jsonFrame(FrameType.Hello, { ...makeHello(this.options.clusterId, this.options.node, this.role, this.codecDigest()), instance: this.instance }),
      );
    });
    this.watch(conn);
  }

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const conn = new Conn(socket, false, null);
    this.conns.add(conn);
    this.watch(conn);
  }

  private watch(conn: Conn): void {
    const socket = conn.socket;
    conn.timer = setTimeout(() => {
      if (!conn.ready) this.refuse(conn, `no handshake within ${this.limits.handshakeTimeoutMs} ms (handshakeTimeoutMs)`);
    }, this.limits.handshakeTimeoutMs);
    conn.timer.unref();
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('drain', () => this.host.drain());
    socket.on('error', (e) => {
      if (!conn.closed) this.log('debug', `connection with ${conn.label}: ${e.message}`);
    });
    socket.on('close', () => this.onClose(conn, socket.errored ? errorText(socket.errored) : 'closed by the peer'));
  }

  private onClose(conn: Conn, reason: string): void {
    if (conn.closed && !this.conns.has(conn)) return;
    conn.closed = true;
    this.conns.delete(conn);
    if (conn.timer) clearTimeout(conn.timer);
    const link = conn.node >= 0 ? this.links.get(conn.node) : undefined;
    if (link && link.conn === conn) {
      link.conn = null;
      this.events.emit('peer:down', conn.node, reason);
      this.log('info', `lost the connection with node ${conn.node}: ${reason}`);
      // A client's replies are worth nothing once it has gone: it sends again on its own.
      if (!link.member) this.forget(link);
    }
    if (conn.dialer && conn.peer && !this.closing) this.scheduleRedial(conn.peer, conn.ready);
  }

  private scheduleRedial(peer: NetPeer, wasUp: boolean): void {
    let r = this.redials.get(peer.node);
    if (!r) {
      r = { delayMs: this.limits.minReconnectDelayMs, timer: null };
      this.redials.set(peer.node, r);
    }
    if (wasUp) r.delayMs = this.limits.minReconnectDelayMs;
    if (r.timer) return;
    const delay = Math.round(r.delayMs * (0.5 + Math.random() * 0.5));
    r.delayMs = Math.min(this.limits.maxReconnectDelayMs, r.delayMs * 2);
    const entry = r;
    r.timer = setTimeout(() => {
      entry.timer = null;
      if (!this.closing && !(this.links.get(peer.node)?.conn?.ready ?? false)) this.dial(peer);
    }, delay);
    r.timer.unref();
  }

  /** Closes a connection for a reason, telling the peer first when it is still in its handshake. */
  private refuse(conn: Conn, reason: string): void {
    if (conn.closed) return;
    this.counters.refused++;
    this.log('warn', `closed the connection with ${conn.label}: ${reason}`);
    this.events.emit('refused', conn.node >= 0 ? conn.node : null, reason);
    if (!conn.ready && !conn.dialer) conn.socket.end(jsonFrame(FrameType.Refuse, { reason }));
    else conn.socket.destroy();
    conn.closed = true;
    // 'close' still comes and tidies up (onClose runs once more for the bookkeeping).
    this.conns.add(conn);
  }

  private onData(conn: Conn, chunk: Buffer): void {
    if (conn.closed) return;
    this.counters.bytesReceived += chunk.length;
    conn.reader.push(chunk);
    let delivered = false;
    try {
      for (;;) {
        const f = conn.reader.next();
        if (f === null) break;
        this.counters.framesReceived++;
        if (this.onFrame(conn, f.type, f.body)) delivered = true;
        if (conn.closed) break;
      }
    } catch (e) {
      this.refuse(conn, e instanceof FrameError ? e.message : `a frame could not be read (${errorText(e)})`);
    }
    if (delivered) this.host.drain();
  }

  /** Handles one frame; true when it delivered envelopes. */
  private onFrame(conn: Conn, type: FrameType, body: Uint8Array): boolean {
    if (conn.ready) {
      if (type === FrameType.Batch) {
        if (this.blockedIn.has(conn.node)) return false;
        return this.deliverBatch(conn, body);
      }
      throw new FrameError(`unexpected frame type ${type} after the handshake`);
    }
    if (!conn.dialer) {
      if (type !== FrameType.Hello) throw new FrameError('the first frame must be a hello');
      const h = parseJsonFrame(body, 'hello');
      const why = checkHello(h, { clusterId: this.options.clusterId, node: this.options.node, codecs: this.codecDigest() }, (n) => this.peers.has(n), MAX_NODE);
      if (why !== null) {
        this.refuse(conn, why);
        return false;
      }
      const node = h.node as number;
      const instance = typeof h.instance === 'string' ? h.instance : '';
      const existing = this.links.get(node)?.conn;
      if (existing && existing.ready && h.role === 'client' && existing.instance !== instance) {
        this.refuse(conn, `node number ${node} is in use by another client: pick another`);
        return false;
      }
      conn.node = node;
      conn.instance = instance;
      conn.socket.write(jsonFrame(FrameType.Welcome, { node: this.options.node, version: 1 }));
      this.up(conn);
      return false;
    }
    if (type === FrameType.Refuse) {
      const reason = String(parseJsonFrame(body, 'refuse').reason ?? 'no reason given');
      this.lastRefusal.set(conn.node, reason);
      // Refused for what it is (cluster, version, codecs): asking again soon will not help.
      const r = this.redials.get(conn.node);
      if (r) r.delayMs = this.limits.maxReconnectDelayMs;
      else this.redials.set(conn.node, { delayMs: this.limits.maxReconnectDelayMs, timer: null });
      this.log('warn', `node ${conn.node} refused this node: ${reason}`);
      this.events.emit('refused', conn.node, reason);
      conn.closed = true;
      this.conns.add(conn);
      conn.socket.destroy();
      return false;
    }
    if (type !== FrameType.Welcome) throw new FrameError('expected a welcome');
    const w = parseJsonFrame(body, 'welcome');
    if (w.node !== conn.node) throw new FrameError(`dialed node ${conn.node} but node ${String(w.node)} answered`);
    this.lastRefusal.delete(conn.node);
    this.up(conn);
    return false;
  }

  /** A connection finished its handshake: it carries the link to its node from now on. */
  private up(conn: Conn): void {
    conn.ready = true;
    if (conn.timer) clearTimeout(conn.timer);
    conn.reader.maxFrameBytes = this.limits.maxFrameBytes;
    const link = this.link(conn.node);
    const old = link.conn;
    link.conn = conn;
    if (old && old !== conn) {
      old.closed = true;
      old.socket.destroy();
    }
    const r = this.redials.get(conn.node);
    if (r) r.delayMs = this.limits.minReconnectDelayMs;
    this.log('info', `connected with node ${conn.node}`);
    this.events.emit('peer:up', conn.node);
    const backlog = link.backlog;
    link.backlog = [];
    link.backlogBytes = 0;
    for (const b of backlog) this.write(link, conn, b);
    if (link.count > 0) this.post(link);
  }

  private link(node: number): Link {
    let link = this.links.get(node);
    if (link === undefined) {
      link = new Link(node, this.peers.has(node));
      this.links.set(node, link);
    }
    return link;
  }

  private forget(link: Link): void {
    link.backlog = [];
    link.backlogBytes = 0;
    link.writer.pos = 0;
    link.count = 0;
    link.lastMsg = undefined;
  }

  // ---------------------------------------------------------------- receiving

  private deliverBatch(conn: Conn, body: Uint8Array): boolean {
    const r = this.reader;
    r.resetView(body, 0);
    const end = body.length;
    const envs: Envelope[] = [];
    const me = this.options.node;
    let lastMsg: unknown = undefined;
    let lastNode = -1;
    let lastId = -1;
    let lastFrom: ActorRef<any> | null = null;
    while (r.pos < end) {
      if (end - r.pos < 13) throw new FrameError('a truncated envelope');
      const kind = r.u8() as Kind;
      if (kind > Kind.Enqueue) throw new FrameError(`unknown envelope kind ${kind}`);
      const to = r.u32();
      const fromNode = r.u16();
      const fromId = r.u32();
      const corr = kind !== Kind.Send ? r.u32() : 0;
      const tag = r.u16();
      if (fromNode !== NO_SENDER && fromNode !== conn.node)
        throw new FrameError(`an envelope claims to come from node ${fromNode} on the connection of node ${conn.node}`);
      let msg: unknown;
      if (tag === REPEAT_TAG) {
        if (envs.length === 0) throw new FrameError('a repeat with nothing before it');
        msg = lastMsg;
      } else if (tag === CLONE_TAG) {
        const n = r.u32();
        if (n > end - r.pos) throw new FrameError('a truncated message');
        msg = deserialize(body.subarray(r.pos, r.pos + n));
        r.pos += n;
      } else msg = this.codecs.codec(tag).decode(r);
      if (r.pos > end) throw new FrameError('a truncated message');
      lastMsg = msg;
      if (fromNode !== lastNode || fromId !== lastId) {
        lastNode = fromNode;
        lastId = fromId;
        lastFrom = fromNode === NO_SENDER ? null : this.resolveRef(fromNode, fromId);
      }
      envs.push(new Envelope(to, me, lastFrom, kind, corr, msg));
    }
    // Only a batch read whole is delivered: a bad one changes nothing.
    for (const env of envs) this.host.deliver(env);
    return envs.length > 0;
  }

  // ---------------------------------------------------------------- sending

  send(env: Envelope): void {
    const node = env.toNode;
    const link = this.links.get(node) ?? (this.peers.has(node) ? this.link(node) : undefined);
    if (link === undefined || (!link.member && link.conn === null)) {
      this.host.deadLetter(env, 'unreachable', `node ${node} is not connected (a client that has gone, or no such member)`);
      return;
    }
    if (link.queuedBytes() > this.limits.maxQueuedBytesPerPeer) {
      this.host.deadLetter(
        env,
        'unreachable',
        `node ${node} is not taking messages: over ${this.limits.maxQueuedBytesPerPeer} bytes are queued for it (maxQueuedBytesPerPeer)`,
      );
      return;
    }
    const w = link.writer;
    const start = w.pos;
    w.ensure(32);
    const view = w.view;
    let p = w.pos;
    w.buf[p] = env.kind;
    view.setUint32(p + 1, env.to, true);
    const from = env.from;
    view.setUint16(p + 5, from === null ? NO_SENDER : from.node, true);
    view.setUint32(p + 7, from === null ? 0 : from.id, true);
    p += 11;
    if (env.kind !== Kind.Send) {
      view.setUint32(p, env.corr, true);
      p += 4;
    }
    const msg = env.msg;
    if (msg === link.lastMsg && link.count > 0) {
      view.setUint16(p, REPEAT_TAG, true);
      w.pos = p + 2;
    } else {
      const tag = this.codecs.tagFor(msg);
      view.setUint16(p, tag, true);
      w.pos = p + 2;
      try {
        if (tag === CLONE_TAG) {
          const bytes = serialize(msg);
          w.u32(bytes.length);
          w.ensure(bytes.length);
          w.buf.set(bytes, w.pos);
          w.pos += bytes.length;
        } else this.codecs.codec(tag).encode(msg, w);
      } catch (e) {
        w.pos = start;
        link.lastMsg = undefined;
        this.host.deadLetter(env, 'encoding', `"${messageType(msg)}" could not be encoded: ${errorText(e)}`);
        return;
      }
      link.lastMsg = msg;
    }
    if (w.pos + FRAME_HEADER_BYTES > this.limits.maxFrameBytes) {
      const record = w.buf.slice(start, w.pos);
      w.pos = start;
      link.lastMsg = undefined;
      if (record.length + FRAME_HEADER_BYTES > this.limits.maxFrameBytes) {
        this.host.deadLetter(env, 'encoding', `"${messageType(msg)}" is ${record.length} bytes encoded, over maxFrameBytes (${this.limits.maxFrameBytes})`);
        return;
      }
      // The batch so far leaves alone; this record starts the next one (never a frame over the bound).
      if (link.count > 0) this.post(link);
      w.ensure(record.length);
      w.buf.set(record, 0);
      w.pos = record.length;
      if (record[0] !== undefined && tagAt(record, env.kind) === REPEAT_TAG) {
        // A repeat cannot start a batch: encode the message again in full.
        w.pos = 0;
        this.send(env);
        return;
      }
    }
    link.count++;
    if (!link.dirty) {
      link.dirty = true;
      this.dirty.push(link);
    }
    if (w.pos >= this.limits.maxBatchBytes) this.post(link);
  }

  /**
   * Posts every batch queued, clients' first: a reply to a client ends its wait, while a member
   * may get, queued in the same drain, a decision it only records. Each write costs its sender
   * the wakeup of the reader (tens of microseconds on loopback), so the order decides which
   * reader starts first. Per-pair order is untouched (each link keeps its own).
   */
  flush(): void {
    const dirty = this.dirty;
    let members = 0;
    for (let i = 0; i < dirty.length; i++) {
      const link = dirty[i]!;
      if (link.member) {
        dirty[members++] = link;
        continue;
      }
      link.dirty = false;
      if (link.count > 0) this.post(link);
    }
    for (let i = 0; i < members; i++) {
      const link = dirty[i]!;
      link.dirty = false;
      if (link.count > 0) this.post(link);
    }
    dirty.length = 0;
  }

  congested(): boolean {
    let total = 0;
    for (const link of this.links.values()) total += link.queuedBytes();
    return total > this.limits.maxQueuedBytes;
  }

  /** Ends the batch being built for `link`: onto its connection, or into its backlog until there is one. */
  private post(link: Link): void {
    const body = Buffer.from(link.writer.take());
    link.count = 0;
    link.lastMsg = undefined;
    const conn = link.conn;
    if (conn !== null && conn.ready && !conn.closed) this.write(link, conn, body);
    else {
      link.backlog.push(body);
      link.backlogBytes += body.length;
    }
  }

  private write(link: Link, conn: Conn, body: Buffer): void {
    if (this.blockedOut.has(link.node)) return;
    if (this.faults.dropRate > 0 && Math.random() < this.faults.dropRate) return;
    const out = (): void => {
      if (conn.closed) return;
      const s = conn.socket;
      s.cork();
      s.write(frameHeader(FrameType.Batch, body.length));
      s.write(body);
      s.uncork();
      this.counters.framesSent++;
      this.counters.bytesSent += body.length + FRAME_HEADER_BYTES;
    };
    if (this.faults.delayMs > 0) setTimeout(out, this.faults.delayMs);
    else out();
  }

  // ---------------------------------------------------------------- faults, stats, close

  /** Injects faults into this node's traffic; `heal` ends them. */
  setFaults(f: Partial<NetFaultSettings>): void {
    const next = { ...this.faults, ...f };
    if (!(next.dropRate >= 0 && next.dropRate <= 1)) throw new RangeError('dropRate must be in 0..1');
    if (!(Number.isFinite(next.delayMs) && next.delayMs >= 0)) throw new RangeError('delayMs must be a non-negative number');
    this.faults = next;
    this.blockedOut.clear();
    this.blockedIn.clear();
    for (const n of next.blockedOut) this.blockedOut.add(n);
    for (const n of next.blockedIn) this.blockedIn.add(n);
  }

  /** Cuts this node off from `nodes` both ways (what it sends them is lost, what they send is ignored). */
  partition(nodes: number[]): void {
    this.setFaults({ blockedOut: [...nodes], blockedIn: [...nodes] });
  }

  /** Ends every injected fault. */
  heal(): void {
    this.setFaults({ dropRate: 0, delayMs: 0, blockedOut: [], blockedIn: [] });
  }

  get faultSettings(): NetFaultSettings {
    return { ...this.faults, blockedOut: [...this.faults.blockedOut], blockedIn: [...this.faults.blockedIn] };
  }

  stats(): NetStats {
    const connected: number[] = [];
    for (const [node, link] of this.links) if (link.conn?.ready && !link.conn.closed) connected.push(node);
    return { ...this.counters, connected: connected.sort((a, b) => a - b) };
  }

  /** Stops listening and dialing, and closes every connection. */
  async close(): Promise<void> {
    this.closing = true;
    for (const r of this.redials.values()) if (r.timer) clearTimeout(r.timer);
    for (const c of this.conns) {
      c.closed = true;
      if (c.timer) clearTimeout(c.timer);
      c.socket.destroy();
    }
    this.conns.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
