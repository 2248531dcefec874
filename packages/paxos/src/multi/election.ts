/**
 * The leader's election: phase 1 by ballot, once for every slot.
 *
 * A follower that has not heard a leader for a randomised election timeout campaigns: it takes
 * a ballot above every one it has seen (its rounds reserved durably first, so a restart never
 * reuses one) and asks every acceptor to promise it. With a phase-1 quorum of promises (`q1`) it is elected;
 * the promises also report every slot the acceptors accepted, which the new leader re-decides.
 * A higher ballot seen anywhere (a rejection, another leader's heartbeat) makes it step down.
 *
 * Campaigns do not collide: a candidate tells the other leaders (`m-campaign`), and they hold off
 * their own for an election timeout, once per candidate (one that cannot reach the acceptors must
 * not keep everyone else from trying); a candidate that hears of a higher campaign gives its own
 * up, and one that hears an elected leader before any promise follows it. Before, two followers
 * whose timeouts ran out close together (the leader's node died) often took turns: the later,
 * higher ballot deposed the first winner just after its election, which cost a second election.
 *
 * Pure: it touches the world only through `ctx`.
 */
import { type ActorContext, type ActorRef } from '@synod/actors';
import { IntMap } from '@synod/actors/internals';
import { assert } from '../assert.js';
import { ZERO_BALLOT, ballot as makeBallot, proposerOf, roundOf, type Ballot } from '../ballot.js';
import { QuorumTally } from '../quorum.js';
import type { MCampaign, MHeartbeat, MPrepare, MPromise, MultiAcceptorMsg, SlotValue } from './messages.js';
import type { LeaderOptions } from './options.js';

export type LeaderStatus = 'follower' | 'candidate' | 'leader';

/** What a leader persists: the rounds reserved for its ballots. */
export interface LeaderDurable {
  reservedRound: number;
}

export interface ElectionState {
  status: LeaderStatus;
  /** Our ballot as candidate or leader. */
  ballot: Ballot;
  /** The highest ballot seen anywhere (ours start above it). */
  seen: Ballot;
  /** Rounds up to this one are reserved durably: no ballot above it is used before it is. */
  reservedRound: number;
  /** The leader we follow (by node number, -1: none known) and when we last heard it. */
  leaderIndex: number;
  lastHeard: number;
  electionDeadline: number;
  /** As candidate: the acceptors that promised our ballot. */
  promises: QuorumTally;
  /** As candidate: per slot, the highest-numbered accepted value the promises reported. */
  recovered: IntMap<{ ballot: Ballot; value: SlotValue }>;
  /** As candidate: the highest truncation point among the promises. */
  maxTruncated: number;
  /** The candidate (by node number) this node last held off its campaign for; -1: none since it last heard a leader. */
  heldOffFor: number;
}

/** What the election needs of its leader. */
export interface Electing {
  readonly index: number;
  readonly id: number;
  readonly acceptors: readonly ActorRef<MultiAcceptorMsg>[];
  /** Every node's leader (this one included), to announce campaigns to. */
  readonly leaders: readonly ActorRef<any>[];
  readonly opts: LeaderOptions;
  readonly election: ElectionState;
  readonly stats: { elections: number };
}

type Ctx = ActorContext<any, LeaderDurable>;

/**
 * A follower's election state, from what was persisted (if anything). The preferred leader
 * campaigns at once at a cold start; restarted, it waits like everyone.
 */
