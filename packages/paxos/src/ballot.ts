/**
 * Ballots (the seed's "proposal numbers", 序列号): a pair (round, proposerId) ordered by round,
 * then by proposer id, so two proposers never use the same ballot (6.5 ①).
 *
 * A ballot is packed into one number, `round * 2^16 + proposerId`: numeric order is exactly
 * the pair order, comparisons are one instruction, and it travels as a double. Rounds go up to
 * 2^37, proposer ids from 1 to 65535.
 */
export type Ballot = number;

/** No ballot: what an acceptor has promised and accepted before anything happened (6.5 ②). */
export const ZERO_BALLOT: Ballot = 0;

const ID_SPACE = 65536;
/** The largest proposer id. */
export const MAX_PROPOSER_ID = ID_SPACE - 1;
const MAX_ROUND = 2 ** 37;

export function ballot(round: number, proposerId: number): Ballot {
  if (!Number.isInteger(proposerId) || proposerId < 1 || proposerId > MAX_PROPOSER_ID) {
    throw new RangeError(`proposer id must be an integer in 1..${MAX_PROPOSER_ID}, got ${proposerId}`);
  }
  if (!Number.isInteger(round) || round < 0 || round >= MAX_ROUND) throw new RangeError(`ballot round out of range: ${round}`);
  return round * ID_SPACE + proposerId;
}

export function roundOf(b: Ballot): number {
  return Math.floor(b / ID_SPACE);
}

export function proposerOf(b: Ballot): number {
  return b % ID_SPACE;
}

/**
 * The smallest ballot of `proposerId` above `seen`: how a proposer starts above every ballot it
 * has seen (after a rejection, a timeout or a restart).
 */
export function nextBallot(seen: Ballot, proposerId: number): Ballot {
  return ballot(roundOf(seen) + 1, proposerId);
}

export function formatBallot(b: Ballot): string {
  return b === ZERO_BALLOT ? '(0)' : `(${roundOf(b)}.${proposerOf(b)})`;
}
