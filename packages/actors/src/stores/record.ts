/**
 * A record of a durable log: the changes one turn of one actor made, or the removal of an
 * actor (what `storage.maxRecordBytes` bounds). Records travel in frames (frame.ts).
 * Values are serialized (value-codec.ts) when the record is made, so an actor that mutates its
 * state after persisting it cannot change what is written.
 *
 * Layout (little endian):
 *
 *     u8 kind (1 changes, 2 remove) | u16 name bytes | name (UTF-8) | u32 op count | op...
 *     op: u8 key type (0 whole state, 1 string key, 2 number key) | u8 flags (1 deleted)
 *         | key (string: u32 bytes + UTF-8; number: f64) | unless deleted: u32 value bytes + value
 *
 * or padding, which changes nothing: `u8 3 | zero bytes` (the `shared` log places a large value
 * at its source's alignment with one, so it is copied in word by word: shared-copy.ts).
 */
import type { PersistKey, PersistOp } from '../store.js';
import { RecordTooLargeError, StorageError } from './errors.js';
import { encodeValue, encodeValueForLog, encodedBytes, readEncoded, writeEncoded, type EncodedValue, type LogValue } from './value-codec.js';

export const enum RecordKind {
  Changes = 1,
  Remove = 2,
  Padding = 3,
}
const enum KeyType {
  State = 0,
  String = 1,
  Number = 2,
}
const DELETED = 1;
const MAX_NAME_BYTES = 0xffff;

/** One op with its value already serialized (`undefined`: the keyed entry is deleted). */
export interface SerializedOp {
  key: PersistKey | null;
  value: EncodedValue | undefined;
}

/** An op on its way into a log (a value of the bytes form may still be pending: see `PendingBytesForm`). */
export interface LogOp {
  key: PersistKey | null;
  value: LogValue | undefined;
}

/** Told where a value that is not JSON text landed in a record's buffer (`writeRecord`). */
export type Placed = (op: LogOp, at: number, bytes: number) => void;

/** A decoded record; its values are still serialized. */
export interface DecodedRecord {
  kind: RecordKind;
  actor: string;
  ops: SerializedOp[];
}

/** Serializes the values of one turn's ops, `ops[0, count)`. Throws a StorageError naming the actor for a value that cannot be stored. */
export function serializeOps(actor: string, ops: readonly PersistOp[], count = ops.length): SerializedOp[] {
  return serializeWith(actor, ops, count, encodeValue);
}

/**
 * As `serializeOps`, for a log that writes each record in place at once: values of the bytes form
 * are left pending, to be written straight into the record (`writeRecord`).
 */
export function serializeOpsForLog(actor: string, ops: readonly PersistOp[], count = ops.length): LogOp[] {
  return serializeWith(actor, ops, count, encodeValueForLog);
}

function serializeWith<V extends LogValue>(
  actor: string,
  ops: readonly PersistOp[],
  count: number,
  encode: (v: unknown) => V,
): { key: PersistKey | null; value: V | undefined }[] {
  const out: { key: PersistKey | null; value: V | undefined }[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const op = ops[i]!;
    let value: V | undefined;
    if (op.key === null || op.value !== undefined) {
      try {
        value = encode(op.value);
      } catch (e) {
        const what = op.key === null ? 'ctx.persist' : `ctx.persistEntry(${JSON.stringify(op.key)})`;
        throw new StorageError(
          `${what} of actor "${actor}": the value cannot be stored (${(e as Error).message}); ` +
            'persist plain data (objects, arrays, strings, numbers, Maps, Sets, Dates, typed arrays)',
        );
      }
    }
    out[i] = { key: op.key, value };
  }
  return out;
}

/**
 * Bytes `writeRecord` will write. Throws `RecordTooLargeError` past `maxRecordBytes` (the caller
 * must then neither write nor apply the ops).
 */
export function recordSize(actor: string, ops: readonly LogOp[], maxRecordBytes: number): number {
  const nameBytes = Buffer.byteLength(actor, 'utf8');
  if (nameBytes > MAX_NAME_BYTES) throw new StorageError(`actor name of ${nameBytes} bytes is too long to store (at most ${MAX_NAME_BYTES})`);
  let n = 1 + 2 + nameBytes + 4;
  for (const op of ops) {
    n += 2;
    if (typeof op.key === 'string') n += 4 + Buffer.byteLength(op.key, 'utf8');
    else if (typeof op.key === 'number') n += 8;
    if (op.value !== undefined) n += 4 + encodedBytes(op.value);
  }
  if (n > maxRecordBytes) {
    throw new RecordTooLargeError(
      `the changes of one turn of actor "${actor}" serialize to ${n} bytes, more than ` +
        `storage.maxRecordBytes (${maxRecordBytes}); persist less per turn (ctx.persistEntry stores one keyed entry at a time) or raise maxRecordBytes`,
    );
  }
  return n;
}

/**
 * The largest value of `ops` that is bytes (v8, or the bytes form: value-codec.ts) and where
 * `writeRecord` puts it, relative to the record's start; null when none is.
 */
