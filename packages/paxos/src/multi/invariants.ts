/**
 * Multi-Paxos safety, checked over all actors after every simulation step:
 *  - one value per slot: at most one value is chosen for each slot (chosen: accepted in one
 *    ballot by a phase-2 quorum, `q2`; a majority unless the leaders use Flexible Paxos quorums);
 *  - replicas' applied logs are prefixes of one another (compared through running digests);
 *  - each replica's applied log only grows: within an incarnation its applied point never moves
 *    back, and at no time does any replica's history differ from what was seen before.
 * Plus the acceptor invariant of the Synod: promised >= accepted for every slot.
 */
import { IntMap } from '@synod/actors/internals';
import { formatBallot, type Ballot } from '../ballot.js';
import type { ClusterView, Violation } from '../invariants.js';
import { QuorumTally, majorityOf } from '../quorum.js';
import type { MultiAcceptorState } from './acceptor.js';
import type { SlotValue } from './messages.js';
import type { ReplicaState } from './replica.js';

export interface MultiViolation {
  property: 'one-value-per-slot' | 'applied-logs-are-prefixes' | 'applied-log-only-grows' | 'promised-at-least-accepted' | Violation['property'];
  message: string;
}

const isMultiAcceptor = (s: unknown): s is MultiAcceptorState => (s as MultiAcceptorState | undefined)?.role === 'multi-acceptor';
const isReplica = (s: unknown): s is ReplicaState => (s as ReplicaState | undefined)?.role === 'replica';

export class MultiPaxosInvariants {
  /** Acceptances in one ballot that choose a slot: a phase-2 quorum. */
  private readonly phase2: number;
  /** slot → ballot → voted value and its voters. */
  private readonly votes = new IntMap<Map<Ballot, { value: SlotValue; voters: QuorumTally }>>();
  private readonly chosen = new IntMap<SlotValue>();
  /** slot → the digest of the applied log up to it (first seen). */
  private readonly digests = new IntMap<number>();
  /** replica name → [incarnation start, applied point] last seen. */
  private readonly applied = new Map<string, [number, number]>();
  /** acceptor state object → the version last checked (a restarted acceptor is a new object). */
  private readonly seenVersions = new WeakMap<object, number>();

  /** `phase2Quorum`: the leaders' q2 (Flexible Paxos); a majority by default. */
  constructor(
    readonly acceptorCount: number,
    phase2Quorum = majorityOf(acceptorCount),
  ) {
    this.phase2 = phase2Quorum;
  }

  observe(view: ClusterView): MultiViolation | null {
    for (const a of view.actors) {
      const s = a.state;
      if (isMultiAcceptor(s)) {
        // A live state unchanged since last time needs no second look (-1: a fresh copy, always look).
        if (s.version >= 0 && this.seenVersions.get(s) === s.version) continue;
        if (s.version >= 0) this.seenVersions.set(s, s.version);
        let v: MultiViolation | null = null;
        s.accepted.forEach((r, slot) => {
          if (v) return;
          if (s.promised < r.ballot)
            v = {
              property: 'promised-at-least-accepted',
              message: `${a.name}, slot ${slot}: promised ${formatBallot(s.promised)} < accepted ${formatBallot(r.ballot)}`,
            };
          else v = this.vote(slot, r.ballot, s.index, r.value);
        });
        if (v) return v;
      } else if (isReplica(s)) {
        const v = this.replica(a.name, s);
        if (v) return v;
      }
    }
    return null;
  }

  private vote(slot: number, b: Ballot, acceptor: number, value: SlotValue): MultiViolation | null {
    let byBallot = this.votes.get(slot);
    if (!byBallot) {
      byBallot = new Map();
      this.votes.set(slot, byBallot);
    }
    let v = byBallot.get(b);
    if (!v) {
      v = { value, voters: new QuorumTally(this.phase2) };
      byBallot.set(b, v);
    }
    if (!sameSlotValue(v.value, value))
      return { property: 'one-value-per-slot', message: `slot ${slot}, ballot ${formatBallot(b)}: two values accepted (${show(v.value)} / ${show(value)})` };
    v.voters.add(acceptor);
    if (!v.voters.reached) return null;
    const before = this.chosen.get(slot);
    if (before === undefined) this.chosen.set(slot, value);
    else if (!sameSlotValue(before, value))
      return { property: 'one-value-per-slot', message: `slot ${slot}: two values chosen (${show(before)} then ${show(value)} in ballot ${formatBallot(b)})` };
    return null;
  }

  private replica(name: string, s: ReplicaState): MultiViolation | null {
    const applied = s.exec.appliedUpTo;
    const last = this.applied.get(name);
    if (last && last[0] === s.incarnationStart && applied < last[1]) {
      return { property: 'applied-log-only-grows', message: `${name} went back from slot ${last[1]} to ${applied} without a restart` };
    }
    this.applied.set(name, [s.incarnationStart, applied]);
    if (applied === 0) return null;
    // The executor's running digest covers every command applied and its outcome.
    const d = s.exec.digest;
    const seen = this.digests.get(applied);
    if (seen === undefined) this.digests.set(applied, d);
    else if (seen !== d) {
      return {
        property: 'applied-logs-are-prefixes',
        message: `${name} applied a different log up to slot ${applied} than another replica (digest ${d.toString(16)} vs ${seen.toString(16)})`,
      };
    }
    return null;
  }
}

/** Slot values are bytes (or null, a no-op): equal when their bytes are. */
function sameSlotValue(a: SlotValue, b: SlotValue): boolean {
  if (a === b) return true;
  if (a === null || b === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function show(v: SlotValue): string {
  return v === null ? 'a no-op' : `${v.length} bytes ${Buffer.from(v.subarray(0, 24)).toString('hex')}${v.length > 24 ? '…' : ''}`;
}
