/**
 * Chaos on real workers with Raft: the chaos test of chaos.test.ts (a 5-replica ReplicatedMap,
 * `file` storage, replica workers killed every 200-500 ms in every way a worker dies, never more
 * than a minority at once; then a SIGKILL of the whole process mid-write) with `protocol: 'raft'`.
 * Afterwards every acknowledged write is present, the history is linearizable, all replicas agree,
 * and every acknowledged write survived the SIGKILL.
 */
import { test } from 'uvu';
import { chaosRun } from './fixtures/chaos-run.js';

const CHAOS_MS = Number(process.env.CHAOS_MS ?? 6_000);

test('replicated map on Raft survives worker chaos and a SIGKILL of the whole process', async () => {
  await chaosRun('raft', CHAOS_MS);
});

test.run();
