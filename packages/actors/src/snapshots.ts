/**
 * Snapshots: large immutable byte streams an actor keeps beside its durable state (a state
 * machine's snapshot), the way etcd keeps its `snap` files apart from its WAL. Durable state
 * (`ctx.persist`) is small and loaded whole at start; a snapshot may be gigabytes, so it is
 * written in chunks over many turns and read back one chunk at a time.
 *
 * This module holds the API an actor sees (`ctx.snapshots`) and the one a store implements per
 * host (`SnapshotBackend`), and the checks both share.
 */
import type { StorageKind } from './storage-kind.js';
import { RecordTooLargeError, StorageError } from './stores/errors.js';

/** Large immutable byte streams kept beside an actor's durable state: state machine snapshots. */
export interface SnapshotStore {
  /**
   * Starts writing snapshot `id` (an unfinished one of the same id is discarded). Chunks are
   * appended over any number of turns. A finished snapshot of the same id stays until this one
   * finishes, which replaces it.
   */
  create(id: string): SnapshotWriter;
  /**
   * A finished snapshot (undefined when there is none by that id). Valid until the snapshot is
   * deleted or replaced by a newer one of the same id; its `chunk` throws afterwards. Throws
   * `SnapshotDamagedError` for a snapshot whose file is damaged.
   */
  open(id: string): SnapshotReader | undefined;
  /** The ids of the finished snapshots of this actor (damaged ones included: `open` says what is wrong). */
  list(): string[];
  /**
   * Forgets a snapshot (finished or not). An unfinished one is discarded at once; a finished
   * one is hidden at once and removed when the turn ends, after the state the turn persisted,
   * so that state which stopped referring to it is durable before it disappears. Durable like a
   * persist: messages sent in this turn leave after. A turn that throws deletes nothing.
   */
  delete(id: string): void;
}

export interface SnapshotWriter {
  readonly id: string;
  /**
   * Appends a chunk (copied or written before append returns: the caller may reuse its buffer).
   * A chunk is at most `storage.maxSnapshotChunkBytes`. Throws `StoreFullError` when the store
   * cannot hold it (the writer is then discarded, and a finished snapshot of the same id stays).
   */
  append(chunk: Uint8Array): void;
  /**
   * Space for the next chunk of at most `n` bytes, to fill and then `append` (the whole of it, or
   * a view of its first bytes): where the store can, it is the store's own memory (`shared`), and
   * appending it copies nothing. Null where it cannot (or
   * `n` is not a chunk's size): fill a buffer of your own. Valid until the next call of any method
   * of this writer. Optional: writers made elsewhere (test fakes) may lack it.
   */
  reserve?(n: number): Uint8Array | null;
  /** Bytes appended so far. */
  readonly bytes: number;
  /** Chunks appended so far. */
  readonly chunks: number;
  /**
   * Finishes the snapshot with a small `meta` (what it stands for; at most
   * `storage.maxSnapshotChunkBytes`). Persist before send: messages sent in this turn (and later
   * turns) leave only once the whole snapshot is durable, exactly as for ctx.persist; state the
   * turn persists becomes durable after it. After a crash, a snapshot is either whole and
   * finished, or absent. It is visible to `open` and `list` at once.
   */
  finish(meta: Uint8Array): void;
  /** Discards the unfinished snapshot (no effect once finished or aborted). */
  abort(): void;
}

export interface SnapshotReader {
  readonly id: string;
  readonly meta: Uint8Array;
  readonly chunks: number;
  readonly bytes: number;
  /**
   * Chunk i, read now (synchronously; a chunk is at most `maxSnapshotChunkBytes`), as a copy the
   * caller owns. Its checksum is verified: `SnapshotDamagedError` when it does not match.
   */
  chunk(i: number): Uint8Array;
  /**
   * Chunk i, read and verified like `chunk`, but not copied: a view that stays valid only until
   * the next read of any snapshot of this host's store, which the caller must neither change nor
   * keep. For a caller that copies out what it keeps (a state machine rebuilding its state): a
   * gigabyte restored then costs one copy into fresh memory, not two.
   */
  chunkView(i: number): Uint8Array;
}

