/**
 * The learner (seed 6.2.3, 6.5 ⑥, 6.6).
 *
 * A value is chosen when a majority of acceptors accepted it in the same ballot (⑥). Acceptors
 * report each instance only to its distinguished learners (6.6); a learner that decides tells the
 * other learners. A learner asked about an instance it missed asks its peers, and if none knows,
 * starts a proposal of its own through a proposer (6.6: "let that node propose again"), which
 * finds the outcome through phase 1.
 *
 * Pure: it touches the world only through `ctx`.
 */
import { defineActor, sameRef, type ActorContext, type ActorRef, type ReplyToken } from '@synod/actors';
import { IntMap } from '@synod/actors/internals';
import { assert } from './assert.js';
import type { Ballot } from './ballot.js';
import type { Accepted, Chosen, Configure, Decided, LearnerMsg, ProposerMsg, SubscriptionRefused } from './messages.js';
import { DEFAULT_MAX_BATCH_MESSAGES, Outbox } from './outbox.js';
import { QuorumTally, majorityOf } from './quorum.js';
import { sameValue, type Value } from './value.js';

export interface LearnerOptions {
  /** How long to wait for peers before starting a recovery proposal for a missed instance. Default 100. */
  queryTimeoutMs: number;
  /** How often a pending `learn` is retried (peers again, then a proposer). Default 500. */
  retryMs: number;
  /** Attempts per pending `learn` before it fails. Default 20. */
  maxAttempts: number;
  /** Pending `learn` requests at once. Default 10000. */
  maxPending: number;
  /** Subscribers to decisions; one more is refused (with a `subscription-refused` notice). Default 64. */
  maxSubscribers: number;
  /** Deadlines are checked this often. Default 20. */
  tickMs: number;
  /** Messages in one batch to one actor (see outbox.ts); 1 sends each on its own. Default 1024. */
  maxBatchMessages: number;
}

export const defaultLearnerOptions: LearnerOptions = {
  queryTimeoutMs: 100,
  retryMs: 500,
  maxAttempts: 20,
  maxPending: 10_000,
  maxSubscribers: 64,
  tickMs: 20,
  maxBatchMessages: DEFAULT_MAX_BATCH_MESSAGES,
};

export interface LearnerArgs {
  /** This learner's number, 0..n-1. */
  index: number;
  /** How many acceptors there are (a majority of them decides). */
  acceptorCount: number;
  /** Every learner (itself included): told of decisions, asked about missed instances. */
  learners?: ActorRef<LearnerMsg>[];
  /** Proposers that can run a recovery proposal. */
  proposers?: ActorRef<ProposerMsg>[];
  options?: Partial<LearnerOptions>;
}

/** Votes seen for one undecided instance: per ballot, which acceptors accepted which value. */
interface Votes {
  ballot: Ballot;
  voters: QuorumTally;
  value: Value;
  /** Other ballots, rarely more than one (duelling proposers). */
  others: Map<Ballot, { voters: QuorumTally; value: Value }> | null;
}

interface Pending {
  tokens: ReplyToken[];
  deadline: number;
  attempts: number;
  asked: 'peers' | 'proposer';
}

export interface LearnerState {
  index: number;
  majority: number;
  learners: ActorRef<LearnerMsg>[];
  proposers: ActorRef<ProposerMsg>[];
  opts: LearnerOptions;
  votes: IntMap<Votes>;
  decided: IntMap<Value>;
  /** Instances below this were forgotten (see `forget`). */
  forgottenBelow: number;
  pending: Map<number, Pending>;
  subscribers: ActorRef<Decided>[];
  nextProposer: number;
  /** This turn's messages, grouped per destination (not part of the protocol's state). */
  out: Outbox;
}

type Ctx = ActorContext<LearnerMsg, never>;
type Msg = LearnerMsg | { type: 'forget'; below: number };

