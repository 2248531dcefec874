/**
 * The simulated disk of a node, behind `file` storage. A write is in the page cache at once
 * (an actor restarted on a living node reads it back) and durable only after a sync, which takes
 * a sampled virtual time; writes made during a sync wait for the next one (group commit). A node
 * crash keeps what was synced, plus (optionally) a random prefix of the rest, and may tear the
 * first write after that prefix: recovery cuts a torn record off, as the file store's checksums
 * do. Values are copied at write time, like a store that serializes.
 */
import { applyOps, type ActorStore, type PersistOp, type Recovered, type StorageKind } from '../store.js';

interface DiskRecord {
  seq: number;
  actor: string;
  /** null: the actor's records were removed. */
  ops: PersistOp[] | null;
}

/** What a crash did to the writes that were not synced. */
export interface CrashLoss {
  /** Unsynced writes that survived (reached the disk before the crash). */
  kept: number;
  /** Unsynced writes lost. */
  lost: number;
  /** Whether the first lost write was torn (half written, cut off at recovery). */
  torn: boolean;
}

/**
 * Copies a persisted value. Plain objects and arrays (nearly all actor state) are copied here,
 * several times faster than `structuredClone`, which handles the rest (Map, Set, Date, typed
 * arrays, ...).
 */
export function copyValue(v: unknown, depth = 0): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (depth > 64) return structuredClone(v);
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = copyValue(v[i], depth + 1);
    return out;
  }
  if (Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const k in v as Record<string, unknown>) out[k] = copyValue((v as Record<string, unknown>)[k], depth + 1);
    return out;
  }
  return structuredClone(v);
}

function cloneOps(ops: readonly PersistOp[]): PersistOp[] {
  const out: PersistOp[] = new Array(ops.length);
  for (let i = 0; i < ops.length; i++) out[i] = { key: ops[i]!.key, value: copyValue(ops[i]!.value) };
  return out;
}

function cloneRecovered(r: Recovered): Recovered {
  const entries = new Map<PersistOp['key'] & {}, unknown>();
  for (const [k, v] of r.entries) entries.set(k, copyValue(v));
  return { hasState: r.hasState, state: copyValue(r.state), entries };
}

/** The persistent part of a node: survives crashes of the node's host. */
export class SimDisk {
  /** Synced data, per actor. */
  private readonly image = new Map<string, Recovered>();
  /** Written but not synced, in write order, from `pendingHead` on. */
  private pending: DiskRecord[] = [];
  private pendingHead = 0;
  private seq = 0;
  /** Highest write known durable. */
  durable = 0;
  /** Highest write covered by the sync in flight (0: none in flight). */
  syncing = 0;
  /** Bumped by a crash: a sync in flight at the crash never completes. */
  generation = 0;
  /** The store of the living host, told when writes become durable. */
  store: SimDiskStore | null = null;

  get unsynced(): number { return this.pending.length - this.pendingHead; }

  /** The number of the last write appended. */
  get written(): number { return this.seq; }

  /** The synced data of an actor (read it, do not change it). */
  syncedImage(actor: string): Recovered | undefined {
    return this.image.get(actor);
  }

  /** Appends a record; returns its write number. */
  append(actor: string, ops: PersistOp[] | null): number {
    const seq = ++this.seq;
    this.pending.push({ seq, actor, ops });
    return seq;
  }

  /** Starts a sync of everything written so far; false when one is in flight or nothing is pending. */
  beginSync(): boolean {
    if (this.syncing !== 0 || this.unsynced === 0) return false;
    this.syncing = this.seq;
    return true;
  }

  /** The sync in flight completed: its writes are durable. Returns the new durable write number. */
  completeSync(): number {
    const upTo = this.syncing;
    this.syncing = 0;
    const pending = this.pending;
    let i = this.pendingHead;
    while (i < pending.length && pending[i]!.seq <= upTo) {
      this.applyToImage(pending[i]!);
      pending[i++] = undefined as unknown as DiskRecord;
    }
    if (i === pending.length) {
      pending.length = 0;
      this.pendingHead = 0;
    } else {
      this.pendingHead = i;
    }
    this.durable = upTo;
    return upTo;
  }

