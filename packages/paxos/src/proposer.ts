/**
 * The proposer (seed 6.2, 6.5 ① ③ ⑤ ⑦ ⑧, 6.6).
 *
 * For each instance it runs the two phases: prepare with a ballot unique to it (①) sent to every
 * acceptor with a timeout, retried with a higher ballot and a longer, randomised timeout when no
 * majority answers in time (③); with a majority of promises it proposes the value of the
 * highest-numbered accepted proposal among them, or its own when there is none (⑤); a rejection
 * carries the acceptor's promise, so it jumps past it at once (⑦ ⑧). The value is chosen when a
 * majority of acceptors accepted it in one ballot; the proposer answers its client then.
 *
 * A restarted (or replacement) proposer starts above every ballot it ever used: it reserves
 * rounds durably in blocks, and learns what acceptors hold through phase 1 like any proposer
 * (6.6). Duelling proposers (the livelock of 6.6) end by electing a distinguished proposer: the
 * live proposer with the highest id; the others forward their clients' proposals to it.
 *
 * Pure: it touches the world only through `ctx` (time, timers, randomness, persistence).
 */
import { defineActor, type ActorContext, type ActorRef, type ReplyToken } from '@synod/actors';
import { IntMap } from '@synod/actors/internals';
import { ZERO_BALLOT, ballot, roundOf, type Ballot } from './ballot.js';
import {
  FORGOTTEN,
  type Accept,
  type Accepted,
  type AcceptorMsg,
  type Chosen,
  type Configure,
  type Prepare,
  type PromiseMsg,
  type Propose,
  type ProposeFailed,
  type ProposerHeartbeat,
  type ProposerMsg,
  type Reject,
} from './messages.js';
import { assert } from './assert.js';
import { DEFAULT_MAX_BATCH_MESSAGES, Outbox } from './outbox.js';
import { QuorumTally, majorityOf } from './quorum.js';
import type { Value } from './value.js';

/** Bounds and timing of a proposer. Every one is named and has a default. */
export interface ProposerOptions {
  /** Instances in progress at once (the pipelining window). Default 256. */
  maxInFlight: number;
  /** Proposals waiting for room in the window; beyond it they are refused. Default 100000. */
  maxQueued: number;
  /** Phase timeout of a first attempt (③). Default 100. */
  initialTimeoutMs: number;
  /** Bound of the growing timeout. Default 1000. */
  maxTimeoutMs: number;
  /**
   * Within one attempt, the current phase's message is sent again to acceptors that have not
   * answered this often (same ballot: safe), so a lost message costs a retransmission, not a
   * whole new ballot. 0 turns it off. Default 30.
   */
  retransmitMs: number;
  /** Attempts (ballots) per instance before the proposal fails. Default 50. */
  maxAttempts: number;
  /** How often deadlines and heartbeats are checked. Default 10. */
  tickMs: number;
  /** Elect a distinguished proposer among the peers (6.6). Default true. */
  electLeader: boolean;
  /** How often a proposer announces itself to its peers. Default 50. */
  heartbeatMs: number;
  /** A peer not heard from for this long is presumed dead. Default 300. */
  leaderTimeoutMs: number;
  /** Rounds reserved per durable write (a restart skips the unused rest). Default 1024. */
  roundReserve: number;
  /** Messages in one batch to one actor (see outbox.ts); 1 sends each on its own. Default 1024. */
  maxBatchMessages: number;
}

export const defaultProposerOptions: ProposerOptions = {
  maxInFlight: 256,
  maxQueued: 100_000,
  initialTimeoutMs: 100,
  maxTimeoutMs: 1_000,
  retransmitMs: 30,
  maxAttempts: 50,
  tickMs: 10,
  electLeader: true,
  heartbeatMs: 50,
  leaderTimeoutMs: 300,
  roundReserve: 1024,
  maxBatchMessages: DEFAULT_MAX_BATCH_MESSAGES,
};

