/**
 * A system that shut down leaves nothing behind in the process: its workers' shared memory (arenas,
 * rings, doorbells, `shared` stores: gigabytes of address space per system) is collected. A
 * benchmark or a test process that starts systems one after another had kept every one of them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ActorSystem } from '@synod/actors';
import { BlobActor, bytesCodecs } from './fixtures/bytes.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Array buffers (shared ones included) the process holds once collected. */
async function heldBytes(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  return process.memoryUsage().arrayBuffers;
}

async function startUseAndStop(): Promise<void> {
  const sys = await ActorSystem.start({ mode: 'workers', statsIntervalMs: 0, codecs: [bytesCodecs], transport: 'rings', rings: { arenaBytes: 64 << 20 } });
  const a = await sys.spawn(BlobActor, { name: 'a' });
  const b = await sys.spawn(BlobActor, { name: 'b' });
  await sys.ask(a, { type: 'emit', to: b, from: 0, count: 4, size: 64 * 1024 });
  await sys.ask(b, { type: 'report' });
  await sys.shutdown();
}

test('systems started and shut down one after another do not pile up their shared memory', async () => {
  await startUseAndStop();
  const after1 = await heldBytes();
  for (let i = 0; i < 3; i++) await startUseAndStop();
  const after4 = await heldBytes();
  // Each system takes over 128 MiB (two workers' 64 MiB arenas alone).
  assert.ok(after4 - after1 < 64 << 20, `held ${(after1 / 2 ** 20).toFixed(0)} MiB after one system, ${(after4 / 2 ** 20).toFixed(0)} MiB after four`);
});

test.run();
