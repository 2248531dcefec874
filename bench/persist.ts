/**
 * pnpm bench:persist — what durability costs, end to end through actors.
 *
 * Three acceptor actors each persist one small state ({ballot, slot, value}) per message and
 * answer it; a driver actor in its own worker keeps WINDOW messages in flight across them and
 * counts answers. An answer leaves only after its turn's state is durable (persist before send),
 * so answers per second are acknowledged persisted turns per second. Measured side by side in
 * each run (RUNS, default 5), each in a fresh system:
 *
 *  - memory: no durability (the baseline);
 *  - shared: the SharedArrayBuffer log (durable at write; survives a worker crash);
 *  - file, group commit: one write + fdatasync for everything queued while one is in flight;
 *  - file, one fdatasync per turn (groupCommit: false).
 *
 * LAYOUT=per-actor (default): each acceptor has its own worker and its own log, as Synod deploys
 * acceptors (one actor per worker: each its own failure domain); on 2 cores that is four busy
 * threads. LAYOUT=one-worker: the three share one worker, one log and one group commit.
 * Logs live in a temp dir under the OS temp directory, removed after each run. Records per sync
 * come from replaying the logs afterwards: frames are commits, records are turns.
 *
 * One sync per turn gets a window of SYNC_WINDOW: its throughput is one turn per fdatasync per
 * log whatever the window, and a big window would only make the shutdown after it (the store's
 * close commits every queued record, one by one) last minutes.
 *
 * Snapshots (`ctx.snapshots`, file storage): 1 GiB (quick: 256 MiB) written and read back per run,
 * on the runtime alone (see persist/snapshots.ts): state.file.snapshot_write_mb_per_s,
 * state.file.recover_mb_per_s (a restart with the file out of the page cache),
 * state.file.recover_warm_mb_per_s, and the longest turns of the writing actor. SNAPSHOT_MB sets
 * the size (MiB).
 *
 * Worker heartbeats get a long timeout here: on a saturated shared machine a busy worker can go
 * unscheduled for seconds, and a heartbeat kill would lose messages mid-measurement. Liveness is
 * not what this suite measures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActorSystem, FileStore, workerStoreName, type ActorRef, type StorageKind } from '@synod/actors';
import { benchEnv, sized } from './lib/env.js';
import { Results, percentile } from './lib/results.js';
import { Acceptor, Driver, persistCodecs, type Accept, type RunResult } from './persist/actors.js';
import { SNAPSHOT_SETUP, measureSnapshot, type SnapshotRun } from './persist/snapshots.js';

const RUNS = benchEnv().runs;
const WINDOW = Number(process.env.WINDOW ?? 8_192);
const SYNC_WINDOW = Number(process.env.SYNC_WINDOW ?? 96);
const WARMUP_MS = Number(process.env.WARMUP_MS ?? sized(500, 100));
const DURATION_MS = Number(process.env.DURATION_MS ?? sized(2_000, 300));
const LAYOUT = (process.env.LAYOUT ?? 'per-actor') as 'per-actor' | 'one-worker';
const ACCEPTORS = ['acceptor-1', 'acceptor-2', 'acceptor-3'];
/** Large enough that no compaction happens during a measurement (it is measured by the store tests). */
const MAX_LOG_BYTES = 1024 * 1024 * 1024;
/** A measurement that has not answered by then is reported with the state of its actors. */
const RUN_TIMEOUT_MS = 60_000;
const HEARTBEAT_TIMEOUT_MS = 30_000;
/** Worker crashes timed per run (each in a fresh system), and how often a request is retried meanwhile. */
const RESTART_SAMPLES = Number(process.env.RESTART_SAMPLES ?? sized(10, 3));
const RESTART_POLL_MS = 5;
const SNAPSHOT_BYTES = Number(process.env.SNAPSHOT_MB ?? sized(1024, 256)) * 1024 * 1024;

interface Config {
  name: string;
  storage: StorageKind;
  groupCommit: boolean;
  window: number;
}
const configs: Config[] = [
  { name: 'memory', storage: 'memory', groupCommit: true, window: WINDOW },
  { name: 'shared', storage: 'shared', groupCommit: true, window: WINDOW },
  { name: 'file.group_commit', storage: 'file', groupCommit: true, window: WINDOW },
  { name: 'file.sync_per_turn', storage: 'file', groupCommit: false, window: SYNC_WINDOW },
];

interface Measured {
  turnsPerS: number;
  recordsPerSync: number | undefined;
}

