/**
 * The quorums of EPaxos for n replicas, and the rules that make them safe.
 *
 * EPaxos tolerates f = ⌊(n−1)/2⌋ failures. Its sizes (each counts the replica that leads the
 * instance where it takes part):
 *
 *  - classic: ⌊n/2⌋ + 1, a majority: the slow path (Accept) and every recovery phase;
 *  - fast: the pre-accepts with the leader's attributes unchanged (the leader's own among them)
 *    that commit at once. For odd n it is 2f = n − 1, the fast quorum of "simplified" EPaxos
 *    (Moraru et al., §4.3), whose recovery needs no deferred recovery and no TryPreAccept: those
 *    belong to the smaller fast quorum f + ⌊(f+1)/2⌋ of the optimized protocol, where "EPaxos
 *    Revisited" (Tollman et al., NSDI'21) and Sutra ("On the correctness of Egalitarian Paxos")
 *    found the published recovery wrong or ambiguous. For three replicas both are 2;
 *  - recovery: the replies, from replicas other than the instance's leader, an explicit prepare
 *    waits for (n − f, at most n − 1);
 *  - fastEvidence: among those, the unchanged pre-accepts in the leader's ballot that mean the
 *    fast path may have been taken (then recovery must keep the leader's attributes).
 *
 * `quorumsOf` derives them and checks the three intersections recovery rests on (see there).
 */
import { assert } from './assert.js';
import { MAX_REPLICAS } from './ids.js';

export interface Quorums {
  readonly n: number;
  readonly classic: number;
  readonly fast: number;
  readonly recovery: number;
  readonly fastEvidence: number;
}

export function quorumsOf(n: number): Quorums {
  assert(Number.isInteger(n) && n >= 1 && n <= MAX_REPLICAS, () => `epaxos: ${n} replicas, expected 1..${MAX_REPLICAS}`);
  if (n === 1) return { n, classic: 1, fast: 1, recovery: 0, fastEvidence: 0 };
  const f = Math.floor((n - 1) / 2);
  const classic = Math.floor(n / 2) + 1;
  const others = n - 1;
  const recovery = Math.min(others, n - f);
  const fastEvidence = n - classic;
  const fast = Math.max(classic, 1 + Math.max(fastEvidence + others - recovery, others - recovery + 1));
  const q: Quorums = { n, classic, fast, recovery, fastEvidence };
  // A slow (or recovery) commit was accepted by classic − 1 replicas besides the leader: a
  // recovery's replies include one of them, so it never proposes a no-op over a chosen command.
  assert(recovery + classic - 1 > others, () => `epaxos quorums for ${n}: recovery misses a slow commit`);
  // A fast commit leaves fast − 1 unchanged pre-accepts besides the leader: a recovery sees at
  // least fastEvidence of them, and so keeps the leader's attributes.
  assert(recovery + fast - 1 - others >= fastEvidence, () => `epaxos quorums for ${n}: recovery misses a fast commit`);
  // fastEvidence replicas and the leader are a majority: they meet the quorum that decided any
  // other command's attributes, so keeping the leader's attributes never loses a dependency.
  assert(fastEvidence + 1 + classic > n, () => `epaxos quorums for ${n}: evidence of a fast commit is not a majority`);
  assert(fast <= n && recovery <= others, () => `epaxos quorums for ${n}: sizes out of range`);
  return q;
}
