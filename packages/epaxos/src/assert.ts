import { InvariantViolation } from '@synod/paxos';

/** Asserts what must hold (cheap checks left on in production); a failure is a bug, never a user error. */
export function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new InvariantViolation(what);
}
