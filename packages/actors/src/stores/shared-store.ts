import type { ActorStore, PersistOp, Recovered } from '../store.js';
import { StorageError, StoreFullError } from './errors.js';
import { FRAME_HEADER_BYTES, RECORD_PREFIX_BYTES, sealFrame } from './frame.js';
import { HOST_BUFFER_HEADER_BYTES, HostBuffer } from './host-buffer.js';
import { LiveIndex } from './live-index.js';
import { RecordKind, largestBytesValue, recordSize, serializeOpsForLog, writeRecord, type LogOp, type Placed, type SerializedOp } from './record.js';
import { replayFrames, type ReplayResult } from './replay.js';
import { SharedSnapshots } from './shared-snapshots.js';
import { storageDefaults } from './defaults.js';
import { PendingBytesForm } from './value-codec.js';

/** Options of {@link SharedStore.open}. */
export interface SharedStoreOptions {
  /** The host's store name, for messages. */
  storeName: string;
  /** Largest record (one turn's changes of one actor). */
  maxRecordBytes: number;
  /**
   * The main thread's snapshot buffer for this host's store name (`storage.sharedSnapshotBytes`):
   * where `ctx.snapshots` of `shared` actors keeps its bytes. Without it the store keeps no snapshots.
   */
  snapshotRegion?: SharedArrayBuffer;
  /** Largest snapshot chunk (and meta). Default `storageDefaults.maxSnapshotChunkBytes`. */
  maxSnapshotChunkBytes?: number;
}

/** Values this large are placed at their source's alignment (see `paddingFor`): below, the copy costs less than the padding. */
const MIN_ALIGNED_VALUE_BYTES = 2048;
/** The smallest frame: header, record length, the padding record's kind byte. */
const MIN_PADDING_FRAME_BYTES = FRAME_HEADER_BYTES + RECORD_PREFIX_BYTES + 1;

/** `ops` in groups of at most one large bytes value each (in order: later ops win). */
function splitAtLargeValues(ops: readonly LogOp[]): (readonly LogOp[])[] {
  let groups: LogOp[][] | null = null;
  let current: LogOp[] = [];
  let large = false;
  for (const op of ops) {
    const v = op.value;
    const isLarge = v !== undefined && typeof v !== 'string' && v.length >= MIN_ALIGNED_VALUE_BYTES;
    if (isLarge && large) {
      (groups ??= []).push(current);
      current = [];
      large = false;
    }
    current.push(op);
    large ||= isLarge;
  }
  if (groups === null) return [ops];
  groups.push(current);
  return groups;
}

/**
 * `shared` storage: a log in a SharedArrayBuffer that the main thread keeps for the host's store
 * name, so it survives the crash of the worker (not of the process). A write is durable when
 * `write` returns: the frame is copied in, then the used-bytes word is advanced atomically, so a
 * worker that dies mid-copy leaves a frame nobody reads. That makes a checksum needless (frame.ts):
 * frames here have none, and one that does not read is damage, never a torn tail.
 *
 * Double-buffered compaction: the buffer after its header is two halves; when the active half
 * is full, the live data is written into the other half, and only then is the active-half
 * word flipped, so a crash mid-compaction leaves the old half in force. If the live data does
 * not fit in a half, the write fails with `StoreFullError` and nothing changes.
 */
export class SharedStore implements ActorStore {
  readonly kind = 'shared' as const;
  onDurable: ((seq: number) => void) | null = null;
  /** What recovery found in the buffer. */
  readonly recovery: ReplayResult;
  /** Writes and compactions since this store opened. */
  readonly stats = { writes: 0, compactions: 0 };
  private readonly index = new LiveIndex();
  private readonly data: Buffer;
  private readonly halfBytes: number;
  private readonly generation: number;
  private seq = 0;
  private closed = false;
  /** The snapshots of this host's `shared` actors, in their own buffer (see shared-snapshots.ts). */
  readonly snapshots: SharedSnapshots | undefined;

  private constructor(
    private readonly host: HostBuffer,
    private readonly options: SharedStoreOptions,
  ) {
    const b = host.buffer;
    this.halfBytes = Math.floor((b.byteLength - HOST_BUFFER_HEADER_BYTES) / 2 / 8) * 8;
    this.data = Buffer.from(b, HOST_BUFFER_HEADER_BYTES, this.halfBytes * 2);
    this.generation = host.claimShared();
    const half = host.activeHalf;
    const used = host.used(half);
    const source = `the shared buffer of host "${options.storeName}"`;
    if ((half !== 0 && half !== 1) || used < 0 || used > this.halfBytes) {
      throw new StorageError(`${source} has an impossible header (half ${half}, ${used} bytes used); restart the actor system`);
    }
    this.recovery = replayFrames(this.data.subarray(half * this.halfBytes, (half + 1) * this.halfBytes), used, source, this.index, true);
    this.snapshots =
      options.snapshotRegion === undefined
        ? undefined
        : SharedSnapshots.open(options.snapshotRegion, {
            storeName: options.storeName,
            maxChunkBytes: options.maxSnapshotChunkBytes ?? storageDefaults.maxSnapshotChunkBytes,
          });
  }

