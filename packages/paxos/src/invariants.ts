/**
 * The safety properties of Paxos, after Lamport's TLA+ specification (Paxos.tla: `votes`,
 * `Chosen`, `Inv`), as checks over the states of all actors and the messages in flight:
 *
 *  1. at most one value is chosen per instance;
 *  2. only a proposed value is chosen;
 *  3. a learner learns only a chosen value;
 *  4. every acceptor's promised ballot is at least its accepted ballot;
 *  5. all accepts of one ballot (of one instance) carry one value.
 *
 * {@link SynodInvariants} is stateful: called after every step of a simulation it accumulates
 * every vote ever cast (acceptors keep only their latest), as the specification's `votes` does.
 * {@link checkSynodStates} checks what can be checked from final states alone (real workers).
 */
import { IntMap } from '@synod/actors/internals';
import type { AcceptorRecord, AcceptorState } from './acceptor.js';
import type { LearnerState } from './learner.js';
import { formatBallot, type Ballot } from './ballot.js';
import type { ProposerState } from './proposer.js';
import { QuorumTally, majorityOf } from './quorum.js';
import { valueKey, type Value } from './value.js';

/** One actor as an invariant check sees it. */
export interface ActorView {
  name: string;
  state: unknown;
}
/** One message on its way. */
export interface MessageView {
  msg: unknown;
}
/** Everything a check looks at after a step. */
export interface ClusterView {
  actors: Iterable<ActorView>;
  inFlight?: Iterable<MessageView>;
}

export interface Violation {
  /** Which property (1-5 above, by name). */
  property: 'one-value-chosen' | 'only-proposed-chosen' | 'learned-is-chosen' | 'promised-at-least-accepted' | 'one-value-per-ballot';
  message: string;
}

/** Role states hold IntMaps live and Maps once inspected (copied across threads): read both. */
type Table<V> = IntMap<V> | Map<number, V>;
const isTable = (x: unknown): boolean => x instanceof IntMap || x instanceof Map;

export function isAcceptorState(s: unknown): s is AcceptorState {
  return typeof s === 'object' && s !== null && isTable((s as AcceptorState).instances) && 'reportTo' in s;
}
export function isLearnerState(s: unknown): s is LearnerState {
  return typeof s === 'object' && s !== null && isTable((s as LearnerState).decided) && isTable((s as LearnerState).votes);
}
export function isProposerState(s: unknown): s is ProposerState {
  return typeof s === 'object' && s !== null && isTable((s as ProposerState).rounds) && 'majority' in s;
}

function entries<V>(t: Table<V>): Iterable<[number, V]> {
  return t instanceof IntMap ? t.entries() : t.entries();
}

interface BallotVotes {
  value: string;
  acceptors: QuorumTally;
}

/** The stateful checker for simulations: `observe` after every step; a violation is returned once found. */
export class SynodInvariants {
  private readonly majority: number;
  /** instance → ballot → the value voted for and the acceptors (bits) that voted. */
  private readonly votes = new Map<number, Map<Ballot, BallotVotes>>();
  /** instance → values proposed by clients (value keys); `null` is allowed once a recovery was proposed. */
  private readonly proposed = new Map<number, Set<string>>();
  /** instance → the chosen value key. */
  private readonly chosen = new Map<number, string>();

  constructor(readonly acceptorCount: number) {
    this.majority = majorityOf(acceptorCount);
  }

  /** Values chosen so far, by instance (value keys). */
  chosenValues(): ReadonlyMap<number, string> {
    return this.chosen;
  }

  observe(view: ClusterView): Violation | null {
    const acceptors: AcceptorState[] = [];
    const learners: { name: string; s: LearnerState }[] = [];
    for (const a of view.actors) {
      const s = a.state;
      if (isAcceptorState(s)) acceptors.push(s);
      else if (isLearnerState(s)) learners.push({ name: a.name, s });
      else if (isProposerState(s)) {
        for (const [, r] of entries(s.rounds as Table<any>)) this.propose(r.instance, r.recover ? null : r.value, r.recover);
      }
    }
    const wire = inFlightMessages(view);
    for (const msg of wire) {
      if (msg.type === 'propose') this.propose(msg.instance!, msg.recover ? null : msg.value, msg.recover === true);
    }
    // 4, and the votes of 1/2/5 from every acceptor's latest acceptance.
    for (const a of acceptors) {
      for (const [instance, r] of entries<AcceptorRecord>(a.instances)) {
        if (r.promisedBallot < r.acceptedBallot) {
          return {
            property: 'promised-at-least-accepted',
            message: `acceptor ${a.index}, instance ${instance}: promised ${formatBallot(r.promisedBallot)} < accepted ${formatBallot(r.acceptedBallot)}`,
          };
        }
        if (r.acceptedBallot > 0) {
          const v = this.vote(instance, r.acceptedBallot, a.index, r.acceptedValue);
          if (v) return v;
        }
      }
    }
    // 5 over accepts still on the wire.
    for (const msg of wire) {
      if (msg.type === 'accept' || msg.type === 'accepted') {
        const v = this.sameBallotValue(msg.instance!, msg.ballot!, msg.value);
        if (v) return v;
      }
    }
    // 3
    for (const { name, s } of learners) {
      for (const [instance, value] of entries(s.decided as Table<unknown>)) {
        const c = this.chosen.get(instance);
        const key = valueKey(value);
        if (c === undefined) {
          return { property: 'learned-is-chosen', message: `${name} learned ${key} for instance ${instance}, which no majority of acceptors has accepted` };
        }
        if (c !== key) {
          return { property: 'learned-is-chosen', message: `${name} learned ${key} for instance ${instance}, but ${c} was chosen` };
        }
      }
    }
    return null;
  }

