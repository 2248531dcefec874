/**
 * `file` storage's snapshots: one file per finished snapshot in `<dir>/<store>.snap/`, apart from
 * the log (as etcd keeps `snap` files apart from its WAL). See snapshot-file.ts for the format.
 *
 * Writing: chunks are framed (length, CRC32C) and appended with asynchronous positional writes,
 * one batch in flight at a time (the thread pool also runs the log's fdatasync); past
 * `snapshotQueueBytes` queued, `append` writes synchronously (into the page cache), so memory
 * stays bounded when an actor appends faster than the disk takes it. Every `snapshotSyncBytes`
 * the file is fdatasync'd in the background, so that finishing has little left to sync.
 *
 * Finishing: the index and trailer are appended, the file is fdatasync'd, renamed to its final
 * name and the directory fsync'd. The rename and the directory sync run as a fence of the
 * store's log (`FileStore.fence`): in order with the commits, so the state a turn persists after
 * a finish is durable only after the snapshot, and the turn's messages leave after both. Deletes
 * are fences too (unlink, directory fsync). Renames and unlinks are synchronous (a worker that
 * dies can leave no rename or unlink queued in the thread pool to run after its successor
 * started); only data writes and syncs are asynchronous, and they touch the dead worker's own
 * temp file.
 *
 * Recovery (at open): temp files (`*.tmp`: unfinished, a crash mid-write) are removed; finished
 * files are indexed from their trailer and index only (no data read); a finished file that does
 * not parse is listed as damaged and `open` throws `SnapshotDamagedError` for it.
 */
