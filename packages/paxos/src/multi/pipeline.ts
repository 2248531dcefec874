/**
 * The leader's phase 2: slots in flight (pipelining), their acceptances, the commit point, and
 * retransmission to acceptors that did not answer.
 *
 * Each slot is sent to every acceptor in the leader's ballot; a phase-2 quorum of acceptances
 * chooses it. Small slots proposed in one turn travel together: one accept message per acceptor
 * carries up to `maxAcceptSlots` consecutive ones and `maxAcceptBytes` of values, and one
 * acceptance answers them all. The commit point moves over chosen slots in order, so everything
 * below it is chosen. A slot not chosen in time goes again to the acceptors that have not
 * answered, after a wait set by the measured round trip (smoothed, plus four deviations, as TCP's
 * estimator), doubling per attempt up to a bound.
 *
 * Pure: it touches the world only through `ctx`.
 */
import { type ActorContext, type ActorRef } from '@synod/actors';
import { IntMap } from '@synod/actors/internals';
import { assert } from '../assert.js';
import type { Ballot } from '../ballot.js';
import { QuorumTally } from '../quorum.js';
import type { MAccept, MAccepted, MultiAcceptorMsg, SlotValue } from './messages.js';
import type { LeaderOptions } from './options.js';

/** A slot in phase 2. */
export interface InFlight {
  value: SlotValue;
  /** The value's size as the batch bounds count it. */
  bytes: number;
  /** The acceptors that accepted it in our ballot. */
  acks: QuorumTally;
  sentAt: number;
  /** Sent more than once: its answers no longer time the round trip (Karn). */
  resent: boolean;
  retransmitAt: number;
  retransmitDelay: number;
  chosen: boolean;
}

/** The accept round trip, smoothed, and its mean deviation (ms). */
export interface RoundTrip {
  smoothed: number;
  deviation: number;
  samples: number;
}

export interface PipelineState {
  /** Slots below are chosen (as leader: and sent to replicas; as follower: as the leader said). */
  commitUpTo: number;
  /** The next slot to propose. */
  nextSlot: number;
  inflight: IntMap<InFlight>;
  /** Bytes of the slot values in `inflight`. */
  inflightBytes: number;
  /** Slots re-proposed after phase 1 must all be chosen before reads are served. */
  readyAt: number;
  /** Slots proposed in this turn and not sent yet (see `sendAccepts`), and their bytes. */
  unsent: MAccept | null;
  unsentBytes: number;
  rtt: RoundTrip;
}

/** What phase 2 needs of its leader. */
export interface Proposing {
  readonly acceptors: readonly ActorRef<MultiAcceptorMsg>[];
  /** Acceptances that choose a slot: a phase-2 quorum. */
  readonly q2: number;
  readonly opts: LeaderOptions;
  readonly election: { readonly ballot: Ballot; readonly status: string };
  readonly pipeline: PipelineState;
  readonly stats: { chosen: number };
}

type Ctx = ActorContext<any, unknown>;

export function newPipeline(): PipelineState {
  return {
    commitUpTo: 0,
    nextSlot: 0,
    inflight: new IntMap(),
    inflightBytes: 0,
    readyAt: Infinity,
    unsent: null,
    unsentBytes: 0,
    rtt: { smoothed: 0, deviation: 0, samples: 0 },
  };
}

/** A new reign proposes from `from` on (the slots below are chosen and truncated). */
export function startReign(p: PipelineState, from: number): void {
  p.commitUpTo = from;
  p.nextSlot = from;
  abandon(p);
}

/** Slots in flight are forgotten (we stepped down, or a reign starts afresh). */
export function abandon(p: PipelineState): void {
  p.inflight.clear();
  p.inflightBytes = 0;
  p.unsent = null;
  p.unsentBytes = 0;
}

/**
 * Phase 2a for one slot; `bytes` is the value's size (see `slotBytes`), known to the caller that
 * built it. The slot leaves with the next ones proposed in this turn: the proposer calls
 * `sendAccepts` before its turn ends.
 */
export function propose(l: Proposing, slot: number, value: SlotValue, bytes: number, ctx: Ctx): void {
  const p = l.pipeline;
  assert(slot >= p.commitUpTo && !p.inflight.has(slot), () => `leader: slot ${slot} proposed twice or below the commit point ${p.commitUpTo}`);
  const now = ctx.now();
  const wait = retransmitWait(p.rtt, l.opts);
  p.inflightBytes += bytes;
  p.inflight.set(slot, {
    value,
    bytes,
    acks: new QuorumTally(l.q2),
    sentAt: now,
    resent: false,
    retransmitAt: now + wait,
    retransmitDelay: wait,
    chosen: false,
  });
  const run = p.unsent;
  if (
    run !== null &&
    (run.firstSlot + run.values.length !== slot || run.values.length >= l.opts.maxAcceptSlots || p.unsentBytes + bytes > l.opts.maxAcceptBytes)
  ) {
    sendAccepts(l, ctx);
  }
  if (p.unsent === null) {
    p.unsent = { type: 'm-accept', ballot: l.election.ballot, firstSlot: slot, values: [], commitUpTo: p.commitUpTo };
    p.unsentBytes = 0;
  }
  p.unsent.values.push(value);
  p.unsentBytes += bytes;
}

