/**
 * Chaos on real workers, on Multi-Paxos and on Raft: a 5-replica ReplicatedMap with `file`
 * storage while a replica worker is killed every 200-500 ms (terminated, process.exit, an uncaught
 * error, an endless loop), never more than a minority at once. Afterwards every acknowledged write
 * is present, the history is linearizable and all replicas agree. Then the whole process is
 * SIGKILLed mid-write, restarted from the same directory, and every acknowledged write survived.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const script = fileURLToPath(new URL('./fixtures/chaos-node.ts', import.meta.url));
const CHAOS_MS = Number(process.env.CHAOS_MS ?? 6_000);

function start(args: string[]): ChildProcess {
  return fork(script, args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function next<T>(child: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${type}" from the child within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: { type: string }) => {
      if (m.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(m as T);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the child exited (${code}) before "${type}"`)); });
  });
}

for (const protocol of ['multipaxos', 'raft'] as const) test(`${protocol}: replicated map survives worker chaos and a SIGKILL of the whole process`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'synod-chaos-'));
  try {
    const child = start(['chaos', dir, String(CHAOS_MS), protocol]);
    const acked = new Map<string, string>();
    child.on('message', (m: { type: string; key?: string; value?: string }) => { if (m.type === 'acked') acked.set(m.key!, m.value!); });
    const done = await next<{ kills: string[]; restarts: number; agree: boolean; applied: number[]; missing: string[]; acked: number; operations: number; verdict: string; explanation: string }>(child, 'chaos-done', CHAOS_MS + 120_000);
    console.log(`${protocol} chaos: ${done.kills.length} worker kills (${done.kills.join(' ')}), ${done.restarts} actor restarts, ${done.operations} operations, ${done.acked} unique writes acknowledged`);
    assert.ok(done.kills.length >= 4, 'workers were killed, in every way');
    assert.ok(['terminate', 'exit', 'uncaught', 'hang'].every((k) => done.kills.some((x) => x.startsWith(k))));
    assert.equal(done.missing, [], 'every acknowledged write is present');
    assert.ok(done.agree, `all replicas agree (applied up to ${done.applied.join(', ')})`);
    assert.is(done.verdict, 'linearizable', done.explanation);

    // Let some writes be acknowledged, then kill the process mid-write.
    for (let i = 0; i < 600 && acked.size < 30; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(acked.size >= 30, `writes go on after the chaos (${acked.size} acknowledged)`);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const verifier = start(['verify', dir, protocol, JSON.stringify([...acked.keys()])]);
    const { found } = await next<{ found: Record<string, unknown> }>(verifier, 'verified', 120_000);
    const lost = [...acked].filter(([k, v]) => found[k] !== v).map(([k, v]) => `${k}: acknowledged ${v}, found ${JSON.stringify(found[k])}`);
    assert.equal(lost, [], `every acknowledged write survived the SIGKILL (${acked.size} checked)`);
  } finally {
    if (process.env.KEEP_CHAOS_DIR) console.log('kept', dir);
    else rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
