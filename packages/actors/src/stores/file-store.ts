import { randomBytes } from 'node:crypto';
import {
  close,
  closeSync,
  fdatasync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  open,
  openSync,
  readSync,
  readdirSync,
  renameSync,
  unlink,
  unlinkSync,
} from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { ActorStore, PersistOp, Recovered } from '../store.js';
import { storageDefaults } from './defaults.js';
import { StorageError, StoreLockedError } from './errors.js';
import { logPaths, type LogPaths } from './file-names.js';
import { FileSnapshots, type SnapshotRecovery } from './file-snapshots.js';
import { encodeFrame, encodeFrames } from './frame.js';
import { fsyncCreatedDirs, fsyncDirSync, writeAll, writeAllSync } from './fsync.js';
import { LiveIndex } from './live-index.js';
import { LogLock, type LockPredecessor } from './log-lock.js';
import { RecordKind, encodeRecord, serializeOps } from './record.js';
import { replayFrames, type ReplayResult } from './replay.js';

/** Options of {@link FileStore.open}. Bounds default to those of `StorageOptions`. */
export interface FileStoreOptions {
  /** Directory of the log; created if missing. */
  dir: string;
  /** The host's store name: the log is `<dir>/<name>.log` (the name cleaned for the file system). */
  storeName: string;
  /**
   * Identifies the owner of the log across restarts of one host: a lock left by a dead host of
   * this process with the same owner is taken over. Default: a random one (nothing in this
   * process is taken over; a lock of a dead process still is).
   */
  owner?: string;
  /** Group the records of many turns into one write and one fdatasync (default true). False: one per turn. */
  groupCommit?: boolean;
  /** Compact once the log passes this size (and twice its size after the last compaction). */
  maxLogBytes?: number;
  /** Largest record (one turn's changes of one actor). */
  maxRecordBytes?: number;
  /** Largest single commit (one write); a bigger record is committed alone. */
  maxCommitBytes?: number;
  /** Wait this long before each commit (and each snapshot finish or delete) starts: emulates a slow disk. Default 0. */
  commitDelayMs?: number;
  /** Largest snapshot chunk (and snapshot meta). */
  maxSnapshotChunkBytes?: number;
  /** Bytes a snapshot writer queues for asynchronous writes; beyond, `append` writes synchronously. */
  snapshotQueueBytes?: number;
  /** A snapshot writer fdatasyncs its file in the background every this many bytes. */
  snapshotSyncBytes?: number;
}

/** What opening a log found. */
export interface FileRecovery extends ReplayResult {
  /** Bytes of torn tail cut off the log. */
  truncatedBytes: number;
  /** Who held the lock before this store took it. */
  predecessor: LockPredecessor;
  /** What opening the snapshot directory (`<dir>/<store name>.snap`) found. */
  snapshots: SnapshotRecovery;
}

/** Counters since the store opened. */
export interface FileStoreStats {
  /** Commits: one write + one fdatasync each. */
  commits: number;
  /** Records made durable by those commits (turns that persisted, and removals). */
  records: number;
  /** Bytes appended by commits. */
  bytes: number;
  /** Compactions (snapshots that replaced the log). */
  compactions: number;
  /** Fences run: snapshot finishes and deletes, ordered among the commits. */
  fences: number;
}

