import { InvariantViolation } from '@synod/paxos';

/** Asserts what must hold (cheap checks left on in production); a failure is a bug, never a user error. */
export function assert(condition: boolean, what: string | (() => string)): asserts condition {
  // A message with numbers in it is built only on failure: a template literal here costs every call.
  if (!condition) throw new InvariantViolation(typeof what === 'string' ? what : what());
}
