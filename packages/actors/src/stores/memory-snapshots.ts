import {
  ChunkReader,
  WriterBase,
  checkChunkIndex,
  checkSnapshotId,
  goneError,
  ownCopy,
  type SnapshotBackend,
  type SnapshotLimits,
  type SnapshotOwner,
  type SnapshotReader,
  type SnapshotStore,
  type SnapshotWriter,
} from '../snapshots.js';
import type { StorageKind } from '../storage-kind.js';
import { storageDefaults } from './defaults.js';
import { StoreFullError } from './errors.js';

/** The bytes of a finished snapshot held in memory (never changed once finished). */
export interface SnapshotBytes {
  meta: Buffer;
  chunks: Buffer[];
  bytes: number;
}

/** A finished snapshot as this backend lists it: `gone` once deleted or replaced here. */
interface HeldSnapshot extends SnapshotBytes {
  gone: boolean;
}

/** Options of {@link MemorySnapshots}. */
export interface MemorySnapshotsOptions extends SnapshotLimits {
  /**
   * Bytes the snapshots (finished and being written, meta included) may take together; beyond,
   * `append` and `finish` throw `StoreFullError` naming `capacityOption`. Default: unbounded.
   */
  capacityBytes?: number;
  /** The option that sets the capacity, for the error message. */
  capacityOption?: string;
  /** For messages: whose snapshots these are. */
  storeName?: string;
}

/**
 * Snapshots kept in memory (copies of the chunks): `memory` storage (lost with the worker, kept
 * across actor restarts in it) and the simulator's `shared` storage (which outlives a node's
 * crashes). Durable at once.
 */
export class MemorySnapshots implements SnapshotBackend {
  protected readonly finished = new Map<string, Map<string, HeldSnapshot>>();
  private readonly writers = new Map<string, Map<string, MemoryWriter>>();
  private readonly owners = new Map<string, SnapshotOwner>();
  /** Bytes held by finished snapshots and writers. */
  usedBytes = 0;

  constructor(
    readonly kind: StorageKind,
    private readonly options: MemorySnapshotsOptions,
  ) {}

  attach(actor: string, owner: SnapshotOwner): void {
    this.owners.set(actor, owner);
    const ws = this.writers.get(actor);
    if (ws) for (const w of [...ws.values()]) if (w.owner !== owner) w.abort();
  }

  create(actor: string, id: string, owner: SnapshotOwner): MemoryWriter {
    this.discard(actor, id);
    const w = new MemoryWriter(this, actor, id, owner, this.options);
    let ws = this.writers.get(actor);
    if (!ws) this.writers.set(actor, (ws = new Map()));
    ws.set(id, w);
    return w;
  }

  open(actor: string, id: string): SnapshotReader | undefined {
    this.ensureLoaded(actor);
    const s = this.finished.get(actor)?.get(id);
    if (!s) return undefined;
    return new ChunkReader(id, ownCopy(s.meta), s.chunks.length, s.bytes, (i) => {
      if (s.gone) throw goneError(actor, id);
      checkChunkIndex(i, s.chunks.length, id);
      return ownCopy(s.chunks[i]!);
    });
  }

  list(actor: string): string[] {
    this.ensureLoaded(actor);
    return [...(this.finished.get(actor)?.keys() ?? [])];
  }

  discard(actor: string, id: string): void {
    this.writers.get(actor)?.get(id)?.abort();
  }

  delete(actor: string, id: string): number {
    this.ensureLoaded(actor);
    const m = this.finished.get(actor);
    const s = m?.get(id);
    if (s) {
      m!.delete(id);
      if (m!.size === 0) this.finished.delete(actor);
      this.release(s);
      return this.deleted(actor, id);
    }
    return 0;
  }

  close(): void {
    for (const ws of this.writers.values()) for (const w of [...ws.values()]) w.abort();
    for (const m of this.finished.values()) for (const s of m.values()) s.gone = true;
    this.finished.clear();
    this.usedBytes = 0;
  }

