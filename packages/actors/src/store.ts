import { IntMap } from './int-map.js';
import type { SnapshotBackend, SnapshotLimits } from './snapshots.js';
import { storageDefaults } from './stores/defaults.js';
import { MemorySnapshots } from './stores/memory-snapshots.js';
import { storageKinds, type StorageKind } from './storage-kind.js';

export { storageKinds, type StorageKind };

/** Key of one durable entry of an actor (see `ctx.persistEntry`). */
export type PersistKey = string | number;

/**
 * One change to an actor's durable data: the whole state (`key === null`, from `ctx.persist`)
 * or one keyed entry (from `ctx.persistEntry`; `value === undefined` deletes it).
 */
export interface PersistOp {
  key: PersistKey | null;
  value: unknown;
}

/** What an actor finds at (re)start: its last whole state and its live entries. */
export interface Recovered {
  /** Whether `ctx.persist` was ever called (state may legitimately be undefined otherwise). */
  hasState: boolean;
  state: unknown;
  entries: Map<PersistKey, unknown>;
}

/**
 * A durable store shared by the actors of one host (group commit needs one store per host).
 * Writes are numbered; `durableSeq` is the highest number known to be durable. A store that
 * syncs asynchronously groups many writes into one sync and calls `onDurable` after it.
 *
 * A store must capture the values at `write` time (serialize or copy them) unless it documents
 * otherwise: actors may mutate their state after persisting it.
 */
export interface ActorStore {
  readonly kind: StorageKind;
  /** The durable data of an actor, if any. */
  load(actor: string): Recovered | undefined;
  /**
   * Applies the changes of one turn, `ops[0, count)` (default: all of them); returns their write
   * number. The op objects are the caller's, reused after the call: keep their values, not them.
   */
  write(actor: string, ops: readonly PersistOp[], count?: number): number;
  /** Forgets every record of an actor; returns the write number. */
  remove(actor: string): number;
  readonly durableSeq: number;
  /**
   * The number of the last write, durable or not (default: `durableSeq`, for stores durable at
   * once). A restarted actor's messages wait for it: its recovered state may not be durable yet.
   */
  readonly writtenSeq?: number;
  /** Set by the host: called after writes up to `seq` became durable. */
  onDurable: ((seq: number) => void) | null;
  /** Makes everything written durable, then releases files and memory. */
  close(): Promise<void>;
  /**
   * Optional, for simulations: what is durable for an actor now (what a crash would keep), even
   * while later writes are pending. Stores durable at once need not implement it.
   */
  durableView?(actor: string): Recovered | undefined;
  /**
   * The snapshots of this host's actors in this storage kind (`ctx.snapshots`). Their finishes
   * and deletes are numbered among this store's writes, so `durableSeq` covers them too.
   * Absent: this store keeps no snapshots.
   */
  readonly snapshots?: SnapshotBackend;
}

/** Applies ops to a recovered record (shared by stores that keep an index in memory). */
export function applyOps(rec: Recovered | undefined, ops: readonly PersistOp[], count = ops.length): Recovered {
  const r = rec ?? { hasState: false, state: undefined, entries: new Map() };
  for (let i = 0; i < count; i++) {
    const op = ops[i]!;
    if (op.key === null) {
      r.hasState = true;
      r.state = op.value;
    } else if (op.value === undefined) {
      r.entries.delete(op.key);
    } else {
      r.entries.set(op.key, op.value);
    }
  }
  return r;
}

/** Integer keys (the common case: instances, slots) live in an IntMap, which handles sliding keys well. */
interface MemoryRecord {
  hasState: boolean;
  state: unknown;
  numbers: IntMap<unknown>;
  strings: Map<PersistKey, unknown>;
}

/**
 * Kept in the host's memory: survives an actor restart inside a living worker, lost with the
 * worker. Writes are durable at once. Keeps references, not copies (for speed): an actor that
 * mutates a value after persisting it changes what a restart in the same worker recovers.
 * Not crash-safe: for tests and benchmarks.
 */
export class MemoryStore implements ActorStore {
  readonly kind = 'memory' as const;
  private readonly data = new Map<string, MemoryRecord>();
  private seq = 0;
  onDurable: ((seq: number) => void) | null = null;
  /** Snapshots in memory too: lost with the worker, kept across actor restarts in it. */
  readonly snapshots: MemorySnapshots;

  constructor(limits: SnapshotLimits = { maxChunkBytes: storageDefaults.maxSnapshotChunkBytes }) {
    this.snapshots = new MemorySnapshots('memory', limits);
  }

  get durableSeq(): number {
    return this.seq;
  }
  load(actor: string): Recovered | undefined {
    const r = this.data.get(actor);
    if (!r) return undefined;
    const entries = new Map<PersistKey, unknown>(r.strings);
    r.numbers.forEach((v, k) => entries.set(k, v));
    return { hasState: r.hasState, state: r.state, entries };
  }
  write(actor: string, ops: readonly PersistOp[], count = ops.length): number {
    let r = this.data.get(actor);
    if (!r) {
      r = { hasState: false, state: undefined, numbers: new IntMap(), strings: new Map() };
      this.data.set(actor, r);
    }
    for (let i = 0; i < count; i++) {
      const op = ops[i]!;
      const key = op.key;
      if (key === null) {
        r.hasState = true;
        r.state = op.value;
      } else if (typeof key === 'number' && Number.isSafeInteger(key)) {
        if (op.value === undefined) r.numbers.delete(key);
        else r.numbers.set(key, op.value);
      } else if (op.value === undefined) {
        r.strings.delete(key);
      } else {
        r.strings.set(key, op.value);
      }
    }
    return ++this.seq;
  }
  remove(actor: string): number {
    this.data.delete(actor);
    return ++this.seq;
  }
  async close(): Promise<void> {
    this.data.clear();
    this.snapshots.close();
  }
}
