/**
 * The client of the Synod benchmark: keeps `inflight` instances in progress at one proposer and
 * counts the instances a learner has learned, for `warmupMs` then `measureMs`. Lives in the
 * proposer's worker (a client node: proposer, learner and client together, as the seed's 6.1
 * allows). Bounds memory by telling acceptors and the learner to forget learned instances.
 */
import { defineActor, type ActorRef, type ReplyToken } from '@synod/actors';
import { IntMap } from '@synod/actors/internals';
import type { AcceptorMsg, Decided, LearnerMsg, Propose, ProposerMsg, SynodBatch } from '@synod/paxos';

export interface DriverRun {
  type: 'run';
  proposer: ActorRef<ProposerMsg>;
  learner: ActorRef<LearnerMsg>;
  acceptors: ActorRef<AcceptorMsg>[];
  inflight: number;
  firstInstance: number;
  warmupMs: number;
  measureMs: number;
  /** Keep per-round latencies (microseconds) for a distribution. */
  latencies: boolean;
  /** Propose in batches (false: one message per proposal, as before batching). Default true. */
  batch?: boolean;
  /** Proposals in one batch at most (several batches keep acceptors and proposer busy at once). Default: all of a turn. */
  maxBatch?: number;
}

export interface DriverResult {
  rounds: number;
  ms: number;
  latenciesUs: number[];
  nextInstance: number;
}

interface State {
  run: DriverRun | null;
  token: ReplyToken | undefined;
  next: number;
  sentAt: IntMap<number>;
  decided: IntMap<true>;
  low: number;
  started: number;
  measuring: boolean;
  t0: number;
  rounds: number;
  stopping: boolean;
  latencies: number[];
  sinceForget: number;
  /** Proposals of this turn: they leave together, as one batch. */
  out: Propose[];
  /** When the message being handled arrived. */
  now: number;
  /** Learners this driver subscribed to (once each: a second subscription doubles every decision sent). */
  subscribed: ActorRef<LearnerMsg>[];
}

const FORGET_EVERY = 1024;

type Ctx = { now(): number; send(to: ActorRef<any>, m: unknown): void };

export const Driver = defineActor<State, DriverRun | Decided | SynodBatch | { type: 'chosen' }>({
  module: import.meta.url,
  init: () => ({
    run: null,
    token: undefined,
    next: 0,
    sentAt: new IntMap(),
    decided: new IntMap(),
    low: 0,
    started: 0,
    measuring: false,
    t0: 0,
    rounds: 0,
    stopping: false,
    latencies: [],
    sinceForget: 0,
    out: [],
    subscribed: [],
    now: 0,
  }),
  receive(s, msg, ctx) {
    s.now = ctx.now(); // once per message: the decisions of a batch share it
    if (msg.type === 'run') {
      Object.assign(s, {
        run: msg,
        token: ctx.replyToken(),
        next: msg.firstInstance,
        low: msg.firstInstance,
        started: ctx.now(),
        measuring: false,
        rounds: 0,
        stopping: false,
        latencies: [],
        sinceForget: 0,
      });
      s.sentAt.clear();
      s.decided.clear();
      if (!s.subscribed.some((l) => l.id === msg.learner.id && l.node === msg.learner.node)) {
        s.subscribed.push(msg.learner);
        ctx.send(msg.learner, { type: 'subscribe', to: ctx.self });
      }
      for (let i = 0; i < msg.inflight; i++) propose(s, ctx);
    } else if (msg.type === 'batch') {
      for (const m of msg.msgs) if (m.type === 'decided') onDecided(s, m, ctx);
    } else if (msg.type === 'decided') {
      onDecided(s, msg, ctx);
    }
    if (s.out.length > 0 && s.run) {
      const out = s.out;
      s.out = [];
      if (s.run.batch === false) for (const p of out) ctx.send(s.run.proposer, p);
      else {
        const max = s.run.maxBatch ?? out.length;
        for (let i = 0; i < out.length; i += max) {
          const part = max >= out.length ? out : out.slice(i, i + max);
          ctx.send(s.run.proposer, part.length === 1 ? part[0]! : ({ type: 'batch', msgs: part } satisfies SynodBatch));
        }
      }
    }
  },
});

function onDecided(s: State, msg: Decided, ctx: Ctx & { respond(t: ReplyToken, m: unknown): void }): void {
  if (!s.run) return;
  const sent = s.sentAt.get(msg.instance);
  if (sent === undefined) return; // not ours (or a repeat)
  s.sentAt.delete(msg.instance);
  const now = s.now;
  const run = s.run;
  if (s.measuring) {
    s.rounds++;
    if (run.latencies) s.latencies.push((now - sent) * 1000);
  } else if (now - s.started >= run.warmupMs) {
    s.measuring = true;
    s.t0 = now;
  }
  s.decided.set(msg.instance, true);
  while (s.decided.delete(s.low)) s.low++;
  if (++s.sinceForget >= FORGET_EVERY) {
    s.sinceForget = 0;
    for (const a of run.acceptors) ctx.send(a, { type: 'forget', below: s.low });
    ctx.send(run.learner, { type: 'forget', below: s.low } as never);
  }
  if (s.measuring && now - s.t0 >= run.measureMs) s.stopping = true;
  if (!s.stopping) propose(s, ctx);
  else if (s.sentAt.size === 0) {
    const result: DriverResult = { rounds: s.rounds, ms: now - s.t0, latenciesUs: s.latencies, nextInstance: s.next };
    ctx.respond(s.token!, result);
    s.run = null;
  }
}

function propose(s: State, ctx: Ctx): void {
  const instance = s.next++;
  s.sentAt.set(instance, s.now);
  s.out.push({ type: 'propose', instance, value: instance, silent: true });
}
