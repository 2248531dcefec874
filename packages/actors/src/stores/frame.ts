/**
 * Records of the durable logs (both `file` and `shared`):
 *
 *     u32 payload length | u32 CRC32C | payload
 *
 * The CRC32C (Castagnoli, hardware-accelerated by @node-rs/crc32) covers the length field and
 * the payload, so a damaged length is caught like damaged data. A payload holds one or more
 * entries, each `u32 length | entry` (see entry.ts). In a `file` log one record is one commit
 * (everything one write + fdatasync made durable); the `shared` log has one record per write.
 * A payload is never empty, so a zero-filled region never reads as a record.
 */
import { crc32c } from '@node-rs/crc32';

export const RECORD_HEADER_BYTES = 8;
const ENTRY_PREFIX_BYTES = 4;

function recordCrc(buf: Buffer, start: number, payloadEnd: number): number {
  return crc32c(buf.subarray(start + RECORD_HEADER_BYTES, payloadEnd), crc32c(buf.subarray(start, start + 4)));
}

/** Bytes of one record holding `entries[from..to)`. */
export function recordSize(entries: readonly Buffer[], from = 0, to = entries.length): number {
  let n = RECORD_HEADER_BYTES;
  for (let i = from; i < to; i++) n += ENTRY_PREFIX_BYTES + entries[i]!.length;
  return n;
}

/** Encodes `entries[from..to)` as one record. */
export function encodeRecord(entries: readonly Buffer[], from = 0, to = entries.length): Buffer {
  if (to <= from) throw new Error('a record holds at least one entry');
  const size = recordSize(entries, from, to);
  const b = Buffer.allocUnsafe(size);
  b.writeUInt32LE(size - RECORD_HEADER_BYTES, 0);
  let o = RECORD_HEADER_BYTES;
  for (let i = from; i < to; i++) {
    const e = entries[i]!;
    o = b.writeUInt32LE(e.length, o);
    o += e.copy(b, o);
  }
  b.writeUInt32LE(recordCrc(b, 0, size), 4);
  return b;
}

/** Packs entries into records of at most `maxRecordBytes` each (a bigger entry gets a record of its own). */
export function encodeRecords(entries: readonly Buffer[], maxRecordBytes: number): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  let size = RECORD_HEADER_BYTES;
  for (let i = 0; i < entries.length; i++) {
    const add = ENTRY_PREFIX_BYTES + entries[i]!.length;
    if (i > from && size + add > maxRecordBytes) {
      out.push(encodeRecord(entries, from, i));
      from = i;
      size = RECORD_HEADER_BYTES;
    }
    size += add;
  }
  if (from < entries.length) out.push(encodeRecord(entries, from, entries.length));
  return out;
}

export type RecordRead =
  | { ok: true; end: number; payload: Buffer }
  | { ok: false; reason: string; /** Where the record says it ends, when its length is plausible. */ claimedEnd: number };

/** Reads the record at `offset` of `buf[0..end)`, checking its length and CRC. */
export function readRecord(buf: Buffer, offset: number, end: number): RecordRead {
  if (end - offset < RECORD_HEADER_BYTES) return { ok: false, reason: `incomplete record header (${end - offset} of ${RECORD_HEADER_BYTES} bytes)`, claimedEnd: -1 };
  const len = buf.readUInt32LE(offset);
  if (len < ENTRY_PREFIX_BYTES + 1) return { ok: false, reason: `impossible record length ${len}`, claimedEnd: -1 };
  const payloadEnd = offset + RECORD_HEADER_BYTES + len;
  if (payloadEnd > end) return { ok: false, reason: `incomplete record (${end - offset} of ${len + RECORD_HEADER_BYTES} bytes)`, claimedEnd: -1 };
  if (recordCrc(buf, offset, payloadEnd) !== buf.readUInt32LE(offset + 4)) return { ok: false, reason: 'CRC32C mismatch', claimedEnd: payloadEnd };
  return { ok: true, end: payloadEnd, payload: buf.subarray(offset + RECORD_HEADER_BYTES, payloadEnd) };
}

/** The entries of a record's payload. Throws when the CRC-valid payload is not a list of entries. */
export function payloadEntries(payload: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let o = 0;
  while (o < payload.length) {
    if (payload.length - o < ENTRY_PREFIX_BYTES) throw new Error(`${payload.length - o} stray bytes after the last entry`);
    const len = payload.readUInt32LE(o);
    o += ENTRY_PREFIX_BYTES;
    if (len === 0 || o + len > payload.length) throw new Error(`entry length ${len} does not fit the record`);
    out.push(payload.subarray(o, o + len));
    o += len;
  }
  return out;
}

/**
 * The offset of the first whole record starting after `from`, or -1. Used only when a record is
 * bad, to tell a torn tail (nothing whole after it) from damage in the middle. Tries where the
 * bad record says it ends first, then every byte offset (a damaged length hides the boundary).
 */
export function findWholeRecord(buf: Buffer, from: number, end: number, claimedEnd: number): number {
  if (claimedEnd > from && claimedEnd < end && readRecord(buf, claimedEnd, end).ok) return claimedEnd;
  for (let o = from + 1; o + RECORD_HEADER_BYTES < end; o++) {
    const len = buf.readUInt32LE(o);
    // Cheap filters before the CRC: a plausible length, and a first entry that fits.
    if (len < ENTRY_PREFIX_BYTES + 1 || o + RECORD_HEADER_BYTES + len > end) continue;
    const first = buf.readUInt32LE(o + RECORD_HEADER_BYTES);
    if (first === 0 || first + ENTRY_PREFIX_BYTES > len) continue;
    if (readRecord(buf, o, end).ok) return o;
  }
  return -1;
}
