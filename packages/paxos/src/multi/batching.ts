/**
 * The leader's client commands: requests taken in (or redirected to the leader), kept waiting
 * for room in the window, and batched into slot values (bounded by commands and bytes, flushed
 * every turn). A request is the bytes its client wrote, as they will sit in the log: the leader
 * concatenates whole requests into a slot and never reads them (no second encoder on the way).
 * It tells its node's replica where each client's outcomes go (a route: never in the log).
 *
 * Pure: it touches the world only through `ctx`.
 */
import { sameRef, type ActorContext, type ActorRef } from '@synod/actors';
import { SlotBuilder, type ClientReply, type MClientRedirect, type MClientRequest, type MClientRoute } from '@synod/smr';
import { leaderElsewhere, type ElectionState } from './election.js';
import { applyLag, recordProposed, type FlowControlState } from './flow-control.js';
import type { MultiAcceptorMsg, SlotValue } from './messages.js';
import type { LeaderOptions } from './options.js';
import { propose, sendAccepts, type PipelineState, type Proposing } from './pipeline.js';
import type { RetentionState } from './retention.js';

/** Builds slot values (one per thread; a flush runs to its end within one turn). */
const builder = new SlotBuilder();

interface Waiting {
  bytes: Uint8Array;
  commands: number;
  from: ActorRef<ClientReply>;
}

export interface BatchingState {
  /** Requests waiting for room in the window, from `pendingHead` on. */
  pending: Waiting[];
  pendingHead: number;
  /** Commands in the waiting requests. */
  pendingCommands: number;
  /** A flush for the requests of this turn is queued. */
  flushQueued: boolean;
  /** Where each client's outcomes go, as told to this node's replica (bounded like its routes). */
  routes: Map<string, ActorRef<ClientReply>>;
}

/** What batching needs of its leader. */
export interface Batching extends Proposing {
  readonly index: number;
  readonly leaders: readonly ActorRef<any>[];
  readonly replicas: readonly ActorRef<any>[];
  readonly acceptors: readonly ActorRef<MultiAcceptorMsg>[];
  readonly opts: LeaderOptions;
  readonly election: ElectionState;
  readonly pipeline: PipelineState;
  readonly batching: BatchingState;
  readonly flow: FlowControlState;
  readonly retention: RetentionState;
  readonly stats: { chosen: number; batches: number; commands: number; redirects: number };
}

type Ctx = ActorContext<any, unknown>;

/** Routes remembered; the least recently seen client is forgotten beyond (its replica keeps as many). */
const MAX_ROUTES = 100_000;

export function newBatching(): BatchingState {
  return { pending: [], pendingHead: 0, pendingCommands: 0, flushQueued: false, routes: new Map() };
}

/** Commands waiting at this leader. */
export function pendingCount(b: BatchingState): number {
  return b.pendingCommands;
}

export function redirect(leader: ActorRef<any> | null, reason: string, reads: boolean, busy = false): MClientRedirect {
  return { type: 'client-redirect', leader, reason, busy, reads };
}

export function onRequest(l: Batching, m: MClientRequest, ctx: Ctx): void {
  const s = l.batching;
  if (l.election.status !== 'leader') {
    l.stats.redirects++;
    const reason = l.election.status === 'candidate' ? 'an election is running' : 'not the leader';
    ctx.send(m.from, redirect(leaderElsewhere(l.election, l.index, l.leaders), reason, false));
    return;
  }
  if (s.pendingCommands + m.commands > l.opts.maxPendingCommands && s.pendingCommands > 0) {
    ctx.send(
      m.from,
      redirect(ctx.self, `the leader has ${s.pendingCommands} commands waiting (maxPendingCommands ${l.opts.maxPendingCommands}); retry later`, false, true),
    );
    return;
  }
  const known = s.routes.get(m.client);
  if (known === undefined || !sameRef(known, m.from)) {
    s.routes.delete(m.client);
    s.routes.set(m.client, m.from);
    if (s.routes.size > MAX_ROUTES) s.routes.delete(s.routes.keys().next().value!);
    const local = l.replicas[l.index];
    if (local) ctx.send(local, { type: 'client-route', client: m.client, to: m.from } satisfies MClientRoute);
  }
  s.pending.push({ bytes: m.bytes, commands: m.commands, from: m.from });
  s.pendingCommands += m.commands;
  // Batch what arrives in this turn: flush after the messages already queued.
  if (!s.flushQueued) {
    s.flushQueued = true;
    ctx.send(ctx.self, { type: 'flush' });
  }
}

/** Fills slots with waiting requests while the window has room. */
export function flush(l: Batching, ctx: Ctx): void {
  if (l.election.status !== 'leader') return;
  const o = l.opts;
  const s = l.batching;
  const p = l.pipeline;
  while (
    s.pendingHead < s.pending.length &&
    p.inflight.size < o.window &&
    p.inflightBytes < o.maxInflightBytes &&
    applyLag(l.flow) < o.maxApplyLag &&
    l.retention.keptBytesTotal + p.inflightBytes < o.maxAcceptorBytes
  ) {
    // A request larger than the batch bounds makes a slot of its own.
    while (s.pendingHead < s.pending.length && (builder.count === 0 || (builder.commands < o.maxBatchCommands && builder.bytes < o.maxBatchBytes))) {
      const w = s.pending[s.pendingHead]!;
      if (builder.count > 0 && (builder.commands + w.commands > o.maxBatchCommands || builder.bytes + w.bytes.length > o.maxBatchBytes)) break;
      builder.add(w.bytes, w.commands);
      s.pendingCommands -= w.commands;
      s.pending[s.pendingHead++] = undefined as never;
    }
    const count = builder.commands;
    const value = builder.finish(ctx.sharedBytes.bind(ctx));
    l.stats.batches++;
    l.stats.commands += count;
    recordProposed(l.flow, p.nextSlot, count);
    propose(l, p.nextSlot++, value, value.byteLength, ctx);
  }
  sendAccepts(l, ctx);
  if (s.pendingHead === s.pending.length) {
    s.pending = [];
    s.pendingHead = 0;
  } else if (s.pendingHead > 4096 && s.pendingHead * 2 > s.pending.length) {
    s.pending = s.pending.slice(s.pendingHead);
    s.pendingHead = 0;
  }
}

/**
 * We stepped down: everything waiting here goes back to its clients, to send again to `leader`;
 * this node's replica stops answering clients (the next leader's does). Every client this leader
 * served is told, not only those with commands waiting: commands in slots proposed but not chosen
 * are abandoned with them, and a client not told would wait its whole attempt timeout (a second
 * by default, for a session whose later commands all wait behind the lost one).
 */
export function returnPending(l: Batching, leader: ActorRef<any> | null, ctx: Ctx): void {
  const s = l.batching;
  const told = new Set<string>();
  const tell = (to: ActorRef<any>): void => {
    const key = `${to.node}.${to.id}`;
    if (told.has(key)) return;
    told.add(key);
    ctx.send(to, redirect(leader, 'leadership moved', false));
  };
  for (let i = s.pendingHead; i < s.pending.length; i++) tell(s.pending[i]!.from);
  for (const to of s.routes.values()) tell(to);
  s.pending = [];
  s.pendingHead = 0;
  s.pendingCommands = 0;
  if (s.routes.size > 0) {
    const local = l.replicas[l.index];
    if (local) ctx.send(local, { type: 'client-routes-clear' });
    s.routes.clear();
  }
}

/** A slot value's size as the batch bounds count it (`maxBatchBytes`, `maxInflightBytes`). */
export function slotBytes(value: SlotValue): number {
  return value === null ? 0 : value.byteLength;
}
