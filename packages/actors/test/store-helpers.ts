/**
 * Helpers shared by the store tests (not a test file itself). Their systems use a long heartbeat
 * timeout: a worker flooded with turns on a saturated machine can miss heartbeats for seconds,
 * and liveness is not what these tests check.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix = 'synod-store-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function until(what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!(await fn())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Starts fixtures/store-child.ts in a child process; `onMessage` gets its reports. */
export function startChild(
  dir: string,
  scenario: 'acks' | 'probe' | 'hold' | 'snapshots',
  onMessage: (m: any) => void,
): { child: ChildProcess; ready: Promise<void>; exited: Promise<void> } {
  const child = fork(new URL('./fixtures/store-child.ts', import.meta.url).pathname, [dir, scenario], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let readyResolve!: () => void;
  const ready = new Promise<void>((r) => {
    readyResolve = r;
  });
  child.on('message', (m: any) => {
    if (m?.ready) readyResolve();
    else onMessage(m);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { child, ready, exited };
}