/**
 * `file` storage: one append-only log per host, `<dir>/<store name>.log`, a sequence of frames
 * (`u32 length | u32 CRC32C | payload`, see frame.ts), each one commit.
 *
 * Group commit: `write` only queues the turn's record. While a write + fdatasync is in flight,
 * records accumulate; when it completes, all of them go out in one write and one fdatasync, and
 * then `onDurable` releases the messages of those turns (persist before send). With
 * `groupCommit: false` each record gets its own write and fdatasync.
 *
 * Compaction: once the log passes `maxLogBytes` (and twice its size after the last
 * compaction), the live data is written to a temp file, which is fdatasync'd and renamed over
 * the log; then the directory is fsync'd. A crash at any point leaves the old log or the new
 * one, each with every acknowledged write.
 *
 * Recovery (`open`): a torn tail (a partial frame, a bad CRC at the end, zero fill) is cut
 * off; a bad frame followed by a whole one is damage, and `open` throws `LogDamagedError` with
 * the file and offset rather than lose acknowledged state.
 *
 * An I/O error stops the store (fail-stop: after a failed fdatasync nothing is known about what
 * reached the disk): every later `write` throws it, and the messages of turns not yet durable
 * stay held. Restarting the host recovers from the log.
 */
export class FileStore implements ActorStore {
  readonly kind = 'file' as const;
  onDurable: ((seq: number) => void) | null = null;
  readonly stats: FileStoreStats = { commits: 0, records: 0, bytes: 0, compactions: 0, fences: 0 };
  /** The snapshots of this host's `file` actors (`ctx.snapshots`), in `<dir>/<store name>.snap/`. */
  readonly snapshots: FileSnapshots;
  private readonly index: LiveIndex;
  private readonly groupCommit: boolean;
  private readonly maxLogBytes: number;
  private readonly maxRecordBytes: number;
  private readonly maxCommitBytes: number;
  private readonly commitDelayMs: number;
  private seq = 0;
  private durable = 0;
  readonly recovery: FileRecovery;
  /** Records (and fences) not yet in a commit, from `head` on, with their write numbers. */
  private pending: (Buffer | Fence)[] = [];
  /** Fences in `pending`: no compaction while there are any (it would make later records durable before them). */
  private pendingFences = 0;
  private pendingSeq: number[] = [];
  private head = 0;
  private inFlight = false;
  private scheduled = false;
  private failure: StorageError | null = null;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private logBytes: number;
  /** Log size right after the last compaction (or at open): compaction waits for the log to double it. */
  private snapshotBytes: number;

  private constructor(
    readonly paths: LogPaths,
    private fd: number,
    private readonly lock: LogLock,
    index: LiveIndex,
    recovery: Omit<FileRecovery, 'snapshots'>,
    logBytes: number,
    options: FileStoreOptions,
  ) {
    this.index = index;
    this.snapshots = FileSnapshots.open(
      paths.snapshots,
      {
        fence: (run) => this.fence(run),
        lockError: () =>
          this.lock.held()
            ? null
            : new StoreLockedError(
                `the lock file ${this.paths.lock} of ${this.paths.log} was removed or ` + 'taken over by another host; this one stopped writing',
              ),
        assertWritable: () => this.assertWritable(),
      },
      {
        maxChunkBytes: options.maxSnapshotChunkBytes ?? storageDefaults.maxSnapshotChunkBytes,
        queueBytes: options.snapshotQueueBytes ?? storageDefaults.snapshotQueueBytes,
        syncBytes: options.snapshotSyncBytes ?? storageDefaults.snapshotSyncBytes,
      },
    );
    this.recovery = { ...recovery, snapshots: this.snapshots.recovery };
    this.logBytes = logBytes;
    // How much of a log found at open is live is unknown: compact it as soon as it is big.
    this.snapshotBytes = 0;
    this.groupCommit = options.groupCommit ?? storageDefaults.groupCommit;
    this.maxLogBytes = options.maxLogBytes ?? storageDefaults.maxLogBytes;
    this.maxRecordBytes = options.maxRecordBytes ?? storageDefaults.maxRecordBytes;
    this.maxCommitBytes = options.maxCommitBytes ?? storageDefaults.maxCommitBytes;
    this.commitDelayMs = options.commitDelayMs ?? storageDefaults.commitDelayMs;
  }

