/**
 * The snapshot part of the persist suite: `ctx.snapshots` of `file` storage alone (no protocol),
 * 1 GiB (quick: 256 MiB) per run.
 *
 *  - write: an actor in its own worker appends 1 MiB chunks, 4 per turn, and finishes; the time
 *    from the request to its answer, which leaves once the snapshot is durable (fdatasync,
 *    rename, directory fsync), gives state.file.snapshot_write_mb_per_s;
 *  - recover (a restart from the snapshot on disk): the system is shut down, the file is dropped
 *    from the page cache (`dd iflag=nocache`, when dd can), a new system spawns the actor in a new
 *    worker (its store opens, indexing the snapshot from its trailer) and it reads every chunk,
 *    each checked against its CRC32C: state.file.recover_mb_per_s, spawn to answer. Then once
 *    more with the file in the page cache: state.file.recover_warm_mb_per_s.
 *
 * MB = 10^6 bytes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActorSystem, workerStoreName } from '@synod/actors';
import { SnapshotBench, type ReadResult, type WriteResult } from './snapshot-actor.js';

export interface SnapshotRun {
  writeMBps: number;
  recoverMBps: number;
  recoverWarmMBps: number;
  /** Whether the file was dropped from the page cache before the (cold) recovery. */
  evicted: boolean;
  turnMsP99: number;
  turnMsMax: number;
}

const CHUNK_BYTES = 1024 * 1024;
const PER_TURN = 4;
const TIMEOUT_MS = 300_000;

function start(dir: string): Promise<ActorSystem> {
  return ActorSystem.start({ mode: 'workers', statsIntervalMs: 0, logLevel: 'warn', spareWorkers: 0, heartbeat: { timeoutMs: 30_000 }, storage: { dir } });
}

/** Drops a file's pages from the page cache (posix_fadvise DONTNEED through dd); false when that is not possible here. */
function evict(file: string): boolean {
  try {
    execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function recover(dir: string, bytes: number): Promise<number> {
  const t0 = performance.now();
  const sys = await start(dir);
  try {
    const a = await sys.spawn(SnapshotBench, { name: 'snap', storage: 'file' });
    const r = await sys.ask<ReadResult>(a, { type: 'read', id: 'big' }, { timeoutMs: TIMEOUT_MS });
    if (r.bytes !== bytes) throw new Error(`read back ${r.bytes} bytes of ${bytes}`);
    return bytes / 1e6 / ((performance.now() - t0) / 1000);
  } finally {
    await sys.shutdown();
  }
}

export async function measureSnapshot(bytes: number): Promise<SnapshotRun> {
  const dir = mkdtempSync(join(tmpdir(), 'synod-bench-snapshot-'));
  try {
    const sys = await start(dir);
    let w: WriteResult;
    let writeMBps: number;
    try {
      const a = await sys.spawn(SnapshotBench, { name: 'snap', storage: 'file' });
      const t0 = performance.now();
      w = await sys.ask<WriteResult>(a, { type: 'write', id: 'big', bytes, chunkBytes: CHUNK_BYTES, perTurn: PER_TURN }, { timeoutMs: TIMEOUT_MS });
      writeMBps = bytes / 1e6 / ((performance.now() - t0) / 1000);
    } finally {
      await sys.shutdown();
    }
    const snapDir = join(dir, `${workerStoreName(undefined, 'snap')}.snap`);
    const file = join(snapDir, readdirSync(snapDir).find((n) => n.endsWith('.snap'))!);
    const evicted = evict(file);
    const recoverMBps = await recover(dir, bytes);
    const recoverWarmMBps = await recover(dir, bytes);
    return { writeMBps, recoverMBps, recoverWarmMBps, evicted, turnMsP99: w.turnMsP99, turnMsMax: w.turnMsMax };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const SNAPSHOT_SETUP = {
  chunkBytes: CHUNK_BYTES,
  perTurn: PER_TURN,
};
