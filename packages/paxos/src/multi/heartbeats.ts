/**
 * The leader's heartbeat rounds. Each round goes to the acceptors, the other leaders and the
 * replicas: followers do not campaign while they hear it, replicas learn the commit point (and
 * fetch what they missed), and acceptors acknowledge it. A round acknowledged by enough
 * acceptors to meet every phase-1 quorum (acceptors − q1 + 1: a majority with majority quorums;
 * with Flexible Paxos's q1 = 4 of 5, two) confirms that we still led when it was sent (what
 * linearizable reads wait for): a leader elected since would have needed the promise of one of
 * them. It also renews the lease: the acceptors promise no one else for `leaseMs` after
 * acknowledging, so until `sentAt + leaseMs × (1 − maxClockDrift)` no other leader can gather a
 * phase-1 quorum.
 *
 * Pure: it touches the world only through `ctx`.
 */
import type { ActorContext, ActorRef } from '@synod/actors';
import type { Ballot } from '../ballot.js';
import { QuorumTally } from '../quorum.js';
import type { MHeartbeat, MHeartbeatAck, MultiAcceptorMsg } from './messages.js';
import type { LeaderOptions } from './options.js';

export interface HeartbeatState {
  /** The current round (rounds are numbered per leader, from 1). */
  round: number;
  sentAt: number;
  /** The acceptors that acknowledged the current round. */
  acks: QuorumTally;
  /** The latest round a confirming quorum acknowledged. */
  confirmedRound: number;
  /** Lease reads are served at once until then (local clock). */
  leaseUntil: number;
  /** When the last round went out. */
  lastSentAt: number;
}

/** What heartbeats need of their leader. */
export interface Heartbeating {
  readonly index: number;
  readonly acceptors: readonly ActorRef<MultiAcceptorMsg>[];
  readonly leaders: readonly ActorRef<any>[];
  readonly replicas: readonly ActorRef<any>[];
  readonly opts: LeaderOptions;
  readonly election: { readonly ballot: Ballot; readonly status: string };
  readonly pipeline: { readonly commitUpTo: number };
  readonly heartbeats: HeartbeatState;
}

type Ctx = ActorContext<any, unknown>;

export function newHeartbeats(confirm: number): HeartbeatState {
  return { round: 0, sentAt: 0, acks: new QuorumTally(confirm), confirmedRound: 0, leaseUntil: 0, lastSentAt: -Infinity };
}

/** A heartbeat is due (the leader sends one every `heartbeatMs`). */
export function heartbeatDue(l: Heartbeating, now: number): boolean {
  return now - l.heartbeats.lastSentAt >= l.opts.heartbeatMs;
}

/** Starts a round: a heartbeat to every acceptor, every other leader and every replica. */
export function sendHeartbeat(l: Heartbeating, ctx: Ctx): void {
  const h = l.heartbeats;
  const now = ctx.now();
  h.lastSentAt = now;
  h.round++;
  h.sentAt = now;
  h.acks.reset();
  const m: MHeartbeat = { type: 'm-heartbeat', ballot: l.election.ballot, leader: l.index, commitUpTo: l.pipeline.commitUpTo, round: h.round };
  for (const a of l.acceptors) ctx.send(a, m);
  for (let i = 0; i < l.leaders.length; i++) if (i !== l.index) ctx.send(l.leaders[i]!, m);
  // Replicas learn the commit point too: one that missed the last decides knows to fetch them.
  for (const r of l.replicas) ctx.send(r, m);
}

/**
 * An acceptor acknowledged a round. True when this completes a confirming quorum for the current round:
 * leadership is confirmed as of its send time, and the lease renewed.
 */
export function onHeartbeatAck(l: Heartbeating, m: MHeartbeatAck): boolean {
  const h = l.heartbeats;
  if (l.election.status !== 'leader' || m.ballot !== l.election.ballot || m.round !== h.round) return false;
  if (!h.acks.add(m.acceptor)) return false;
  h.confirmedRound = h.round;
  h.leaseUntil = h.sentAt + l.opts.leaseMs * (1 - l.opts.maxClockDrift);
  return true;
}

/** A new reign has no lease until its first round is acknowledged. */
export function dropLease(h: HeartbeatState): void {
  h.leaseUntil = 0;
}
