import type { LiveIndex } from './live-index.js';
import { LogDamagedError, StorageError } from './errors.js';
import { findWholeFrame, frameRecords, readFrame } from './frame.js';
import { RecordKind, decodeRecord } from './record.js';

/** What replaying a log found. */
export interface ReplayResult {
  /** Where the last whole frame ends: everything after it is a torn tail to cut off. */
  end: number;
  frames: number;
  records: number;
  /** Why the tail was cut, when it was. */
  torn: { offset: number; reason: string } | null;
}

/**
 * Replays the frames of `buf[0..end)` into `index`. A bad frame with nothing whole after it is a
 * torn tail (a crash mid-write): replay stops there. A bad frame with a whole frame after it is
 * damage: `LogDamagedError` naming `source` and the offset. Values are copied out of `buf`.
 */
export function replayFrames(buf: Buffer, end: number, source: string, index: LiveIndex): ReplayResult {
  let offset = 0;
  let frames = 0;
  let records = 0;
  while (offset < end) {
    const f = readFrame(buf, offset, end);
    if (!f.ok) {
      const next = findWholeFrame(buf, offset, end, f.claimedEnd);
      if (next >= 0) throw new LogDamagedError(source, offset, f.reason, next);
      return { end: offset, frames, records, torn: { offset, reason: f.reason } };
    }
    try {
      for (const r of frameRecords(f.payload)) {
        const rec = decodeRecord(r);
        index.apply(rec);
        if (rec.kind !== RecordKind.Padding) records++;
      }
    } catch (e) {
      throw new StorageError(
        `${source}: the frame at byte offset ${offset} has a valid checksum but its records cannot be read ` +
          `(${(e as Error).message}); it was written by an incompatible version of Synod or the file is not a Synod log`,
      );
    }
    frames++;
    offset = f.end;
  }
  return { end: offset, frames, records, torn: null };
}