export interface ProposerArgs {
  /** Unique among proposers, 1..65535: the low part of every ballot it uses (①). */
  id: number;
  acceptors: ActorRef<AcceptorMsg>[];
  /**
   * Every proposer (itself included) in id order, `proposers[i]` having id `i + 1`, for the
   * election; empty: no election.
   */
  proposers?: ActorRef<ProposerMsg>[];
  options?: Partial<ProposerOptions>;
}

/** One instance in progress. */
class Round {
  /** 1: waiting for promises; 2: waiting for acceptances; 0: backing off before a new ballot. */
  phase: 0 | 1 | 2 = 1;
  ballot: Ballot = ZERO_BALLOT;
  /** The highest ballot seen for this instance (our own, or in a rejection). */
  seen: Ballot = ZERO_BALLOT;
  /**
   * The acceptors that answered the current phase: in phase 1 those that promised `ballot`, in
   * phase 2 those that accepted `proposed` in it (one tally, started over with each phase).
   */
  readonly answered: QuorumTally;
  highestBallot: Ballot = ZERO_BALLOT;
  highestValue: Value = null;
  /** The value sent in phase 2 of the current ballot. */
  proposed: Value = null;
  deadline = 0;
  /** When the current phase's message goes again to acceptors that have not answered. */
  retransmitAt = 0;
  timeoutMs: number;
  attempts = 0;
  /** Who waits for the outcome (made on first use: most rounds have no one). */
  waiters: ReplyToken[] | null = null;
  constructor(
    readonly instance: number,
    readonly value: Value,
    readonly recover: boolean,
    timeoutMs: number,
    majority: number,
  ) {
    this.answered = new QuorumTally(majority);
    this.timeoutMs = timeoutMs;
  }
}

/** Durable state: the rounds reserved so far. */
interface ProposerDurable {
  reservedRound: number;
}

export interface ProposerState {
  id: number;
  acceptors: ActorRef<AcceptorMsg>[];
  majority: number;
  proposers: ActorRef<ProposerMsg>[];
  opts: ProposerOptions;
  rounds: IntMap<Round>;
  queue: { msg: Propose; token: ReplyToken | undefined }[];
  queueHead: number;
  /** The round new ballots start from; all instances share it until one conflicts. */
  round: number;
  reservedRound: number;
  /** When each peer was last heard from (the election). */
  peers: Map<number, number>;
  lastHeartbeat: number;
  /** Statistics, for inspection and tests. */
  stats: { decided: number; ballots: number; timeouts: number; rejections: number; forwarded: number };
  /** This turn's messages, grouped per destination (not part of the protocol's state). */
  out: Outbox;
  /**
   * When the message being handled arrived (`ctx.now()` once per message: the instances of a
   * batch share it; a clock read costs as much as a small handler).
   */
  now: number;
}

type Ctx = ActorContext<ProposerMsg, ProposerDurable>;

export const Proposer = defineActor<ProposerState, ProposerMsg, ProposerArgs, ProposerDurable>({
  module: import.meta.url,
  label: 'Proposer',
  storage: 'shared',

  init(args, ctx, recovered) {
    const opts = { ...defaultProposerOptions, ...args.options };
    if (recovered) {
      // Paired with `reserve`: reservations are whole rounds above zero.
      assert(
        Number.isSafeInteger(recovered.reservedRound) && recovered.reservedRound > 0,
        () => `proposer ${args.id}: recovered a reserved round of ${recovered.reservedRound}`,
      );
    }
    // Start above every round this proposer may have used before a crash (①).
    const round = recovered ? recovered.reservedRound + 1 : 1;
    const s: ProposerState = {
      id: args.id,
      acceptors: args.acceptors,
      majority: majorityOf(args.acceptors.length),
      proposers: args.proposers ?? [],
      opts,
      rounds: new IntMap(),
      queue: [],
      queueHead: 0,
      round,
      reservedRound: recovered?.reservedRound ?? 0,
      peers: new Map(),
      lastHeartbeat: -Infinity,
      stats: { decided: 0, ballots: 0, timeouts: 0, rejections: 0, forwarded: 0 },
      out: new Outbox(opts.maxBatchMessages),
      now: 0,
    };
    ballot(1, args.id); // checks the id
    reserve(s, round, ctx as Ctx);
    ctx.setTimer('tick', opts.tickMs, { type: 'tick' });
    return s;
  },

  inspect: ({ out: _out, now: _now, ...s }) => ({ ...s, rounds: new Map([...s.rounds].map(([k, r]) => [k, { ...r }])), peers: new Map(s.peers) }),

  receive(s, msg, ctx) {
    const c = ctx as Ctx;
    s.now = c.now();
    if (msg.type === 'batch') {
      const msgs = msg.msgs;
      for (let i = 0; i < msgs.length; i++) handle(s, msgs[i] as ProposerMsg, c);
    } else {
      handle(s, msg, c);
    }
    s.out.flush(c);
  },
});

