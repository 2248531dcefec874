/**
 * `shared` storage's snapshots: a SharedArrayBuffer the main thread keeps per host store name
 * (apart from the shared log's buffer, sized by `storage.sharedSnapshotBytes`), so they survive a
 * worker crash, not a process crash.
 *
 * The region is a header, a directory and chunk data. The directory lists the finished
 * snapshots of the host (actor, id, meta, chunk lengths, and the pieces of the region that hold
 * their bytes); it lives in the region too, and the header says where:
 *
 *   Uint32 words: 0 generation · 1 active slot (0, 1) · 2..4 slot 0: directory offset, length,
 *   CRC32C · 5..7 slot 1. A new (zero-filled) buffer reads as an empty directory.
 *
 * Everything not referenced by the directory in force is free. A writer copies its chunks into
 * free pieces; finishing (or deleting) writes a new directory into free space, fills the other
 * slot, then flips the active slot with one atomic store. A worker that dies mid-write leaves
 * bytes nobody references (free again for its successor, which rebuilds the free space from the
 * directory), and one that dies before the flip leaves the old directory in force: a snapshot is
 * either finished and whole, or absent. Pieces of a finished snapshot are never reused while it
 * is in the directory, so the previous snapshot stays intact while the next is written.
 *
 * Chunks carry no checksum, as the `shared` log's frames (frame.ts): a snapshot is listed only once
 * whole, in memory no crash can tear. (A CRC32C of every chunk written and read was a fifth of the
 * CPU of a cluster writing 64 KiB values, whose replicas snapshot often.)
 */
import { crc32c } from '@node-rs/crc32';
import {
  ChunkReader,
  WriterBase,
  checkChunkIndex,
  goneError,
  ownCopy,
  type SnapshotBackend,
  type SnapshotLimits,
  type SnapshotOwner,
  type SnapshotReader,
} from '../snapshots.js';
import { StorageError, StoreFullError } from './errors.js';
import { FreeExtents, alignUp } from './extents.js';
import { copySharedBytes } from '../shared-copy.js';

/** Smallest region: the header and some room. */
export const MIN_SNAPSHOT_REGION_BYTES = 64 * 1024;
/** Offsets in the directory are u32. */
export const MAX_SNAPSHOT_REGION_BYTES = 2 ** 32;
const HEADER_BYTES = 64;
const enum W {
  Gen = 0,
  Active = 1,
  Slot0 = 2,
}
const DIRECTORY_MAGIC = 0x504e5353; // 'SSNP'
/** A writer takes free space in pieces of about this much (fewer pieces to list). */
const PIECE_BYTES = 1024 * 1024;

/** Options of {@link SharedSnapshots}. */
export interface SharedSnapshotsOptions extends SnapshotLimits {
  /** The host's store name, for messages. */
  storeName: string;
}

/** A finished snapshot in the region. */
class SharedSnap {
  gone = false;
  readonly bytes: number;
  /** Where each chunk starts in the snapshot's byte stream, and where each piece does. */
  private readonly chunkStart: Float64Array;
  private readonly pieceStart: Float64Array;

  constructor(
    readonly actor: string,
    readonly id: string,
    readonly meta: Buffer,
    readonly lengths: Uint32Array,
    /** Pairs: region offset, length. */
    readonly pieces: Float64Array,
  ) {
    this.chunkStart = new Float64Array(lengths.length);
    let at = 0;
    for (let i = 0; i < lengths.length; i++) {
      this.chunkStart[i] = at;
      at += lengths[i]!;
    }
    this.bytes = at;
    this.pieceStart = new Float64Array(pieces.length / 2);
    at = 0;
    for (let p = 0; p < this.pieceStart.length; p++) {
      this.pieceStart[p] = at;
      at += pieces[2 * p + 1]!;
    }
  }

