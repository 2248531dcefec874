/**
 * Waiting that a caller can give up: an `AbortSignal` on an operation that is already under way
 * (a spawn, a control-plane call) stops the wait, not the operation.
 */
import { AbortedError } from './errors.js';

/**
 * Resolves or rejects as `work` does, unless `signal` fires first: then rejects with
 * `AbortedError` (its cause the signal's reason). `what` names the operation in the message.
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (signal === undefined) return work;
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(new AbortedError(`${what}: aborted before it began`, { cause: signal.reason }));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      work.catch(() => {});
      reject(new AbortedError(`${what}: aborted (it may still complete)`, { cause: signal.reason }));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
