import { InvalidOptionError } from './errors.js';
import { MemoryStore, type ActorStore, type StorageKind } from './store.js';

/** Where the durable stores of a system live. */
export interface StorageOptions {
  /** Directory for `file` storage (one log per host). Required to use `file`. */
  dir?: string;
}

/** The stores of one host, created on first use. */
export class HostStores {
  private readonly stores = new Map<StorageKind, ActorStore>();
  constructor(private readonly options: StorageOptions, private readonly node: number) {}

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
        throw new InvalidOptionError(`storage "${kind}" is not available on node ${this.node}`);
    }
  }

  async close(): Promise<void> {
    for (const s of this.stores.values()) await s.close();
    this.stores.clear();
  }
}

export function createStores(options: StorageOptions, node: number): HostStores {
  return new HostStores(options, node);
}