  /**
   * Opens (or creates) a host's log: takes its lock, replays it, cuts a torn tail. A lock left by
   * a dead process, or by a crashed host of this process with the same owner (its worker died
   * and this is its successor), is taken over. Nothing a dead worker started can touch the log
   * afterwards: it appended and renamed synchronously (see `append` and `writeSnapshot`), and
   * what it may have left queued in the thread pool (an fdatasync, writes to its own temp file)
   * changes no byte of the log.
   *
   * Throws `StoreLockedError` when another process or system holds the log, `LogDamagedError`
   * when it is damaged before its end.
   */
  static open(options: FileStoreOptions): FileStore {
    if (typeof options.dir !== 'string' || options.dir.length === 0) {
      throw new StorageError('storage "file" needs a directory: start the system with storage: { dir: "/path/to/data" } (each host keeps one log there)');
    }
    const dir = resolve(options.dir);
    let created: string | undefined;
    try {
      created = mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new StorageError(`cannot create storage.dir ${dir}: ${(e as Error).message}`, { cause: e });
    }
    if (created !== undefined) fsyncCreatedDirs(created, dir);
    const paths = logPaths(dir, options.storeName);
    const owner = options.owner ?? randomBytes(16).toString('hex');
    const lock = LogLock.acquire(paths.lock, paths.log, owner);
    let fd = -1;
    try {
      removeCompactionLeftovers(paths);
      let isNew = false;
      try {
        fd = openSync(paths.log, 'r+');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        fd = openSync(paths.log, 'wx+');
        isNew = true;
      }
      if (isNew) fsyncDirSync(dir); // the new log's directory entry must survive a crash too
      const size = fstatSync(fd).size;
      const buf = Buffer.allocUnsafe(size);
      for (let o = 0; o < size; ) {
        const n = readSync(fd, buf, o, size - o, o);
        if (n === 0) throw new StorageError(`${paths.log} shrank while it was read`);
        o += n;
      }
      const index = new LiveIndex();
      const replay = replayFrames(buf, size, paths.log, index);
      if (replay.end < size) {
        ftruncateSync(fd, replay.end);
        fsyncSync(fd);
      }
      closeSync(fd);
      fd = -1;
      fd = openSync(paths.log, 'a');
      const recovery = { ...replay, truncatedBytes: size - replay.end, predecessor: lock.predecessor };
      return new FileStore(paths, fd, lock, index, recovery, replay.end, options);
    } catch (e) {
      if (fd >= 0) closeSync(fd);
      lock.release();
      if (e instanceof StorageError) throw e;
      throw new StorageError(`cannot open the log ${paths.log}: ${(e as Error).message}`, { cause: e });
    }
  }

  get durableSeq(): number {
    return this.durable;
  }
  get writtenSeq(): number {
    return this.seq;
  }

  /** Records queued for the next commit. */
  get pendingRecords(): number {
    return this.pending.length - this.head;
  }

  load(actor: string): Recovered | undefined {
    return this.index.load(actor);
  }

  write(actor: string, ops: readonly PersistOp[], count = ops.length): number {
    this.assertWritable();
    const values = serializeOps(actor, ops, count);
    const record = encodeRecord(RecordKind.Changes, actor, values, this.maxRecordBytes);
    this.index.applyChanges(actor, values);
    return this.enqueue(record);
  }

  remove(actor: string): number {
    this.assertWritable();
    const record = encodeRecord(RecordKind.Remove, actor, [], this.maxRecordBytes);
    this.index.remove(actor);
    return this.enqueue(record);
  }

  /** Commits everything written, then closes the log and releases its lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.failure === null && (this.inFlight || this.scheduled || this.head < this.pending.length)) {
      if (!this.inFlight && !this.scheduled) {
        this.commitNext();
        continue;
      }
      await new Promise<void>((r) => this.idleWaiters.push(r));
    }
    this.closed = true;
    this.snapshots.close();
    closeSync(this.fd);
    this.lock.release();
  }

  /**
   * Queues `run` among the commits: it starts once everything written before it is durable, and
   * nothing written after it is committed before it calls `done(null)`. Returns its write number,
   * durable then (messages gated on it leave). An error stops the store, as a failed commit does.
   * How snapshot finishes and deletes are ordered with persisted state.
   */
  fence(run: (done: (err: Error | null) => void) => void): number {
    this.assertWritable();
    this.pendingFences++;
    return this.enqueue(new Fence(run));
  }