  read(data: Buffer, i: number): Uint8Array {
    if (this.gone) throw goneError(this.actor, this.id);
    checkChunkIndex(i, this.lengths.length, this.id);
    const len = this.lengths[i]!;
    const out = Buffer.allocUnsafeSlow(len);
    let at = this.chunkStart[i]!;
    // The last piece starting at or before `at`.
    let lo = 0;
    let hi = this.pieceStart.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.pieceStart[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    for (let o = 0, p = lo; o < len; p++) {
      const into = at - this.pieceStart[p]!;
      const n = Math.min(len - o, this.pieces[2 * p + 1]! - into);
      const from = this.pieces[2 * p]! + into;
      copySharedBytes(out, o, data.subarray(from, from + n));
      o += n;
      at += n;
    }
    return out;
  }
}

export class SharedSnapshots implements SnapshotBackend {
  readonly kind = 'shared' as const;
  private readonly words: Uint32Array;
  private readonly data: Buffer;
  private readonly generation: number;
  private readonly free: FreeExtents;
  private readonly snaps = new Map<string, Map<string, SharedSnap>>();
  private readonly writers = new Map<string, Map<string, SharedWriter>>();
  private readonly owners = new Map<string, SnapshotOwner>();
  /** The directory in force: its extent. */
  private directory: [number, number] = [0, 0];
  private closed = false;
  readonly source: string;

  private constructor(
    readonly region: SharedArrayBuffer,
    readonly options: SharedSnapshotsOptions,
  ) {
    this.source = `the shared snapshot buffer of host "${options.storeName}"`;
    if (region.byteLength < MIN_SNAPSHOT_REGION_BYTES || region.byteLength > MAX_SNAPSHOT_REGION_BYTES) {
      throw new StorageError(
        `storage.sharedSnapshotBytes must be between ${MIN_SNAPSHOT_REGION_BYTES} and ${MAX_SNAPSHOT_REGION_BYTES}, got ${region.byteLength}`,
      );
    }
    this.words = new Uint32Array(region, 0, HEADER_BYTES / 4);
    this.data = Buffer.from(region);
    this.generation = Atomics.add(this.words, W.Gen, 1) + 1;
    const slot = Atomics.load(this.words, W.Active);
    const used: [number, number][] = [];
    if (slot === 0 || slot === 1) {
      const base = W.Slot0 + 3 * slot;
      const offset = Atomics.load(this.words, base);
      const length = Atomics.load(this.words, base + 1);
      const crc = Atomics.load(this.words, base + 2);
      if (length > 0) {
        if (offset < HEADER_BYTES || offset + length > region.byteLength) throw this.impossible(`its directory lies outside it (${offset}, ${length} bytes)`);
        const dir = this.data.subarray(offset, offset + length);
        if (crc32c(dir) >>> 0 !== crc) throw this.impossible("its directory's CRC32C does not match");
        this.decodeDirectory(dir);
        this.directory = [offset, length];
        used.push([offset, length]);
      }
    } else {
      throw this.impossible(`its active slot is ${slot}`);
    }
    for (const m of this.snaps.values()) {
      for (const s of m.values()) for (let p = 0; p < s.pieces.length; p += 2) used.push([s.pieces[p]!, s.pieces[p + 1]!]);
    }
    const free = FreeExtents.of(HEADER_BYTES, region.byteLength, used);
    if (!(free instanceof FreeExtents)) throw this.impossible(`two snapshots claim bytes ${free.overlap[0]}..${free.overlap[0] + free.overlap[1]}`);
    this.free = free;
  }

  /** Opens the snapshots of a host's region and recovers what its directory lists. */
  static open(region: SharedArrayBuffer, options: SharedSnapshotsOptions): SharedSnapshots {
    return new SharedSnapshots(region, options);
  }

  /** Free bytes in the region. */
  get freeBytes(): number {
    return this.free.freeBytes;
  }

  attach(actor: string, owner: SnapshotOwner): void {
    this.owners.set(actor, owner);
    const ws = this.writers.get(actor);
    if (ws) for (const w of [...ws.values()]) if (w.owner !== owner) w.abort();
  }

  create(actor: string, id: string, owner: SnapshotOwner): SharedWriter {
    this.assertWritable();
    this.discard(actor, id);
    const w = new SharedWriter(this, actor, id, owner);
    let ws = this.writers.get(actor);
    if (!ws) this.writers.set(actor, (ws = new Map()));
    ws.set(id, w);
    return w;
  }

  open(actor: string, id: string): SnapshotReader | undefined {
    const s = this.snaps.get(actor)?.get(id);
    if (!s) return undefined;
    return new ChunkReader(id, ownCopy(s.meta), s.lengths.length, s.bytes, (i) => s.read(this.data, i));
  }

  list(actor: string): string[] {
    return [...(this.snaps.get(actor)?.keys() ?? [])];
  }

  discard(actor: string, id: string): void {
    this.writers.get(actor)?.get(id)?.abort();
  }

