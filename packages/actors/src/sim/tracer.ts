/**
 * What a simulation remembers of its run: every event folded into the fingerprint, and, with the
 * `trace` option, readable trace records (the newest, when bounded).
 */
import { Kind, type Envelope } from '../envelope.js';
import { messageType } from '../errors.js';
import type { ActorRef } from '../ref.js';
import { Fingerprint, TraceLog, traceCode, type TraceKind, type TraceRecord } from './trace.js';
import type { SimWorld } from './world.js';

const DELIVER_CODE = traceCode.deliver;
const kindNames = ['send', 'ask', 'reply', 'enqueue'] as const;

export class Tracer {
  readonly fp = new Fingerprint();
  readonly log: TraceLog | null;

  constructor(
    private readonly world: SimWorld,
    trace: boolean | number,
    /** The ref of a live actor, for readable names. */
    private readonly lookup: (node: number, id: number) => ActorRef<any> | undefined,
  ) {
    this.log = trace === false ? null : new TraceLog(trace === true ? 1_000_000 : trace);
  }

  /**
   * A delivery, the most frequent event: its message was folded in at its send, so the
   * delivery adds only where and when (which fixes the order deliveries ran in).
   */
  delivery(fromNode: number, env: Envelope): void {
    const fp = this.fp;
    fp.int((DELIVER_CODE << 26) ^ (fromNode << 12) ^ env.toNode);
    fp.time(this.world.now);
    if (this.log !== null) this.logMessage('deliver', fromNode, env, this.world.now, undefined);
  }

  /** Folds a message event into the fingerprint (and the readable trace, when kept). */
  message(kind: TraceKind, fromNode: number, env: Envelope, at: number, detail: string | undefined): void {
    const fp = this.fp;
    // Packed into three words: nodes and ids are small, and a fingerprint only needs to differ.
    fp.int((traceCode[kind] << 26) ^ (env.kind << 24) ^ (fromNode << 12) ^ env.toNode);
    fp.int(((env.from === null ? 0xfff : env.from.id) << 16) ^ env.to);
    fp.time(at);
    const msg = env.msg;
    fp.str(typeof msg === 'object' && msg !== null && typeof (msg as { type?: unknown }).type === 'string' ? (msg as { type: string }).type : typeof msg);
    if (this.log !== null) this.logMessage(kind, fromNode, env, at, detail);
  }

  /** Folds any other event in: its kind, node, two numbers, the time, and a label. */
  event(kind: TraceKind, node: number, a: number, b: number, label: string | undefined, describe: (() => Partial<TraceRecord>) | undefined): void {
    const fp = this.fp;
    const now = this.world.now;
    fp.int(traceCode[kind]);
    fp.int(node);
    fp.int(a);
    fp.int(b);
    fp.time(now);
    if (label !== undefined) fp.str(label);
    if (this.log !== null) {
      const rec: TraceRecord = { step: this.world.stats.steps, timeMs: now, kind, ...(describe ? describe() : {}) };
      if (node >= 0 && rec.to === undefined) rec.node = node;
      this.log.push(rec);
    }
  }

  /** `name(node.id)`, for trace records. */
  describe(node: number, id: number, name?: string): string {
    const n = name ?? this.lookup(node, id)?.name ?? (id === 0 ? 'outside' : '?');
    return `${n}(${node}.${id})`;
  }

  private logMessage(kind: TraceKind, fromNode: number, env: Envelope, at: number, detail: string | undefined): void {
    this.log!.push({
      step: this.world.stats.steps,
      timeMs: this.world.now,
      kind,
      from: env.from === null ? `outside(${fromNode})` : this.describe(env.from.node, env.from.id, env.from.name),
      to: this.describe(env.toNode, env.to),
      message: `${messageType(env.msg)}${env.kind === Kind.Send ? '' : ` [${kindNames[env.kind]}]`}`,
      detail: kind === 'send' || kind === 'duplicate' ? `arrives at ${at.toFixed(3)}` : detail,
    });
  }
}
