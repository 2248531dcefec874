import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { InvalidOptionError } from './errors.js';
import { MemoryStore, type ActorStore, type StorageKind } from './store.js';
import { storageDefaults } from './stores/defaults.js';
import { FileStore } from './stores/file-store.js';
import { logPaths } from './stores/file-names.js';
import { HostBuffer, MAX_HOST_BUFFER_BYTES, MIN_HOST_BUFFER_BYTES } from './stores/host-buffer.js';
import { releaseAbandonedLock } from './stores/log-lock.js';
import { SharedStore } from './stores/shared-store.js';
import { MAX_SNAPSHOT_REGION_BYTES, MIN_SNAPSHOT_REGION_BYTES } from './stores/shared-snapshots.js';

/** Where and how the durable stores of a system keep data. Every bound is named. */
export interface StorageOptions {
  /** Directory for `file` storage: one log per host (worker key, or the actor's name). Required to use `file`. */
  dir?: string;
  /**
   * `file`: group the writes of many turns (and actors of one worker) into one write and one
   * fdatasync (default true). False syncs once per turn, for comparison.
   */
  groupCommit?: boolean;
  /**
   * `file`: compact the log (write a snapshot of the live records and rename it over the log)
   * once it grows past this size and past twice its size after the last compaction. Default 64 MiB.
   */
  maxLogBytes?: number;
  /**
   * `shared`: bytes of the SharedArrayBuffer kept for each host by the main thread. Half of it
   * (less a 64-byte header) must hold the live data of the host's `shared` actors. Default 32 MiB.
   */
  sharedBytes?: number;
  /** Largest single record (one turn's changes of one actor), serialized. Default 16 MiB. */
  maxRecordBytes?: number;
  /** `file`: largest single commit (one write + fdatasync); a bigger record is committed alone. Default 4 MiB. */
  maxCommitBytes?: number;
  /**
   * `file`: wait this long before each commit (write + fdatasync) starts, to emulate a slow disk
   * (tests of persist before send, benchmarks under storage latency). Default 0.
   */
  commitDelayMs?: number;
  /**
   * `shared`: bytes of the SharedArrayBuffer kept for each host by the main thread for the
   * snapshots (`ctx.snapshots`) of its `shared` actors, apart from the log's buffer. It must hold
   * the snapshots kept plus the one being written (`StoreFullError` beyond). Address space is
   * reserved at once; memory is taken as snapshots fill it. Default 256 MiB.
   */
  sharedSnapshotBytes?: number;
  /** Largest snapshot chunk (`SnapshotWriter.append`), and largest snapshot meta. Default 8 MiB. */
  maxSnapshotChunkBytes?: number;
  /**
   * `file`: bytes of chunks a snapshot writer queues for asynchronous writes; past it, `append`
   * writes synchronously (into the page cache), which paces an actor that appends faster than
   * the disk. Default 32 MiB.
   */
  snapshotQueueBytes?: number;
  /**
   * `file`: a snapshot writer fdatasyncs its file in the background every this many bytes, so a
   * finish (and the log commits ordered after it) waits for at most about this much. Default 16 MiB.
   */
  snapshotSyncBytes?: number;
}

/** What a host needs to open its stores. */
export interface HostStoreContext {
  node: number;
  /** Stable name of this host's data: the worker key, or the name of its first actor. */
  storeName: string;
  /**
   * The main thread's buffer for this host's store name (survives the worker). Holds the
   * `shared` log, and the owner token by which the `file` store of a restarted worker takes
   * over the lock its crashed predecessor left. Absent for the main-thread host: its stores
   * make their own (that host lives as long as the system).
   */
  sharedBuffer?: SharedArrayBuffer;
  /** The main thread's snapshot buffer for this host's store name (`sharedSnapshotBytes`); absent as `sharedBuffer` is. */
  sharedSnapshotBuffer?: SharedArrayBuffer;
}

/** Checks storage options when a system starts, so a bad bound fails there and not at the first persist. */
export function checkStorageOptions(o: StorageOptions): void {
  const positiveInt = (k: keyof StorageOptions, min = 1, max = Number.MAX_SAFE_INTEGER) => {
    const v = o[k];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= min && (v as number) <= max)) {
      throw new InvalidOptionError(`storage.${k} must be an integer from ${min} to ${max}, got ${String(v)}`);
    }
  };
  if (o.dir !== undefined && (typeof o.dir !== 'string' || o.dir.length === 0)) {
    throw new InvalidOptionError(`storage.dir must be a non-empty path, got ${JSON.stringify(o.dir)}`);
  }
  if (o.groupCommit !== undefined && typeof o.groupCommit !== 'boolean') {
    throw new InvalidOptionError(`storage.groupCommit must be true or false, got ${String(o.groupCommit)}`);
  }
  positiveInt('maxLogBytes');
  positiveInt('sharedBytes', MIN_HOST_BUFFER_BYTES, MAX_HOST_BUFFER_BYTES);
  positiveInt('maxRecordBytes');
  positiveInt('maxCommitBytes');
  positiveInt('commitDelayMs', 0);
  positiveInt('sharedSnapshotBytes', MIN_SNAPSHOT_REGION_BYTES, MAX_SNAPSHOT_REGION_BYTES);
  positiveInt('maxSnapshotChunkBytes', 1, 1024 * 1024 * 1024);
  positiveInt('snapshotQueueBytes');
  positiveInt('snapshotSyncBytes');
}

