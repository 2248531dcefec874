/** Errors of replicated operations. Each says what is known about the operation's effect. */
export class ReplicationError extends Error {
  override name = 'ReplicationError';
}

/**
 * The operation may or may not have taken effect (a timeout during a leader change, a lost
 * reply). Never a guess: read the state to find out. Retrying it with the same session is safe
 * only through `retry` semantics (the same command number), which the client does by itself
 * within its timeout.
 */
export class OutcomeUnknownError extends ReplicationError {
  override name = 'OutcomeUnknownError';
}

/** No leader answered in time; the operation certainly did not take effect. */
export class NoLeaderError extends ReplicationError {
  override name = 'NoLeaderError';
}

/** The command was refused before it was replicated (bad type, too big): nothing changed. */
export class InvalidCommandError extends ReplicationError {
  override name = 'InvalidCommandError';
}

/** The state machine applied the command and it failed there (deterministically, on every replica). */
export class CommandFailedError extends ReplicationError {
  override name = 'CommandFailedError';
}

/** A read could not be served (no leader, replica behind past its timeout, bad query). */
export class ReadFailedError extends ReplicationError {
  override name = 'ReadFailedError';
}