  private assertWritable(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new StorageError(`the file store ${this.paths.log} is closed`);
  }

  private enqueue(record: Buffer | Fence): number {
    const seq = ++this.seq;
    this.pending.push(record);
    this.pendingSeq.push(seq);
    if (!this.inFlight && !this.scheduled) {
      // After the current turn(s): every record written until then joins this commit.
      this.scheduled = true;
      queueMicrotask(this.commitTask);
    }
    return seq;
  }

  private readonly commitTask = (): void => {
    this.scheduled = false;
    this.commitNext();
  };

  /** Starts the next commit (or compaction) of everything pending, unless one is in flight. */
  private commitNext(): void {
    if (this.inFlight || this.failure !== null) return;
    if (this.head === this.pending.length) {
      this.wakeIdle();
      return;
    }
    if (!this.lock.held()) {
      this.fail(
        'checking its lock',
        new StoreLockedError(
          `the lock file ${this.paths.lock} of ${this.paths.log} was removed or ` +
            'taken over by another host; this one stopped writing (two writers would damage the log)',
        ),
      );
      return;
    }
    const first = this.pending[this.head]!;
    if (first instanceof Fence) {
      this.runFence(first);
      return;
    }
    if (this.pendingFences === 0 && this.logBytes >= this.maxLogBytes && this.logBytes >= 2 * this.snapshotBytes) {
      this.compact();
      return;
    }
    const from = this.head;
    let to = from + 1;
    if (this.groupCommit) {
      let bytes = 8 + 4 + first.length;
      for (
        let next = this.pending[to];
        next !== undefined && !(next instanceof Fence) && bytes + 4 + next.length <= this.maxCommitBytes;
        next = this.pending[++to]
      ) {
        bytes += 4 + next.length;
      }
    }
    const frame = encodeFrame(this.pending as Buffer[], from, to);
    const upTo = this.pendingSeq[to - 1]!;
    this.take(to);
    this.inFlight = true;
    if (this.commitDelayMs > 0) setTimeout(() => this.append(frame, upTo, to - from), this.commitDelayMs);
    else this.append(frame, upTo, to - from);
  }

  /** Runs the fence at the head of the queue; the next commit waits for it. */
  private runFence(fence: Fence): void {
    const seq = this.pendingSeq[this.head]!;
    this.take(this.head + 1);
    this.pendingFences--;
    this.inFlight = true;
    const run = () =>
      fence.run((err) => {
        if (err) return this.fail('a snapshot operation', err);
        this.stats.fences++;
        this.committed(seq);
      });
    if (this.commitDelayMs > 0) setTimeout(run, this.commitDelayMs);
    else run();
  }