import { randomBytes } from 'node:crypto';
import {
  close,
  closeSync,
  fdatasync,
  fstatSync,
  fsync,
  mkdirSync,
  open as openAsync,
  openSync,
  readSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeSync,
  writev,
  writevSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import {
  ChunkReader,
  WriterBase,
  asBuffer,
  checkChunkIndex,
  goneError,
  ownCopy,
  type SnapshotBackend,
  type SnapshotLimits,
  type SnapshotOwner,
  type SnapshotReader,
} from '../snapshots.js';
import { SnapshotDamagedError, StorageError } from './errors.js';
import { storeFileName } from './file-names.js';
import { fsyncCreatedDirs, fsyncDirSync } from './fsync.js';
import {
  FRAME_BYTES,
  SnapshotFormatError,
  TRAILER_BYTES,
  decodeFooter,
  decodeHeader,
  decodeTrailer,
  encodeFooter,
  encodeHeader,
  encodeTrailer,
} from './snapshot-file.js';

/** Bounds of {@link FileSnapshots}. */
export interface FileSnapshotsOptions extends SnapshotLimits {
  /** Bytes a writer queues for asynchronous writes; beyond, `append` writes synchronously. */
  queueBytes: number;
  /** A writer fdatasyncs its file in the background every this many bytes. */
  syncBytes: number;
}

/** What the store the snapshots belong to provides: ordering with its log, and its lock. */
export interface SnapshotHost {
  /**
   * Queues `run` among the log's commits; returns its write number, durable once `run` calls
   * `done(null)` (an error stops the store, as a failed commit does).
   */
  fence(run: (done: (err: Error | null) => void) => void): number;
  /** Null while this host holds the store's lock; else the error to stop with. */
  lockError(): Error | null;
  /** Throws when the store cannot take writes (failed or closed). */
  assertWritable(): void;
}

/** What opening the snapshot directory found. */
export interface SnapshotRecovery {
  /** Finished snapshots indexed. */
  finished: number;
  /** Temp files of unfinished snapshots (a crash mid-write), removed. */
  removedUnfinished: string[];
  /** Finished snapshot files that do not parse: listed, and `open` throws `SnapshotDamagedError`. */
  damaged: { file: string; reason: string; actor?: string; id?: string }[];
}

const FINAL_SUFFIX = '.snap';
const TEMP_SUFFIX = '.tmp';
/** Buffers per writev (Linux's IOV_MAX is 1024). */
const MAX_IOV = 1024;

/** The file name of a snapshot: both parts kept readable when they can be, `=` between (never in either part). */
export function snapshotFileName(actor: string, id: string): string {
  return `${storeFileName(actor)}=${storeFileName(id)}${FINAL_SUFFIX}`;
}

/** A finished snapshot file (or one being finished: its data may still be on its way to the disk). */
class FileSnap {
  gone = false;
  readonly offsets: Float64Array;
  readonly bytes: number;

  constructor(
    readonly actor: string,
    readonly id: string,
    public path: string,
    readonly meta: Buffer,
    readonly lengths: Uint32Array,
    dataStart: number,
    /** Read descriptor; -1 until first needed. */
    public fd: number,
    /** Set while the writer that made it still writes or syncs: reads check its unwritten frames, and it owns `fd`. */
    public writer: FileWriter | null,
  ) {
    this.offsets = new Float64Array(lengths.length);
    let o = dataStart;
    let bytes = 0;
    for (let i = 0; i < lengths.length; i++) {
      this.offsets[i] = o;
      o += FRAME_BYTES + lengths[i]!;
      bytes += lengths[i]!;
    }
    this.bytes = bytes;
  }

  /** Reads chunk i, checks it, and returns a copy the caller owns. */
  read(i: number, staging: ReadStaging): Uint8Array {
    return ownCopy(this.view(i, staging));
  }

  /**
   * Reads chunk i into `staging` (reused: reading into fresh memory costs a page fault per page,
   * which on some VMs is most of the time), checks it, and returns the bytes there: valid until
   * the next read through `staging`.
   */
  view(i: number, staging: ReadStaging): Buffer {
    if (this.gone) throw goneError(this.actor, this.id);
    checkChunkIndex(i, this.lengths.length, this.id);
    const at = this.offsets[i]!;
    const len = this.lengths[i]!;
    const pending = this.writer?.unwritten.get(at);
    if (pending !== undefined) return pending;
    if (this.fd < 0) this.fd = openSync(this.path, 'r');
    const b = staging.get(FRAME_BYTES + len);
    for (let o = 0; o < FRAME_BYTES + len; ) {
      const n = readSync(this.fd, b, o, FRAME_BYTES + len - o, at + o);
      if (n === 0) throw new SnapshotDamagedError(this.path, `chunk ${i} at byte offset ${at} is cut short`, this.actor, this.id);
      o += n;
    }
    if (b.readUInt32LE(0) !== len) {
      throw new SnapshotDamagedError(this.path, `chunk ${i} at byte offset ${at} has length ${b.readUInt32LE(0)}, the index says ${len}`, this.actor, this.id);
    }
    const data = b.subarray(FRAME_BYTES, FRAME_BYTES + len);
    if (crc32c(data) !== b.readUInt32LE(4)) {
      throw new SnapshotDamagedError(this.path, `chunk ${i} at byte offset ${at}: CRC32C mismatch`, this.actor, this.id);
    }
    return data;
  }

  /** Deleted or replaced: readers fail from now on; the descriptor closes once no write uses it. */
  release(): void {
    this.gone = true;
    if (this.writer !== null) this.writer.closeWhenIdle();
    else if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** One buffer that chunk reads go through, grown to the largest chunk read (at most maxSnapshotChunkBytes). */
class ReadStaging {
  private buf: Buffer | null = null;
  get(n: number): Buffer {
    if (this.buf === null || this.buf.length < n) this.buf = Buffer.allocUnsafeSlow(Math.max(n, 64 * 1024));
    return this.buf;
  }
}

/** A finished file that does not parse. */
interface Damaged {
  damaged: true;
  path: string;
  reason: string;
}

type Entry = FileSnap | Damaged;

export class FileSnapshots implements SnapshotBackend {
  readonly kind = 'file' as const;
  readonly recovery: SnapshotRecovery;
  /** Counters since open. */
  readonly stats = { finished: 0, deleted: 0, bytesWritten: 0 };
  private readonly entries = new Map<string, Map<string, Entry>>();
  private readonly writers = new Map<string, Map<string, FileWriter>>();
  private readonly owners = new Map<string, SnapshotOwner>();
  private dirReady: boolean;
  /** Copies of chunks on their way to the disk, reused. */
  readonly pool: FramePool;
  private readonly staging = new ReadStaging();

  private constructor(
    readonly dir: string,
    private readonly host: SnapshotHost,
    readonly options: FileSnapshotsOptions,
  ) {
    this.pool = new FramePool(options.queueBytes);
    const removed: string[] = [];
    const damaged: SnapshotRecovery['damaged'] = [];
    let names: string[] = [];
    try {
      names = readdirSync(dir);
      this.dirReady = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      this.dirReady = false;
    }
    let finished = 0;
    for (const name of names.sort()) {
      const path = join(dir, name);
      if (name.endsWith(TEMP_SUFFIX)) {
        unlinkSync(path);
        removed.push(name);
      } else if (name.endsWith(FINAL_SUFFIX)) {
        try {
          const s = readSnapshotFile(path);
          if (this.entry(s.actor, s.id) !== undefined) throw new SnapshotFormatError(`another file already holds snapshot "${s.id}" of actor "${s.actor}"`);
          this.put(s.actor, s.id, s);
          finished++;
        } catch (e) {
          const f = e instanceof SnapshotFormatError ? e : new SnapshotFormatError((e as Error).message);
          damaged.push({ file: path, reason: f.reason, actor: f.actor, id: f.id });
          if (f.actor !== undefined && f.id !== undefined && this.entry(f.actor, f.id) === undefined) {
            this.put(f.actor, f.id, { damaged: true, path, reason: f.reason });
          }
        }
      }
    }
    if (removed.length > 0) fsyncDirSync(dir);
    this.recovery = { finished, removedUnfinished: removed, damaged };
  }

  /** Opens the snapshot directory `dir` of a store: removes unfinished files, indexes finished ones. */
  static open(dir: string, host: SnapshotHost, options: FileSnapshotsOptions): FileSnapshots {
    return new FileSnapshots(dir, host, options);
  }

  attach(actor: string, owner: SnapshotOwner): void {
    this.owners.set(actor, owner);
    const ws = this.writers.get(actor);
    if (ws) for (const w of [...ws.values()]) if (w.owner !== owner) w.abort();
  }

  create(actor: string, id: string, owner: SnapshotOwner): FileWriter {
    this.host.assertWritable();
    this.discard(actor, id);
    if (!this.dirReady) {
      const created = mkdirSync(this.dir, { recursive: true });
      if (created !== undefined) fsyncCreatedDirs(created, this.dir);
      this.dirReady = true;
    }
    const final = join(this.dir, snapshotFileName(actor, id));
    const w = new FileWriter(this, actor, id, owner, final, `${final}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
    let ws = this.writers.get(actor);
    if (!ws) this.writers.set(actor, (ws = new Map()));
    ws.set(id, w);
    return w;
  }

  open(actor: string, id: string): SnapshotReader | undefined {
    const e = this.entry(actor, id);
    if (e === undefined) return undefined;
    if (!(e instanceof FileSnap)) throw new SnapshotDamagedError(e.path, e.reason, actor, id);
    return new ChunkReader(
      id,
      ownCopy(e.meta),
      e.lengths.length,
      e.bytes,
      (i) => e.read(i, this.staging),
      (i) => e.view(i, this.staging),
    );
  }

  list(actor: string): string[] {
    return [...(this.entries.get(actor)?.keys() ?? [])];
  }

  discard(actor: string, id: string): void {
    this.writers.get(actor)?.get(id)?.abort();
  }

  delete(actor: string, id: string): number {
    const e = this.entry(actor, id);
    if (e === undefined) return 0;
    this.host.assertWritable();
    this.remove(actor, id);
    if (e instanceof FileSnap) e.release();
    this.stats.deleted++;
    return this.host.fence((done) => {
      const lockError = this.host.lockError();
      if (lockError) return done(lockError);
      try {
        // Read now, not when deleted: a finish still queued before this fence renames the file first.
        unlinkSync(e.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return done(err as Error);
      }
      fsyncDir(this.dir, done);
    });
  }

  close(): void {
    for (const ws of this.writers.values()) for (const w of [...ws.values()]) w.abort();
    for (const m of this.entries.values()) for (const e of m.values()) if (e instanceof FileSnap) e.release();
    this.entries.clear();
  }

  /** A writer finished: its snapshot is visible now, and durable once its fence has run. */
  install(w: FileWriter, snap: FileSnap): number {
    // The fence first: when the store refuses it (failed, closed), nothing is installed.
    const ticket = this.host.fence((done) =>
      w.whenFlushed((err) => {
        if (err) return done(err);
        const lockError = this.host.lockError();
        if (lockError) return done(lockError);
        try {
          renameSync(w.tempPath, w.finalPath);
        } catch (e) {
          return done(e as Error);
        }
        snap.path = w.finalPath;
        w.renamed(snap);
        fsyncDir(this.dir, done);
      }),
    );
    const old = this.entry(w.actor, w.id);
    this.put(w.actor, w.id, snap);
    if (old instanceof FileSnap) old.release();
    this.forget(w);
    this.stats.finished++;
    return ticket;
  }

  forget(w: FileWriter): void {
    const ws = this.writers.get(w.actor);
    if (ws?.get(w.id) === w) {
      ws.delete(w.id);
      if (ws.size === 0) this.writers.delete(w.actor);
    }
  }

  private entry(actor: string, id: string): Entry | undefined {
    return this.entries.get(actor)?.get(id);
  }

  private put(actor: string, id: string, e: Entry): void {
    let m = this.entries.get(actor);
    if (!m) this.entries.set(actor, (m = new Map()));
    m.set(id, e);
  }

  private remove(actor: string, id: string): void {
    const m = this.entries.get(actor);
    if (!m) return;
    m.delete(id);
    if (m.size === 0) this.entries.delete(actor);
  }
}

/** Reads a finished file's header, index and trailer (not its data) into a FileSnap. */
function readSnapshotFile(path: string): FileSnap {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const read = (at: number, n: number): Buffer => {
      const b = Buffer.allocUnsafeSlow(n);
      for (let o = 0; o < n; ) {
        const got = readSync(fd, b, o, n - o, at + o);
        if (got === 0) throw new SnapshotFormatError(`the file ends at byte ${at + o}, before the ${n} bytes at ${at} it should hold`);
        o += got;
      }
      return b;
    };
    let names: { actor?: string; id?: string } = {};
    const head = (): { actor: string; id: string; end: number } | undefined => {
      if (size < FRAME_BYTES) return undefined;
      const len = read(0, FRAME_BYTES).readUInt32LE(0);
      if (len > 4096 || FRAME_BYTES + len > size) return undefined;
      try {
        const h = decodeHeader(read(0, FRAME_BYTES + len));
        return { ...h, end: FRAME_BYTES + len };
      } catch {
        return undefined;
      }
    };
    const h = head();
    if (h) names = { actor: h.actor, id: h.id };
    try {
      if (size < TRAILER_BYTES) throw new SnapshotFormatError(`the file has ${size} bytes, less than a trailer`);
      const t = decodeTrailer(read(size - TRAILER_BYTES, TRAILER_BYTES), size);
      const index = decodeFooter(read(t.footerOffset, t.footerBytes));
      names = { actor: index.actor, id: index.id };
      if (!h) throw new SnapshotFormatError('the header is damaged');
      if (h.actor !== index.actor || h.id !== index.id)
        throw new SnapshotFormatError(`the header names "${h.actor}"/"${h.id}", the index "${index.actor}"/"${index.id}"`);
      let end = h.end;
      for (let i = 0; i < index.lengths.length; i++) end += FRAME_BYTES + index.lengths[i]!;
      if (end !== t.footerOffset) throw new SnapshotFormatError(`the chunks end at byte ${end}, the index starts at ${t.footerOffset}`);
      return new FileSnap(index.actor, index.id, path, index.meta, index.lengths, h.end, -1, null);
    } catch (e) {
      const f = e instanceof SnapshotFormatError ? e : new SnapshotFormatError((e as Error).message);
      throw new SnapshotFormatError(f.reason, f.actor ?? names.actor, f.id ?? names.id);
    }
  } finally {
    closeSync(fd);
  }
}

/** fsync of a directory, in the thread pool (a rename or unlink in it was done synchronously before). */
function fsyncDir(dir: string, done: (err: Error | null) => void): void {
  if (process.platform === 'win32') return done(null);
  openAsync(dir, 'r', (err, fd) => {
    if (err) return done(err);
    fsync(fd, (e) => close(fd, () => done(e ?? null)));
  });
}

/** Writes `bufs` at `position`, all of them (writev may write less than asked). */
function writevAll(fd: number, bufs: Buffer[], position: number, done: (err: Error | null) => void): void {
  let total = 0;
  for (const b of bufs) total += b.length;
  writev(fd, bufs, position, (err, n) => {
    if (err) return done(err);
    if (n === total) return done(null);
    writevAll(fd, skip(bufs, n), position + n, done);
  });
}

function writevAllSync(fd: number, bufs: Buffer[], position: number): void {
  for (let rest = bufs; rest.length > 0; ) {
    const n = writevSync(fd, rest, position);
    position += n;
    rest = skip(rest, n);
  }
}

/** The buffers after the first `n` bytes. */
function skip(bufs: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (i < bufs.length && n >= bufs[i]!.length) n -= bufs[i++]!.length;
  const rest = bufs.slice(i);
  if (n > 0) rest[0] = rest[0]!.subarray(n);
  return rest;
}

/** A write queued or in flight: one chunk frame (header and a pooled copy of the data), or the index or trailer. */
interface Pending {
  pos: number;
  bytes: number;
  bufs: Buffer[];
  /** The pooled data buffer, given back once written. */
  pooled: Buffer | null;
}

/**
 * Copies of chunks waiting to be written, reused across chunks and writers of a host: fresh
 * buffers of a few MiB cost page faults on every use (milliseconds per MiB on some VMs).
 */
export class FramePool {
  private readonly free = new Map<number, Buffer[]>();
  private pooledBytes = 0;
  constructor(private readonly maxBytes: number) {}

  take(n: number): Buffer {
    const b = this.free.get(n)?.pop();
    if (b === undefined) return Buffer.allocUnsafeSlow(n);
    this.pooledBytes -= n;
    return b;
  }

  give(b: Buffer): void {
    if (this.pooledBytes + b.length > this.maxBytes) return;
    let list = this.free.get(b.length);
    if (!list) this.free.set(b.length, (list = []));
    list.push(b);
    this.pooledBytes += b.length;
  }
}

/** Bytes one asynchronous write carries at most: a short hold of the file for a synchronous write waiting behind it. */
const MAX_BATCH_BYTES = 2 * 1024 * 1024;

export class FileWriter extends WriterBase {
  /** Data of chunks queued or being written, by the file offset of their frame: reads of a finishing snapshot find them here. */
  readonly unwritten = new Map<number, Buffer>();
  private fd: number;
  /** Where the next appended byte goes. */
  private end: number;
  private queue: Pending[] = [];
  private queueHead = 0;
  /** Bytes queued or in flight. */
  private queueBytes = 0;
  private writing = false;
  private syncing = false;
  private sinceSync = 0;
  private error: StorageError | null = null;
  private finishing = false;
  private flushed = false;
  private flushWaiters: ((err: Error | null) => void)[] = [];
  private lengths = new Uint32Array(64);
  private closeWhenDone = false;
  private dataStart: number;

  constructor(
    private readonly store: FileSnapshots,
    actor: string,
    id: string,
    owner: SnapshotOwner,
    readonly finalPath: string,
    readonly tempPath: string,
  ) {
    super(actor, id, owner, store.options);
    try {
      this.fd = openSync(tempPath, 'wx+');
    } catch (e) {
      throw new StorageError(`cannot create snapshot file ${tempPath}: ${(e as Error).message}`, { cause: e });
    }
    const header = encodeHeader(actor, id);
    try {
      for (let o = 0; o < header.length; ) o += writeSync(this.fd, header, o, header.length - o, o);
    } catch (e) {
      closeSync(this.fd);
      try {
        unlinkSync(tempPath);
      } catch {
        /* gone */
      }
      throw new StorageError(`cannot write snapshot file ${tempPath}: ${(e as Error).message}`, { cause: e });
    }
    this.dataStart = header.length;
    this.end = header.length;
  }

  protected write(chunk: Uint8Array): void {
    if (this.error) throw this.error;
    const n = chunk.byteLength;
    const data = asBuffer(chunk);
    const header = Buffer.allocUnsafe(FRAME_BYTES);
    header.writeUInt32LE(n, 0);
    header.writeUInt32LE(crc32c(data), 4);
    const pos = this.end;
    const bytes = FRAME_BYTES + n;
    if (this.queueBytes + bytes > this.store.options.queueBytes && this.queueBytes > 0) {
      // Backpressure: the queue is full, so this chunk is written now, in its place, straight
      // from the caller's buffer (into the page cache: about a millisecond per MiB).
      try {
        writevAllSync(this.fd, [header, data], pos);
      } catch (e) {
        this.fail(e as Error);
        throw this.error!;
      }
      this.grow(n);
      this.end += bytes;
      this.written(bytes);
      return;
    }
    const copy = this.store.pool.take(n);
    copy.set(chunk);
    this.grow(n);
    this.end += bytes;
    this.unwritten.set(pos, copy);
    this.push({ pos, bytes, bufs: [header, copy], pooled: copy });
  }

  private grow(n: number): void {
    if (this.chunks === this.lengths.length) {
      const grown = new Uint32Array(this.lengths.length * 2);
      grown.set(this.lengths);
      this.lengths = grown;
    }
    this.lengths[this.chunks] = n;
  }

  protected complete(meta: Uint8Array): number {
    if (this.error) throw this.error;
    const footer = encodeFooter(this.actor, this.id, asBuffer(meta), this.lengths, this.chunks);
    const footerAt = this.end;
    this.end += footer.length;
    this.push({ pos: footerAt, bytes: footer.length, bufs: [footer], pooled: null });
    const trailer = encodeTrailer(footerAt, footer.length);
    this.push({ pos: this.end, bytes: trailer.length, bufs: [trailer], pooled: null });
    this.end += trailer.length;
    this.finishing = true;
    const snap = new FileSnap(this.actor, this.id, this.tempPath, ownCopy(meta), this.lengths.slice(0, this.chunks), this.dataStart, this.fd, this);
    this.checkFlushed();
    return this.store.install(this, snap);
  }

  protected discard(): void {
    this.store.forget(this);
    // What is not in flight is dropped now; what is, once its write returns.
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const p = this.queue[i]!;
      if (p.pooled) this.store.pool.give(p.pooled);
      this.queueBytes -= p.bytes;
    }
    this.queue = [];
    this.queueHead = 0;
    this.unwritten.clear();
    try {
      unlinkSync(this.tempPath);
    } catch {
      /* never created, or gone */
    }
    this.closeWhenIdle();
  }

  /** Calls `cb` once everything is written and synced (or failed). */
  whenFlushed(cb: (err: Error | null) => void): void {
    if (this.error) cb(this.error);
    else if (this.flushed) cb(null);
    else this.flushWaiters.push(cb);
  }

  /** The file has its final name: reads go to the file now (it is all there), through the same descriptor. */
  renamed(snap: FileSnap): void {
    snap.writer = null;
    if (snap.gone) this.closeFd();
  }

  /** Closes the descriptor as soon as no write or sync uses it (a reused descriptor number must never get a late write). */
  closeWhenIdle(): void {
    this.closeWhenDone = true;
    if (!this.writing && !this.syncing) this.closeFd();
  }

  private closeFd(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  private push(p: Pending): void {
    this.queue.push(p);
    this.queueBytes += p.bytes;
    if (!this.writing) this.startWrite();
  }

  /** Writes the next run of queued frames that lie end to end, up to MAX_BATCH_BYTES, in one writev. */
  private startWrite(): void {
    if (this.queueHead === this.queue.length || this.error || this.fd < 0) return;
    const first = this.queue[this.queueHead]!;
    const batch: Pending[] = [first];
    const bufs: Buffer[] = [...first.bufs];
    let bytes = first.bytes;
    for (let i = this.queueHead + 1; i < this.queue.length; i++) {
      const p = this.queue[i]!;
      if (p.pos !== first.pos + bytes || bytes + p.bytes > MAX_BATCH_BYTES || bufs.length + p.bufs.length > MAX_IOV) break;
      batch.push(p);
      for (const b of p.bufs) bufs.push(b);
      bytes += p.bytes;
    }
    this.queueHead += batch.length;
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    }
    this.writing = true;
    writevAll(this.fd, bufs, first.pos, (err) => {
      this.writing = false;
      for (const p of batch) {
        this.unwritten.delete(p.pos);
        if (p.pooled) this.store.pool.give(p.pooled);
        this.queueBytes -= p.bytes;
      }
      if (err) return this.fail(err);
      this.written(bytes);
      if (this.closeWhenDone && this.state !== 'finished') return this.idle();
      this.startWrite();
      this.checkFlushed();
      this.idle();
    });
  }

  private written(bytes: number): void {
    this.store.stats.bytesWritten += bytes;
    this.sinceSync += bytes;
    if (!this.syncing && !this.finishing && this.sinceSync >= this.store.options.syncBytes && this.state === 'open') this.sync(false);
  }

  private sync(final: boolean): void {
    this.syncing = true;
    this.sinceSync = 0;
    fdatasync(this.fd, (err) => {
      this.syncing = false;
      if (err) return this.fail(err);
      if (final) {
        this.flushed = true;
        this.notify(null);
      }
      this.checkFlushed();
      this.idle();
    });
  }

  /** Once finishing and everything is written: the last fdatasync. */
  private checkFlushed(): void {
    if (!this.finishing || this.flushed || this.error || this.writing || this.syncing || this.queueHead < this.queue.length || this.fd < 0) return;
    if (this.closeWhenDone && this.state !== 'finished') return;
    this.sync(true);
  }

  private idle(): void {
    if (this.closeWhenDone && !this.writing && !this.syncing && (this.flushed || this.error !== null || this.state !== 'finished')) this.closeFd();
  }

  private fail(e: Error): void {
    this.error ??= new StorageError(`writing snapshot "${this.id}" of actor "${this.actor}" to ${this.tempPath} failed: ${e.message}`, { cause: e });
    this.notify(this.error);
    this.idle();
  }

  private notify(err: Error | null): void {
    const w = this.flushWaiters;
    this.flushWaiters = [];
    for (const cb of w) cb(err);
  }
}
