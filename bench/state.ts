/**
 * pnpm bench:state — a ReplicatedMap holding a large state with `file` storage (issue 13): how
 * fast a replica writes its snapshot, how fast the cluster restarts from it, and how fast a
 * replica that missed everything catches up from a peer's snapshot while the cluster serves.
 *
 * Per run: a fresh directory; 3 replicas in workers; the map is filled through the public API
 * with STATE_BYTES of 16 KiB values (64 callers). Then:
 *  - catch-up: one follower's worker is cut off (isolated) during the whole fill, then healed under
 *    a steady load of small writes; MB/s = the state's bytes / the time until it has applied what
 *    the others have (it installs a peer's snapshot, sent in chunks, then the log after it);
 *  - snapshot write: replica 0 is asked for a snapshot now (`snapshot-now`, as an operator would);
 *    MB/s = the snapshot's bytes / the time until it is durable (its report);
 *  - recover: the whole process's cluster is shut down and started again from the directory; MB/s =
 *    the snapshot's bytes / the time from the start call until every replica restored its state.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplicatedMap } from '@synod/replicated';
import { benchEnv, progress, sized } from './lib/env.js';
import { Results } from './lib/results.js';

const env = benchEnv();
// BENCH_STATE_MIB: the state's size (default 1 GiB, quick 64 MiB); 2048 shows etcd's default quota held.
const STATE_BYTES = process.env.BENCH_STATE_MIB ? Number(process.env.BENCH_STATE_MIB) * 2 ** 20 : sized(1 << 30, 64 << 20);
const VALUE_BYTES = 16 * 1024;
const KEYS = Math.floor(STATE_BYTES / VALUE_BYTES);
const CALLERS = 256;
const MB = 1e6;

const results = new Results('state', {
  cluster: '3 replicas in workers, file storage (fdatasync), a fresh directory per run',
  state: `${KEYS} keys of ${VALUE_BYTES / 1024} KiB values (${(STATE_BYTES / 2 ** 20).toFixed(0)} MiB), written through ReplicatedMap by ${CALLERS} callers`,
  'snapshot write': 'replica 0 takes a snapshot on request; MB/s = snapshot bytes / time to its durable report',
  recover: 'the cluster is shut down and started again from the directory; MB/s = snapshot bytes / time until every replica restored',
  'catch-up': 'a follower isolated during the whole fill, then healed under steady small writes; MB/s = state bytes / time until it caught up',
  runs: env.runs,
});

type Map_ = ReplicatedMap<string>;

async function open(dir: string): Promise<Map_> {
  return ReplicatedMap.start<string>({
    replicas: 3,
    storage: 'file',
    dir,
    name: 'state',
    operationTimeoutMs: 120_000,
    maxCommandBytes: 64 * 1024,
    replica: { maxStateBytes: 8 * 1024 ** 3 },
    systemOptions: { statsIntervalMs: 0, heartbeat: { intervalMs: 100, timeoutMs: 10_000 } },
  });
}

async function replicaState(
  map: Map_,
  i: number,
): Promise<{ appliedUpTo: number; snapshotAt: number; snapshotBytes: number; restoring: unknown; writingSnapshot: number | null } | null> {
  const snap = await map.system.inspect(map.rsm.cluster.replicas[i]!).catch(() => null);
  return snap ? (snap.state as never) : null;
}

async function fill(map: Map_): Promise<void> {
  const value = 'v'.repeat(VALUE_BYTES);
  let next = 0;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      for (let k = next++; k < KEYS; k = next++) await map.set(`k${k}`, value);
    }),
  );
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>, map?: Map_): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      // Say where each replica stands, so a stuck run can be understood.
      const states = map ? await Promise.all([0, 1, 2].map((i) => replicaState(map, i))) : [];
      const where = states
        .map((x, i) =>
          x
            ? `replica ${i}: applied ${x.appliedUpTo}, snapshot at ${x.snapshotAt} (${x.snapshotBytes} bytes), restoring ${x.restoring === null ? 'no' : 'yes'}`
            : `replica ${i}: no answer`,
        )
        .join('; ');
      throw new Error(`${what}: not within ${timeoutMs} ms${where ? ` (${where})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (let k = 1; k <= env.runs; k++) {
  const dir = mkdtempSync(join(tmpdir(), 'synod-bench-state-'));
  try {
    let map = await open(dir);
    // A replica that is not the leader's misses the whole fill.
    const behind = [0, 1, 2].find((i) => i !== map.rsm.leaderIndex)!;
    const node = map.rsm.cluster.replicas[behind]!.node;
    await map.system.isolate(node);
    const t0 = performance.now();
    await fill(map);
    const fillS = (performance.now() - t0) / 1000;
    results.add('state.file.fill_mb_per_s', 'MB/s', STATE_BYTES / MB / fillS);

    // Catch-up: healed while a steady load of small writes goes on.
    let loading = true;
    const load = (async () => {
      for (let i = 0; loading; i++) await map.set(`load-${i & 255}`, 'v').catch(() => {});
    })();
    const c0 = performance.now();
    await map.system.heal(node);
    await until('catch-up', 600_000, async () => {
      const st = await Promise.all([0, 1, 2].map((i) => replicaState(map, i)));
      if (st.some((x) => !x)) return false;
      const others = st.filter((_, i) => i !== behind).map((x) => x!.appliedUpTo);
      return st[behind]!.restoring === null && st[behind]!.snapshotAt > 0 && st[behind]!.appliedUpTo >= Math.min(...others) - 64;
    });
    const catchUpS = (performance.now() - c0) / 1000;
    loading = false;
    await load;
    results.add('state.catch_up_mb_per_s', 'MB/s', STATE_BYTES / MB / catchUpS);

    // Snapshot write: a replica asked now, as an operator would.
    const before = (await replicaState(map, 0))!;
    await map.set('marker', 'x'); // something applied since its last snapshot
    const s0 = performance.now();
    map.system.send(map.rsm.cluster.replicas[0]!, { type: 'snapshot-now' });
    let snapBytes = 0;
    await until('replica 0 snapshot', 300_000, async () => {
      const st = await replicaState(map, 0);
      if (!st || st.snapshotAt <= before.snapshotAt || st.writingSnapshot !== null) return false;
      snapBytes = st.snapshotBytes;
      return true;
    });
    const writeS = (performance.now() - s0) / 1000;
    results.add('state.file.snapshot_write_mb_per_s', 'MB/s', snapBytes / MB / writeS);

    // Recover: the cluster is shut down and started again from the directory.
    await map.shutdown();
    const r0 = performance.now();
    map = await open(dir);
    let restoredBytes = 0;
    await until(
      'restart',
      300_000,
      async () => {
        const st = await Promise.all([0, 1, 2].map((i) => replicaState(map, i)));
        if (st.some((x) => !x || x.restoring !== null || x.snapshotAt === 0)) return false;
        restoredBytes = Math.min(...st.map((x) => x!.snapshotBytes));
        return true;
      },
      map,
    );
    const recoverS = (performance.now() - r0) / 1000;
    results.add('state.file.recover_mb_per_s', 'MB/s', restoredBytes / MB / recoverS);
    // What was written is there.
    const probe = await map.get(`k${KEYS - 1}`);
    if (probe?.length !== VALUE_BYTES)
      throw new Error(`after the restart, key k${KEYS - 1} holds ${probe?.length ?? 'nothing'}, expected ${VALUE_BYTES} characters`);
    await map.shutdown();
    progress(
      k,
      env.runs,
      `fill ${(STATE_BYTES / MB / fillS).toFixed(0)} MB/s, catch-up ${(STATE_BYTES / MB / catchUpS).toFixed(0)} MB/s, ` +
        `snapshot ${(snapBytes / MB / writeS).toFixed(0)} MB/s, recover ${(restoredBytes / MB / recoverS).toFixed(0)} MB/s`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
results.write();
