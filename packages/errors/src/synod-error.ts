/**
 * The one root of every error Synod raises on purpose.
 */

/**
 * Base class of every error Synod raises on purpose: each says what happened and what to do, and
 * its `code` tells it apart without reading its text (messages are for people and may change).
 *
 * Subclasses set their own `name` and `code`:
 *
 * ```ts
 * export class QueueFullError extends SynodError {
 *   override name = 'QueueFullError';
 *   override readonly code = 'queue-full';
 * }
 * registerErrors({ QueueFullError }); // so it crosses threads as itself
 * ```
 */
export class SynodError extends Error {
  override name = 'SynodError';
  /** A stable, machine-readable identifier of what went wrong (kebab-case). */
  readonly code: string = 'synod-error';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Whether `e` is a {@link SynodError} (of any subclass), optionally with the given code. */
export function isSynodError(e: unknown, code?: string): e is SynodError {
  return e instanceof SynodError && (code === undefined || e.code === code);
}