  delete(actor: string, id: string): number {
    const s = this.snaps.get(actor)?.get(id);
    if (!s) return 0;
    this.assertWritable();
    this.publish(actor, id, null, `delete snapshot "${id}" of actor "${actor}"`);
    return 0;
  }

  /** The buffer belongs to the main thread and keeps the finished snapshots for the next host. */
  close(): void {
    for (const ws of this.writers.values()) for (const w of [...ws.values()]) w.abort();
    this.closed = true;
  }

  assertWritable(): void {
    if (this.closed) throw new StorageError(`${this.source} is closed`);
    if (Atomics.load(this.words, W.Gen) !== this.generation) {
      throw new StorageError(`${this.source} was opened by another host since this one (two live hosts with one store name?); this host stopped writing to it`);
    }
  }

  /** Makes sure `need` bytes are free (discarding stale writers if it must); throws StoreFullError when they are not. */
  ensureFree(need: number, what: string, asking: SharedWriter): void {
    if (this.free.freeBytes < need) {
      // Writers take free space ahead, in large pieces: give back what they have not filled yet.
      for (const ws of this.writers.values()) for (const w of ws.values()) if (w !== asking) w.trimLast();
    }
    if (this.free.freeBytes < need) this.reclaimStale(asking);
    if (this.free.freeBytes < need) throw this.full(what, need);
  }

  /** Takes a piece of free space, at most `want` bytes (call `ensureFree` first). */
  takePiece(want: number): [number, number] {
    const p = this.free.takeSome(want);
    if (p === null) throw new Error('takePiece with no free space (ensureFree was not called)');
    return p;
  }

  give(start: number, len: number): void {
    this.free.give(start, len);
  }

  copyIn(chunk: Uint8Array, at: number): void {
    copySharedBytes(this.data, at, chunk);
  }

  /** `bytes` contiguous free bytes (rounded up to the alignment), or null when no extent holds them. */
  takeContiguous(bytes: number): number | null {
    return this.free.takeContiguous(bytes);
  }

  /** A view of `n` bytes of the region at `at` (a plain Uint8Array: its `slice` copies). */
  view(at: number, n: number): Uint8Array {
    return new Uint8Array(this.data.buffer, this.data.byteOffset + at, n);
  }

  /**
   * Makes the directory list `snap` as `actor`/`id` (or not list that id, when null): writes the
   * new directory, then flips the slot. Throws StoreFullError, changing nothing, when there is no
   * room for it. Frees what the replaced or deleted snapshot held.
   */
  publish(actor: string, id: string, snap: SharedSnap | null, what: string): void {
    this.assertWritable();
    const old = this.snaps.get(actor)?.get(id);
    const entries: SharedSnap[] = [];
    for (const m of this.snaps.values()) for (const s of m.values()) if (s !== old) entries.push(s);
    if (snap) entries.push(snap);
    const dir = encodeDirectory(entries);
    // An empty directory takes no space: the slot says length 0.
    let at = dir.length === 0 ? 0 : this.free.takeContiguous(dir.length);
    if (at === null) {
      this.reclaimStale();
      at = this.free.takeContiguous(dir.length);
    }
    if (at === null) throw this.full(`${what} (its directory of ${dir.length} bytes)`, dir.length);
    dir.copy(this.data, at);
    const next = 1 - Atomics.load(this.words, W.Active);
    const base = W.Slot0 + 3 * next;
    Atomics.store(this.words, base, at);
    Atomics.store(this.words, base + 1, dir.length);
    Atomics.store(this.words, base + 2, crc32c(dir) >>> 0);
    Atomics.store(this.words, W.Active, next); // the flip: before it, a successor reads the old directory
    const [oldAt, oldLen] = this.directory;
    if (oldLen > 0) this.free.give(oldAt, oldLen);
    this.directory = [at, dir.length];
    let m = this.snaps.get(actor);
    if (snap) {
      if (!m) this.snaps.set(actor, (m = new Map()));
      m.set(id, snap);
    } else if (m) {
      m.delete(id);
      if (m.size === 0) this.snaps.delete(actor);
    }
    if (old) {
      old.gone = true;
      for (let p = 0; p < old.pieces.length; p += 2) this.free.give(old.pieces[p]!, old.pieces[p + 1]!);
    }
  }

  forget(w: SharedWriter): void {
    const ws = this.writers.get(w.actor);
    if (ws?.get(w.id) === w) {
      ws.delete(w.id);
      if (ws.size === 0) this.writers.delete(w.actor);
    }
  }

