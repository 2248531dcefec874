import { InvariantViolation } from '@synod/paxos';

/** Asserts what must hold (TigerBeetle style): cheap checks left on in production. A failure is a bug: the actor crashes loudly. */
export function assert(condition: boolean, what: string | (() => string)): asserts condition {
  // A message with numbers in it is built only on failure: a template literal here costs every call.
  if (!condition) throw new InvariantViolation(typeof what === 'string' ? what : what());
}
