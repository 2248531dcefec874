/**
 * Quorums of acceptors: a majority of them, and a tally that counts each acceptor once.
 *
 * Acceptors are numbered 0..n-1 and a tally keeps the ones heard in the bits of one 32-bit
 * mask (a duplicate answer is one test), which is what bounds a cluster to
 * {@link MAX_ACCEPTORS}. The Synod proposer's phases, the Multi-Paxos leader's phase 1, phase 2
 * and heartbeat rounds, and the invariant checkers all count with it.
 */
import { assert } from './assert.js';

/** The most acceptors a tally can count (one bit each). */
export const MAX_ACCEPTORS = 31;

/** The smallest number of acceptors any two of which overlap: ⌊n/2⌋ + 1 of `n`. */
export function majorityOf(n: number): number {
  assert(Number.isInteger(n) && n >= 1 && n <= MAX_ACCEPTORS, () => `quorum: ${n} acceptors, expected an integer in 1..${MAX_ACCEPTORS}`);
  const q = Math.floor(n / 2) + 1;
  // Two quorums must share an acceptor: that is all Paxos asks of them.
  assert(2 * q > n && q <= n, () => `quorum: ${q} of ${n} is not a majority`);
  return q;
}

/** Answers from distinct acceptors toward a quorum of `needed`; a repeated answer counts once. */
export class QuorumTally {
  /** Bit i: acceptor i answered. */
  mask = 0;
  /** Distinct acceptors that answered (the bits of `mask`). */
  count = 0;

  constructor(readonly needed: number) {
    assert(Number.isInteger(needed) && needed >= 1 && needed <= MAX_ACCEPTORS, () => `quorum tally: needs ${needed} answers, expected 1..${MAX_ACCEPTORS}`);
  }

  /**
   * Counts acceptor `member`. True exactly when this answer completes the quorum: a caller acts
   * once, and later answers (or repeats) return false.
   */
  add(member: number): boolean {
    assert(Number.isInteger(member) && member >= 0 && member < MAX_ACCEPTORS, () => `quorum tally: acceptor ${member} out of range`);
    const bit = 1 << member;
    if (this.mask & bit) return false;
    this.mask |= bit;
    return ++this.count === this.needed;
  }

  /** Whether acceptor `member` has answered. */
  has(member: number): boolean {
    return (this.mask & (1 << member)) !== 0;
  }

  /** A quorum has answered. */
  get reached(): boolean {
    return this.count >= this.needed;
  }

  /** Forgets every answer (a new round). */
  reset(): void {
    this.mask = 0;
    this.count = 0;
  }
}
