/**
 * Frames of the network transport: `u32 length | u8 type | body` (length counts type and body).
 * A frame is bounded (`maxFrameBytes`); anything else on the wire is refused by the reader.
 */

/** What a frame carries. */
export const enum FrameType {
  /** Dialer → listener, first frame: who I am (JSON, see handshake.ts). */
  Hello = 1,
  /** Listener → dialer: the hello was accepted (JSON). */
  Welcome = 2,
  /** Either side: why the connection is refused, just before it is closed (JSON). */
  Refuse = 3,
  /** A batch of envelopes (see net-transport.ts). */
  Batch = 4,
}

export const FRAME_HEADER_BYTES = 5;
/** Frames before the handshake is done are small: a peer that has not said who it is gets no more. */
export const MAX_HANDSHAKE_FRAME_BYTES = 4096;

/** A frame that breaks the rules: the connection that carried it is closed. */
export class FrameError extends Error {}

/** The header of a frame of `bodyBytes`. */
export function frameHeader(type: FrameType, bodyBytes: number): Buffer {
  const h = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  h.writeUInt32LE(bodyBytes + 1, 0);
  h[4] = type;
  return h;
}

/** A whole JSON frame (handshake frames). */
export function jsonFrame(type: FrameType, value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value));
  return Buffer.concat([frameHeader(type, body.length), body]);
}

/** Cuts a byte stream into frames, refusing oversized ones and unknown types. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  private off = 0;

  constructor(public maxFrameBytes: number) {}

  /** Adds bytes from the socket. */
  push(chunk: Buffer): void {
    if (this.off >= this.buf.length) {
      this.buf = chunk;
      this.off = 0;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.off), chunk]);
      this.off = 0;
    }
  }

  /** The next whole frame, or null until more bytes arrive. Throws FrameError on a frame that breaks the rules. */
  next(): { type: FrameType; body: Uint8Array } | null {
    const avail = this.buf.length - this.off;
    if (avail < FRAME_HEADER_BYTES) return null;
    const length = this.buf.readUInt32LE(this.off);
    if (length < 1 || length + 4 > this.maxFrameBytes) {
      throw new FrameError(`a frame of ${length + 4} bytes is over the limit of ${this.maxFrameBytes} (maxFrameBytes)`);
    }
    const type = this.buf[this.off + 4]!;
    if (type < FrameType.Hello || type > FrameType.Batch) throw new FrameError(`unknown frame type ${type}`);
    if (avail < length + 4) return null;
    const body = this.buf.subarray(this.off + FRAME_HEADER_BYTES, this.off + 4 + length);
    this.off += 4 + length;
    return { type: type as FrameType, body };
  }
}
