/**
 * The messages of the Synod (single-decree Paxos, many instances at once), named after the
 * seed's phases, and the check of instance ids given by users.
 *
 * Every protocol message names its `instance`: instances are independent consensus problems
 * that share the same actors, so rounds can be pipelined.
 */
import type { ActorRef, ReplyToken } from '@synod/actors';
import type { Ballot } from './ballot.js';
import type { Value } from './value.js';
import { SynodError, registerErrors } from '@synod/actors';

/** Phase 1a: a proposer asks every acceptor to promise `ballot` (6.2.1, 6.5 ③). */
export interface Prepare {
  type: 'prepare';
  instance: number;
  ballot: Ballot;
}

/**
 * Phase 1b: the acceptor promises `ballot` and reports the highest-numbered proposal it has
 * accepted, if any (`acceptedBallot` 0 and `acceptedValue` null when none) (6.5 ④).
 */
export interface PromiseMsg {
  type: 'promise';
  instance: number;
  ballot: Ballot;
  acceptor: number;
  acceptedBallot: Ballot;
  acceptedValue: Value;
}

/** Phase 2a: accept `value` in `ballot` (6.2.2, 6.5 ⑤). */
export interface Accept {
  type: 'accept';
  instance: number;
  ballot: Ballot;
  value: Value;
}

/** Phase 2b: the acceptor accepted; sent to the proposer and to the instance's learners (6.5 ⑥, 6.6). */
export interface Accepted {
  type: 'accepted';
  instance: number;
  ballot: Ballot;
  acceptor: number;
  value: Value;
}

/**
 * A prepare or accept below the acceptor's promise, answered with that promise so the proposer
 * can jump past it at once (6.5 ⑦ ⑧). `promised` is {@link FORGOTTEN} when the instance was
 * decided and compacted away: ask a learner.
 */
export interface Reject {
  type: 'reject';
  instance: number;
  ballot: Ballot;
  acceptor: number;
  promised: Ballot;
}

/** The instance's value is chosen: a learner tells other learners and whoever asked. */
export interface Decided {
  type: 'decided';
  instance: number;
  value: Value;
}

/** `promised` of a rejection for an instance an acceptor has compacted away. */
export const FORGOTTEN = -1;

/**
 * Several messages for one actor in one: what a turn of a role sends to one destination when it
 * has more than one (the instances of a pipeline move together). The receiver handles them one
 * by one, in order, exactly as if each had come alone; a batch holds no batch.
 */
export interface SynodBatch {
  type: 'batch';
  msgs: SynodMessage[];
}

export type AcceptorMsg = Prepare | Accept | Forget | SynodBatch;
/** Acceptors may forget instances below `below`: every learner knows them (bounds acceptor memory). */
export interface Forget {
  type: 'forget';
  below: number;
}

/**
 * A client asks a proposer to get `value` chosen for `instance`; the answer is {@link Chosen}
 * with the value actually chosen (maybe another proposer's). `recover` marks a proposal made to
 * find out an outcome (6.6): its value is `null` and only chosen if nothing else was accepted.
 */
export interface Propose {
  type: 'propose';
  instance: number;
  value: Value;
  recover?: boolean;
  replyTo?: ReplyToken;
  /** No answer wanted: the client learns the outcome from a learner (saves a message per round). */
  silent?: boolean;
}
export interface Chosen {
  type: 'chosen';
  instance: number;
  value: Value;
}
/**
 * Why a proposal (or a learner's search for an outcome) could not complete: `compacted` the
 * instance was decided long ago and compacted away (ask a learner); `forgotten` the learner
 * forgot instances that old; `overloaded` too many requests wait (`maxQueued`, `maxPending`);
 * `gave-up` no value was chosen within `maxAttempts` ballots; `not-found` a learner could not find
 * the outcome within `maxAttempts`.
 */
export type ProposeFailure = 'compacted' | 'forgotten' | 'overloaded' | 'gave-up' | 'not-found';

/** A proposal that could not complete: `code` says why (tell the cases apart by it), `reason` for people. */
export interface ProposeFailed {
  type: 'propose-failed';
  instance: number;
  code: ProposeFailure;
  reason: string;
}

/** Distinguished-proposer election (6.6, the livelock): proposers announce themselves. */
export interface ProposerHeartbeat {
  type: 'proposer-heartbeat';
  id: number;
  leaderBallot: Ballot;
}

/** Internal clock of a proposer or learner: deadlines and heartbeats are checked on ticks. */
export interface Tick {
  type: 'tick';
}

export type ProposerMsg = Propose | PromiseMsg | Accepted | Reject | ProposerHeartbeat | Tick | Configure | SynodBatch;

/** Wiring given after spawn (refs of peers that did not exist when this actor started). */
export interface Configure {
  type: 'configure';
  acceptors?: ActorRef<AcceptorMsg>[];
  learners?: ActorRef<LearnerMsg>[];
  proposers?: ActorRef<ProposerMsg>[];
}

/** Ask a learner for an instance's value; the answer is {@link Decided} (maybe after a recovery proposal). */
export interface Learn {
  type: 'learn';
  instance: number;
}
/** A learner asks its peers whether they know an instance (they answer with {@link Decided}). */
export interface Query {
  type: 'query';
  instance: number;
}
/**
 * Subscribe to every decision of a learner: it sends `to` each {@link Decided}, several at a
 * time as a {@link SynodBatch} of them, or, past its `maxSubscribers`, one {@link SubscriptionRefused}.
 */
export interface Subscribe {
  type: 'subscribe';
  to: ActorRef<Decided>;
}
/** To a subscriber a learner did not take: it already has `maxSubscribers`. */
export interface SubscriptionRefused {
  type: 'subscription-refused';
  learner: number;
  reason: string;
}

export type LearnerMsg = Accepted | Decided | Learn | Query | Subscribe | Tick | Configure | Chosen | SynodBatch;

export type SynodMessage = AcceptorMsg | ProposerMsg | LearnerMsg;

// ------------------------------------------------------------------ validation

/** A message or argument that is not what the protocol expects. */
export class InvalidMessageError extends SynodError {
  override name = 'InvalidMessageError';
  override readonly code: string = 'invalid-message';
}

const isInstance = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** Checks an instance id given by a user: a safe integer >= 0. */
export function checkInstance(instance: unknown, where: string): asserts instance is number {
  if (!isInstance(instance)) throw new InvalidMessageError(`${where}: instance must be an integer >= 0 (a safe integer), got ${String(instance)}`);
}

registerErrors({ InvalidMessageError });