/** One message, alone or from a batch. */
function handle(s: ProposerState, msg: ProposerMsg, c: Ctx): void {
  switch (msg.type) {
    case 'promise':
      onPromise(s, msg, c);
      break;
    case 'accepted':
      onAccepted(s, msg, c);
      break;
    case 'reject':
      onReject(s, msg, c);
      break;
    case 'propose':
      onPropose(s, msg, c);
      break;
    case 'proposer-heartbeat':
      onHeartbeat(s, msg, c);
      break;
    case 'tick':
      onTick(s, c);
      break;
    case 'configure':
      onConfigure(s, msg);
      break;
  }
}

function onConfigure(s: ProposerState, m: Configure): void {
  if (m.acceptors) {
    s.acceptors = m.acceptors;
    s.majority = majorityOf(m.acceptors.length);
  }
  if (m.proposers) s.proposers = m.proposers;
}

/** Rounds are reserved durably in blocks before a ballot of them is sent (persist before send). */
function reserve(s: ProposerState, round: number, ctx: Ctx): void {
  if (round <= s.reservedRound) return;
  s.reservedRound = round + s.opts.roundReserve;
  ctx.persist({ reservedRound: s.reservedRound });
}

// ------------------------------------------------------------------ clients and the election

function isLeader(s: ProposerState, now: number): boolean {
  return leaderId(s, now) === s.id;
}

/** The distinguished proposer: the highest id heard from recently (itself included). */
function leaderId(s: ProposerState, now: number): number {
  if (!s.opts.electLeader || s.proposers.length < 2) return s.id;
  let best = s.id;
  for (const [id, heard] of s.peers) if (id > best && now - heard <= s.opts.leaderTimeoutMs) best = id;
  return best;
}

function onPropose(s: ProposerState, m: Propose, ctx: Ctx): void {
  const token = m.replyTo ?? (m.silent ? undefined : ctx.replyToken());
  const now = s.now;
  const leader = leaderId(s, now);
  // Not the distinguished proposer: hand the client to it, so two proposers do not duel (6.6).
  if (leader !== s.id && m.replyTo === undefined) {
    const to = s.proposers[leader - 1];
    if (to) {
      s.stats.forwarded++;
      s.out.send(ctx, to, { type: 'propose', instance: m.instance, value: m.value, recover: m.recover, replyTo: token, silent: m.silent });
      return;
    }
  }
  const existing = s.rounds.get(m.instance);
  if (existing) {
    if (token) (existing.waiters ??= []).push(token);
    return;
  }
  if (s.rounds.size >= s.opts.maxInFlight) {
    if (s.queue.length - s.queueHead >= s.opts.maxQueued) {
      if (token)
        ctx.respond(
          token,
          failed(m.instance, 'overloaded', `proposer ${s.id} is full: ${s.opts.maxInFlight} in flight and ${s.opts.maxQueued} queued (maxQueued); retry later`),
        );
      return;
    }
    s.queue.push({ msg: m, token });
    return;
  }
  start(s, m, token, ctx);
}

