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
 * LAYOUT=one-worker (default): the three acceptors share one worker and so one log, as acceptors
 * of one node would. LAYOUT=per-actor: each has its own worker and log (on 2 cores that is four
 * busy threads). Logs live in a temp dir under the OS temp directory, removed after each run.
 * Records per sync come from replaying the log afterwards: frames are commits, records are turns.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActorSystem, FileStore, type ActorRef, type StorageKind } from '@synod/actors';
import { Results } from './lib/results.js';
import { Acceptor, Driver, persistCodecs, type Accept, type RunResult } from './persist/actors.js';

const RUNS = Number(process.env.RUNS ?? 5);
const WINDOW = Number(process.env.WINDOW ?? 3_072);
const WARMUP_MS = Number(process.env.WARMUP_MS ?? 500);
const DURATION_MS = Number(process.env.DURATION_MS ?? 2_000);
const LAYOUT = (process.env.LAYOUT ?? 'one-worker') as 'one-worker' | 'per-actor';
const ACCEPTORS = ['acceptor-1', 'acceptor-2', 'acceptor-3'];
/** Large enough that no compaction happens during a measurement (it is measured by the store tests). */
const MAX_LOG_BYTES = 1024 * 1024 * 1024;

interface Config { name: string; storage: StorageKind; groupCommit: boolean }
const configs: Config[] = [
  { name: 'memory', storage: 'memory', groupCommit: true },
  { name: 'shared', storage: 'shared', groupCommit: true },
  { name: 'file.group_commit', storage: 'file', groupCommit: true },
  { name: 'file.sync_per_turn', storage: 'file', groupCommit: false },
];

interface Measured { turnsPerS: number; recordsPerSync: number | undefined }

async function measure(c: Config): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'synod-bench-persist-'));
  try {
    const sys = await ActorSystem.start({
      mode: 'workers', statsIntervalMs: 0, logLevel: 'warn', codecs: [persistCodecs],
      storage: { dir, groupCommit: c.groupCommit, maxLogBytes: MAX_LOG_BYTES },
    });
    let result: RunResult;
    try {
      const acceptors: ActorRef<Accept>[] = [];
      for (const name of ACCEPTORS) {
        acceptors.push(await sys.spawn(Acceptor, { name, storage: c.storage, worker: LAYOUT === 'one-worker' ? 'acceptors' : undefined }));
      }
      const driver = await sys.spawn(Driver, { name: 'driver', worker: 'driver' });
      result = await sys.ask<RunResult>(driver, { type: 'run', acceptors, window: WINDOW, warmupMs: WARMUP_MS, durationMs: DURATION_MS }, { timeoutMs: 120_000 });
    } finally {
      await sys.shutdown();
    }
    let recordsPerSync: number | undefined;
    if (c.storage === 'file') {
      let frames = 0;
      let records = 0;
      for (const storeName of LAYOUT === 'one-worker' ? ['acceptors'] : ACCEPTORS) {
        const log = FileStore.open({ dir, storeName });
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

const results = new Results('persist', {
  'workload': `3 acceptor actors; each message persists {ballot, slot, value} (ctx.persist) and is answered; the answer leaves once that state is durable`,
  'layout': LAYOUT === 'one-worker'
    ? 'the 3 acceptors share one worker, so one log and one group commit; the driver has its own worker'
    : 'each acceptor has its own worker and log; the driver has its own worker',
  'load': `driver keeps ${WINDOW} messages in flight round robin; ${WARMUP_MS} ms warm-up, then answers counted for ${DURATION_MS} ms`,
  'turns_per_s': 'acknowledged persisted turns per second, all 3 acceptors together',
  'records_per_sync': 'records (turns) per commit (one write + one fdatasync), from replaying the log afterwards',
  'file': `fdatasync on ${tmpdir()} (the OS temp dir); no compaction during a run (maxLogBytes ${MAX_LOG_BYTES})`,
  'runs': RUNS,
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
  // restart.detect_to_serve_ms_p50 (supervision: a worker crash detected and its actors serving
  // again) is measured here too, in this loop, once the restart benchmark is added to this suite.
  console.log(`run ${run}/${RUNS}: ` + configs.map((c) => `${c.name} ${(figure(c.name).turnsPerS / 1000).toFixed(1)} k/s`).join(', ') +
    `; group commit ${figure('file.group_commit').recordsPerSync!.toFixed(0)} records/sync`);
}
results.write();