/** Sends the slots proposed and not sent yet to every acceptor, in one message each. */
export function sendAccepts(l: Proposing, ctx: Ctx): void {
  const m = l.pipeline.unsent;
  if (m === null) return;
  l.pipeline.unsent = null;
  l.pipeline.unsentBytes = 0;
  for (const a of l.acceptors) ctx.send(a, m);
}

/**
 * Phase 2b: counts an acceptance of each slot it names. True when the slot at the commit point is
 * chosen (the commit point can move).
 */
export function onAccepted(l: Proposing, m: MAccepted, ctx: Ctx): boolean {
  if (l.election.status !== 'leader' || m.ballot !== l.election.ballot) return false;
  const p = l.pipeline;
  let timed = false;
  for (let slot = m.firstSlot, end = m.firstSlot + m.count; slot < end; slot++) {
    const f = p.inflight.get(slot);
    if (f === undefined || f.chosen || f.acks.has(m.acceptor)) continue;
    // Only first sends are timed, once per message: the answer to a resent slot may answer either copy (Karn).
    if (!timed && !f.resent) {
      sampleRoundTrip(p.rtt, ctx.now() - f.sentAt);
      timed = true;
    }
    if (!f.acks.add(m.acceptor)) continue;
    f.chosen = true;
    l.stats.chosen++;
  }
  return p.inflight.get(p.commitUpTo)?.chosen === true;
}

/**
 * Moves the commit point over every chosen slot in order; returns their values (from slot
 * `first`), which leave the window.
 */
export function takeChosen(p: PipelineState): { first: number; values: SlotValue[] } {
  const first = p.commitUpTo;
  const values: SlotValue[] = [];
  for (;;) {
    const f = p.inflight.get(p.commitUpTo);
    if (f === undefined || !f.chosen) break;
    values.push(f.value);
    p.inflightBytes -= f.bytes;
    p.inflight.delete(p.commitUpTo);
    p.commitUpTo++;
  }
  // The commit point only moves forward, and never past what was proposed.
  assert(p.commitUpTo >= first && p.commitUpTo <= p.nextSlot, () => `leader: commit point moved from ${first} to ${p.commitUpTo} (next slot ${p.nextSlot})`);
  assert(p.inflightBytes >= 0, 'leader: negative bytes in flight');
  return { first, values };
}

/**
 * An acceptor dropped the slots below `below` (chosen, and in every live replica's snapshot): the
 * commit point moves past them without their values (replicas that lack them get a snapshot).
 * Returns whether it moved.
 */
export function skipTruncated(p: PipelineState, below: number): boolean {
  if (below <= p.commitUpTo) return false;
  for (let slot = p.commitUpTo; slot < below; slot++) {
    const f = p.inflight.get(slot);
    if (f === undefined) continue;
    p.inflightBytes -= f.bytes;
    p.inflight.delete(slot);
  }
  p.commitUpTo = below;
  if (p.nextSlot < below) p.nextSlot = below;
  return true;
}

/** As follower: the leader's commit point, which only moves forward here. */
export function learnCommit(p: PipelineState, commitUpTo: number): void {
  if (commitUpTo > p.commitUpTo) p.commitUpTo = commitUpTo;
}

/** Lost messages: sends phase 2 again, to the acceptors that have not answered, of every slot due. */
export function retransmit(l: Proposing, ctx: Ctx): void {
  const p = l.pipeline;
  const now = ctx.now();
  p.inflight.forEach((f, slot) => {
    if (f.chosen || now < f.retransmitAt) return;
    f.resent = true;
    f.retransmitDelay = Math.min(2 * f.retransmitDelay, l.opts.maxRetransmitMs);
    f.retransmitAt = now + f.retransmitDelay;
    // One slot per message: each goes to the acceptors that have not answered it.
    const m: MAccept = { type: 'm-accept', ballot: l.election.ballot, firstSlot: slot, values: [f.value], commitUpTo: p.commitUpTo };
    for (let i = 0; i < l.acceptors.length; i++) if (!f.acks.has(i)) ctx.send(l.acceptors[i]!, m);
  });
}

/** How long a slot waits for its acceptors before it is sent again (see `retransmitMs`). */
export function retransmitWait(rtt: RoundTrip, o: LeaderOptions): number {
  if (rtt.samples === 0) return o.retransmitMs;
  return Math.min(o.maxRetransmitMs, Math.max(o.retransmitMs, rtt.smoothed + 4 * rtt.deviation));
}

/** One measured accept round trip into the estimate (Jacobson's: gains 1/8 and 1/4). */
export function sampleRoundTrip(r: RoundTrip, ms: number): void {
  if (r.samples++ === 0) {
    r.smoothed = ms;
    r.deviation = ms / 2;
  } else {
    r.deviation = 0.75 * r.deviation + 0.25 * Math.abs(r.smoothed - ms);
    r.smoothed = 0.875 * r.smoothed + 0.125 * ms;
  }
}
