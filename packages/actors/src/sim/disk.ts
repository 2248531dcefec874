/**
 * The simulated disk of a node, behind `file` storage. A write is in the page cache at once
 * (an actor restarted on a living node reads it back) and durable only after a sync, which takes
 * a sampled virtual time; writes made during a sync wait for the next one (group commit). A node
 * crash keeps what was synced, plus (optionally) a random prefix of the rest, and may tear the
 * first write after that prefix: recovery cuts a torn record off, as the file store's checksums
 * do. Values are copied at write time, like a store that serializes.
 *
 * Snapshots (`ctx.snapshots`): chunks being written live in the node's memory only (a crash
 * loses them, as the file store's temp files are removed at recovery); a finish or a delete is a
 * write among the others, in order, so it is lost, kept or torn with them: after a crash a
 * snapshot is whole or absent, and state persisted after a finish is never kept without it.
 */
import { MemorySnapshots, type SnapshotBytes } from '../stores/memory-snapshots.js';
import type { SnapshotLimits } from '../snapshots.js';
import { applyOps, type ActorStore, type PersistOp, type Recovered, type StorageKind } from '../store.js';

interface DiskRecord {
  seq: number;
  actor: string;
  /** null: the actor's records were removed. */
  ops: PersistOp[] | null;
  /** A snapshot finished (bytes) or deleted (null) instead; `ops` is then unused. */
  snapshot?: { id: string; bytes: SnapshotBytes | null };
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
  // Bytes (Multi-Paxos slot values, snapshot chunks) are copied natively.
  if (v instanceof Uint8Array && v.constructor === Uint8Array) return v.slice();
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

function cloneOps(ops: readonly PersistOp[], count = ops.length): PersistOp[] {
  const out: PersistOp[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = { key: ops[i]!.key, value: copyValue(ops[i]!.value) };
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
  /** Synced finished snapshots, per actor and id. */
  private readonly snapImage = new Map<string, Map<string, SnapshotBytes>>();
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

  get unsynced(): number {
    return this.pending.length - this.pendingHead;
  }

  /** The number of the last write appended. */
  get written(): number {
    return this.seq;
  }

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

  /** Appends a snapshot finish (bytes) or delete (null); returns its write number. */
  appendSnapshot(actor: string, id: string, bytes: SnapshotBytes | null): number {
    const seq = ++this.seq;
    this.pending.push({ seq, actor, ops: null, snapshot: { id, bytes } });
    return seq;
  }

  /** The synced snapshots of an actor (immutable bytes, shared). */
  recoverSnapshots(actor: string): Map<string, SnapshotBytes> {
    return new Map(this.snapImage.get(actor) ?? []);
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
    if (rec.snapshot !== undefined) {
      const { id, bytes } = rec.snapshot;
      let m = this.snapImage.get(rec.actor);
      if (bytes !== null) {
        if (!m) this.snapImage.set(rec.actor, (m = new Map()));
        m.set(id, bytes);
      } else if (m) {
        m.delete(id);
        if (m.size === 0) this.snapImage.delete(rec.actor);
      }
    } else if (rec.ops === null) this.image.delete(rec.actor);
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
  dead = false;
  /** The snapshots of this host incarnation's `file` actors over the disk. */
  readonly snapshots: SimDiskSnapshots;

  constructor(
    private readonly disk: SimDisk,
    /** Asks the simulation to start a sync soon (once per step, so a step's writes share it). */
    readonly requestSync: () => void,
    limits: SnapshotLimits,
  ) {
    disk.store = this;
    this.snapshots = new SimDiskSnapshots(disk, this, limits);
  }

  get durableSeq(): number {
    return this.disk.durable;
  }
  get writtenSeq(): number {
    return this.disk.written;
  }

  load(actor: string): Recovered | undefined {
    if (!this.loaded.has(actor)) {
      this.loaded.add(actor);
      const r = this.disk.recover(actor);
      if (r) this.live.set(actor, r);
    }
    const r = this.live.get(actor);
    return r && cloneRecovered(r);
  }

  write(actor: string, ops: readonly PersistOp[], count = ops.length): number {
    if (this.dead) return 0;
    const copy = cloneOps(ops, count);
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
    this.snapshots.close();
  }

  async close(): Promise<void> {
    /* the disk outlives the store */
  }

  /** What is synced for an actor (a copy): what a crash now would keep of it. */
  durableView(actor: string): Recovered | undefined {
    const r = this.disk.syncedImage(actor);
    return r && cloneRecovered(r);
  }
}

/**
 * The simulator's `file` snapshots: finished ones in this incarnation's page cache (loaded from
 * the disk's synced image per actor on first use), their finishes and deletes written to the
 * disk among the other writes.
 */
export class SimDiskSnapshots extends MemorySnapshots {
  private readonly loadedActors = new Set<string>();

  constructor(
    private readonly disk: SimDisk,
    private readonly store: SimDiskStore,
    limits: SnapshotLimits,
  ) {
    super('file', limits);
  }

  protected override ensureLoaded(actor: string): void {
    if (this.loadedActors.has(actor)) return;
    this.loadedActors.add(actor);
    const synced = this.disk.recoverSnapshots(actor);
    if (synced.size === 0) return;
    const m = new Map<string, SnapshotBytes & { gone: boolean }>();
    for (const [id, b] of synced) {
      m.set(id, { ...b, gone: false });
      this.usedBytes += b.meta.length + b.bytes;
    }
    this.finished.set(actor, m);
  }

  protected override installed(actor: string, id: string, bytes: SnapshotBytes): number {
    if (this.store.dead) return 0; // a crashed node's late write goes nowhere
    const seq = this.disk.appendSnapshot(actor, id, bytes);
    this.store.requestSync();
    return seq;
  }

  protected override deleted(actor: string, id: string): number {
    if (this.store.dead) return 0;
    const seq = this.disk.appendSnapshot(actor, id, null);
    this.store.requestSync();
    return seq;
  }
}

/**
 * `shared` storage in the simulator: the main thread's memory, which survives a node (worker)
 * crash. Durable at once; values are copied, as serializing into a SharedArrayBuffer does.
 * Snapshots too: they outlive the node's hosts, bounded by `sharedSnapshotBytes`.
 */
export class SimSharedStore implements ActorStore {
  readonly kind: StorageKind = 'shared';
  onDurable: ((seq: number) => void) | null = null;
  private readonly data = new Map<string, Recovered>();
  private seq = 0;
  readonly snapshots: MemorySnapshots;

  constructor(options: { maxChunkBytes: number; sharedSnapshotBytes: number; node: number }) {
    this.snapshots = new MemorySnapshots('shared', {
      maxChunkBytes: options.maxChunkBytes,
      capacityBytes: options.sharedSnapshotBytes,
      capacityOption: 'sharedSnapshotBytes',
      storeName: `node ${options.node}`,
    });
  }

  get durableSeq(): number {
    return this.seq;
  }

  load(actor: string): Recovered | undefined {
    const r = this.data.get(actor);
    return r && cloneRecovered(r);
  }

  write(actor: string, ops: readonly PersistOp[], count = ops.length): number {
    this.data.set(actor, applyOps(this.data.get(actor), cloneOps(ops, count)));
    return ++this.seq;
  }

  remove(actor: string): number {
    this.data.delete(actor);
    return ++this.seq;
  }

  async close(): Promise<void> {
    /* outlives hosts */
  }
}
