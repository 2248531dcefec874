/**
 * `file` survives a killed process: a child acknowledges durable writes as fast as it can (with
 * compactions going on), is killed with SIGKILL mid-write, and every write it acknowledged is in
 * the log reopened here.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { FileStore, workerStoreName } from '@synod/actors';
import { startChild, tempDir, until } from './store-helpers.ts';

test('every write acknowledged before SIGKILL is in the log', async () => {
  const dir = tempDir();
  const acked: number[] = [];
  const { child, ready, exited } = startChild(dir, 'acks', (m) => {
    if (typeof m.acked === 'number') acked.push(m.acked);
  });
  try {
    await ready;
    await until('3000 acknowledged writes', () => acked.length >= 3000, 30_000);
    child.kill('SIGKILL');
    await exited;
    const store = FileStore.open({ dir, storeName: workerStoreName(undefined, 'k') });
    try {
      assert.is(store.recovery.predecessor, 'dead-process');
      const entries = store.load('k')!.entries;
      const missing = acked.filter((i) => !((entries.get(i) as { i: number } | undefined) && (entries.get(i) as { i: number }).i === i));
      assert.equal(missing.slice(0, 10), [], `${missing.length} of ${acked.length} acknowledged writes missing`);
      assert.ok(entries.size >= acked.length);
    } finally {
      await store.close();
    }
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
