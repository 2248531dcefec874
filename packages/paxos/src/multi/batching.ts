/**
 * The leader's client commands: taken in (or redirected to the leader), kept waiting for room
 * in the window, and batched into slot values (bounded by count and bytes, flushed every turn).
 *
 * Pure: it touches the world only through `ctx`.
 */
import type { ActorContext, ActorRef } from '@synod/actors';
import { BatchEncoder } from './batch-encoding.js';
import { leaderElsewhere, redirect, type ElectionState } from './election.js';
import { applyLag, recordProposed, type FlowControlState } from './flow-control.js';
import type { Batch, Command, MRequest, MResult, MultiAcceptorMsg, SlotValue } from './messages.js';
import type { LeaderOptions } from './options.js';
import { propose, type PipelineState, type Proposing } from './pipeline.js';

/** Encodes batches as they are filled (one per thread; a flush runs to its end within one turn). */
const batchEncoder = new BatchEncoder();

export interface BatchingState {
  /** Commands waiting for room in the window, from `pendingHead` on. */
  pending: Command[];
  pendingHead: number;
  /** A flush for the commands of this turn is queued. */
  flushQueued: boolean;
}

/** What batching needs of its leader. */
export interface Batching extends Proposing {
  readonly index: number;
  readonly leaders: readonly ActorRef<any>[];
  readonly acceptors: readonly ActorRef<MultiAcceptorMsg>[];
  readonly opts: LeaderOptions;
  readonly election: ElectionState;
  readonly pipeline: PipelineState;
  readonly batching: BatchingState;
  readonly flow: FlowControlState;
  readonly stats: { chosen: number; batches: number; commands: number; redirects: number };
}

type Ctx = ActorContext<any, unknown>;

export function newBatching(): BatchingState {
  return { pending: [], pendingHead: 0, flushQueued: false };
}

/** Commands waiting at this leader. */
export function pendingCount(b: BatchingState): number {
  return b.pending.length - b.pendingHead;
}

export function onRequest(l: Batching, m: MRequest, ctx: Ctx): void {
  const s = l.batching;
  if (l.election.status !== 'leader') {
    // Even a silent client is told where the leader is.
    const token = ctx.replyToken();
    l.stats.redirects++;
    const leader = leaderElsewhere(l.election, l.index, l.leaders);
    const answer = redirect(leader, l.election.status === 'candidate' ? 'an election is running' : 'not the leader', m.commands.length === 1 ? m.commands[0]!.seq : undefined);
    let tokenUsed = false;
    for (const c of m.commands) {
      const r = c.reply ?? (m.commands.length === 1 ? token : undefined);
      if (r) ctx.respond(r, answer);
      if (r === token) tokenUsed = true;
    }
    if (token && !tokenUsed) ctx.respond(token, answer);
    return;
  }
  const token = m.silent ? undefined : ctx.replyToken();
  const room = l.opts.maxPendingCommands - (s.pending.length - s.pendingHead);
  for (let i = 0; i < m.commands.length; i++) {
    const c = m.commands[i]!;
    const reply = c.reply ?? (m.commands.length === 1 ? token : undefined);
    if (i >= room) {
      if (reply) ctx.respond(reply, { type: 'result', client: c.client, seq: c.seq, ok: false, error: `the leader has ${l.opts.maxPendingCommands} commands waiting (maxPendingCommands); retry later`, index: -1 } satisfies MResult);
      continue;
    }
    s.pending.push({ client: c.client, seq: c.seq, op: c.op, reply, origin: l.index });
  }
  // Batch what arrives in this turn: flush after the messages already queued.
  if (!s.flushQueued) {
    s.flushQueued = true;
    ctx.send(ctx.self, { type: 'flush' });
  }
}

/** Fills slots with batches of waiting commands while the window has room. */
export function flush(l: Batching, ctx: Ctx): void {
  if (l.election.status !== 'leader') return;
  const o = l.opts;
  const s = l.batching;
  const p = l.pipeline;
  while (s.pendingHead < s.pending.length && p.inflight.size < o.window && p.inflightBytes < o.maxInflightBytes && applyLag(l.flow) < o.maxApplyLag) {
    let value: SlotValue;
    let count: number;
    let bytes: number;
    if (o.encodeBatches) {
      // Encoded as it is filled: the byte bound is the batch's real size.
      while (s.pendingHead < s.pending.length && batchEncoder.count < o.maxBatchCommands && batchEncoder.bytes < o.maxBatchBytes) {
        batchEncoder.add(s.pending[s.pendingHead]!);
        s.pending[s.pendingHead++] = undefined as never;
      }
      count = batchEncoder.count;
      value = batchEncoder.finish();
      bytes = value.byteLength;
    } else {
      const commands: Command[] = [];
      bytes = 0;
      while (s.pendingHead < s.pending.length && commands.length < o.maxBatchCommands) {
        const c = s.pending[s.pendingHead]!;
        const size = approxSize(c.op);
        if (commands.length > 0 && bytes + size > o.maxBatchBytes) break;
        commands.push(c);
        bytes += size;
        s.pending[s.pendingHead++] = undefined as never;
      }
      count = commands.length;
      value = { commands } satisfies Batch;
    }
    l.stats.batches++;
    l.stats.commands += count;
    recordProposed(l.flow, p.nextSlot, count);
    propose(l, p.nextSlot++, value, bytes, ctx);
  }
  if (s.pendingHead === s.pending.length) {
    s.pending = [];
    s.pendingHead = 0;
  } else if (s.pendingHead > 4096 && s.pendingHead * 2 > s.pending.length) {
    s.pending = s.pending.slice(s.pendingHead);
    s.pendingHead = 0;
  }
}

/** Everything waiting here goes back to its clients: they retry with `leader` (we stepped down). */
export function returnPending(s: BatchingState, leader: ActorRef<any> | null, ctx: Ctx): void {
  for (let i = s.pendingHead; i < s.pending.length; i++) {
    const c = s.pending[i]!;
    if (c.reply) ctx.respond(c.reply, redirect(leader, 'leadership moved'));
  }
  s.pending = [];
  s.pendingHead = 0;
}

/** A cheap upper-bound estimate of a command's size in bytes, for batch limits. */
function approxSize(v: unknown, depth = 0): number {
  switch (typeof v) {
    case 'string': return 2 + v.length;
    case 'number': return 8;
    case 'boolean': return 1;
    case 'object': {
      if (v === null || depth > 4) return 8;
      if (v instanceof Uint8Array) return v.length + 4;
      let n = 8;
      if (Array.isArray(v)) for (const x of v) n += approxSize(x, depth + 1);
      else for (const k in v as Record<string, unknown>) n += k.length + approxSize((v as Record<string, unknown>)[k], depth + 1);
      return n;
    }
    default: return 8;
  }
}

/** A slot value's size as the batch bounds count it (`maxBatchBytes`, `maxInflightBytes`). */
export function slotBytes(value: SlotValue): number {
  if (value === null) return 0;
  if (value instanceof Uint8Array) return value.byteLength;
  let n = 0;
  for (const c of value.commands) n += approxSize(c.op);
  return n;
}