  /** Discards writers whose actor incarnation is gone (crashed or replaced): their space is needed. */
  private reclaimStale(asking?: SharedWriter): void {
    for (const [actor, ws] of this.writers) {
      const current = this.owners.get(actor);
      for (const w of [...ws.values()]) {
        if (w !== asking && (!w.owner.alive || (current !== undefined && w.owner !== current))) w.abort();
      }
    }
  }

  private full(what: string, need: number): StoreFullError {
    const size = this.region.byteLength;
    return new StoreFullError(
      `${what}: ${this.source} has no room for ${need} more bytes (${this.free.freeBytes} free, ` +
        `the largest free run ${this.free.largest}, of storage.sharedSnapshotBytes ${size}); raise storage.sharedSnapshotBytes, ` +
        'or keep fewer or smaller snapshots (it must hold the snapshots kept plus the one being written)',
    );
  }

  private impossible(why: string): StorageError {
    return new StorageError(`${this.source} is damaged: ${why}; restart the actor system (its shared snapshots are lost)`);
  }

  private decodeDirectory(b: Buffer): void {
    const need = (o: number, n: number) => {
      if (o + n > b.length) throw this.impossible('its directory ends early');
    };
    need(0, 8);
    if (b.readUInt32LE(0) !== DIRECTORY_MAGIC) throw this.impossible('its directory has no magic');
    const count = b.readUInt32LE(4);
    let o = 8;
    const name = (): string => {
      need(o, 2);
      const n = b.readUInt16LE(o);
      need(o + 2, n);
      const s = b.toString('utf8', o + 2, o + 2 + n);
      o += 2 + n;
      return s;
    };
    for (let k = 0; k < count; k++) {
      const actor = name();
      const id = name();
      need(o, 4);
      const metaLen = b.readUInt32LE(o);
      need(o + 4, metaLen + 8);
      const meta = Buffer.allocUnsafeSlow(metaLen);
      b.copy(meta, 0, o + 4, o + 4 + metaLen);
      o += 4 + metaLen;
      const chunks = b.readUInt32LE(o);
      const pieceCount = b.readUInt32LE(o + 4);
      o += 8;
      need(o, 4 * chunks + 8 * pieceCount);
      const lengths = new Uint32Array(chunks);
      for (let i = 0; i < chunks; i++, o += 4) lengths[i] = b.readUInt32LE(o);
      const pieces = new Float64Array(2 * pieceCount);
      for (let i = 0; i < 2 * pieceCount; i++, o += 4) pieces[i] = b.readUInt32LE(o);
      const snap = new SharedSnap(actor, id, meta, lengths, pieces);
      let piecesBytes = 0;
      for (let p = 1; p < pieces.length; p += 2) piecesBytes += pieces[p]!;
      if (piecesBytes !== snap.bytes)
        throw this.impossible(`snapshot "${id}" of actor "${actor}" lists ${piecesBytes} bytes of pieces for ${snap.bytes} bytes of chunks`);
      let m = this.snaps.get(actor);
      if (!m) this.snaps.set(actor, (m = new Map()));
      m.set(id, snap);
    }
    if (o !== b.length) throw this.impossible('stray bytes after its directory');
  }
}

function encodeDirectory(entries: readonly SharedSnap[]): Buffer {
  if (entries.length === 0) return Buffer.alloc(0);
  let size = 8;
  for (const s of entries) {
    size += 4 + Buffer.byteLength(s.actor) + Buffer.byteLength(s.id) + 4 + s.meta.length + 8 + 4 * s.lengths.length + 4 * s.pieces.length;
  }
  const b = Buffer.allocUnsafe(size);
  b.writeUInt32LE(DIRECTORY_MAGIC, 0);
  b.writeUInt32LE(entries.length, 4);
  let o = 8;
  const name = (s: string) => {
    const n = b.write(s, o + 2, 'utf8');
    b.writeUInt16LE(n, o);
    o += 2 + n;
  };
  for (const s of entries) {
    name(s.actor);
    name(s.id);
    o = b.writeUInt32LE(s.meta.length, o);
    o += s.meta.copy(b, o);
    o = b.writeUInt32LE(s.lengths.length, o);
    o = b.writeUInt32LE(s.pieces.length / 2, o);
    for (let i = 0; i < s.lengths.length; i++) o = b.writeUInt32LE(s.lengths[i]!, o);
    for (let i = 0; i < s.pieces.length; i++) o = b.writeUInt32LE(s.pieces[i]!, o);
  }
  if (o !== size) throw new Error(`directory encoding wrote ${o} of ${size} bytes`); // a bug in the size above
  return b;
}

export class SharedWriter extends WriterBase {
  /** Pairs: region offset, bytes used. The last piece may have room left (`room`). */
  private pieces: number[] = [];
  private room = 0;
  private lengths: number[] = [];
  /** The space `reserve` handed out, at the end of the last piece (null: none). */
  private reserved: Uint8Array | null = null;

