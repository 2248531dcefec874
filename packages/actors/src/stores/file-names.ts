import { crc32c } from '@node-rs/crc32';
import { join } from 'node:path';

/** Longest store name kept readable in a file name (file systems allow 255 bytes per name). */
const MAX_NAME_CHARS = 100;

/**
 * A file name for a store name: the name itself when it is made of letters, digits, `.`, `_`
 * and `-` (and is not `.` or `..`); otherwise a cleaned and shortened copy plus a hash of the
 * original, so two different store names never share a file.
 */
export function storeFileName(storeName: string): string {
  const clean =
    storeName
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .replace(/^\.+/, '_')
      .slice(0, MAX_NAME_CHARS) || '_';
  if (clean === storeName) return clean;
  return `${clean}-${crc32c(storeName).toString(16).padStart(8, '0')}`;
}

/** The files of one host's `file` store in `dir`. */
export interface LogPaths {
  log: string;
  lock: string;
  /** Prefix of compaction temp files (each gets a unique suffix). */
  compactPrefix: string;
  /** Directory of the store's snapshot files. */
  snapshots: string;
}

export function logPaths(dir: string, storeName: string): LogPaths {
  const base = join(dir, storeFileName(storeName));
  return { log: `${base}.log`, lock: `${base}.lock`, compactPrefix: `${base}.log.compact-`, snapshots: `${base}.snap` };
}
