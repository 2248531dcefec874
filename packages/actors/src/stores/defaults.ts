/** Defaults of `StorageOptions` (stores.ts), in one place for the system and for stores opened directly. */
export const storageDefaults = {
  groupCommit: true,
  /** 64 MiB */
  maxLogBytes: 64 * 1024 * 1024,
  /** 128 MiB (address space reserved at once; memory taken as the log fills it). */
  sharedBytes: 128 * 1024 * 1024,
  /** 16 MiB */
  maxRecordBytes: 16 * 1024 * 1024,
  /** 4 MiB */
  maxCommitBytes: 4 * 1024 * 1024,
  commitDelayMs: 0,
  /** 256 MiB per host (reserved address space: pages are taken as snapshots fill them) */
  sharedSnapshotBytes: 256 * 1024 * 1024,
  /** 8 MiB */
  maxSnapshotChunkBytes: 8 * 1024 * 1024,
  /** 32 MiB */
  snapshotQueueBytes: 32 * 1024 * 1024,
  /** 16 MiB */
  snapshotSyncBytes: 16 * 1024 * 1024,
} as const;
