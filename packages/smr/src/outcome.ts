/**
 * What became of one command at a replica, as it travels back to its client (one byte).
 */
export const enum Outcome {
  /** Applied; the bytes are the machine's result. */
  Ok = 0,
  /** Applied, and the machine threw (or returned a result that is not plain data); the bytes are the error (UTF-8). */
  Failed = 1,
  /** Not applied: the state is over `maxStateBytes`; the bytes say so (UTF-8). */
  QuotaExceeded = 2,
  /** Not applied: an earlier command of its session is missing (the client sends again from there). */
  Gap = 3,
  /** Not applied: the replicas do not know its session (evicted, or its first command is missing). */
  UnknownSession = 4,
  /** Applied long ago; its result is no longer kept (the client acknowledged or outran the window). */
  Forgotten = 5,
}

/**
 * A thrown value as text, identically on every replica, whatever was thrown: reading `message`
 * or calling `String` on a thrown object may itself throw, and must not take the replica down.
 */
export function describeThrown(e: unknown): string {
  try {
    if (e instanceof Error) {
      const name = typeof e.name === 'string' ? e.name : 'Error';
      const message = typeof e.message === 'string' ? e.message : '';
      return message ? `${name}: ${message}` : name;
    }
    switch (typeof e) {
      case 'string':
        return e;
      case 'number':
      case 'boolean':
      case 'bigint':
      case 'undefined':
        return `${typeof e} ${String(e)}`;
      case 'symbol':
        return 'a symbol';
      case 'function':
        return 'a function';
      default:
        if (e === null) return 'null';
        return 'an object that is not an Error';
    }
  } catch {
    return 'a value that cannot be described';
  }
}
