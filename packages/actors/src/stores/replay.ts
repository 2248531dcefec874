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
 *
 * `published`: every frame below `end` was made whole before `end` moved past it (the `shared`
 * log), so its frames carry no checksum and a torn tail cannot happen: a bad frame is damage.
 */
export function replayFrames(buf: Buffer, end: number, source: string, index: LiveIndex, published = false): ReplayResult {
  let offset = 0;
  let frames = 0;
  let records = 0;
  while (offset < end) {
    const f = readFrame(buf, offset, end, !published);
    if (!f.ok) {
      if (published) throw damagedMemory(source, offset, f.reason);
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
      if (published) throw damagedMemory(source, offset, (e as Error).message);
      throw new StorageError(
        `${source}: the frame at byte offset ${offset} is whole but its records cannot be read ` +
          `(${(e as Error).message}); it was written by an incompatible version of Synod or the file is not a Synod log`,
      );
    }
    frames++;
    offset = f.end;
  }
  return { end: offset, frames, records, torn: null };
}

/** A published frame that does not read: no crash leaves one, so something overwrote the memory. */
function damagedMemory(source: string, offset: number, reason: string): StorageError {
  return new StorageError(
    `${source} is damaged at byte offset ${offset} (${reason}): its frames are published only once whole, so something in ` +
      'this process overwrote that memory; restart the actor system',
  );
}
