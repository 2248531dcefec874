/** Base class of every error Synod raises on purpose: each says what happened and what to do. */
export class SynodError extends Error {
  override name = 'SynodError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** An `ask` got no reply in time. Names the target, the message type and the timeout. */
export class AskTimeoutError extends SynodError {
  override name = 'AskTimeoutError';
  constructor(readonly target: string, readonly messageType: string, readonly timeoutMs: number) {
    super(`ask to ${target} with message "${messageType}" got no reply within ${timeoutMs} ms ` +
      `(the actor may be slow, stopped or crashed; raise timeoutMs or check the actor)`);
  }
}

/** The target of a send does not exist (never spawned, or stopped). */
export class ActorNotFoundError extends SynodError {
  override name = 'ActorNotFoundError';
}

/** The system was shut down (or is shutting down) and refuses new work. */
export class SystemStoppedError extends SynodError {
  override name = 'SystemStoppedError';
  constructor(operation: string) {
    super(`${operation}: the actor system has been shut down; start a new one with ActorSystem.start()`);
  }
}

/** A message is not plain data (structured-clone safe) or its codec refused it. */
export class MessageEncodingError extends SynodError {
  override name = 'MessageEncodingError';
}

/** An actor's module could not be loaded in a worker, or its definition is not exported. */
export class ActorLoadError extends SynodError {
  override name = 'ActorLoadError';
}

/** An actor's `init` threw. */
export class ActorInitError extends SynodError {
  override name = 'ActorInitError';
}

/** A mailbox stayed full: the message was not delivered. */
export class MailboxFullError extends SynodError {
  override name = 'MailboxFullError';
}

/** A name is already taken by a live actor. */
export class DuplicateNameError extends SynodError {
  override name = 'DuplicateNameError';
}

/** A control-plane call did not complete: timeout, or its worker died. */
export class ControlError extends SynodError {
  override name = 'ControlError';
}

/** Options passed to a public API are out of range or of the wrong type. */
export class InvalidOptionError extends SynodError {
  override name = 'InvalidOptionError';
}

/** Turns any thrown value into an Error, keeping the stack when there is one. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : safeString(value));
}

function safeString(v: unknown): string {
  try { return JSON.stringify(v); } catch { return String(v); }
}

/** The `type` field of a message, for error texts. */
export function messageType(msg: unknown): string {
  if (typeof msg === 'object' && msg !== null && typeof (msg as { type?: unknown }).type === 'string') {
    return (msg as { type: string }).type;
  }
  return msg === null ? 'null' : typeof msg;
}

/** Serializable description of an error, for events that cross threads. */
export interface ErrorInfo { name: string; message: string; stack?: string }

export function errorInfo(e: unknown): ErrorInfo {
  const err = toError(e);
  return { name: err.name, message: err.message, stack: err.stack };
}
