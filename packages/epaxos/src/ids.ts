/**
 * Names of things in EPaxos: instances and ballots, as safe integers.
 *
 * Every replica q owns a row of instances q.1, q.2, … that it leads; an instance's key packs the
 * replica (5 bits, so at most 31 replicas, as the Paxos quorum tallies) and its number. A ballot
 * is 0 for the instance's own leader (the first round, the only one with a fast path) and
 * `round × 32 + replica + 1` for a replica that recovers the instance: unique per replica, ordered
 * by round first.
 */
import { MAX_ACCEPTORS } from '@synod/paxos';

/** The most replicas an EPaxos cluster can have (a replica is a bit of a quorum tally). */
export const MAX_REPLICAS = MAX_ACCEPTORS;

const SPAN = 32;

/** The key of instance `q.i` (replica q's instance number i, from 1). */
export function instanceKey(q: number, i: number): number {
  return i * SPAN + q;
}

/** The replica that leads the instance with this key. */
export function leaderOf(key: number): number {
  return key % SPAN;
}

/** The number of the instance with this key in its leader's row. */
export function numberOf(key: number): number {
  return Math.floor(key / SPAN);
}

/** `q.i`, for messages and errors. */
export function formatInstance(key: number): string {
  return `${leaderOf(key)}.${numberOf(key)}`;
}

/** A recovery ballot of `replica` in `round` (round ≥ 1). */
export function recoveryBallot(round: number, replica: number): number {
  return round * SPAN + replica + 1;
}

/** The round of a ballot (0 for the leader's own). */
export function roundOfBallot(ballot: number): number {
  return Math.floor(ballot / SPAN);
}

export function formatBallot(ballot: number): string {
  return ballot === 0 ? "the leader's ballot" : `ballot ${roundOfBallot(ballot)}.${(ballot % SPAN) - 1}`;
}