export const Learner = defineActor<LearnerState, Msg, LearnerArgs, never>({
  module: import.meta.url,
  label: 'Learner',

  init(args, ctx) {
    const opts = { ...defaultLearnerOptions, ...args.options };
    ctx.setTimer('tick', opts.tickMs, { type: 'tick' });
    return {
      index: args.index,
      majority: majorityOf(args.acceptorCount),
      learners: args.learners ?? [],
      proposers: args.proposers ?? [],
      opts,
      votes: new IntMap(),
      decided: new IntMap(),
      forgottenBelow: 0,
      pending: new Map(),
      subscribers: [],
      nextProposer: args.index,
      out: new Outbox(opts.maxBatchMessages),
    };
  },

  inspect: ({ out: _out, ...s }) => ({ ...s, votes: s.votes.toMap(), decided: s.decided.toMap() }),

  receive(s, msg, ctx) {
    const c = ctx as Ctx;
    if (msg.type === 'batch') {
      const msgs = msg.msgs;
      for (let i = 0; i < msgs.length; i++) handle(s, msgs[i] as Msg, c, true);
    } else {
      handle(s, msg, c, false);
    }
    s.out.flush(c);
  },
});

/** A subscriber past `maxSubscribers` is refused: it is told so, and nothing else changes. */
function onSubscribe(s: LearnerState, to: ActorRef<Decided>, ctx: Ctx): void {
  if (s.subscribers.some((r) => sameRef(r, to))) return;
  if (s.subscribers.length >= s.opts.maxSubscribers) {
    const reason = `learner ${s.index} already has ${s.opts.maxSubscribers} subscribers (maxSubscribers)`;
    ctx.log.warn(reason);
    ctx.send(to as ActorRef<unknown>, { type: 'subscription-refused', learner: s.index, reason } satisfies SubscriptionRefused);
    return;
  }
  s.subscribers.push(to);
}

/** One message, alone or from a batch (`batched`: answers go into the batch back to the sender). */
function handle(s: LearnerState, msg: Msg, c: Ctx, batched: boolean): void {
  switch (msg.type) {
    case 'accepted':
      onAccepted(s, msg, c);
      break;
    case 'decided':
    case 'chosen':
      decide(s, msg.instance, msg.value, false, c);
      break;
    case 'learn':
      onLearn(s, msg.instance, c);
      break;
    case 'query': {
      const v = s.decided.get(msg.instance);
      if (v !== undefined || s.decided.has(msg.instance)) {
        const answer: Decided = { type: 'decided', instance: msg.instance, value: v };
        if (!batched) c.reply(answer);
        else if (c.sender !== undefined) s.out.send(c, c.sender, answer);
      }
      break;
    }
    case 'subscribe':
      onSubscribe(s, msg.to, c);
      break;
    case 'tick':
      onTick(s, c);
      break;
    case 'configure':
      onConfigure(s, msg);
      break;
    case 'forget':
      onForget(s, msg.below);
      break;
  }
}

function onConfigure(s: LearnerState, m: Configure): void {
  if (m.learners) s.learners = m.learners;
  if (m.proposers) s.proposers = m.proposers;
}

/** ⑥: count acceptances per ballot; a majority in one ballot decides. */
function onAccepted(s: LearnerState, m: Accepted, ctx: Ctx): void {
  if (m.instance < s.forgottenBelow) return;
  if (s.decided.has(m.instance)) {
    // Already decided: any later majority must agree (P2). Cheap to check, a bug if not.
    return;
  }
  let v = s.votes.get(m.instance);
  if (v === undefined) {
    v = { ballot: m.ballot, voters: new QuorumTally(s.majority), value: m.value, others: null };
    s.votes.set(m.instance, v);
  } else if (v.ballot !== m.ballot) {
    v.others ??= new Map();
    let o = v.others.get(m.ballot);
    if (o === undefined) {
      o = { voters: new QuorumTally(s.majority), value: m.value };
      v.others.set(m.ballot, o);
    }
    if (o.voters.has(m.acceptor)) return;
    assert(sameValue(o.value, m.value), () => `learner: two values accepted in ballot ${m.ballot} of instance ${m.instance}`);
    if (o.voters.add(m.acceptor)) decide(s, m.instance, o.value, true, ctx);
    return;
  }
  if (v.voters.has(m.acceptor)) return;
  assert(sameValue(v.value, m.value), () => `learner: two values accepted in ballot ${m.ballot} of instance ${m.instance}`);
  if (v.voters.add(m.acceptor)) decide(s, m.instance, v.value, true, ctx);
}

/**
 * Records a decision, tells the other learners when it was learned from the acceptors (they may
 * not be among the instance's distinguished learners), and answers whoever waits for it.
 */