  /** Opens the `shared` log of a host's buffer and recovers what it holds. */
  static open(buffer: SharedArrayBuffer, options: SharedStoreOptions): SharedStore {
    return new SharedStore(HostBuffer.attach(buffer), options);
  }

  get durableSeq(): number {
    return this.seq;
  }

  load(actor: string): Recovered | undefined {
    return this.index.load(actor);
  }

  write(actor: string, ops: readonly PersistOp[], count = ops.length): number {
    this.assertWritable();
    // A value of the bytes form (a slot: `{ ballot, value }`) is written straight into its frame,
    // and the index refers to it there: its bytes are copied once, not into a buffer of their own
    // first (which the index kept, and the collector then freed).
    const values = serializeOpsForLog(actor, ops, count);
    this.append(RecordKind.Changes, actor, values);
    // Written: every pending value is now its view of the log (see `append`).
    this.index.applyChanges(actor, values as SerializedOp[]);
    return ++this.seq;
  }

  remove(actor: string): number {
    this.assertWritable();
    this.append(RecordKind.Remove, actor, []);
    this.index.remove(actor);
    return ++this.seq;
  }

  /** Nothing to flush: the buffer belongs to the main thread and keeps the data for the next host. */
  async close(): Promise<void> {
    this.closed = true;
    this.snapshots?.close();
  }

  private assertWritable(): void {
    if (this.closed) throw new StorageError(`the shared store of host "${this.options.storeName}" is closed`);
    if (!this.host.holdsShared(this.generation)) {
      throw new StorageError(
        `the shared store of host "${this.options.storeName}" was opened by another host since this one ` +
          '(two live hosts with one store name?); this host stopped writing to it',
      );
    }
  }

  /**
   * Writes one record as one frame, straight into the active half, or compacts first when it is
   * full. Each pending value (`PendingBytesForm`) of `ops` is replaced by its view of the log.
   */
  private append(kind: RecordKind, actor: string, ops: readonly LogOp[]): void {
    const placed: Placed = (op, at, bytes) => {
      if (op.value instanceof PendingBytesForm) op.value = this.view(at, bytes);
    };
    const size = recordSize(actor, ops, this.options.maxRecordBytes);
    const half = this.host.activeHalf;
    const used = this.host.used(half);
    const start = half * this.halfBytes + used;
    // One frame per large value, each placed at its source's alignment (see paddingFor): the
    // frames of a turn are published together, so a turn stays all or nothing.
    const groups = kind === RecordKind.Changes ? splitAtLargeValues(ops) : [ops];
    const plan: [pad: number, size: number][] = [];
    let at = start;
    for (const group of groups) {
      const n = groups.length === 1 ? size : recordSize(actor, group, Number.MAX_SAFE_INTEGER);
      const pad = this.paddingFor(at, actor, group);
      plan.push([pad, n]);
      at += pad + FRAME_HEADER_BYTES + RECORD_PREFIX_BYTES + n;
    }
    if (at - start + used <= this.halfBytes) {
      at = start;
      for (let i = 0; i < groups.length; i++) {
        const [pad, n] = plan[i]!;
        if (pad > 0) this.writePadding(at, pad);
        this.writeFrame(at + pad, n, kind, actor, groups[i]!, placed);
        at += pad + FRAME_HEADER_BYTES + RECORD_PREFIX_BYTES + n;
      }
      this.host.setUsed(half, at - half * this.halfBytes); // publishes the frames
    } else {
      this.compact(half, kind, actor, ops, size, placed);
    }
    this.stats.writes++;
  }

  /**
   * A view of `bytes` bytes of the log at `at`: what the index keeps of a value written there.
   * Every view is of the active half: compaction moves them all (see `compact`).
   */
  private view(at: number, bytes: number): Buffer {
    return Buffer.from(this.data.buffer, this.data.byteOffset + at, bytes);
  }