  /** Takes `bytes` of the capacity, first discarding writers whose actor is gone; throws when it is not there. */
  reserve(bytes: number, what: string, asking: MemoryWriter): void {
    const cap = this.options.capacityBytes;
    if (cap === undefined) {
      this.usedBytes += bytes;
      return;
    }
    if (this.usedBytes + bytes > cap) this.reclaimStale(asking);
    if (this.usedBytes + bytes > cap) {
      const opt = this.options.capacityOption ?? 'the capacity';
      throw new StoreFullError(
        `${what}: the snapshots of host "${this.options.storeName ?? '?'}" would take ${this.usedBytes + bytes} bytes, ` +
          `more than ${opt} (${cap}); raise ${opt}, or keep fewer or smaller snapshots (delete old ones before writing a new one)`,
      );
    }
    this.usedBytes += bytes;
  }

  unreserve(bytes: number): void {
    this.usedBytes -= bytes;
  }

  /** Called by a writer that finished; returns the durability ticket. */
  install(w: MemoryWriter, meta: Buffer): number {
    this.ensureLoaded(w.actor);
    let m = this.finished.get(w.actor);
    if (!m) this.finished.set(w.actor, (m = new Map()));
    const old = m.get(w.id);
    const bytes: SnapshotBytes = { meta, chunks: w.data, bytes: w.bytes };
    m.set(w.id, { ...bytes, gone: false });
    if (old) this.release(old);
    this.forget(w);
    return this.installed(w.actor, w.id, bytes);
  }

  /** Before an actor's snapshots are first read or changed (a subclass loads them). */
  protected ensureLoaded(_actor: string): void {}

  /** A snapshot finished: returns the write number after which it is durable (here: at once). */
  protected installed(_actor: string, _id: string, _bytes: SnapshotBytes): number {
    return 0;
  }

  /** A finished snapshot was deleted: returns the write number after which that is durable. */
  protected deleted(_actor: string, _id: string): number {
    return 0;
  }

  forget(w: MemoryWriter): void {
    const ws = this.writers.get(w.actor);
    if (ws?.get(w.id) === w) {
      ws.delete(w.id);
      if (ws.size === 0) this.writers.delete(w.actor);
    }
  }

  private release(s: HeldSnapshot): void {
    s.gone = true;
    this.usedBytes -= s.meta.length;
    for (const c of s.chunks) this.usedBytes -= c.length;
  }

  private reclaimStale(asking: MemoryWriter): void {
    for (const [actor, ws] of this.writers) {
      const current = this.owners.get(actor);
      for (const w of [...ws.values()]) {
        if (w !== asking && (!w.owner.alive || (current !== undefined && w.owner !== current))) w.abort();
      }
    }
  }
}

export class MemoryWriter extends WriterBase {
  readonly data: Buffer[] = [];

  constructor(
    private readonly store: MemorySnapshots,
    actor: string,
    id: string,
    owner: SnapshotOwner,
    limits: SnapshotLimits,
  ) {
    super(actor, id, owner, limits);
  }

  protected write(chunk: Uint8Array): void {
    this.store.reserve(chunk.byteLength, `append to snapshot "${this.id}" of actor "${this.actor}"`, this);
    this.data.push(ownCopy(chunk));
  }

  protected complete(meta: Uint8Array): number {
    this.store.reserve(meta.byteLength, `finish snapshot "${this.id}" of actor "${this.actor}"`, this);
    return this.store.install(this, ownCopy(meta));
  }

  protected discard(): void {
    let n = 0;
    for (const c of this.data) n += c.length;
    this.store.unreserve(n);
    this.data.length = 0;
    this.store.forget(this);
  }
}

/**
 * A {@link SnapshotStore} on its own, in memory, durable at once: for tests and harnesses that
 * drive behaviours without a host (a fake `ctx`). Keep one per actor across its restarts.
 */
export class MemorySnapshotStore implements SnapshotStore {
  private readonly backend: MemorySnapshots;
  private readonly owner: SnapshotOwner = { alive: true };

  constructor(limits: SnapshotLimits = { maxChunkBytes: storageDefaults.maxSnapshotChunkBytes }) {
    this.backend = new MemorySnapshots('memory', limits);
  }

  create(id: string): SnapshotWriter {
    checkSnapshotId(id, 'snapshots.create');
    return this.backend.create('', id, this.owner);
  }

  open(id: string): SnapshotReader | undefined {
    checkSnapshotId(id, 'snapshots.open');
    return this.backend.open('', id);
  }

  list(): string[] {
    return this.backend.list('');
  }

  delete(id: string): void {
    checkSnapshotId(id, 'snapshots.delete');
    this.backend.discard('', id);
    this.backend.delete('', id);
  }
}