/**
 * A reader as backends return it. The reading function sits in a private field, so an actor state
 * holding a reader still clones (for inspection) as plain data: id, meta, chunks, bytes.
 */
export class ChunkReader implements SnapshotReader {
  readonly #read: (i: number) => Uint8Array;
  readonly #view: (i: number) => Uint8Array;
  /** `view` defaults to `read` (a copy is a valid view). */
  constructor(
    readonly id: string,
    readonly meta: Uint8Array,
    readonly chunks: number,
    readonly bytes: number,
    read: (i: number) => Uint8Array,
    view: (i: number) => Uint8Array = read,
  ) {
    this.#read = read;
    this.#view = view;
  }

  chunk(i: number): Uint8Array {
    return this.#read(i);
  }

  chunkView(i: number): Uint8Array {
    return this.#view(i);
  }
}

/** Who may use a writer: the actor incarnation that created it. */
export interface SnapshotOwner {
  /** False once that incarnation crashed or stopped. */
  readonly alive: boolean;
}

/** A writer as a backend implements it: `finish` returns when the snapshot is durable. */
export interface BackendWriter {
  readonly id: string;
  readonly bytes: number;
  readonly chunks: number;
  /** Whether it can still take chunks (not finished, aborted or failed). */
  readonly open: boolean;
  append(chunk: Uint8Array): void;
  /** See `SnapshotWriter.reserve`. */
  reserve(n: number): Uint8Array | null;
  /**
   * Returns the write number (of the actor store of the same host and kind) after which the
   * snapshot is durable; 0 when it is durable at once.
   */
  finish(meta: Uint8Array): number;
  abort(): void;
}

/**
 * The snapshots of every actor of one host in one storage kind, reached through the actor store
 * of that kind (`ActorStore.snapshots`), whose write numbers order them with persisted state.
 */
export interface SnapshotBackend {
  readonly kind: StorageKind;
  /**
   * Makes `owner` the incarnation of `actor` that writes: unfinished writers of earlier ones
   * are discarded (they crashed or stopped; nothing can finish them).
   */
  attach(actor: string, owner: SnapshotOwner): void;
  /** Starts a writer (an unfinished one of the same id is discarded). */
  create(actor: string, id: string, owner: SnapshotOwner): BackendWriter;
  open(actor: string, id: string): SnapshotReader | undefined;
  list(actor: string): string[];
  /** Discards an unfinished snapshot of this id, if any. */
  discard(actor: string, id: string): void;
  /** Removes a finished snapshot; returns the write number after which that is durable (0: at once). */
  delete(actor: string, id: string): number;
  /** Releases what the backend holds (files, memory). Unfinished snapshots are discarded. */
  close(): void;
}

/** Bounds of snapshot backends (defaults in `storageDefaults`). */
export interface SnapshotLimits {
  /** Largest chunk, and largest `meta`. */
  maxChunkBytes: number;
}

/** Longest snapshot id (UTF-8 bytes): ids become file names. */
export const MAX_SNAPSHOT_ID_BYTES = 200;

export function checkSnapshotId(id: unknown, what: string): asserts id is string {
  if (typeof id !== 'string' || id.length === 0)
    throw new TypeError(`${what}: a snapshot id must be a non-empty string, got ${typeof id === 'string' ? '""' : typeof id}`);
  if (Buffer.byteLength(id, 'utf8') > MAX_SNAPSHOT_ID_BYTES) {
    throw new TypeError(`${what}: snapshot id "${id.slice(0, 40)}…" is longer than ${MAX_SNAPSHOT_ID_BYTES} bytes`);
  }
}

