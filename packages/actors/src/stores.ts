import { InvalidOptionError } from './errors.js';
import { MemoryStore, type ActorStore, type StorageKind } from './store.js';

/** Where and how the durable stores of a system keep data. Every bound is named. */
export interface StorageOptions {
  /** Directory for `file` storage: one log per host (worker key, or the actor's name). Required to use `file`. */
  dir?: string;
  /**
   * `file`: group the writes of many turns (and actors of one worker) into one write and one
   * fdatasync (default true). False syncs once per turn, for comparison.
   */
  groupCommit?: boolean;
  /** `file`: compact the log (a snapshot of the live records) once it grows past this size. Default 64 MiB. */
  maxLogBytes?: number;
  /** `shared`: bytes of the SharedArrayBuffer kept for each host by the main thread. Default 32 MiB. */
  sharedBytes?: number;
  /** Largest single record (one turn's changes of one actor). Default 16 MiB. */
  maxRecordBytes?: number;
}

/** What a host needs to open its stores. */
export interface HostStoreContext {
  node: number;
  /** Stable name of this host's data: the worker key, or the name of its first actor. */
  storeName: string;
  /** The main thread's buffer for `shared` storage of this host (survives the worker). */
  sharedBuffer?: SharedArrayBuffer;
}

/** The stores of one host, created on first use. */
export class HostStores {
  private readonly stores = new Map<StorageKind, ActorStore>();
  constructor(private readonly options: StorageOptions, private readonly host: HostStoreContext) {}

  get(kind: StorageKind): ActorStore {
    let s = this.stores.get(kind);
    if (!s) {
      s = this.create(kind);
      this.stores.set(kind, s);
    }
    return s;
  }

  private create(kind: StorageKind): ActorStore {
    switch (kind) {
      case 'memory':
        return new MemoryStore();
      default:
        throw new InvalidOptionError(`storage "${kind}" is not available on node ${this.host.node}`);
    }
  }

  async close(): Promise<void> {
    for (const s of this.stores.values()) await s.close();
    this.stores.clear();
  }
}

export function createStores(options: StorageOptions, host: HostStoreContext): HostStores {
  return new HostStores(options, host);
}
