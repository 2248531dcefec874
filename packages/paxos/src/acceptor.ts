/**
 * The acceptor (seed 6.2, 6.5 ② ④ ⑦ ⑧, 6.6): the collective, durable memory of the Synod.
 *
 * Per instance it keeps the seed's three variables: the promised ballot, the accepted ballot
 * and the accepted value, all zero/null at first (②). It promises a ballot above any it has
 * promised and answers with its highest accepted proposal (④); it accepts a proposal unless it
 * has promised a higher ballot (6.2.2); a stale prepare or accept is rejected with the promised
 * ballot so the proposer can jump past it at once (⑦ ⑧). Every promise and acceptance is
 * persisted before the answer leaves (persist before send), so a restarted acceptor remembers
 * everything it ever answered. It reports acceptances to the proposer and to a subset of the
 * learners, not to all (6.6).
 *
 * Pure: it touches the world only through `ctx`.
 */
import { defineActor, type ActorContext, type ActorRef } from '@synod/actors';
import { IntMap } from '@synod/actors/internals';
import { ZERO_BALLOT, formatBallot, type Ballot } from './ballot.js';
import { FORGOTTEN, type Accept, type AcceptorMsg, type Accepted, type LearnerMsg, type Prepare, type PromiseMsg, type Reject } from './messages.js';
import { assert } from './assert.js';
import { Outbox } from './outbox.js';
import type { Value } from './value.js';

/** What an acceptor remembers of one instance (6.5 ②). */
export interface AcceptorRecord {
  promisedBallot: Ballot;
  acceptedBallot: Ballot;
  acceptedValue: Value;
}

export interface AcceptorArgs {
  /** This acceptor's number, 0..n-1: carried in its answers so others count distinct acceptors. */
  index: number;
  /** Every learner; each instance is reported to `reportTo` of them (6.6). */
  learners: ActorRef<LearnerMsg>[];
  /** How many learners hear of each acceptance (the instance's distinguished learners). Default 1. */
  reportTo?: number;
  /** Messages in one batch to one actor (see outbox.ts); 1 sends each on its own. Default 1024. */
  maxBatchMessages?: number;
}

export interface AcceptorState {
  index: number;
  learners: ActorRef<LearnerMsg>[];
  reportTo: number;
  /** Instance → the three variables. Absent means ② (nothing promised, nothing accepted). */
  instances: IntMap<AcceptorRecord>;
  /** Instances below this were decided, learned everywhere, and forgotten. */
  forgottenBelow: number;
  /** This turn's answers, grouped per destination (not part of the protocol's state). */
  out: Outbox;
  /** `[proposer, learner]` destination pairs of acceptances (see pairOf). */
  pairs: ActorRef<any>[][];
}

/** Durable entry key of the forgetting watermark (instance records use numeric keys). */
const FORGOTTEN_KEY = 'forgottenBelow';

type Ctx = ActorContext<AcceptorMsg, never>;

export const Acceptor = defineActor<AcceptorState, AcceptorMsg | { type: 'configure'; learners?: ActorRef<LearnerMsg>[] }, AcceptorArgs, never>({
  module: import.meta.url,
  label: 'Acceptor',
  storage: 'shared',

  init(args, ctx) {
    const instances = new IntMap<AcceptorRecord>();
    let forgottenBelow = 0;
    for (const [key, value] of ctx.recoveredEntries()) {
      if (key === FORGOTTEN_KEY) forgottenBelow = value as number;
      else instances.set(key as number, value as AcceptorRecord);
    }
    // Paired with the writes in `onPrepare`, `onAccept` and `onForget`: each record is written
    // whole, so what comes back satisfies the acceptor invariant, and nothing forgotten returns.
    instances.forEach((r, instance) => {
      assert(
        r.promisedBallot >= r.acceptedBallot,
        () =>
          `acceptor ${args.index}, instance ${instance}: recovered promise ${formatBallot(r.promisedBallot)} below its accepted ballot ${formatBallot(r.acceptedBallot)}`,
      );
      assert(instance >= forgottenBelow, () => `acceptor ${args.index}: recovered instance ${instance} below its forgetting point ${forgottenBelow}`);
    });
    return {
      index: args.index,
      learners: args.learners ?? [],
      reportTo: Math.max(0, Math.min(args.reportTo ?? 1, args.learners?.length ?? 0)),
      instances,
      forgottenBelow,
      out: new Outbox(args.maxBatchMessages),
      pairs: [],
    };
  },

  inspect: ({ out: _out, pairs: _pairs, ...s }) => ({ ...s, instances: s.instances.toMap() }),

  receive(state, msg, ctx) {
    const c = ctx as Ctx;
    if (msg.type === 'batch') {
      const msgs = msg.msgs;
      for (let i = 0; i < msgs.length; i++) handle(state, msgs[i] as AcceptorMsg, c, true);
    } else {
      handle(state, msg, c, false);
    }
    state.out.flush(c);
  },
});

type Msg = AcceptorMsg | { type: 'configure'; learners?: ActorRef<LearnerMsg>[] };

/** One message, alone or from a batch (`batched`: answers go into the batch back to the sender). */
function handle(state: AcceptorState, msg: Msg, ctx: Ctx, batched: boolean): void {
  switch (msg.type) {
    case 'prepare':
      onPrepare(state, msg, ctx, batched);
      break;
    case 'accept':
      onAccept(state, msg, ctx, batched);
      break;
    case 'forget':
      onForget(state, msg.below, ctx);
      break;
    case 'configure':
      if (msg.learners) {
        state.learners = msg.learners;
        state.reportTo = Math.max(0, Math.min(state.reportTo || 1, msg.learners.length));
      }
      break;
  }
}

