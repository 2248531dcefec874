/** Where an actor's durable state lives. */
export type StorageKind = 'memory' | 'shared' | 'file';

export const storageKinds: readonly StorageKind[] = ['memory', 'shared', 'file'];

/**
 * A durable store shared by the actors of one host. Writes are numbered; `durableSeq` is the
 * highest number known to be durable. Stores that sync asynchronously group many writes into one
 * sync (group commit) and call `onDurable` when a sync completes.
 */
export interface ActorStore {
  readonly kind: StorageKind;
  /** The last durable state of an actor, if any. */
  load(actorKey: string): unknown;
  /** Records the latest state of an actor; returns its write number. */
  write(actorKey: string, state: unknown): number;
  /** Forgets an actor's state (it was stopped for good). */
  remove(actorKey: string): void;
  readonly durableSeq: number;
  /** Set by the host: called after writes up to `seq` became durable. */
  onDurable: ((seq: number) => void) | null;
  /** Flushes and releases resources. */
  close(): Promise<void>;
}

/**
 * Kept in the host's memory: survives an actor restart inside a living worker, lost with the
 * worker. Writes are durable at once.
 */
export class MemoryStore implements ActorStore {
  readonly kind = 'memory' as const;
  private readonly states = new Map<string, unknown>();
  private seq = 0;
  onDurable: ((seq: number) => void) | null = null;

  get durableSeq(): number { return this.seq; }
  load(actorKey: string): unknown { return this.states.get(actorKey); }
  write(actorKey: string, state: unknown): number {
    this.states.set(actorKey, state);
    return ++this.seq;
  }
  remove(actorKey: string): void { this.states.delete(actorKey); }
  async close(): Promise<void> { this.states.clear(); }
}
