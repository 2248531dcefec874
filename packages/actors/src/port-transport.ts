import type { MessagePort } from 'node:worker_threads';
import { CLONE_TAG, REPEAT_TAG, type CodecRegistry } from './codec.js';
import { Envelope, Kind } from './envelope.js';
import { errorText, messageType } from './errors.js';
import type { ActorHost } from './host.js';
import type { MeshTransport } from './transport.js';
import type { ActorRef } from './ref.js';
import { WireReader, WireWriter } from './wire.js';

const NO_SENDER = 0xffff;

/** Limits of the port transport. */
export interface PortTransportLimits {
  /** Bytes queued for a node whose port is not connected yet; beyond it messages are dead letters. */
  maxPendingBytesPerLink: number;
  /** A batch is posted early once it holds this many bytes, even within a turn. */
  maxBatchBytes: number;
}

export const defaultPortTransportLimits: PortTransportLimits = {
  maxPendingBytesPerLink: 64 * 1024 * 1024,
  maxBatchBytes: 64 * 1024,
};

/** The messages queued for one other node, and the port to it. */
class Link {
  readonly writer = new WireWriter(16 * 1024);
  objs: unknown[] = [];
  count = 0;
  dirty = false;
  /** The node died: messages for it are lost (dead letters) until it is connected again. */
  down = false;
  /** The last message encoded in this batch: sent again (to another actor), it is not re-encoded. */
  lastMsg: unknown = undefined;
  constructor(
    readonly node: number,
    public port: MessagePort | null,
  ) {}
}

/**
 * The mesh between hosts: one MessagePort per pair of nodes. Envelopes for a node are encoded
 * into one buffer during a turn (binary for types with a codec, structured clone for the rest)
 * and posted as one batch at the flush. No per-message Promise, no main-thread hop.
 *
 * A batch is an ArrayBuffer of records, or `[buffer, clones]` when some messages are cloned:
 * `u8 kind | u32 to | u16 fromNode | u32 fromId | u32 corr (not for sends) | u16 tag | payload`.
 */
export class PortTransport implements MeshTransport {
  private readonly links: (Link | undefined)[] = [];
  private readonly dirty: Link[] = [];
  private readonly reader = new WireReader();
  /**
   * Batches that arrived while the host was past its time budget for this event-loop turn
   * (`maxDrainMs`): kept as bytes and decoded in a later turn, in arrival order, so timers run in
   * between and no envelope is built long before it can be handled.
   */
  private deferred: unknown[] = [];
  private deferredHead = 0;
  private deferScheduled = false;

  constructor(
    private readonly host: ActorHost,
    private readonly codecs: CodecRegistry,
    private readonly resolveRef: (node: number, id: number) => ActorRef<any>,
    private readonly limits: PortTransportLimits = defaultPortTransportLimits,
    private readonly onError: (what: string, error: unknown) => void = () => {},
  ) {
    this.reader.resolveRef = resolveRef;
  }

  /** Joins a port to `node`; anything queued for it leaves now. */
  connect(node: number, port: MessagePort): void {
    const old = this.links[node];
    if (old?.port) old.port.close();
    const link = old ?? new Link(node, null);
    link.port = port;
    link.down = false;
    this.links[node] = link;
    port.on('message', (data: unknown) => this.receive(data));
    port.on('messageerror', (e: unknown) => this.onError(`a batch from node ${node} could not be deserialized`, e));
    if (link.count > 0) this.markDirty(link);
    this.flush();
  }

  /** Forgets the port to `node` (it died); queued messages to it become dead letters. */
  disconnect(node: number): void {
    const link = this.links[node];
    if (!link) return;
    link.port?.close();
    link.port = null;
    link.down = true;
    this.discard(link, 'unreachable');
  }