  private propose(instance: number, value: Value, recover: boolean): void {
    let set = this.proposed.get(instance);
    if (!set) {
      set = new Set();
      this.proposed.set(instance, set);
    }
    set.add(recover ? 'null' : valueKey(value));
  }

  private sameBallotValue(instance: number, ballot: Ballot, value: Value): Violation | null {
    const v = this.votes.get(instance)?.get(ballot);
    if (v && v.value !== valueKey(value)) {
      return {
        property: 'one-value-per-ballot',
        message: `instance ${instance}, ballot ${formatBallot(ballot)} carries two values: ${v.value} and ${valueKey(value)}`,
      };
    }
    return null;
  }

  private vote(instance: number, ballot: Ballot, acceptor: number, value: Value): Violation | null {
    const key = valueKey(value);
    let byBallot = this.votes.get(instance);
    if (!byBallot) {
      byBallot = new Map();
      this.votes.set(instance, byBallot);
    }
    let v = byBallot.get(ballot);
    if (!v) {
      v = { value: key, acceptors: new QuorumTally(this.majority) };
      byBallot.set(ballot, v);
    }
    if (v.value !== key) {
      return {
        property: 'one-value-per-ballot',
        message: `instance ${instance}, ballot ${formatBallot(ballot)}: acceptor ${acceptor} accepted ${key}, another acceptor ${v.value}`,
      };
    }
    v.acceptors.add(acceptor);
    if (!v.acceptors.reached) return null;
    // Chosen in this ballot (1 and 2).
    const proposed = this.proposed.get(instance);
    if (proposed && !proposed.has(key)) {
      return {
        property: 'only-proposed-chosen',
        message: `instance ${instance}: ${key} was chosen but never proposed (proposed: ${[...proposed].join(', ')})`,
      };
    }
    const before = this.chosen.get(instance);
    if (before === undefined) this.chosen.set(instance, key);
    else if (before !== key) {
      return { property: 'one-value-chosen', message: `instance ${instance}: two values chosen, ${before} and then ${key} in ballot ${formatBallot(ballot)}` };
    }
    return null;
  }
}

type WireMessage = { type?: string; instance?: number; ballot?: number; value?: Value; recover?: boolean };

/** The protocol messages on the wire, a batch's messages taken out of it. */
function inFlightMessages(view: ClusterView): WireMessage[] {
  const out: WireMessage[] = [];
  for (const m of view.inFlight ?? []) {
    const msg = m.msg as (WireMessage & { msgs?: WireMessage[] }) | null;
    if (msg === null || typeof msg !== 'object') continue;
    if (msg.type === 'batch' && Array.isArray(msg.msgs)) out.push(...msg.msgs);
    else out.push(msg);
  }
  return out;
}

/**
 * Checks final states (no history): promised >= accepted everywhere; every value a learner
 * learned is the value a majority of acceptors hold for that instance in one ballot, when such a
 * majority is visible; learners agree with each other. Returns the violations found.
 */
export function checkSynodStates(acceptors: AcceptorState[], learners: LearnerState[]): string[] {
  const problems: string[] = [];
  const majority = acceptors.length > 0 ? majorityOf(acceptors.length) : 1;
  const held = new Map<number, Map<string, number>>();
  for (const a of acceptors) {
    for (const [instance, r] of entries<AcceptorRecord>(a.instances)) {
      if (r.promisedBallot < r.acceptedBallot)
        problems.push(`acceptor ${a.index}, instance ${instance}: promised ${formatBallot(r.promisedBallot)} < accepted ${formatBallot(r.acceptedBallot)}`);
      if (r.acceptedBallot > 0) {
        let m = held.get(instance);
        if (!m) {
          m = new Map();
          held.set(instance, m);
        }
        const k = `${r.acceptedBallot}|${valueKey(r.acceptedValue)}`;
        m.set(k, (m.get(k) ?? 0) + 1);
      }
    }
  }
  const learned = new Map<number, string>();
  for (const l of learners) {
    for (const [instance, value] of entries(l.decided as Table<unknown>)) {
      const key = valueKey(value);
      const other = learned.get(instance);
      if (other !== undefined && other !== key) problems.push(`instance ${instance}: learners learned ${other} and ${key}`);
      learned.set(instance, key);
      const m = held.get(instance);
      if (!m) continue;
      for (const [k, n] of m) {
        if (n >= majority && k.slice(k.indexOf('|') + 1) !== key) {
          problems.push(`instance ${instance}: a majority of acceptors holds ${k.slice(k.indexOf('|') + 1)}, learner ${l.index} learned ${key}`);
        }
      }
    }
  }
  return problems;
}
