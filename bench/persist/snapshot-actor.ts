/** The actor of the snapshot benchmark (persist suite): writes or reads one large snapshot. */
import { defineActor, type ReplyToken, type SnapshotWriter } from '@synod/actors';

export type SnapshotBenchMsg =
  /** Writes `bytes` in chunks of `chunkBytes`, `perTurn` chunks per turn; answers once the snapshot is durable. */
  | { type: 'write'; id: string; bytes: number; chunkBytes: number; perTurn: number }
  | { type: 'more' }
  /** Reads every chunk of snapshot `id` (each checked against its CRC32C by the store); answers what it read. */
  | { type: 'read'; id: string };

export interface WriteResult {
  bytes: number;
  chunks: number;
  turns: number;
  turnMsP99: number;
  turnMsMax: number;
}
export interface ReadResult {
  bytes: number;
  chunks: number;
}

interface Job {
  w: SnapshotWriter;
  left: number;
  chunkBytes: number;
  perTurn: number;
  token: ReplyToken | undefined;
  turnMs: number[];
}

/** One chunk's worth of bytes that are not all alike, made once per worker and appended over and over (append copies it). */
let pattern: Buffer | null = null;
function chunkBytesOf(n: number): Buffer {
  if (pattern === null || pattern.length < n) {
    pattern = Buffer.allocUnsafe(n);
    for (let i = 0; i + 4 <= n; i += 4) pattern.writeUInt32LE(Math.imul(i + 1, 2654435761) >>> 0, i);
  }
  return pattern.subarray(0, n);
}

export const SnapshotBench = defineActor<{ job: Job | null }, SnapshotBenchMsg>({
  module: import.meta.url,
  init: () => ({ job: null }),
  receive(s, msg, ctx) {
    switch (msg.type) {
      case 'write':
        s.job = { w: ctx.snapshots.create(msg.id), left: msg.bytes, chunkBytes: msg.chunkBytes, perTurn: msg.perTurn, token: ctx.replyToken(), turnMs: [] };
        ctx.send(ctx.self, { type: 'more' });
        break;
      case 'more': {
        const j = s.job!;
        const t0 = performance.now();
        for (let k = 0; k < j.perTurn && j.left > 0; k++) {
          const n = Math.min(j.left, j.chunkBytes);
          j.w.append(chunkBytesOf(n));
          j.left -= n;
        }
        if (j.left > 0) {
          j.turnMs.push(performance.now() - t0);
          ctx.send(ctx.self, { type: 'more' });
          break;
        }
        j.w.finish(Buffer.from(JSON.stringify({ bytes: j.w.bytes })));
        j.turnMs.push(performance.now() - t0);
        const sorted = j.turnMs.sort((a, b) => a - b);
        // Held until the snapshot is durable (persist before send): the answer times the whole write.
        if (j.token)
          ctx.respond(j.token, {
            bytes: j.w.bytes,
            chunks: j.w.chunks,
            turns: sorted.length,
            turnMsP99: sorted[Math.floor(sorted.length * 0.99)]!,
            turnMsMax: sorted[sorted.length - 1]!,
          } satisfies WriteResult);
        s.job = null;
        break;
      }
      case 'read': {
        const r = ctx.snapshots.open(msg.id);
        if (!r) throw new Error(`no snapshot ${msg.id}`);
        let bytes = 0;
        for (let i = 0; i < r.chunks; i++) bytes += r.chunk(i).byteLength;
        ctx.reply({ bytes, chunks: r.chunks } satisfies ReadResult);
        break;
      }
    }
  },
});
