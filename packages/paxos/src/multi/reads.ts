/**
 * Linearizable and lease reads at the leader (ReadIndex style).
 *
 * A read waits for leadership to be confirmed by a heartbeat round sent after it arrived (or,
 * for a lease read, for nothing while the lease holds), then goes to this node's replica as a
 * session read at the commit index of its arrival: the replica answers once it has applied that
 * far. Reads wait too until the slots re-proposed at the start of the reign are all chosen.
 *
 * Pure: it touches the world only through `ctx`.
 */
import type { ActorContext, ActorRef, ReplyToken } from '@synod/actors';
import { leaderElsewhere, redirect, type ElectionState } from './election.js';
import type { HeartbeatState } from './heartbeats.js';
import type { MRead, MReadResult } from './messages.js';
import type { LeaderOptions } from './options.js';
import type { PipelineState } from './pipeline.js';

interface PendingRead { query: unknown; token: ReplyToken; round: number; index: number; lease: boolean; id: number | undefined }

export interface ReadsState {
  /** Reads waiting for a confirmation (or for the reign's first slots). */
  waiting: PendingRead[];
  /** A heartbeat round for the reads of this turn is queued. */
  roundQueued: boolean;
}

/** What reads need of their leader. */
export interface Reading {
  readonly index: number;
  readonly leaders: readonly ActorRef<any>[];
  readonly replicas: readonly ActorRef<any>[];
  readonly opts: LeaderOptions;
  readonly election: ElectionState;
  readonly pipeline: PipelineState;
  readonly heartbeats: HeartbeatState;
  readonly reads: ReadsState;
}

type Ctx = ActorContext<any, unknown>;

export function newReads(): ReadsState {
  return { waiting: [], roundQueued: false };
}

export function onRead(l: Reading, m: MRead, ctx: Ctx): void {
  const s = l.reads;
  const token = m.replyTo ?? ctx.replyToken();
  if (!token) return;
  if (l.election.status !== 'leader') {
    ctx.respond(token, redirect(leaderElsewhere(l.election, l.index, l.leaders), 'not the leader', m.id));
    return;
  }
  if (s.waiting.length >= l.opts.maxPendingReads) {
    ctx.respond(token, { type: 'read-result', ok: false, error: `the leader has ${l.opts.maxPendingReads} reads waiting (maxPendingReads); retry later`, index: -1, id: m.id } satisfies MReadResult);
    return;
  }
  const lease = m.consistency === 'lease' && ctx.now() < l.heartbeats.leaseUntil;
  // Confirmed by a heartbeat round sent after the read arrived (or by the lease). The reads of
  // one turn share a round: it is sent after the messages already queued.
  s.waiting.push({ query: m.query, token, round: l.heartbeats.round + 1, index: l.pipeline.commitUpTo, lease, id: m.id });
  if (lease) serveReads(l, ctx);
  else if (!s.roundQueued) {
    s.roundQueued = true;
    ctx.send(ctx.self, { type: 'read-round' });
  }
}

/** Hands confirmed reads to this node's replica, to answer once it has applied their index. */
export function serveReads(l: Reading, ctx: Ctx): void {
  const s = l.reads;
  const p = l.pipeline;
  if (s.waiting.length === 0 || p.commitUpTo < p.readyAt) return;
  const local = l.replicas[l.index];
  if (!local) return;
  const keep: PendingRead[] = [];
  for (const r of s.waiting) {
    if (r.lease || l.heartbeats.confirmedRound >= r.round) {
      ctx.send(local, { type: 'read', query: r.query, consistency: 'session', afterIndex: Math.max(r.index, p.readyAt), replyTo: r.token, id: r.id } satisfies MRead);
    } else {
      keep.push(r);
    }
  }
  s.waiting = keep;
}

/** Every waiting read goes back to its client, to retry with `leader` (we stepped down). */
export function returnReads(s: ReadsState, leader: ActorRef<any> | null, ctx: Ctx): void {
  for (const r of s.waiting) ctx.respond(r.token, redirect(leader, 'leadership moved', r.id));
  s.waiting = [];
}
