import { SynodError, registerErrors } from '@synod/actors';

/** A broken protocol invariant: a bug, never a user error. The actor crashes loudly. */
export class InvariantViolation extends SynodError {
  override name = 'InvariantViolation';
  override readonly code: string = 'invariant-violation';
}

/** Asserts what must hold (TigerBeetle style): cheap checks left on in production. */
export function assert(condition: boolean, what: string | (() => string)): asserts condition {
  // A message with numbers in it is built only on failure: a template literal here costs every call.
  if (!condition) throw new InvariantViolation(typeof what === 'string' ? what : what());
}

registerErrors({ InvariantViolation });
