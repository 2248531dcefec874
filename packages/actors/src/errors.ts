import { SynodError, registerErrors, serializeError, type SerializedError } from '@synod/errors';

export { SynodError, isSynodError, registerErrors, serializeError, deserializeError, type SerializedError } from '@synod/errors';

/** An `ask` got no reply in time. Names the target, the message type and the timeout. */
export class AskTimeoutError extends SynodError {
  override name = 'AskTimeoutError';
  override readonly code: string = 'ask-timeout';
  constructor(
    readonly target: string,
    readonly messageType: string,
    readonly timeoutMs: number,
  ) {
    super(
      `ask to ${target} with message "${messageType}" got no reply within ${timeoutMs} ms ` +
        `(the actor may be slow, stopped or crashed; raise timeoutMs or check the actor)`,
    );
  }
}

/** The target of a send does not exist (never spawned, or stopped). */
export class ActorNotFoundError extends SynodError {
  override name = 'ActorNotFoundError';
  override readonly code: string = 'actor-not-found';
}

/** The system was shut down (or is shutting down) and refuses new work. */
export class SystemStoppedError extends SynodError {
  override name = 'SystemStoppedError';
  override readonly code: string = 'system-stopped';
  constructor(operation: string) {
    super(`${operation}: the actor system has been shut down; start a new one with ActorSystem.start()`);
  }
}

/** A message is not plain data (structured-clone safe) or its codec refused it. */
export class MessageEncodingError extends SynodError {
  override name = 'MessageEncodingError';
  override readonly code: string = 'message-encoding';
}

/** An actor's module could not be loaded in a worker, or its definition is not exported. */
export class ActorLoadError extends SynodError {
  override name = 'ActorLoadError';
  override readonly code: string = 'actor-load';
}

/** An actor's `init` threw. */
export class ActorInitError extends SynodError {
  override name = 'ActorInitError';
  override readonly code: string = 'actor-init';
}

/** A mailbox stayed full: the message was not delivered. */
export class MailboxFullError extends SynodError {
  override name = 'MailboxFullError';
  override readonly code: string = 'mailbox-full';
}

/** A name is already taken by a live actor. */
export class DuplicateNameError extends SynodError {
  override name = 'DuplicateNameError';
  override readonly code: string = 'duplicate-name';
}

/** A control-plane call did not complete: timeout, or its worker died. */
export class ControlError extends SynodError {
  override name = 'ControlError';
  override readonly code: string = 'control';
}

/**
 * The caller's `AbortSignal` fired: the operation stopped waiting. Its `cause` is the signal's
 * reason. What was already sent may still take effect (an asked actor may still handle it).
 */
export class AbortedError extends SynodError {
  override name = 'AbortedError';
  override readonly code: string = 'aborted';
}

/** Options passed to a public API are out of range or of the wrong type. */
export class InvalidOptionError extends SynodError {
  override name = 'InvalidOptionError';
  override readonly code: string = 'invalid-option';
}

/**
 * A worker thread (or a simulated node) died: every actor on it ended with it. The error of their
 * `actor:crashed` events, and the reason of a death watch's `terminated` message when their
 * supervisor does not bring them back.
 */
export class NodeLostError extends SynodError {
  override name = 'NodeLostError';
  override readonly code: string = 'node-lost';
  constructor(
    readonly node: number,
    readonly reason: string,
  ) {
    super(`node ${node} was lost: ${reason}`);
  }
}

/**
 * A check of what must always hold in the runtime failed: a bug in Synod, never a user error.
 * The message names what did not hold; please report it with the stack.
 */
export class AssertionFailedError extends SynodError {
  override name = 'AssertionFailedError';
  override readonly code: string = 'assertion-failed';
}

/** Asserts what must hold (TigerBeetle style): cheap checks, left on in production. */
export function assert(condition: boolean, what: string | (() => string)): asserts condition {
  if (!condition) throw new AssertionFailedError(typeof what === 'string' ? what : what());
}

/** Turns any thrown value into an Error, keeping the stack when there is one. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : safeString(value));
}

function safeString(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/** The `type` field of a message, for error texts. */
export function messageType(msg: unknown): string {
  if (typeof msg === 'object' && msg !== null && typeof (msg as { type?: unknown }).type === 'string') {
    return (msg as { type: string }).type;
  }
  return msg === null ? 'null' : typeof msg;
}

/**
 * What events say of an error: an `Error` (of its own class, also when it crossed from a worker),
 * seen through the fields every error has.
 */
export interface ErrorInfo {
  name: string;
  message: string;
  stack?: string;
}

/** The error's text, whatever was thrown (for messages that quote it). */
export function errorText(e: unknown): string {
  return toError(e).message;
}

/** An error as it crosses a thread (see `@synod/errors`). */
export function toWire(e: unknown): SerializedError {
  return serializeError(e);
}

registerErrors({
  AskTimeoutError,
  ActorNotFoundError,
  SystemStoppedError,
  MessageEncodingError,
  ActorLoadError,
  ActorInitError,
  MailboxFullError,
  DuplicateNameError,
  ControlError,
  InvalidOptionError,
  NodeLostError,
  AssertionFailedError,
  AbortedError,
});