  /** Drops pending records before `to` (they are in a commit now). */
  private take(to: number): void {
    for (let i = this.head; i < to; i++) this.pending[i] = undefined as unknown as Buffer; // let them be collected
    this.head = to;
    if (this.head === this.pending.length) {
      this.pending = [];
      this.pendingSeq = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head > this.pending.length / 2) {
      this.pending = this.pending.slice(this.head);
      this.pendingSeq = this.pendingSeq.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * The write is synchronous: it only copies into the page cache (well under a millisecond for a
   * commit of a few hundred KiB), and an asynchronous one costs a thread-pool round trip and an
   * event-loop turn, which on a busy machine take longer than the copy. The fdatasync, which
   * waits for the disk, runs in the thread pool while this worker goes on with turns that form
   * the next commit.
   */
  private append(frame: Buffer, upTo: number, records: number): void {
    try {
      writeAllSync(this.fd, frame);
    } catch (e) {
      this.fail('appending a commit', e);
      return;
    }
    fdatasync(this.fd, (err) => {
      if (err) return this.fail('fdatasync', err);
      this.logBytes += frame.length;
      this.stats.commits++;
      this.stats.records += records;
      this.stats.bytes += frame.length;
      this.committed(upTo);
    });
  }

  /** Writes up to `upTo` are durable: start the next commit, then release their messages. */
  private committed(upTo: number): void {
    this.inFlight = false;
    this.durable = upTo;
    this.commitNext();
    this.onDurable?.(upTo);
  }

  /** Replaces the log by a snapshot of the live data, which includes every pending record. */
  private compact(): void {
    const upTo = this.seq;
    this.take(this.pending.length);
    this.inFlight = true;
    this.writeSnapshot().then(
      (bytes) => {
        this.logBytes = bytes;
        this.snapshotBytes = bytes;
        this.stats.compactions++;
        this.committed(upTo);
      },
      (e) => this.fail('compaction', e),
    );
  }

  /**
   * Writes the snapshot to a temp file of its own name in the background, then swaps it in
   * synchronously: the lock check, the rename over the log, the directory fsync and the reopen
   * happen with nothing in between, so a worker that dies can never leave a rename queued that
   * would later replace its successor's log.
   */
  private async writeSnapshot(): Promise<number> {
    const frames = encodeFrames(this.index.snapshot(this.maxRecordBytes), this.maxCommitBytes);
    const tmp = `${this.paths.compactPrefix}${randomBytes(6).toString('hex')}`;
    const fd = await call<number>((cb) => open(tmp, 'wx', cb));
    let bytes = 0;
    try {
      for (const f of frames) {
        await call<void>((cb) => writeAll(fd, f, cb));
        bytes += f.length;
      }
      await call<void>((cb) => fdatasync(fd, cb));
      await call<void>((cb) => close(fd, cb));
    } catch (e) {
      close(fd, () => unlink(tmp, () => {}));
      throw e;
    }
    if (!this.lock.held()) {
      unlink(tmp, () => {});
      throw new StoreLockedError(`the lock file ${this.paths.lock} was removed or taken over during compaction; this host stopped writing`);
    }
    renameSync(tmp, this.paths.log);
    fsyncDirSync(dirname(this.paths.log));
    const next = openSync(this.paths.log, 'a');
    closeSync(this.fd);
    this.fd = next;
    return bytes;
  }

  private fail(what: string, e: unknown): void {
    this.inFlight = false;
    this.failure ??=
      e instanceof StorageError
        ? e
        : new StorageError(
            `the file store ${this.paths.log} failed ${what} ` +
              `(${(e as Error).message}) and stopped: nothing more is written, and messages of turns not yet durable stay held. ` +
              'Restart the host (its worker) to recover from the log.',
            { cause: e },
          );
    this.wakeIdle();
  }

  private wakeIdle(): void {
    const w = this.idleWaiters;
    if (w.length === 0) return;
    this.idleWaiters = [];
    for (const r of w) r();
  }
}

/** Adapts a Node callback API to a promise (only on the compaction path; commits use callbacks directly). */
function call<T>(fn: (cb: (err: Error | null, v?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))));
}

/** Temp files of a compaction that a crash interrupted: never renamed, so never part of the log. */
function removeCompactionLeftovers(paths: LogPaths): void {
  const dir = dirname(paths.log);
  const prefix = basename(paths.compactPrefix);
  for (const name of readdirSync(dir)) {
    if (name.startsWith(prefix)) unlinkSync(`${dir}/${name}`);
  }
}

/** A job ordered among the commits (see `FileStore.fence`). */
class Fence {
  constructor(readonly run: (done: (err: Error | null) => void) => void) {}
}