/** Checks a chunk or meta before anything is written. */
export function checkBytes(b: unknown, what: string, limits: SnapshotLimits): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) throw new TypeError(`${what}: expected a Uint8Array (or Buffer), got ${b === null ? 'null' : typeof b}`);
  if (b.byteLength > limits.maxChunkBytes) {
    throw new RecordTooLargeError(
      `${what}: ${b.byteLength} bytes is more than storage.maxSnapshotChunkBytes (${limits.maxChunkBytes}); ` +
        'append the data in smaller chunks, or raise storage.maxSnapshotChunkBytes',
    );
  }
}

/** A Buffer over the same bytes (no copy): the CRC and fs functions take Buffers. */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** A copy the caller owns, not a slice of a pool (kept for long). */
export function ownCopy(b: Uint8Array): Buffer {
  const c = Buffer.allocUnsafeSlow(b.byteLength);
  c.set(b);
  return c;
}

export function checkChunkIndex(i: number, chunks: number, id: string): void {
  if (!Number.isInteger(i) || i < 0 || i >= chunks) throw new RangeError(`snapshot "${id}" has ${chunks} chunk(s); there is no chunk ${String(i)}`);
}

/** A reader used after its snapshot was deleted or replaced. */
export function goneError(actor: string, id: string): StorageError {
  return new StorageError(`snapshot "${id}" of actor "${actor}" was deleted or replaced since it was opened; open it again`);
}

/**
 * The common state machine of writers: open until finished, aborted or failed; checks the
 * owner and the arguments before a backend writes anything.
 */
export abstract class WriterBase implements BackendWriter {
  bytes = 0;
  chunks = 0;
  protected state: 'open' | 'finished' | 'aborted' = 'open';

  constructor(
    readonly actor: string,
    readonly id: string,
    readonly owner: SnapshotOwner,
    protected readonly limits: SnapshotLimits,
  ) {}

  get open(): boolean {
    return this.state === 'open';
  }

  append(chunk: Uint8Array): void {
    this.check('append');
    checkBytes(chunk, `append to snapshot "${this.id}"`, this.limits);
    try {
      this.write(chunk);
    } catch (e) {
      this.abort(); // what was written cannot be completed: release it, so nothing stale stays
      throw e;
    }
    this.bytes += chunk.byteLength;
    this.chunks++;
  }

  reserve(n: number): Uint8Array | null {
    this.check('reserve');
    if (!Number.isInteger(n) || n <= 0 || n > this.limits.maxChunkBytes) return null;
    return this.reserveSpace(n);
  }

  /** Space of the store's own for the next chunk (see `reserve`); null (the default): none. */
  protected reserveSpace(_n: number): Uint8Array | null {
    return null;
  }

  finish(meta: Uint8Array): number {
    this.check('finish');
    checkBytes(meta, `finish snapshot "${this.id}" (its meta)`, this.limits);
    let ticket: number;
    try {
      ticket = this.complete(meta);
    } catch (e) {
      this.abort();
      throw e;
    }
    this.state = 'finished';
    return ticket;
  }

  abort(): void {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    this.discard();
  }

  private check(what: string): void {
    if (this.state !== 'open') {
      throw new StorageError(
        `${what} on snapshot "${this.id}" of actor "${this.actor}": the writer is ${this.state === 'finished' ? 'finished' : 'discarded (aborted, deleted, replaced by a new writer of the same id, or failed)'}`,
      );
    }
    if (!this.owner.alive) {
      this.abort();
      throw new StorageError(`${what} on snapshot "${this.id}" of actor "${this.actor}": the actor incarnation that created this writer is no longer running`);
    }
  }

  /** Writes (or copies) a checked chunk. */
  protected abstract write(chunk: Uint8Array): void;
  /** Makes the snapshot finished; returns the durability ticket. */
  protected abstract complete(meta: Uint8Array): number;
  /** Releases what the unfinished snapshot holds. */
  protected abstract discard(): void;
}