/** Answers the message being handled: with `ctx.reply` when it came alone (it may be an ask), else in the batch back. */
function answer(s: AcceptorState, m: PromiseMsg | Accepted | Reject, ctx: Ctx, batched: boolean): void {
  if (!batched) ctx.reply(m);
  else if (ctx.sender !== undefined) s.out.send(ctx, ctx.sender, m);
}

/** Phase 1b (④ ⑦). */
function onPrepare(s: AcceptorState, m: Prepare, ctx: Ctx, batched: boolean): void {
  if (m.instance < s.forgottenBelow) return reject(s, m.instance, m.ballot, FORGOTTEN, ctx, batched);
  let r = s.instances.get(m.instance);
  const promised = r === undefined ? ZERO_BALLOT : r.promisedBallot;
  if (m.ballot < promised) return reject(s, m.instance, m.ballot, promised, ctx, batched);
  if (m.ballot > promised) {
    if (r === undefined) {
      r = { promisedBallot: m.ballot, acceptedBallot: ZERO_BALLOT, acceptedValue: null };
      s.instances.set(m.instance, r);
    } else {
      r.promisedBallot = m.ballot;
    }
    ctx.persistEntry(m.instance, r);
  }
  // m.ballot === promised is a repeated prepare (a retry or a duplicate): the promise stands, say it again.
  const promise: PromiseMsg = {
    type: 'promise',
    instance: m.instance,
    ballot: m.ballot,
    acceptor: s.index,
    acceptedBallot: r!.acceptedBallot,
    acceptedValue: r!.acceptedValue,
  };
  answer(s, promise, ctx, batched);
}

/** Phase 2b (6.2.2, ⑥ ⑧). */
function onAccept(s: AcceptorState, m: Accept, ctx: Ctx, batched: boolean): void {
  if (m.instance < s.forgottenBelow) return reject(s, m.instance, m.ballot, FORGOTTEN, ctx, batched);
  let r = s.instances.get(m.instance);
  const promised = r === undefined ? ZERO_BALLOT : r.promisedBallot;
  // Accept unless a higher ballot was promised.
  if (m.ballot < promised) return reject(s, m.instance, m.ballot, promised, ctx, batched);
  if (r === undefined) {
    r = { promisedBallot: m.ballot, acceptedBallot: m.ballot, acceptedValue: m.value };
    s.instances.set(m.instance, r);
    ctx.persistEntry(m.instance, r);
  } else if (r.acceptedBallot !== m.ballot || r.promisedBallot !== m.ballot) {
    r.promisedBallot = m.ballot;
    r.acceptedBallot = m.ballot;
    r.acceptedValue = m.value;
    ctx.persistEntry(m.instance, r);
  }
  // Otherwise a repeated accept of the ballot already accepted: answer again, nothing changes.
  assert(r.promisedBallot >= r.acceptedBallot, 'acceptor: promised ballot fell below accepted ballot');
  const accepted: Accepted = { type: 'accepted', instance: m.instance, ballot: m.ballot, acceptor: s.index, value: r.acceptedValue };
  // Only the instance's distinguished learners hear of it (6.6): the same subset at every acceptor.
  const n = s.learners.length;
  if (batched && s.reportTo === 1 && ctx.sender !== undefined) {
    // The proposer and the one learner get the same batch (one encoding when they share a thread).
    s.out.sendAll(ctx, pairOf(s, ctx.sender, s.learners[m.instance % n]!), accepted);
    return;
  }
  answer(s, accepted, ctx, batched);
  for (let i = 0; i < s.reportTo; i++) s.out.send(ctx, s.learners[(m.instance + i) % n]!, accepted);
}

/** `[sender, learner]`, the same array each time for the same two (Outbox.sendAll groups by array). */
function pairOf(s: AcceptorState, sender: ActorRef<any>, learner: ActorRef<LearnerMsg>): readonly ActorRef<any>[] {
  const p = s.pairs;
  for (let i = 0; i < p.length; i++) {
    const x = p[i]!;
    if (x[1] === learner && x[0]!.id === sender.id && x[0]!.node === sender.node) return x;
  }
  const pair = [sender, learner];
  if (p.length >= 64) p.length = 0; // a bound: senders and learners are few
  p.push(pair);
  return pair;
}

function reject(s: AcceptorState, instance: number, ballot: Ballot, promised: Ballot, ctx: Ctx, batched: boolean): void {
  const r: Reject = { type: 'reject', instance, ballot, acceptor: s.index, promised };
  answer(s, r, ctx, batched);
}

/** Drops instances below `below` (every learner knows them): keeps acceptor memory bounded. */
function onForget(s: AcceptorState, below: number, ctx: Ctx): void {
  if (below <= s.forgottenBelow) return;
  if (below - s.forgottenBelow <= 2 * s.instances.size) {
    // A short range (the usual case: forgetting follows decisions closely): walk it.
    for (let instance = s.forgottenBelow; instance < below; instance++) {
      if (s.instances.delete(instance)) ctx.persistEntry(instance, undefined);
    }
  } else {
    for (const instance of s.instances.keysArray()) {
      if (instance < below) {
        s.instances.delete(instance);
        ctx.persistEntry(instance, undefined);
      }
    }
  }
  s.forgottenBelow = below;
  ctx.persistEntry(FORGOTTEN_KEY, below);
}
