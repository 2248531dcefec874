/**
 * Linearizable and lease reads at the leader (ReadIndex style).
 *
 * A message of reads waits for leadership to be confirmed by a heartbeat round sent after it
 * arrived (or, for lease reads, for nothing while the lease holds), then goes to this node's
 * replica as a session read at the commit index of its arrival: the replica answers the client
 * once it has applied that far. Reads wait too until the slots re-proposed at the start of the
 * reign are all chosen. Session and eventual reads that reach a leader go straight to its replica.
 *
 * Pure: it touches the world only through `ctx`.
 */
import type { ActorContext, ActorRef } from '@synod/actors';
import type { MClientReads } from '@synod/smr';
import { redirect } from './batching.js';
import { leaderElsewhere, type ElectionState } from './election.js';
import type { HeartbeatState } from './heartbeats.js';
import type { LeaderOptions } from './options.js';
import type { PipelineState } from './pipeline.js';

interface PendingRead {
  m: MClientReads;
  round: number;
  index: number;
  lease: boolean;
}

export interface ReadsState {
  /** Read messages waiting for a confirmation (or for the reign's first slots). */
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

export function onRead(l: Reading, m: MClientReads, ctx: Ctx): void {
  const s = l.reads;
  const local = l.replicas[l.index];
  if (m.consistency === 'session' || m.consistency === 'eventual') {
    if (local) ctx.send(local, m);
    return;
  }
  if (l.election.status !== 'leader') {
    ctx.send(m.from, redirect(leaderElsewhere(l.election, l.index, l.leaders), 'not the leader', true));
    return;
  }
  if (s.waiting.length >= l.opts.maxPendingReads) {
    ctx.send(m.from, redirect(ctx.self, `the leader has ${l.opts.maxPendingReads} read messages waiting (maxPendingReads); retry later`, true, true));
    return;
  }
  const lease = m.consistency === 'lease' && ctx.now() < l.heartbeats.leaseUntil;
  // Confirmed by a heartbeat round sent after the reads arrived (or by the lease). The reads of
  // one turn share a round: it is sent after the messages already queued.
  s.waiting.push({ m, round: l.heartbeats.round + 1, index: l.pipeline.commitUpTo, lease });
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
      ctx.send(local, { ...r.m, consistency: 'session', afterIndex: Math.max(r.index, p.readyAt, r.m.afterIndex) } satisfies MClientReads);
    } else {
      keep.push(r);
    }
  }
  s.waiting = keep;
}

/** Every waiting read goes back to its client, to send again to `leader` (we stepped down). */
export function returnReads(s: ReadsState, leader: ActorRef<any> | null, ctx: Ctx): void {
  const told = new Set<string>();
  for (const r of s.waiting) {
    const key = `${r.m.from.node}.${r.m.from.id}`;
    if (told.has(key)) continue;
    told.add(key);
    ctx.send(r.m.from, redirect(leader, 'leadership moved', true));
  }
  s.waiting = [];
}