export function newElection(index: number, q1: number, opts: LeaderOptions, recovered: LeaderDurable | undefined, ctx: Ctx): ElectionState {
  if (recovered !== undefined) {
    // Paired with the write in `campaign`: reservations are whole rounds above zero.
    assert(
      Number.isSafeInteger(recovered.reservedRound) && recovered.reservedRound > 0,
      () => `leader ${index}: recovered a reserved round of ${recovered.reservedRound}`,
    );
  }
  const now = ctx.now();
  return {
    status: 'follower',
    ballot: ZERO_BALLOT,
    // Above every ballot this node may have used before it restarted.
    seen: recovered ? makeBallot(recovered.reservedRound + 1, index + 1) : ZERO_BALLOT,
    reservedRound: recovered?.reservedRound ?? 0,
    leaderIndex: -1,
    lastHeard: now,
    electionDeadline: !recovered && index === opts.preferredLeader ? now : now + electionTimeout(opts, ctx),
    promises: new QuorumTally(q1),
    recovered: new IntMap(),
    maxTruncated: 0,
    heldOffFor: -1,
  };
}

export function electionTimeout(o: LeaderOptions, ctx: { random(): number }): number {
  return o.electionTimeoutMs * (1 + ctx.random());
}

/** Phase 1a with a ballot above every one seen, to every acceptor. */
export function campaign(l: Electing, ctx: Ctx): void {
  const e = l.election;
  const round = Math.max(roundOf(e.seen), roundOf(e.ballot)) + 1;
  if (round > e.reservedRound) {
    e.reservedRound = round + l.opts.roundReserve;
    ctx.persist({ reservedRound: e.reservedRound });
  }
  // Paired with the check in `newElection`: a ballot goes out only within a durable reservation.
  assert(round <= e.reservedRound, () => `leader ${l.index}: ballot round ${round} above the reserved ${e.reservedRound}`);
  e.status = 'candidate';
  l.stats.elections++;
  e.ballot = makeBallot(round, l.id);
  e.seen = e.ballot;
  e.promises.reset();
  e.recovered.clear();
  e.maxTruncated = 0;
  e.electionDeadline = ctx.now() + electionTimeout(l.opts, ctx);
  // From slot 0 (each acceptor answers from its truncation point on): a replica may still miss
  // any untruncated slot, and the new leader must be able to give it, so it re-decides them all.
  const m: MPrepare = { type: 'm-prepare', ballot: e.ballot, fromSlot: 0 };
  for (const a of l.acceptors) ctx.send(a, m);
  const notice: MCampaign = { type: 'm-campaign', ballot: e.ballot, leader: l.index };
  for (let i = 0; i < l.leaders.length; i++) if (i !== l.index) ctx.send(l.leaders[i]!, notice);
}

/**
 * Another node campaigns: a follower holds off its own campaign for an election timeout (once per
 * candidate until it hears a leader again), and a candidate with a lower ballot gives its campaign
 * up, since the higher one preempts it at the acceptors anyway. A leader goes on: its lease keeps
 * the acceptors from promising the candidate, and a rejection deposes it if they did.
 */
export function onCampaign(l: Electing, m: MCampaign, ctx: Ctx): void {
  const e = l.election;
  if (m.ballot > e.seen) e.seen = m.ballot;
  // Not by comparing with `seen`: a node restarted recently has a high one (its reservation), and
  // must hold off all the same.
  if (e.status === 'leader' || (e.status === 'candidate' && m.ballot < e.ballot)) return;
  if (e.status === 'candidate') abandonCampaign(e);
  if (e.heldOffFor === m.leader) return;
  e.heldOffFor = m.leader;
  // Counted as hearing from a leader: that is what the deadline's check reads.
  const now = ctx.now();
  e.lastHeard = now;
  e.electionDeadline = now + electionTimeout(l.opts, ctx);
}

/** Phase 1b: counts a promise for our ballot. True when it completes a phase-1 quorum: we are elected. */
export function onPromise(e: ElectionState, m: MPromise): boolean {
  if (e.status !== 'candidate' || m.ballot !== e.ballot || e.promises.has(m.acceptor)) return false;
  if (m.truncatedBelow > e.maxTruncated) e.maxTruncated = m.truncatedBelow;
  for (const [slot, b, value] of m.accepted) {
    const have = e.recovered.get(slot);
    if (have === undefined || b > have.ballot) e.recovered.set(slot, { ballot: b, value });
  }
  return e.promises.add(m.acceptor);
}