  send(env: Envelope): void {
    let link = this.links[env.toNode];
    if (link === undefined) {
      link = new Link(env.toNode, null);
      this.links[env.toNode] = link;
    }
    if (link.down) {
      this.host.deadLetter(env, 'unreachable', `node ${env.toNode} is down`);
      return;
    }
    if (link.port === null && link.writer.pos > this.limits.maxPendingBytesPerLink) {
      this.host.deadLetter(env, 'unreachable', `node ${env.toNode} is not connected and its queue is full`);
      return;
    }
    const w = link.writer;
    const start = w.pos;
    w.ensure(32);
    const buf = w.buf;
    const view = w.view;
    let p = w.pos;
    buf[p] = env.kind;
    view.setUint32(p + 1, env.to, true);
    const from = env.from;
    if (from === null) {
      view.setUint16(p + 5, NO_SENDER, true);
      view.setUint32(p + 7, 0, true);
    } else {
      view.setUint16(p + 5, from.node, true);
      view.setUint32(p + 7, from.id, true);
    }
    p += 11;
    if (env.kind !== Kind.Send) {
      view.setUint32(p, env.corr, true);
      p += 4;
    }
    const msg = env.msg;
    if (msg === link.lastMsg && link.count > 0) {
      view.setUint16(p, REPEAT_TAG, true);
      w.pos = p + 2;
      link.count++;
      if (!link.dirty) this.markDirty(link);
      return;
    }
    const tag = this.codecs.tagFor(msg);
    view.setUint16(p, tag, true);
    w.pos = p + 2;
    link.lastMsg = tag === CLONE_TAG ? undefined : msg;
    if (tag === CLONE_TAG) {
      link.objs.push(msg);
    } else {
      try {
        this.codecs.codec(tag).encode(msg, w);
      } catch (e) {
        w.pos = start;
        link.lastMsg = undefined;
        this.host.deadLetter(env, 'encoding', `codec for "${messageType(msg)}" threw: ${errorText(e)}`);
        return;
      }
    }
    link.count++;
    if (!link.dirty) this.markDirty(link);
    if (w.pos >= this.limits.maxBatchBytes && link.port !== null) this.post(link);
  }

  private markDirty(link: Link): void {
    link.dirty = true;
    this.dirty.push(link);
  }

  flush(): void {
    const dirty = this.dirty;
    for (let i = 0; i < dirty.length; i++) {
      const link = dirty[i]!;
      link.dirty = false;
      if (link.port !== null && link.count > 0) this.post(link);
    }
    dirty.length = 0;
  }

  private post(link: Link): void {
    const buffer = link.writer.take();
    const objs = link.objs;
    const port = link.port!;
    link.count = 0;
    link.lastMsg = undefined;
    try {
      if (objs.length === 0) {
        port.postMessage(buffer, [buffer]);
      } else {
        link.objs = [];
        port.postMessage([buffer, objs], [buffer]);
      }
    } catch {
      // Only a cloned message can fail here (DataCloneError). Find it, report it, send the rest.
      this.salvage(link, buffer, objs);
    }
  }

  /** Re-sends a batch whose post failed, without the messages that cannot be cloned. */
  private salvage(link: Link, buffer: ArrayBuffer, objs: unknown[]): void {
    const envs = this.decodeAll(
      buffer,
      objs.map(() => undefined),
    );
    let oi = 0;
    for (const { env, cloned } of envs) {
      env.toNode = link.node;
      if (cloned) {
        const original = objs[oi++];
        try {
          structuredClone(original);
        } catch (e) {
          env.toNode = link.node;
          env.msg = original;
          this.host.deadLetter(env, 'encoding', `not structured-clone safe: ${errorText(e)}`);
          continue;
        }
        env.msg = original;
      }
      this.send(env);
    }
    if (link.count > 0) this.post(link);
  }

  private receive(data: unknown): void {
    if (this.deferredHead < this.deferred.length || this.host.overBudget()) {
      this.deferred.push(data);
      this.scheduleDeferred();
      return;
    }
    this.handle(data);
  }