  /**
   * Bytes of padding to write before a frame at `at` so that its largest value lands at its
   * source's alignment modulo 8 (then it is copied in word by word, not through a scratch buffer:
   * shared-copy.ts): 0, or a padding frame of 13 to 20 bytes. Only for values worth it.
   */
  private paddingFor(at: number, actor: string, ops: readonly LogOp[]): number {
    const big = largestBytesValue(actor, ops);
    if (big === null || big.value.length < MIN_ALIGNED_VALUE_BYTES) return 0;
    const lands = this.data.byteOffset + at + FRAME_HEADER_BYTES + RECORD_PREFIX_BYTES + big.at;
    const delta = (big.value.byteOffset - lands) & 7;
    return delta === 0 ? 0 : MIN_PADDING_FRAME_BYTES + ((delta - MIN_PADDING_FRAME_BYTES) & 7);
  }

  /** A frame of `bytes` (at least 13) holding one padding record, at `at`. */
  private writePadding(at: number, bytes: number): void {
    const record = bytes - FRAME_HEADER_BYTES - RECORD_PREFIX_BYTES;
    this.data.writeUInt32LE(record, at + FRAME_HEADER_BYTES);
    this.data.fill(0, at + FRAME_HEADER_BYTES + RECORD_PREFIX_BYTES, at + bytes);
    this.data[at + FRAME_HEADER_BYTES + RECORD_PREFIX_BYTES] = RecordKind.Padding;
    sealFrame(this.data, at, RECORD_PREFIX_BYTES + record, false);
  }

  /** Writes one record of `size` bytes as a frame at `at`, in place: no copy of it is made first. */
  private writeFrame(at: number, size: number, kind: RecordKind, actor: string, ops: readonly LogOp[], placed?: Placed): void {
    this.data.writeUInt32LE(size, at + FRAME_HEADER_BYTES);
    writeRecord(this.data, at + FRAME_HEADER_BYTES + RECORD_PREFIX_BYTES, size, kind, actor, ops, placed);
    sealFrame(this.data, at, RECORD_PREFIX_BYTES + size, false);
  }

  /**
   * Writes the live data and then the record of `size` bytes into the other half, a frame per
   * record written in place, then makes it the active one.
   */
  private compact(half: number, kind: RecordKind, actor: string, ops: readonly LogOp[], size: number, placed: Placed): void {
    // Written as they are sized; past a full half they are only sized, for the error (nothing
    // changes until the flip below).
    const other = 1 - half;
    const start = other * this.halfBytes;
    let at = start;
    // Values the index keeps as views of the active half, and where they land in the other.
    const moved: [actor: string, op: SerializedOp][] = [];
    const keep =
      (a: string): Placed =>
      (op, p, bytes) => {
        if (op.value instanceof Uint8Array && op.value.buffer === this.data.buffer) moved.push([a, { key: op.key, value: this.view(p, bytes) }]);
      };
    // One frame per large value, at its source's alignment, as `append` writes them: a value copied
    // to another alignment goes through scratch buffers (shared-copy.ts), three copies for one.
    const frames = (a: string, ops: readonly LogOp[], write: boolean, placedHere?: Placed): void => {
      for (const group of splitAtLargeValues(ops)) {
        const n = recordSize(a, group, Number.MAX_SAFE_INTEGER);
        const pad = this.paddingFor(at, a, group);
        const frameBytes = pad + FRAME_HEADER_BYTES + RECORD_PREFIX_BYTES + n;
        if (write && at - start + frameBytes <= this.halfBytes) {
          if (pad > 0) this.writePadding(at, pad);
          this.writeFrame(at + pad, n, RecordKind.Changes, a, group, placedHere);
        }
        at += frameBytes;
      }
    };
    for (const [a, o] of this.index.records(this.options.maxRecordBytes)) frames(a, o, true, keep(a));
    const liveEnd = at;
    if (kind === RecordKind.Changes) frames(actor, ops, false);
    else at += FRAME_HEADER_BYTES + RECORD_PREFIX_BYTES + size;
    const total = at - start;
    if (total > this.halfBytes) {
      throw new StoreFullError(
        `the shared store of host "${this.options.storeName}" is full: its live data and this write take ` +
          `${total} bytes, and each half of the buffer holds ${this.halfBytes} (storage.sharedBytes ${this.host.buffer.byteLength}); ` +
          'raise storage.sharedBytes, or keep less durable state (delete entries you no longer need)',
      );
    }
    at = liveEnd;
    if (kind === RecordKind.Changes) frames(actor, ops, true, placed);
    else this.writeFrame(at, size, kind, actor, ops, placed);
    this.host.setUsed(other, total);
    this.host.activeHalf = other; // the flip: before it, recovery reads the old half
    // The index now refers to the new half: the next compaction writes over the old one.
    for (const [a, op] of moved) this.index.applyChanges(a, [op]);
    this.stats.compactions++;
  }
}