/**
 * Elected: from now on this node leads. Returns the first slot to re-decide: slots below the
 * highest truncation point among the promises are chosen and covered by every live replica's
 * snapshot (an acceptor truncates only then), so they need no re-deciding.
 */
export function takeOffice(l: Electing, now: number): number {
  const e = l.election;
  assert(e.ballot > ZERO_BALLOT && proposerOf(e.ballot) === l.id, 'leader: elected without a ballot of its own');
  assert(e.promises.reached, () => `leader ${l.index}: elected with ${e.promises.count} promises of ${e.promises.needed} needed`);
  e.status = 'leader';
  e.leaderIndex = l.index;
  e.lastHeard = now;
  return e.maxTruncated;
}

/** The highest slot a promise reported accepted, or `from - 1` when none at or above `from`. */
export function highestRecovered(e: ElectionState, from: number): number {
  let top = from - 1;
  for (const slot of e.recovered.keysArray()) if (slot > top) top = slot;
  return top;
}

/**
 * A higher ballot exists: become a follower of its proposer. Returns whether we were the
 * leader (what waits here must then go back to its clients).
 */
export function stepDown(l: Electing, higher: Ballot, ctx: Ctx): boolean {
  const e = l.election;
  if (higher > e.seen) e.seen = higher;
  if (e.status === 'follower') return false;
  const wasLeader = e.status === 'leader';
  e.status = 'follower';
  e.leaderIndex = proposerOf(higher) - 1;
  e.lastHeard = ctx.now();
  e.electionDeadline = ctx.now() + electionTimeout(l.opts, ctx);
  return wasLeader;
}

/**
 * Another node's leader's heartbeat, once any step-down it calls for is done. True when we
 * follow it (then its commit point is news to us).
 */
export function follow(l: Electing, m: MHeartbeat, ctx: Ctx): boolean {
  const e = l.election;
  if (m.ballot > e.seen) e.seen = m.ballot;
  if (e.status !== 'follower') return false;
  e.leaderIndex = m.leader;
  e.heldOffFor = -1;
  e.lastHeard = ctx.now();
  e.electionDeadline = ctx.now() + electionTimeout(l.opts, ctx);
  return true;
}

/**
 * A candidate gives its campaign up: it hears of a higher campaign (`onCampaign`), or, before any
 * promise, the heartbeat of a leader elected meanwhile with a lower ballot (the acceptors it asked
 * are in that leader's lease and refuse it: it follows the leader rather than campaign on).
 */
export function abandonCampaign(e: ElectionState): void {
  assert(e.status === 'candidate', () => `election: only a candidate abandons its campaign, not a ${e.status}`);
  e.status = 'follower';
  e.promises.reset();
  e.recovered.clear();
  e.maxTruncated = 0;
}

/**
 * A follower or candidate past its deadline: no leader heard in time (or our campaign stalled),
 * so campaign with a higher ballot. The preferred leader does not wait at a cold start only (no
 * round ever reserved): restarted, it follows whoever leads now rather than taking over again.
 */
export function onElectionTick(l: Electing, ctx: Ctx): void {
  const e = l.election;
  const now = ctx.now();
  if (now < e.electionDeadline) return;
  const coldStart = e.reservedRound === 0 && e.leaderIndex < 0 && l.index === l.opts.preferredLeader;
  if (e.status === 'candidate' || now - e.lastHeard >= l.opts.electionTimeoutMs || coldStart) campaign(l, ctx);
  else e.electionDeadline = now + electionTimeout(l.opts, ctx);
}

/** The leader to send clients to: the one we follow, or null when unknown (or this node). */
export function leaderElsewhere(e: ElectionState, index: number, leaders: readonly ActorRef<any>[]): ActorRef<any> | null {
  return e.leaderIndex >= 0 && e.leaderIndex !== index ? (leaders[e.leaderIndex] ?? null) : null;
}
