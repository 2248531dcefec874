import { SynodError } from '../errors.js';

/** A durable store cannot do what was asked: bad configuration, an I/O failure, a value it cannot keep. */
export class StorageError extends SynodError {
  override name = 'StorageError';
}

/** Another process, or another actor system in this process, holds the lock of a log. */
export class StoreLockedError extends StorageError {
  override name = 'StoreLockedError';
}

/**
 * A log is damaged before its end: a record that is not whole is followed by records that are.
 * Starting would silently lose acknowledged state, so the store refuses. Names the file (or
 * buffer) and the byte offset of the first bad record.
 */
export class LogDamagedError extends StorageError {
  override name = 'LogDamagedError';
  constructor(readonly source: string, readonly offset: number, readonly reason: string, readonly nextValidOffset: number) {
    super(`${source} is damaged at byte offset ${offset} (${reason}), and a whole record follows at offset ${nextValidOffset}: ` +
      `refusing to start, because dropping it would lose acknowledged state. Restore the file from a replica or a backup; ` +
      `if losing everything from offset ${offset} on is acceptable, truncate the file to ${offset} bytes.`);
  }
}

/** One turn's changes of one actor serialize to more than `maxRecordBytes`. */
export class RecordTooLargeError extends StorageError {
  override name = 'RecordTooLargeError';
}

/** The `shared` store's buffer cannot hold the live data even after compaction. */
export class StoreFullError extends StorageError {
  override name = 'StoreFullError';
}