  constructor(
    private readonly store: SharedSnapshots,
    actor: string,
    id: string,
    owner: SnapshotOwner,
  ) {
    super(actor, id, owner, store.options);
  }

  /**
   * The next `n` bytes of the last piece, or of a contiguous piece taken for them: a chunk written
   * there and appended is not copied (a map replica's snapshot chunks were copied twice: into a
   * chunk, then here, and snapshots were two fifths of a cluster writing 64 KiB values).
   */
  protected override reserveSpace(n: number): Uint8Array | null {
    this.store.assertWritable();
    this.reserved = null;
    if (this.room < n) {
      let len = alignUp(Math.max(n, PIECE_BYTES));
      let at = this.store.takeContiguous(len);
      if (at === null) {
        len = alignUp(n);
        at = this.store.takeContiguous(len);
      }
      // No extent holds it (fragmented, or full): the chunk is copied in as any other, which says
      // StoreFullError if it must.
      if (at === null) return null;
      this.trimLast();
      this.pieces.push(at, 0);
      this.room = len;
    }
    const last = this.pieces.length - 2;
    this.reserved = this.store.view(this.pieces[last]! + this.pieces[last + 1]!, n);
    return this.reserved;
  }

  protected write(chunk: Uint8Array): void {
    this.store.assertWritable();
    const r = this.reserved;
    this.reserved = null;
    if (r !== null && chunk.buffer === r.buffer && chunk.byteOffset === r.byteOffset && chunk.byteLength <= r.byteLength) {
      // Written in place, where `reserve` pointed: nothing to copy.
      const last = this.pieces.length - 2;
      this.pieces[last + 1]! += chunk.byteLength;
      this.room -= chunk.byteLength;
      this.lengths.push(chunk.byteLength);
      return;
    }
    const what = `append to snapshot "${this.id}" of actor "${this.actor}"`;
    let rest = chunk.byteLength;
    // Checked before anything is taken: the chunk fits whole, or the append fails whole.
    if (rest > this.room) this.store.ensureFree(rest - this.room, what, this);
    let o = 0;
    while (rest > 0) {
      if (this.room === 0) {
        const [start, len] = this.store.takePiece(Math.max(rest, PIECE_BYTES));
        this.pieces.push(start, 0);
        this.room = len;
      }
      const last = this.pieces.length - 2;
      const n = Math.min(rest, this.room);
      this.store.copyIn(chunk.subarray(o, o + n), this.pieces[last]! + this.pieces[last + 1]!);
      this.pieces[last + 1]! += n;
      this.room -= n;
      o += n;
      rest -= n;
    }
    this.lengths.push(chunk.byteLength);
  }

  protected complete(meta: Uint8Array): number {
    this.reserved = null;
    this.trimLast();
    const snap = new SharedSnap(this.actor, this.id, ownCopy(meta), Uint32Array.from(this.lengths), Float64Array.from(this.pieces));
    this.store.publish(this.actor, this.id, snap, `finish snapshot "${this.id}" of actor "${this.actor}"`);
    this.store.forget(this);
    return 0;
  }

  protected discard(): void {
    this.reserved = null;
    this.trimLast();
    for (let p = 0; p < this.pieces.length; p += 2) this.store.give(this.pieces[p]!, this.pieces[p + 1]!);
    this.pieces = [];
    this.store.forget(this);
  }

  /** Gives back the room left in the last piece (from the aligned end of what it holds). */
  trimLast(): void {
    if (this.room === 0 || this.pieces.length === 0) return;
    const last = this.pieces.length - 2;
    const used = this.pieces[last + 1]!;
    const cap = used + this.room;
    // Space handed out by `reserve` stays: its chunk may still be written and appended.
    const keep = alignUp(used + (this.reserved?.byteLength ?? 0));
    if (cap > keep) this.store.give(this.pieces[last]! + keep, cap - keep);
    this.room = this.reserved === null ? 0 : keep - used;
  }
}
