import { InvariantViolation } from '@synod/paxos';

/** Asserts what must hold (TigerBeetle style): cheap checks left on in production. A failure is a bug: the actor crashes loudly. */
export function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new InvariantViolation(what);
}
