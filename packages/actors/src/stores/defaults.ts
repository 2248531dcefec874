/** Defaults of `StorageOptions` (stores.ts), in one place for the system and for stores opened directly. */
export const storageDefaults = {
  groupCommit: true,
  /** 64 MiB */
  maxLogBytes: 64 * 1024 * 1024,
  /** 32 MiB */
  sharedBytes: 32 * 1024 * 1024,
  /** 16 MiB */
  maxRecordBytes: 16 * 1024 * 1024,
  /** 4 MiB */
  maxCommitBytes: 4 * 1024 * 1024,
  commitDelayMs: 0,
} as const;
