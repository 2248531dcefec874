/**
 * The format of one snapshot file of `file` storage (`<dir>/<store>.snap/<actor>=<id>.snap`):
 *
 *     header frame   u32 length | u32 CRC32C | "SYNSNAP1" | u16 n | actor | u16 n | id
 *     chunk frames   u32 length | u32 CRC32C | bytes            (one per appended chunk)
 *     footer frame   u32 length | u32 CRC32C | "SYNSNAPF" | u16 n | actor | u16 n | id
 *                                            | u32 n | meta | u32 chunks | u32 length × chunks
 *     trailer        "SYNSNAPE" | u32 footer offset low | u32 high | u32 footer frame bytes | u32 CRC32C of the 20 bytes before
 *
 * The footer (the chunk index) is written last, so opening a snapshot reads the trailer, the
 * footer and the header: a few bytes per chunk, never the data. Each chunk's CRC is checked when
 * it is read. A file gets its final name only once whole and synced, so a file with that name
 * that does not parse is damage (reported), never a crash mid-write (that leaves a `.tmp` file).
 */
import { crc32c } from '@node-rs/crc32';
import { StorageError } from './errors.js';

export const FRAME_BYTES = 8;
export const TRAILER_BYTES = 24;
const HEADER_MAGIC = Buffer.from('SYNSNAP1', 'latin1');
const FOOTER_MAGIC = Buffer.from('SYNSNAPF', 'latin1');
const TRAILER_MAGIC = Buffer.from('SYNSNAPE', 'latin1');

/** Seals a frame whose payload is in place after its 8 header bytes. */
export function sealSnapshotFrame(frame: Buffer): Buffer {
  frame.writeUInt32LE(frame.length - FRAME_BYTES, 0);
  frame.writeUInt32LE(crc32c(frame.subarray(FRAME_BYTES)), 4);
  return frame;
}

function putName(b: Buffer, o: number, s: string): number {
  const n = b.write(s, o + 2, 'utf8');
  b.writeUInt16LE(n, o);
  return o + 2 + n;
}

function namesBytes(actor: string, id: string): number {
  return 4 + Buffer.byteLength(actor, 'utf8') + Buffer.byteLength(id, 'utf8');
}

export function encodeHeader(actor: string, id: string): Buffer {
  const b = Buffer.allocUnsafe(FRAME_BYTES + HEADER_MAGIC.length + namesBytes(actor, id));
  HEADER_MAGIC.copy(b, FRAME_BYTES);
  putName(b, putName(b, FRAME_BYTES + HEADER_MAGIC.length, actor), id);
  return sealSnapshotFrame(b);
}

export function encodeFooter(actor: string, id: string, meta: Uint8Array, lengths: Uint32Array, chunks: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_BYTES + FOOTER_MAGIC.length + namesBytes(actor, id) + 4 + meta.byteLength + 4 + 4 * chunks);
  FOOTER_MAGIC.copy(b, FRAME_BYTES);
  let o = putName(b, putName(b, FRAME_BYTES + FOOTER_MAGIC.length, actor), id);
  o = b.writeUInt32LE(meta.byteLength, o);
  b.set(meta, o);
  o += meta.byteLength;
  o = b.writeUInt32LE(chunks, o);
  for (let i = 0; i < chunks; i++) o = b.writeUInt32LE(lengths[i]!, o);
  return sealSnapshotFrame(b);
}

export function encodeTrailer(footerOffset: number, footerBytes: number): Buffer {
  const b = Buffer.allocUnsafe(TRAILER_BYTES);
  TRAILER_MAGIC.copy(b, 0);
  b.writeUInt32LE(footerOffset % 2 ** 32, 8);
  b.writeUInt32LE(Math.floor(footerOffset / 2 ** 32), 12);
  b.writeUInt32LE(footerBytes, 16);
  b.writeUInt32LE(crc32c(b.subarray(0, 20)), 20);
  return b;
}

/** A snapshot file that does not parse; `actor` and `id` when some part of it still names them. */
export class SnapshotFormatError extends StorageError {
  override name = 'SnapshotFormatError';
  override readonly code: string = 'snapshot-format';
  constructor(
    readonly reason: string,
    readonly actor?: string,
    readonly id?: string,
  ) {
    super(reason);
  }
}