/** The stores of one host, created on first use. */
export class HostStores {
  private readonly stores = new Map<StorageKind, ActorStore>();
  /** The main-thread host's own buffer (workers get theirs from the main thread). */
  private localBuffer: SharedArrayBuffer | null = null;
  private localSnapshotBuffer: SharedArrayBuffer | null = null;
  /** Owner token of the main-thread host when it has no buffer yet. */
  private readonly localToken = randomBytes(16).toString('hex');

  constructor(
    private readonly options: StorageOptions,
    private readonly host: HostStoreContext,
  ) {
    checkStorageOptions(options);
  }

  get(kind: StorageKind): ActorStore {
    let s = this.stores.get(kind);
    if (!s) {
      s = this.create(kind);
      this.stores.set(kind, s);
    }
    return s;
  }

  private create(kind: StorageKind): ActorStore {
    const o = this.options;
    const maxRecordBytes = o.maxRecordBytes ?? storageDefaults.maxRecordBytes;
    const maxSnapshotChunkBytes = o.maxSnapshotChunkBytes ?? storageDefaults.maxSnapshotChunkBytes;
    switch (kind) {
      case 'memory':
        return new MemoryStore({ maxChunkBytes: maxSnapshotChunkBytes });
      case 'shared':
        return SharedStore.open(this.buffer(), {
          storeName: this.host.storeName,
          maxRecordBytes,
          snapshotRegion: this.snapshotBuffer(),
          maxSnapshotChunkBytes,
        });
      case 'file':
        return FileStore.open({
          dir: o.dir!,
          storeName: this.host.storeName,
          owner: this.host.sharedBuffer ? HostBuffer.attach(this.host.sharedBuffer).token : this.localToken,
          groupCommit: o.groupCommit,
          maxLogBytes: o.maxLogBytes,
          maxRecordBytes,
          maxCommitBytes: o.maxCommitBytes,
          commitDelayMs: o.commitDelayMs,
          maxSnapshotChunkBytes,
          snapshotQueueBytes: o.snapshotQueueBytes,
          snapshotSyncBytes: o.snapshotSyncBytes,
        });
      default:
        throw new InvalidOptionError(`storage "${String(kind)}" is not available on node ${this.host.node}`);
    }
  }

  private buffer(): SharedArrayBuffer {
    if (this.host.sharedBuffer) return this.host.sharedBuffer;
    this.localBuffer ??= new SharedArrayBuffer(this.options.sharedBytes ?? storageDefaults.sharedBytes);
    return this.localBuffer;
  }

  /** Undefined for a worker given no snapshot buffer: a local one would not outlive the worker, as `shared` promises. */
  private snapshotBuffer(): SharedArrayBuffer | undefined {
    if (this.host.sharedBuffer) return this.host.sharedSnapshotBuffer;
    this.localSnapshotBuffer ??= new SharedArrayBuffer(this.options.sharedSnapshotBytes ?? storageDefaults.sharedSnapshotBytes);
    return this.localSnapshotBuffer;
  }

  async close(): Promise<void> {
    const errors: unknown[] = [];
    for (const s of this.stores.values()) {
      try {
        await s.close();
      } catch (e) {
        errors.push(e);
      }
    }
    this.stores.clear();
    if (errors.length > 0) throw errors[0];
  }
}

/**
 * Releases the `file` locks that workers of a system left when they died and were not
 * restarted (a restarted worker takes its predecessor's lock over; a dead one releases nothing).
 * Call once every worker of the system is gone, with the buffers the main thread kept per
 * store name: without it, another system in this process could not open those logs until the
 * process exits.
 */
export function releaseAbandonedLocks(options: StorageOptions, buffers: ReadonlyMap<string, SharedArrayBuffer>): void {
  if (!options.dir) return;
  for (const [storeName, buffer] of buffers) {
    try {
      releaseAbandonedLock(logPaths(resolve(options.dir), storeName).lock, HostBuffer.attach(buffer).token);
    } catch {
      /* best effort at shutdown: a lock it cannot read stays, and says how to remove it */
    }
  }
}

export function createStores(options: StorageOptions, host: HostStoreContext): HostStores {
  return new HostStores(options, host);
}
