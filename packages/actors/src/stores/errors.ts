import { SynodError, registerErrors } from '../errors.js';

/** A durable store cannot do what was asked: bad configuration, an I/O failure, a value it cannot keep. */
export class StorageError extends SynodError {
  override name = 'StorageError';
  override readonly code: string = 'storage';
}

/** Another process, or another actor system in this process, holds the lock of a log. */
export class StoreLockedError extends StorageError {
  override name = 'StoreLockedError';
  override readonly code: string = 'store-locked';
}

/**
 * A log is damaged before its end: a record that is not whole is followed by records that are.
 * Starting would silently lose acknowledged state, so the store refuses. Names the file (or
 * buffer) and the byte offset of the first bad record.
 */
export class LogDamagedError extends StorageError {
  override name = 'LogDamagedError';
  override readonly code: string = 'log-damaged';
  constructor(
    readonly source: string,
    readonly offset: number,
    readonly reason: string,
    readonly nextValidOffset: number,
  ) {
    super(
      `${source} is damaged at byte offset ${offset} (${reason}), and a whole record follows at offset ${nextValidOffset}: ` +
        `refusing to start, because dropping it would lose acknowledged state. Restore the file from a replica or a backup; ` +
        `if losing everything from offset ${offset} on is acceptable, truncate the file to ${offset} bytes.`,
    );
  }
}

/** One turn's changes of one actor serialize to more than `maxRecordBytes`. */
export class RecordTooLargeError extends StorageError {
  override name = 'RecordTooLargeError';
  override readonly code: string = 'record-too-large';
}

/** The `shared` store's buffer cannot hold the live data even after compaction. */
export class StoreFullError extends StorageError {
  override name = 'StoreFullError';
  override readonly code: string = 'store-full';
}

/**
 * A finished snapshot that cannot be used as it is: its file is truncated or overwritten, or a
 * chunk's checksum does not match. Names the file (or buffer) and what is wrong. It is never
 * used silently: `open` or `chunk` throws this. Delete it (`ctx.snapshots.delete`) and get the
 * state another way (a replica's snapshot, or a rebuild).
 */
export class SnapshotDamagedError extends StorageError {
  override name = 'SnapshotDamagedError';
  override readonly code: string = 'snapshot-damaged';
  constructor(
    readonly source: string,
    readonly reason: string,
    readonly actor: string | undefined,
    readonly id: string | undefined,
  ) {
    super(
      `snapshot ${id !== undefined ? `"${id}" ` : ''}${actor !== undefined ? `of actor "${actor}" ` : ''}in ${source} is damaged (${reason}); ` +
        'it is not used: delete it (ctx.snapshots.delete) and get the state from another replica, or restore the file from a backup',
    );
  }
}

registerErrors({ StorageError, StoreLockedError, LogDamagedError, RecordTooLargeError, StoreFullError, SnapshotDamagedError });