/** What the trailer says. */
export function decodeTrailer(b: Buffer, fileBytes: number): { footerOffset: number; footerBytes: number } {
  if (b.length < TRAILER_BYTES || !b.subarray(0, 8).equals(TRAILER_MAGIC))
    throw new SnapshotFormatError('no trailer at the end of the file (truncated or overwritten)');
  if (crc32c(b.subarray(0, 20)) !== b.readUInt32LE(20)) throw new SnapshotFormatError("the trailer's CRC32C does not match");
  const footerOffset = b.readUInt32LE(8) + b.readUInt32LE(12) * 2 ** 32;
  const footerBytes = b.readUInt32LE(16);
  if (footerOffset + footerBytes + TRAILER_BYTES !== fileBytes) {
    throw new SnapshotFormatError(
      `the trailer puts the index at bytes ${footerOffset}..${footerOffset + footerBytes}, which does not end where the trailer starts (${fileBytes - TRAILER_BYTES})`,
    );
  }
  return { footerOffset, footerBytes };
}

function checkFrame(b: Buffer, what: string): Buffer {
  if (b.length < FRAME_BYTES || b.readUInt32LE(0) !== b.length - FRAME_BYTES) throw new SnapshotFormatError(`the ${what}'s length does not match`);
  if (crc32c(b.subarray(FRAME_BYTES)) !== b.readUInt32LE(4)) throw new SnapshotFormatError(`the ${what}'s CRC32C does not match`);
  return b.subarray(FRAME_BYTES);
}

function readName(p: Buffer, o: number, what: string): [string, number] {
  if (o + 2 > p.length) throw new SnapshotFormatError(`the ${what} ends early`);
  const n = p.readUInt16LE(o);
  if (o + 2 + n > p.length) throw new SnapshotFormatError(`the ${what} ends early`);
  return [p.toString('utf8', o + 2, o + 2 + n), o + 2 + n];
}

/** The actor and id in a header frame (whole frame given). */
export function decodeHeader(frame: Buffer): { actor: string; id: string } {
  const p = checkFrame(frame, 'header');
  if (!p.subarray(0, 8).equals(HEADER_MAGIC)) throw new SnapshotFormatError('the file does not start with a Synod snapshot header');
  const [actor, o] = readName(p, 8, 'header');
  const [id, end] = readName(p, o, 'header');
  if (end !== p.length) throw new SnapshotFormatError('stray bytes in the header');
  return { actor, id };
}

export interface SnapshotIndex {
  actor: string;
  id: string;
  meta: Buffer;
  lengths: Uint32Array;
}

/** Decodes a footer frame (whole frame given). Throws SnapshotFormatError, naming actor and id when the rest is bad. */
export function decodeFooter(frame: Buffer): SnapshotIndex {
  const p = checkFrame(frame, 'index');
  if (!p.subarray(0, 8).equals(FOOTER_MAGIC)) throw new SnapshotFormatError('the index does not start with its magic');
  const [actor, o1] = readName(p, 8, 'index');
  const [id, o2] = readName(p, o1, 'index');
  const bad = (why: string): never => {
    throw new SnapshotFormatError(why, actor, id);
  };
  if (o2 + 4 > p.length) bad('the index ends early');
  const metaBytes = p.readUInt32LE(o2);
  let o = o2 + 4;
  if (o + metaBytes + 4 > p.length) bad('the index ends early');
  const meta = Buffer.allocUnsafeSlow(metaBytes);
  p.copy(meta, 0, o, o + metaBytes);
  o += metaBytes;
  const chunks = p.readUInt32LE(o);
  o += 4;
  if (o + 4 * chunks !== p.length) bad(`the index's chunk table does not fit it (${chunks} chunks)`);
  const lengths = new Uint32Array(chunks);
  for (let i = 0; i < chunks; i++, o += 4) lengths[i] = p.readUInt32LE(o);
  return { actor, id, meta, lengths };
}