function onHeartbeat(s: ProposerState, m: ProposerHeartbeat, ctx: Ctx): void {
  if (m.id !== s.id) s.peers.set(m.id, s.now);
  // A peer's ballots tell us rounds in use: new ballots start above them.
  const r = roundOf(m.leaderBallot);
  if (r >= s.round) s.round = r + 1;
}

function start(s: ProposerState, m: Propose, token: ReplyToken | undefined, ctx: Ctx): void {
  const round = new Round(m.instance, m.recover ? null : m.value, m.recover === true, s.opts.initialTimeoutMs, s.majority);
  if (token) round.waiters = [token];
  s.rounds.set(m.instance, round);
  prepare(s, round, ballot(s.round, s.id), ctx);
}

// ------------------------------------------------------------------ phase 1

/** Phase 1a: prepare to every acceptor, with a timeout (③). */
function prepare(s: ProposerState, r: Round, b: Ballot, ctx: Ctx): void {
  r.attempts++;
  if (r.attempts > s.opts.maxAttempts) {
    finish(s, r, failed(r.instance, 'gave-up', `no value chosen after ${s.opts.maxAttempts} ballots (maxAttempts); the acceptors may be unreachable`), ctx);
    return;
  }
  reserve(s, roundOf(b), ctx);
  // Paired with the check in `init`: a ballot goes out only within a durable reservation (①).
  assert(roundOf(b) <= s.reservedRound, () => `proposer ${s.id}: ballot round ${roundOf(b)} above the reserved ${s.reservedRound}`);
  s.stats.ballots++;
  r.phase = 1;
  r.ballot = b;
  if (b > r.seen) r.seen = b;
  r.answered.reset();
  r.highestBallot = ZERO_BALLOT;
  r.highestValue = null;
  const now = s.now;
  r.deadline = now + r.timeoutMs;
  r.retransmitAt = now + s.opts.retransmitMs;
  const msg: Prepare = { type: 'prepare', instance: r.instance, ballot: b };
  s.out.sendAll(ctx, s.acceptors, msg);
}

/** Phase 1b arrives: count distinct promises for our ballot; on a majority, phase 2 (⑤). */
function onPromise(s: ProposerState, m: PromiseMsg, ctx: Ctx): void {
  const r = s.rounds.get(m.instance);
  if (r === undefined || r.phase !== 1 || m.ballot !== r.ballot) return; // stale
  if (r.answered.has(m.acceptor)) return; // a duplicate
  if (m.acceptedBallot > r.highestBallot) {
    r.highestBallot = m.acceptedBallot;
    r.highestValue = m.acceptedValue;
  }
  if (!r.answered.add(m.acceptor)) return;
  // ⑤: the value of the highest-numbered accepted proposal among the promises, else our own.
  const value = r.highestBallot !== ZERO_BALLOT ? r.highestValue : r.value;
  r.phase = 2;
  r.proposed = value;
  r.answered.reset();
  const now = s.now;
  r.deadline = now + r.timeoutMs;
  r.retransmitAt = now + s.opts.retransmitMs;
  const accept: Accept = { type: 'accept', instance: r.instance, ballot: r.ballot, value };
  s.out.sendAll(ctx, s.acceptors, accept);
}

// ------------------------------------------------------------------ phase 2

/** Phase 2b arrives: a majority of acceptances in our ballot means the value is chosen. */
function onAccepted(s: ProposerState, m: Accepted, ctx: Ctx): void {
  const r = s.rounds.get(m.instance);
  if (r === undefined || r.phase !== 2 || m.ballot !== r.ballot) return;
  if (!r.answered.add(m.acceptor)) return;
  s.stats.decided++;
  const chosen: Chosen = { type: 'chosen', instance: r.instance, value: r.proposed };
  finish(s, r, chosen, ctx);
}

