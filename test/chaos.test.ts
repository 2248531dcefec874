/**
 * Chaos on real workers: a 5-replica ReplicatedMap with `file` storage while a replica worker is
 * killed every 200-500 ms (terminated, process.exit, an uncaught error, an endless loop), never
 * more than a minority at once. Afterwards every acknowledged write is present, the history is
 * linearizable and all replicas agree. Then the whole process is SIGKILLed mid-write, restarted
 * from the same directory, and every acknowledged write survived. (The body: fixtures/chaos-run.ts.)
 */
import { test } from 'uvu';
import { chaosRun } from './fixtures/chaos-run.js';

const CHAOS_MS = Number(process.env.CHAOS_MS ?? 6_000);

test('replicated map survives worker chaos and a SIGKILL of the whole process', async () => {
  await chaosRun('multipaxos', CHAOS_MS);
});

test.run();