export function largestBytesValue(actor: string, ops: readonly LogOp[]): { at: number; value: Exclude<LogValue, string> } | null {
  let o = 1 + 2 + Buffer.byteLength(actor, 'utf8') + 4;
  let best: { at: number; value: Exclude<LogValue, string> } | null = null;
  for (const op of ops) {
    o += 2;
    if (typeof op.key === 'string') o += 4 + Buffer.byteLength(op.key, 'utf8');
    else if (typeof op.key === 'number') o += 8;
    if (op.value === undefined) continue;
    o += 4;
    const v = op.value;
    if (typeof v !== 'string' && (best === null || v.length > best.value.length)) best = { at: o, value: v };
    o += encodedBytes(v);
  }
  return best;
}

/**
 * Writes a record of `size` bytes (from `recordSize`) at `offset` of `b`; `placed` hears where
 * each value that is not JSON text landed in `b` (for an index that refers to the log's bytes).
 */
export function writeRecord(b: Buffer, offset: number, size: number, kind: RecordKind, actor: string, ops: readonly LogOp[], placed?: Placed): void {
  let o = b.writeUInt8(kind, offset);
  const nameBytes = b.write(actor, o + 2, 'utf8');
  o = b.writeUInt16LE(nameBytes, o) + nameBytes;
  o = b.writeUInt32LE(ops.length, o);
  for (const op of ops) {
    const k = op.key;
    o = b.writeUInt8(k === null ? KeyType.State : typeof k === 'string' ? KeyType.String : KeyType.Number, o);
    o = b.writeUInt8(op.value === undefined ? DELETED : 0, o);
    if (typeof k === 'string') {
      const len = b.write(k, o + 4, 'utf8');
      b.writeUInt32LE(len, o);
      o += 4 + len;
    } else if (typeof k === 'number') {
      o = b.writeDoubleLE(k, o);
    }
    if (op.value !== undefined) {
      const len = encodedBytes(op.value);
      o = b.writeUInt32LE(len, o);
      writeEncoded(op.value, b, o, len);
      if (placed !== undefined && typeof op.value !== 'string') placed(op, o, len);
      o += len;
    }
  }
  if (o !== offset + size) throw new Error(`record encoding wrote ${o - offset} of ${size} bytes`); // a bug in recordSize
}

/** Encodes a record into a Buffer of its own. Throws `RecordTooLargeError` past `maxRecordBytes`. */
export function encodeRecord(kind: RecordKind, actor: string, ops: readonly SerializedOp[], maxRecordBytes: number): Buffer {
  const size = recordSize(actor, ops, maxRecordBytes);
  const b = Buffer.allocUnsafe(size);
  writeRecord(b, 0, size, kind, actor, ops);
  return b;
}

/** Thrown by `decodeRecord` for bytes that are not a record (in a CRC-valid frame: a format mismatch). */
export class RecordFormatError extends StorageError {
  override name = 'RecordFormatError';
  override readonly code: string = 'record-format';
}

/** Decodes a record. Values are copied out of `b` (see `readEncoded`). */
export function decodeRecord(b: Buffer): DecodedRecord {
  const need = (o: number, n: number) => {
    if (o + n > b.length) throw new RecordFormatError(`record ends early (needs ${o + n} bytes, has ${b.length})`);
  };
  need(0, 1);
  const kind = b.readUInt8(0);
  if (kind === RecordKind.Padding) return { kind, actor: '', ops: [] };
  need(0, 7);
  if (kind !== RecordKind.Changes && kind !== RecordKind.Remove) throw new RecordFormatError(`unknown record kind ${kind}`);
  const nameBytes = b.readUInt16LE(1);
  need(3, nameBytes + 4);
  const actor = b.toString('utf8', 3, 3 + nameBytes);
  let o = 3 + nameBytes;
  const count = b.readUInt32LE(o);
  o += 4;
  const ops: SerializedOp[] = [];
  for (let i = 0; i < count; i++) {
    need(o, 2);
    const type = b.readUInt8(o);
    const deleted = (b.readUInt8(o + 1) & DELETED) !== 0;
    o += 2;
    let key: PersistKey | null;
    if (type === KeyType.State) {
      key = null;
    } else if (type === KeyType.String) {
      need(o, 4);
      const len = b.readUInt32LE(o);
      need(o + 4, len);
      key = b.toString('utf8', o + 4, o + 4 + len);
      o += 4 + len;
    } else if (type === KeyType.Number) {
      need(o, 8);
      key = b.readDoubleLE(o);
      o += 8;
    } else {
      throw new RecordFormatError(`unknown key type ${type}`);
    }
    let value: EncodedValue | undefined;
    if (!deleted) {
      need(o, 4);
      const len = b.readUInt32LE(o);
      need(o + 4, len);
      value = readEncoded(b, o + 4, o + 4 + len);
      o += 4 + len;
    } else if (key === null) {
      throw new RecordFormatError('the whole state cannot be deleted');
    }
    ops.push({ key, value });
  }
  if (o !== b.length) throw new RecordFormatError(`${b.length - o} stray bytes after the record`);
  return { kind, actor, ops };
}