/** ⑦ ⑧: a rejection carries the acceptor's promise; the next ballot starts above it. */
function onReject(s: ProposerState, m: Reject, ctx: Ctx): void {
  const r = s.rounds.get(m.instance);
  if (r === undefined || m.ballot !== r.ballot || r.phase === 0) return;
  s.stats.rejections++;
  if (m.promised === FORGOTTEN) {
    finish(s, r, failed(r.instance, 'compacted', 'the instance was decided long ago and compacted away; ask a learner (learn) for its value'), ctx);
    return;
  }
  if (m.promised > r.seen) r.seen = m.promised;
  assert(m.promised >= m.ballot, 'proposer: a rejection must carry a promise at least as high as the rejected ballot');
  // Every instance will start above this round from now on.
  const round = roundOf(r.seen);
  if (round >= s.round) s.round = round + 1;
  if (isLeader(s, s.now)) {
    prepare(s, r, higherBallot(s, r), ctx);
  } else {
    // Not the distinguished proposer: back off for a random while before trying again.
    r.phase = 0;
    r.deadline = s.now + r.timeoutMs * ctx.random();
  }
}

function higherBallot(s: ProposerState, r: Round): Ballot {
  return ballot(Math.max(roundOf(r.seen) + 1, s.round), s.id);
}

function finish(s: ProposerState, r: Round, answer: Chosen | ProposeFailed, ctx: Ctx): void {
  s.rounds.delete(r.instance);
  if (r.waiters !== null) for (const t of r.waiters) ctx.respond(t, answer);
  // Room in the window: start the next queued proposal.
  while (s.rounds.size < s.opts.maxInFlight && s.queueHead < s.queue.length) {
    const next = s.queue[s.queueHead]!;
    s.queue[s.queueHead++] = undefined as never;
    if (s.queueHead > 1024 && s.queueHead * 2 > s.queue.length) {
      s.queue = s.queue.slice(s.queueHead);
      s.queueHead = 0;
    }
    const existing = s.rounds.get(next.msg.instance);
    if (existing) {
      if (next.token) (existing.waiters ??= []).push(next.token);
      continue;
    }
    start(s, next.msg, next.token, ctx);
  }
}

function failed(instance: number, code: ProposeFailed['code'], reason: string): ProposeFailed {
  return { type: 'propose-failed', instance, code, reason };
}

// ------------------------------------------------------------------ time

/** Deadlines (③) and the election's heartbeats, checked on a periodic tick. */
function onTick(s: ProposerState, ctx: Ctx): void {
  const now = s.now;
  ctx.setTimer('tick', s.opts.tickMs, { type: 'tick' });
  if (s.opts.electLeader && s.proposers.length > 1 && now - s.lastHeartbeat >= s.opts.heartbeatMs) {
    s.lastHeartbeat = now;
    const hb: ProposerHeartbeat = { type: 'proposer-heartbeat', id: s.id, leaderBallot: ballot(s.round, s.id) };
    for (let i = 0; i < s.proposers.length; i++) if (i + 1 !== s.id) s.out.send(ctx, s.proposers[i]!, hb);
  }
  for (const r of s.rounds.values()) {
    if (now < r.deadline) {
      if (r.phase !== 0 && s.opts.retransmitMs > 0 && now >= r.retransmitAt) retransmit(s, r, ctx);
      continue;
    }
    if (r.phase !== 0) {
      // No majority in time: a higher ballot and a longer, randomised timeout (③).
      s.stats.timeouts++;
      r.timeoutMs = Math.min(s.opts.maxTimeoutMs, r.timeoutMs * 2 * (0.75 + 0.5 * ctx.random()));
    }
    prepare(s, r, higherBallot(s, r), ctx);
  }
}

/** Sends the current phase's message again, same ballot, to the acceptors that have not answered. */
function retransmit(s: ProposerState, r: Round, ctx: Ctx): void {
  r.retransmitAt = s.now + s.opts.retransmitMs;
  const answered = r.answered;
  const msg: Prepare | Accept =
    r.phase === 1 ? { type: 'prepare', instance: r.instance, ballot: r.ballot } : { type: 'accept', instance: r.instance, ballot: r.ballot, value: r.proposed };
  for (let i = 0; i < s.acceptors.length; i++) if (!answered.has(i)) s.out.send(ctx, s.acceptors[i]!, msg);
}