  private scheduleDeferred(): void {
    if (this.deferScheduled) return;
    this.deferScheduled = true;
    setImmediate(this.handleDeferred);
  }

  private readonly handleDeferred = (): void => {
    this.deferScheduled = false;
    while (this.deferredHead < this.deferred.length) {
      if (this.host.overBudget()) {
        this.scheduleDeferred();
        return;
      }
      const data = this.deferred[this.deferredHead];
      this.deferred[this.deferredHead++] = undefined;
      this.handle(data);
    }
    this.deferred = [];
    this.deferredHead = 0;
  };

  private handle(data: unknown): void {
    let buffer: ArrayBuffer;
    let objs: unknown[] | null = null;
    if (data instanceof ArrayBuffer) buffer = data;
    else {
      [buffer, objs] = data as [ArrayBuffer, unknown[]];
    }
    try {
      const r = this.reader;
      r.reset(buffer);
      const host = this.host;
      const node = host.node;
      const buf = r.buf;
      let oi = 0;
      // Batches usually come from few senders: remember the last one instead of a lookup per message.
      let lastNode = -1;
      let lastId = -1;
      let lastFrom: ActorRef<any> | null = null;
      let lastMsg: unknown = undefined;
      while (r.pos < buf.length) {
        const kind = buf[r.pos]! as Kind;
        const view = r.view;
        const to = view.getUint32(r.pos + 1, true);
        const fromNode = view.getUint16(r.pos + 5, true);
        const fromId = view.getUint32(r.pos + 7, true);
        r.pos += 11;
        let corr = 0;
        if (kind !== Kind.Send) {
          corr = view.getUint32(r.pos, true);
          r.pos += 4;
        }
        const tag = view.getUint16(r.pos, true);
        r.pos += 2;
        const msg = tag === REPEAT_TAG ? lastMsg : tag === CLONE_TAG ? objs![oi++] : this.codecs.codec(tag).decode(r);
        lastMsg = msg;
        if (fromNode !== lastNode || fromId !== lastId) {
          lastNode = fromNode;
          lastId = fromId;
          lastFrom = fromNode === NO_SENDER ? null : this.resolveRef(fromNode, fromId);
        }
        host.deliver(new Envelope(to, node, lastFrom, kind, corr, msg));
      }
    } catch (e) {
      this.onError('a received batch could not be decoded (codec mismatch between nodes?)', e);
    }
    this.host.drain();
  }

  private decodeAll(buffer: ArrayBuffer, objs: unknown[]): { env: Envelope; cloned: boolean }[] {
    const r = new WireReader();
    r.resolveRef = this.resolveRef;
    r.reset(buffer);
    const out: { env: Envelope; cloned: boolean }[] = [];
    let oi = 0;
    let lastMsg: unknown = undefined;
    while (r.pos < r.buf.length) {
      const kind = r.u8() as Kind;
      const to = r.u32();
      const fromNode = r.u16();
      const fromId = r.u32();
      const corr = kind !== Kind.Send ? r.u32() : 0;
      const tag = r.u16();
      const cloned = tag === CLONE_TAG;
      const msg = tag === REPEAT_TAG ? lastMsg : cloned ? objs[oi++] : this.codecs.codec(tag).decode(r);
      lastMsg = msg;
      const from = fromNode === NO_SENDER ? null : this.resolveRef(fromNode, fromId);
      out.push({ env: new Envelope(to, -1, from, kind, corr, msg), cloned });
    }
    return out;
  }

  private discard(link: Link, reason: 'unreachable'): void {
    if (link.count === 0) return;
    const buffer = link.writer.take();
    const objs = link.objs;
    link.objs = [];
    link.count = 0;
    link.lastMsg = undefined;
    for (const { env } of this.decodeAll(buffer, objs)) {
      env.toNode = link.node;
      this.host.deadLetter(env, reason, `node ${link.node} went away`);
    }
  }

  /** Closes every port. */
  close(): void {
    for (const link of this.links) link?.port?.close();
  }
}