function decide(s: LearnerState, instance: number, value: Value, fromAcceptors: boolean, ctx: Ctx): void {
  if (instance < s.forgottenBelow) return;
  if (s.decided.has(instance)) {
    assert(sameValue(s.decided.get(instance), value), () => `learner ${s.index}: instance ${instance} decided twice with different values`);
    return;
  }
  s.decided.set(instance, value);
  s.votes.delete(instance);
  const msg: Decided = { type: 'decided', instance, value };
  if (fromAcceptors) {
    for (let i = 0; i < s.learners.length; i++) if (i !== s.index) s.out.send(ctx, s.learners[i]!, msg);
  }
  for (let i = 0; i < s.subscribers.length; i++) s.out.send(ctx, s.subscribers[i]!, msg);
  const p = s.pending.size === 0 ? undefined : s.pending.get(instance);
  if (p) {
    s.pending.delete(instance);
    for (const t of p.tokens) ctx.respond(t, msg);
  }
}

/** A client asks for an instance's value; a missed one is asked of peers, then recovered (6.6). */
function onLearn(s: LearnerState, instance: number, ctx: Ctx): void {
  const token = ctx.replyToken();
  if (s.decided.has(instance)) {
    if (token) ctx.respond(token, { type: 'decided', instance, value: s.decided.get(instance) } satisfies Decided);
    return;
  }
  if (instance < s.forgottenBelow) {
    if (token)
      ctx.respond(token, { type: 'propose-failed', instance, code: 'forgotten', reason: `learner ${s.index} forgot instances below ${s.forgottenBelow}` });
    return;
  }
  let p = s.pending.get(instance);
  if (p === undefined) {
    if (s.pending.size >= s.opts.maxPending) {
      if (token)
        ctx.respond(token, {
          type: 'propose-failed',
          instance,
          code: 'overloaded',
          reason: `learner ${s.index} has ${s.opts.maxPending} pending requests (maxPending)`,
        });
      return;
    }
    p = { tokens: [], deadline: 0, attempts: 0, asked: 'peers' };
    s.pending.set(instance, p);
    askPeers(s, instance, p, ctx);
  }
  if (token) p.tokens.push(token);
}

function askPeers(s: LearnerState, instance: number, p: Pending, ctx: Ctx): void {
  p.attempts++;
  p.asked = 'peers';
  p.deadline = ctx.now() + s.opts.queryTimeoutMs;
  for (let i = 0; i < s.learners.length; i++) if (i !== s.index) s.out.send(ctx, s.learners[i]!, { type: 'query', instance });
}

/** Nobody knows: propose ourselves (value null, chosen only if nothing else was accepted). */
function recover(s: LearnerState, instance: number, p: Pending, ctx: Ctx): void {
  p.attempts++;
  p.asked = 'proposer';
  p.deadline = ctx.now() + s.opts.retryMs;
  if (s.proposers.length === 0) return;
  const to = s.proposers[s.nextProposer++ % s.proposers.length]!;
  s.out.send(ctx, to, { type: 'propose', instance, value: null, recover: true });
}

function onTick(s: LearnerState, ctx: Ctx): void {
  ctx.setTimer('tick', s.opts.tickMs, { type: 'tick' });
  if (s.pending.size === 0) return;
  const now = ctx.now();
  for (const [instance, p] of s.pending) {
    if (now < p.deadline) continue;
    if (p.attempts >= s.opts.maxAttempts) {
      s.pending.delete(instance);
      for (const t of p.tokens)
        ctx.respond(t, {
          type: 'propose-failed',
          instance,
          code: 'not-found',
          reason: `learner ${s.index} could not find the outcome after ${p.attempts} attempts (maxAttempts)`,
        });
      continue;
    }
    if (p.asked === 'peers') recover(s, instance, p, ctx);
    else askPeers(s, instance, p, ctx);
  }
}

/** Drops decisions below `below` (every client has them): bounds learner memory. */
function onForget(s: LearnerState, below: number): void {
  if (below <= s.forgottenBelow) return;
  for (const i of s.decided.keysArray()) if (i < below) s.decided.delete(i);
  for (const i of s.votes.keysArray()) if (i < below) s.votes.delete(i);
  s.forgottenBelow = below;
}

export type { Chosen };