  /**
   * The node crashed. `keep` unsynced writes survive (0..unsynced); with `torn`, the next one
   * was torn and is cut off with everything after it.
   */
  crash(keep: number, torn: boolean): CrashLoss {
    const n = this.unsynced;
    const k = Math.max(0, Math.min(n, keep));
    for (let i = 0; i < k; i++) this.applyToImage(this.pending[this.pendingHead + i]!);
    const loss: CrashLoss = { kept: k, lost: n - k, torn: torn && k < n };
    this.pending = [];
    this.pendingHead = 0;
    this.syncing = 0;
    this.durable = this.seq;
    this.generation++;
    this.store?.kill();
    this.store = null;
    return loss;
  }

  /** What recovery reads: the durable image (copied, so actors can mutate what they recover). */
  recover(actor: string): Recovered | undefined {
    const r = this.image.get(actor);
    return r && cloneRecovered(r);
  }


  private applyToImage(rec: DiskRecord): void {
    if (rec.ops === null) this.image.delete(rec.actor);
    else this.image.set(rec.actor, applyOps(this.image.get(rec.actor), rec.ops));
  }
}

/**
 * The `file` store of one host incarnation over a {@link SimDisk}. Reads see every write of this
 * incarnation (the page cache); durability follows the disk's syncs. After a crash it is dead:
 * late writes from continuations of crashed actors go nowhere.
 */
export class SimDiskStore implements ActorStore {
  readonly kind: StorageKind = 'file';
  onDurable: ((seq: number) => void) | null = null;
  private readonly live = new Map<string, Recovered>();
  private loaded = new Set<string>();
  private dead = false;

  constructor(
    private readonly disk: SimDisk,
    /** Asks the simulation to start a sync soon (once per step, so a step's writes share it). */
    private readonly requestSync: () => void,
  ) {
    disk.store = this;
  }

  get durableSeq(): number { return this.disk.durable; }
  get writtenSeq(): number { return this.disk.written; }

  load(actor: string): Recovered | undefined {
    if (!this.loaded.has(actor)) {
      this.loaded.add(actor);
      const r = this.disk.recover(actor);
      if (r) this.live.set(actor, r);
    }
    const r = this.live.get(actor);
    return r && cloneRecovered(r);
  }

  write(actor: string, ops: readonly PersistOp[]): number {
    if (this.dead) return 0;
    const copy = cloneOps(ops);
    if (!this.loaded.has(actor)) this.load(actor);
    // The page cache and the disk share the copied values: neither mutates them, and loads copy.
    this.live.set(actor, applyOps(this.live.get(actor), copy));
    const seq = this.disk.append(actor, copy);
    this.requestSync();
    return seq;
  }

  remove(actor: string): number {
    if (this.dead) return 0;
    this.loaded.add(actor);
    this.live.delete(actor);
    const seq = this.disk.append(actor, null);
    this.requestSync();
    return seq;
  }

  /** The node crashed: this store takes no more writes. */
  kill(): void {
    this.dead = true;
    this.onDurable = null;
  }

  async close(): Promise<void> { /* the disk outlives the store */ }

  /** What is synced for an actor (a copy): what a crash now would keep of it. */
  durableView(actor: string): Recovered | undefined {
    const r = this.disk.syncedImage(actor);
    return r && cloneRecovered(r);
  }
}

/**
 * `shared` storage in the simulator: the main thread's memory, which survives a node (worker)
 * crash. Durable at once; values are copied, as serializing into a SharedArrayBuffer does.
 */
export class SimSharedStore implements ActorStore {
  readonly kind: StorageKind = 'shared';
  onDurable: ((seq: number) => void) | null = null;
  private readonly data = new Map<string, Recovered>();
  private seq = 0;

  get durableSeq(): number { return this.seq; }

  load(actor: string): Recovered | undefined {
    const r = this.data.get(actor);
    return r && cloneRecovered(r);
  }

  write(actor: string, ops: readonly PersistOp[]): number {
    this.data.set(actor, applyOps(this.data.get(actor), cloneOps(ops)));
    return ++this.seq;
  }

  remove(actor: string): number {
    this.data.delete(actor);
    return ++this.seq;
  }

  async close(): Promise<void> { /* outlives hosts */ }
}
