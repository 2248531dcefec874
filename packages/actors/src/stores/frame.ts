/**
 * Frames of the durable logs (both `file` and `shared`):
 *
 *     u32 payload length | u32 CRC32C | payload
 *
 * A frame is one commit: in a `file` log, everything one write + fdatasync made durable (the
 * records of many turns with group commit); in the `shared` log, one write. Its payload is one or
 * more records, each `u32 length | record` (record.ts). The CRC32C (Castagnoli, in hardware via
 * @node-rs/crc32) is of the payload; a damaged length makes it be computed over the wrong bytes,
 * so that is caught too. A payload is never empty, so a zero-filled region never reads as a frame.
 *
 * Because a frame is written only after the previous one is durable, a bad frame followed by a
 * whole one can only be damage (never a crash mid-write): that is how recovery tells the two apart.
 *
 * The `shared` log's frames carry no checksum (the CRC field is 0, `checksum: false`): they live in
 * memory, like `memory` storage's data, and a frame is published by the used-bytes word only once
 * it is whole, so a worker that dies mid-write leaves nothing to detect. A checksum there would
 * only guard against the process scribbling over its own memory, at the price of a pass over
 * every byte written (a sixth of the CPU of 4 KiB writes, measured).
 */
import { crc32c } from '@node-rs/crc32';

export const FRAME_HEADER_BYTES = 8;

export const RECORD_PREFIX_BYTES = 4;

function frameCrc(buf: Buffer, start: number, payloadEnd: number): number {
  return crc32c(buf.subarray(start + FRAME_HEADER_BYTES, payloadEnd));
}

/**
 * Writes the header of a frame whose payload of `payloadBytes` is already in place at
 * `offset + FRAME_HEADER_BYTES` (for writing straight into a shared buffer).
 */
export function sealFrame(buf: Buffer, offset: number, payloadBytes: number, checksum = true): void {
  buf.writeUInt32LE(payloadBytes, offset);
  buf.writeUInt32LE(checksum ? frameCrc(buf, offset, offset + FRAME_HEADER_BYTES + payloadBytes) : 0, offset + 4);
}

/** Bytes of one frame holding `records[from..to)`. */
export function frameSize(records: readonly Buffer[], from = 0, to = records.length): number {
  let n = FRAME_HEADER_BYTES;
  for (let i = from; i < to; i++) n += RECORD_PREFIX_BYTES + records[i]!.length;
  return n;
}

/** Encodes `records[from..to)` as one frame. */
export function encodeFrame(records: readonly Buffer[], from = 0, to = records.length): Buffer {
  if (to <= from) throw new Error('a frame holds at least one record');
  const size = frameSize(records, from, to);
  const b = Buffer.allocUnsafe(size);
  b.writeUInt32LE(size - FRAME_HEADER_BYTES, 0);
  let o = FRAME_HEADER_BYTES;
  for (let i = from; i < to; i++) {
    const r = records[i]!;
    o = b.writeUInt32LE(r.length, o);
    o += r.copy(b, o);
  }
  b.writeUInt32LE(frameCrc(b, 0, size), 4);
  return b;
}

/** Packs records into frames of at most `maxFrameBytes` each (a bigger record gets a frame of its own). */
export function encodeFrames(records: readonly Buffer[], maxFrameBytes: number): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  let size = FRAME_HEADER_BYTES;
  for (let i = 0; i < records.length; i++) {
    const add = RECORD_PREFIX_BYTES + records[i]!.length;
    if (i > from && size + add > maxFrameBytes) {
      out.push(encodeFrame(records, from, i));
      from = i;
      size = FRAME_HEADER_BYTES;
    }
    size += add;
  }
  if (from < records.length) out.push(encodeFrame(records, from, records.length));
  return out;
}

export type FrameRead =
  | { ok: true; end: number; payload: Buffer }
  | { ok: false; reason: string /** Where the frame says it ends, when that is inside the buffer; else -1. */; claimedEnd: number };

/** Reads the frame at `offset` of `buf[0..end)`, checking its length, and its CRC unless `checksum` is false. */
export function readFrame(buf: Buffer, offset: number, end: number, checksum = true): FrameRead {
  if (end - offset < FRAME_HEADER_BYTES)
    return { ok: false, reason: `incomplete frame header (${end - offset} of ${FRAME_HEADER_BYTES} bytes)`, claimedEnd: -1 };
  const len = buf.readUInt32LE(offset);
  if (len < RECORD_PREFIX_BYTES + 1) return { ok: false, reason: `impossible frame length ${len}`, claimedEnd: -1 };
  const payloadEnd = offset + FRAME_HEADER_BYTES + len;
  if (payloadEnd > end) return { ok: false, reason: `incomplete frame (${end - offset} of ${len + FRAME_HEADER_BYTES} bytes)`, claimedEnd: -1 };
  if (checksum && frameCrc(buf, offset, payloadEnd) !== buf.readUInt32LE(offset + 4)) return { ok: false, reason: 'CRC32C mismatch', claimedEnd: payloadEnd };
  return { ok: true, end: payloadEnd, payload: buf.subarray(offset + FRAME_HEADER_BYTES, payloadEnd) };
}

/** The records of a frame's payload. Throws when a CRC-valid payload is not a list of records (a format mismatch). */
export function frameRecords(payload: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let o = 0;
  while (o < payload.length) {
    if (payload.length - o < RECORD_PREFIX_BYTES) throw new Error(`${payload.length - o} stray bytes after the last record`);
    const len = payload.readUInt32LE(o);
    o += RECORD_PREFIX_BYTES;
    if (len === 0 || o + len > payload.length) throw new Error(`record length ${len} does not fit its frame`);
    out.push(payload.subarray(o, o + len));
    o += len;
  }
  return out;
}

/**
 * The offset of the first whole frame that starts after `from`, or -1. Used only once a frame is
 * bad, to tell a torn tail (nothing whole after it) from damage in the middle. Tries where the
 * bad frame says it ends first, then every byte offset (a damaged length hides the boundary).
 */
export function findWholeFrame(buf: Buffer, from: number, end: number, claimedEnd: number): number {
  if (claimedEnd > from && claimedEnd < end && readFrame(buf, claimedEnd, end).ok) return claimedEnd;
  for (let o = from + 1; o + FRAME_HEADER_BYTES < end; o++) {
    const len = buf.readUInt32LE(o);
    // Cheap filters before the CRC: a plausible length, and a first record that fits in it.
    if (len < RECORD_PREFIX_BYTES + 1 || o + FRAME_HEADER_BYTES + len > end) continue;
    const first = buf.readUInt32LE(o + FRAME_HEADER_BYTES);
    if (first === 0 || first + RECORD_PREFIX_BYTES > len) continue;
    if (readFrame(buf, o, end).ok) return o;
  }
  return -1;
}
