import { SynodError, registerErrors } from '@synod/actors';

/** A broken protocol invariant: a bug, never a user error. The actor crashes loudly. */
export class InvariantViolation extends SynodError {
  override name = 'InvariantViolation';
  override readonly code: string = 'invariant-violation';
}

/** Asserts what must hold (TigerBeetle style): cheap checks left on in production. */
export function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new InvariantViolation(what);
}

registerErrors({ InvariantViolation });
