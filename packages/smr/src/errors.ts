/**
 * Errors of replicated operations, under the one root of Synod's errors (`SynodError`). Each says
 * what is known about the operation's effect, and `code` tells them apart without reading text.
 */
import { SynodError } from '@synod/actors';

export type ReplicationErrorCode =
  | 'outcome-unknown'
  | 'no-leader'
  | 'invalid-command'
  | 'command-failed'
  | 'read-failed'
  | 'quota-exceeded'
  | 'overloaded'
  | 'aborted'
  | 'closed'
  | 'halted';

export class ReplicationError extends SynodError {
  override name = 'ReplicationError';
  constructor(
    override readonly code: ReplicationErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The operation may or may not have taken effect (a timeout during a leader change, a lost
 * reply). Never a guess: read the state to find out. The client keeps sending it in the
 * background in its session's order, so it takes effect at most once, and before any later
 * command of the same session.
 */
export class OutcomeUnknownError extends ReplicationError {
  override name = 'OutcomeUnknownError';
  constructor(message: string) {
    super('outcome-unknown', message);
  }
}

/** No leader took the operation in time; it certainly did not take effect. */
export class NoLeaderError extends ReplicationError {
  override name = 'NoLeaderError';
  constructor(message: string) {
    super('no-leader', message);
  }
}

/** The command was refused where it entered (not plain data, too big, refused by the machine): nothing changed. */
export class InvalidCommandError extends ReplicationError {
  override name = 'InvalidCommandError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid-command', message, options);
  }
}

/**
 * The state machine applied the command and it failed there, identically on every replica. What
 * `apply` changed before it threw is kept (the ReplicatedMap's commands change nothing when they fail).
 */
export class CommandFailedError extends ReplicationError {
  override name = 'CommandFailedError';
  constructor(
    message: string,
    readonly index: number,
  ) {
    super('command-failed', message);
  }
}

/** A read could not be served (no leader, replica behind past its timeout, bad query). */
export class ReadFailedError extends ReplicationError {
  override name = 'ReadFailedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('read-failed', message, options);
  }
}

/** The state is over its quota (`maxStateBytes`): the command was not applied. Reads and deletes go on. */
export class QuotaExceededError extends ReplicationError {
  override name = 'QuotaExceededError';
  constructor(message: string) {
    super('quota-exceeded', message);
  }
}

/** Too many operations wait at this client already (`maxQueued`, `maxReads`): nothing was sent; retry later. */
export class OverloadedError extends ReplicationError {
  override name = 'OverloadedError';
  constructor(message: string) {
    super('overloaded', message);
  }
}

/** The caller's AbortSignal fired: a command not yet sent was not applied; one already sent may be (see the message). */
export class OperationAbortedError extends ReplicationError {
  override name = 'OperationAbortedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('aborted', message, options);
  }
}

/** The client was closed (the replicated state machine shut down) before the operation finished. */
export class ClientClosedError extends ReplicationError {
  override name = 'ClientClosedError';
  constructor(message: string) {
    super('closed', message);
  }
}

/**
 * The replicas stopped applying: a slot's commands killed every replica `maxApplyAttempts` times
 * (an endless loop, memory exhausted, process.exit in the state machine). The message names the
 * slot and its commands. Nothing after that slot is applied until the machine is fixed.
 */
export class ClusterHaltedError extends ReplicationError {
  override name = 'ClusterHaltedError';
  constructor(message: string) {
    super('halted', message);
  }
}
