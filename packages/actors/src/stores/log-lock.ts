/**
 * The lock of a `file` log: `<name>.lock` beside it, holding the owner's pid, host name and owner
 * token, so two processes (or two actor systems in one process) never write one log.
 *
 * Why a pid file and not `proper-lockfile`: proper-lockfile decides staleness by the lock's
 * mtime, refreshed by a timer (10 s by default). A worker restarted after a crash would wait
 * that long for the lock its predecessor left, and a busy event loop that misses a refresh
 * loses the lock while still writing. A pid file is decided at once: a dead pid is stale; our own
 * pid with our owner token is a crashed predecessor of this very host (the token lives in the
 * SharedArrayBuffer the main thread keeps for the store name, see host-buffer.ts); anything else
 * is a live owner. It also needs no timer and no dependency.
 *
 * The lock file appears with its content whole: it is written under a temporary name and then
 * hard-linked into place, which fails if a lock is there (an O_EXCL create, without the moment
 * where the file exists but is still empty). A stale lock is moved aside, checked to be the one
 * judged stale (else put back), and only then replaced. The owner checks before each commit
 * that the lock file is still its own (same inode), so a lock taken over by mistake stops the
 * old owner instead of letting two write.
 */
import { linkSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { StorageError, StoreLockedError } from './errors.js';

/** Who held the lock before this one took it. */
export type LockPredecessor =
  /** Nobody: the log was closed cleanly, or is new. */
  | 'none'
  /** A process that no longer runs (it crashed or was killed). */
  | 'dead-process'
  /** A host of this process with the same owner token: a crashed worker of the same store name. */
  | 'same-owner';

interface LockInfo {
  pid: number;
  owner: string;
  hostname: string;
  since: string;
}

/** Tries to take a lock that keeps changing hands before giving up. */
const MAX_ATTEMPTS = 8;

export class LogLock {
  private constructor(
    readonly path: string,
    private readonly ino: number,
    readonly predecessor: LockPredecessor,
  ) {}

  /** Takes the lock of `logPath` for `owner`, or throws `StoreLockedError` naming who holds it. */
  static acquire(path: string, logPath: string, owner: string): LogLock {
    const mine: LockInfo = { pid: process.pid, owner, hostname: hostname(), since: new Date().toISOString() };
    const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(tmp, JSON.stringify(mine));
    try {
      let predecessor: LockPredecessor = 'none';
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        try {
          linkSync(tmp, path);
          return new LogLock(path, statSync(path).ino, predecessor);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new StorageError(`cannot create lock file ${path}: ${(e as Error).message}`, { cause: e });
        }
        const raw = readIfThere(path);
        if (raw === undefined) continue; // released meanwhile: try again
        const verdict = judge(raw, mine, path, logPath);
        if (removeIfUnchanged(path, raw)) predecessor = verdict;
      }
      throw new StoreLockedError(
        `could not take the lock of ${logPath}: lock file ${path} kept changing hands (${MAX_ATTEMPTS} attempts); another process is starting on the same log`,
      );
    } finally {
      try {
        unlinkSync(tmp);
      } catch {
        /* already gone */
      }
    }
  }

  /** Whether the lock file is still this one (nobody removed or replaced it). */
  held(): boolean {
    try {
      return statSync(this.path).ino === this.ino;
    } catch {
      return false;
    }
  }

  /** Removes the lock file if it is still this one. */
  release(): void {
    if (this.held()) {
      try {
        unlinkSync(this.path);
      } catch {
        /* gone */
      }
    }
  }
}

/**
 * Removes the lock file at `path` if this process holds it under `owner` (a lock that a host
 * left when its worker died). Call only when no live host of that owner can exist: when its
 * system has shut down.
 */
export function releaseAbandonedLock(path: string, owner: string): boolean {
  const raw = readIfThere(path);
  if (raw === undefined) return false;
  let held: LockInfo;
  try {
    held = JSON.parse(raw) as LockInfo;
  } catch {
    return false;
  }
  if (held.pid !== process.pid || held.owner !== owner || held.hostname !== hostname()) return false;
  return removeIfUnchanged(path, raw);
}

function readIfThere(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StorageError(`cannot read lock file ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Decides whether the holder of a lock may be replaced; throws `StoreLockedError` when it may not. */
function judge(raw: string, mine: LockInfo, path: string, logPath: string): Exclude<LockPredecessor, 'none'> {
  const advice = `If you are sure no process uses ${logPath}, delete ${path}.`;
  let held: LockInfo;
  try {
    held = JSON.parse(raw) as LockInfo;
    if (!Number.isInteger(held.pid) || typeof held.owner !== 'string') throw new Error('missing pid or owner');
  } catch {
    throw new StoreLockedError(`${logPath} is locked, and its lock file ${path} cannot be read. ${advice}`);
  }
  const who = `process ${held.pid} on ${held.hostname} (since ${held.since})`;
  if (held.hostname !== mine.hostname) {
    throw new StoreLockedError(
      `${logPath} is locked by ${who}, another machine, whose liveness cannot be checked from here: ` +
        `two processes must never write one log. Stop it, or use another storage.dir. ${advice}`,
    );
  }
  if (held.pid === mine.pid) {
    if (held.owner === mine.owner) return 'same-owner';
    throw new StoreLockedError(
      `${logPath} is locked by another actor system in this process (lock file ${path}): ` +
        `two systems must never write one log. Shut the other system down first, or give this one another storage.dir. ${advice}`,
    );
  }
  if (isAlive(held.pid)) {
    throw new StoreLockedError(
      `${logPath} is locked by ${who}, which is running: two processes must never write one log. ` +
        `Stop that process, or give this system another storage.dir. ${advice}`,
    );
  }
  return 'dead-process';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * Removes the lock file if it still holds `raw` (the lock judged replaceable). It is moved aside
 * first, so a lock that changed in between is noticed and put back rather than deleted.
 */
function removeIfUnchanged(path: string, raw: string): boolean {
  const aside = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.stale`;
  try {
    renameSync(path, aside);
  } catch {
    return false; // gone already
  }
  let now: string | undefined;
  try {
    now = readFileSync(aside, 'utf8');
  } catch {
    now = undefined;
  }
  if (now !== raw) {
    try {
      linkSync(aside, path);
    } catch {
      /* a newer lock is in place: it wins */
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    /* gone */
  }
  return now === raw;
}