async function measure(c: Config): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'synod-bench-persist-'));
  try {
    const sys = await ActorSystem.start({
      mode: 'workers',
      statsIntervalMs: 0,
      logLevel: 'warn',
      codecs: [persistCodecs],
      heartbeat: { timeoutMs: HEARTBEAT_TIMEOUT_MS },
      storage: { dir, groupCommit: c.groupCommit, maxLogBytes: MAX_LOG_BYTES },
    });
    const dead = new Map<string, number>();
    sys.events.on('dead-letter', (d) => dead.set(`${d.reason} ${d.messageType}`, (dead.get(`${d.reason} ${d.messageType}`) ?? 0) + 1));
    let result: RunResult;
    try {
      const acceptors: ActorRef<Accept>[] = [];
      for (const name of ACCEPTORS) {
        acceptors.push(await sys.spawn(Acceptor, { name, storage: c.storage, worker: LAYOUT === 'one-worker' ? 'acceptors' : undefined }));
      }
      const driver = await sys.spawn(Driver, { name: 'driver', worker: 'driver' });
      try {
        result = await sys.ask<RunResult>(
          driver,
          { type: 'run', acceptors, window: c.window, warmupMs: WARMUP_MS, durationMs: DURATION_MS },
          { timeoutMs: RUN_TIMEOUT_MS },
        );
      } catch (e) {
        console.error(`${c.name}: no result (${(e as Error).message}); state at that point:`);
        for (const ref of [driver, ...acceptors]) {
          const snap = await sys.inspect(ref).catch((err: Error) => err.message);
          console.error(
            ' ',
            ref.name,
            typeof snap === 'string'
              ? snap
              : JSON.stringify({ mailbox: snap.mailbox, processed: snap.processed, status: snap.status, state: snap.state }, (k, v) =>
                  k === 'acceptors' || k === 'done' ? undefined : v,
                ),
          );
        }
        console.error('  dead letters:', JSON.stringify(Object.fromEntries(dead)));
        throw e;
      }
    } finally {
      await sys.shutdown();
    }
    let recordsPerSync: number | undefined;
    if (c.storage === 'file') {
      let frames = 0;
      let records = 0;
      for (const name of ACCEPTORS.slice(0, LAYOUT === 'one-worker' ? 1 : ACCEPTORS.length)) {
        const log = FileStore.open({ dir, storeName: workerStoreName(LAYOUT === 'one-worker' ? 'acceptors' : undefined, name) });
        frames += log.recovery.frames;
        records += log.recovery.records;
        await log.close();
      }
      recordsPerSync = records / frames;
    }
    return { turnsPerS: result.turns / (result.elapsedMs / 1000), recordsPerSync };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface RestartSample {
  detectMs: number;
  serveMs: number;
}

/**
 * One worker crash, in a fresh system (so the restart is a first one: backoff `initialMs`, the
 * default 5 ms with jitter): an acceptor with `shared` state serves, its worker exits
 * (process.exit inside it), and we time the supervisor's detection (`worker:exited`) and the first
 * answer of the restarted acceptor, with its recovered state, from the moment the worker was told
 * to exit. The main thread asks again every RESTART_POLL_MS until an answer comes, so requests
 * lost with the old worker do not count as downtime twice.
 */
async function measureRestart(i: number): Promise<RestartSample> {
  const sys = await ActorSystem.start({ mode: 'workers', statsIntervalMs: 0, logLevel: 'error', codecs: [persistCodecs] });
  try {
    const ref = await sys.spawn(Acceptor, { name: 'acceptor', storage: 'shared', worker: 'restart' });
    const ballot = 1 + i;
    await sys.ask(ref, { type: 'accept', ballot, slot: 0, value: 'before' } satisfies Accept);
    let detectedAt = 0;
    sys.events.on('worker:exited', () => {
      detectedAt ||= performance.now();
    });
    // Taken before the call: the worker exits right after answering it (counts the call's ~0.1 ms).
    const crashedAt = performance.now();
    await sys.failWorker(ref.node, 'exit');
    let servedAt = 0;
    for (let attempt = 0; servedAt === 0; attempt++) {
      try {
        await sys.ask(ref, { type: 'accept', ballot, slot: 1, value: 'after' } satisfies Accept, { timeoutMs: RESTART_POLL_MS });
        // An answer from before the exit was detected came from the old worker, still winding down.
        if (detectedAt > 0) servedAt = performance.now();
      } catch (e) {
        if (attempt * RESTART_POLL_MS > 30_000)
          throw new Error(`restart benchmark: the acceptor did not serve again within 30 s of its worker's crash (${(e as Error).message})`);
      }
    }
    return { detectMs: detectedAt - crashedAt, serveMs: servedAt - crashedAt };
  } finally {
    await sys.shutdown();
  }
}

const results = new Results('persist', {
  workload: `3 acceptor actors; each message persists {ballot, slot, value} (ctx.persist) and is answered; the answer leaves once that state is durable`,
  layout:
    LAYOUT === 'one-worker'
      ? 'the 3 acceptors share one worker, so one log and one group commit; the driver has its own worker'
      : 'each acceptor has its own worker and log; the driver has its own worker',
  'offered load': `driver keeps ${WINDOW} messages in flight round robin (one sync per turn: ${SYNC_WINDOW}, see persist.ts); ${WARMUP_MS} ms warm-up, then answers counted for ${DURATION_MS} ms`,
  heartbeat: `worker heartbeat timeout ${HEARTBEAT_TIMEOUT_MS} ms (see persist.ts)`,
  turns_per_s: 'acknowledged persisted turns per second, all 3 acceptors together',
  records_per_sync: 'records (turns) per commit (one write + one fdatasync), from replaying the log afterwards',
  file: `fdatasync on ${tmpdir()} (the OS temp dir); no compaction during a run (maxLogBytes ${MAX_LOG_BYTES})`,
  restart: `per run, ${RESTART_SAMPLES} worker crashes (process.exit in the worker of an acceptor with shared state), each in a fresh system; detect = crash to worker:exited, detect_to_serve = crash to the first answer of the restarted acceptor (asked every ${RESTART_POLL_MS} ms); default supervision (first backoff 5 ms ± 20%)`,
  snapshots:
    `file storage, ${SNAPSHOT_BYTES / 2 ** 20} MiB per run in ${SNAPSHOT_SETUP.chunkBytes / 2 ** 20} MiB chunks, ${SNAPSHOT_SETUP.perTurn} per turn, by one actor in its own worker; ` +
    'write = request to the answer that leaves once the snapshot is durable (fdatasync, rename, directory fsync); ' +
    'recover = a new system spawns the actor in a new worker and it reads every chunk (CRC32C checked), spawn to answer, the file first dropped from the page cache ' +
    '(dd iflag=nocache; the run says when that was not possible); recover_warm = the same with the file in the page cache; MB = 10^6 bytes; ' +
    "turn_ms = the writing actor's turns (p99 and max)",
  'machine load': `1-minute load average ${loadavg()[0]!.toFixed(1)} when the suite started (a shared machine)`,
  runs: RUNS,
});

for (let run = 1; run <= RUNS; run++) {
  const got = new Map<string, Measured>();
  for (const c of configs) got.set(c.name, await measure(c));
  const figure = (name: string) => got.get(name)!;
  for (const c of configs) results.add(`${c.name}.turns_per_s`, 'turns/s', figure(c.name).turnsPerS);
  results.add('file.group_commit.records_per_sync', 'records', figure('file.group_commit').recordsPerSync!);
  results.add('file.sync_per_turn.records_per_sync', 'records', figure('file.sync_per_turn').recordsPerSync!);
  results.addRatio('group_commit_vs_sync_per_turn', figure('file.group_commit').turnsPerS / figure('file.sync_per_turn').turnsPerS);
  results.addRatio('shared_vs_memory', figure('shared').turnsPerS / figure('memory').turnsPerS);
  const restarts: RestartSample[] = [];
  for (let i = 0; i < RESTART_SAMPLES; i++) restarts.push(await measureRestart(i));
  const detect = restarts.map((r) => r.detectMs).sort((a, b) => a - b);
  const serve = restarts.map((r) => r.serveMs).sort((a, b) => a - b);
  results.add('restart.detect_ms_p50', 'ms', percentile(detect, 50));
  results.add('restart.detect_to_serve_ms_p50', 'ms', percentile(serve, 50));
  results.add('restart.detect_to_serve_ms_max', 'ms', serve[serve.length - 1]!);
  const snap: SnapshotRun = await measureSnapshot(SNAPSHOT_BYTES);
  results.add('state.file.snapshot_write_mb_per_s', 'MB/s', snap.writeMBps);
  results.add('state.file.recover_mb_per_s', 'MB/s', snap.recoverMBps);
  results.add('state.file.recover_warm_mb_per_s', 'MB/s', snap.recoverWarmMBps);
  results.add('state.file.snapshot_write_turn_ms_p99', 'ms', snap.turnMsP99);
  results.add('state.file.snapshot_write_turn_ms_max', 'ms', snap.turnMsMax);
  console.log(
    `run ${run}/${RUNS}: ` +
      configs.map((c) => `${c.name} ${(figure(c.name).turnsPerS / 1000).toFixed(1)} k/s`).join(', ') +
      `; group commit ${figure('file.group_commit').recordsPerSync!.toFixed(0)} records/sync` +
      `; worker crash to serving again p50 ${percentile(serve, 50).toFixed(1)} ms (detected in ${percentile(detect, 50).toFixed(1)} ms)` +
      `; snapshot ${SNAPSHOT_BYTES / 2 ** 20} MiB: write ${snap.writeMBps.toFixed(0)} MB/s, recover ${snap.recoverMBps.toFixed(0)} MB/s` +
      `${snap.evicted ? '' : ' (file still in the page cache: dd iflag=nocache failed)'}, warm ${snap.recoverWarmMBps.toFixed(0)} MB/s`,
  );
}
results.write();
