/**
 * Memory for a map's large values: a copy freed for good (no snapshot can read it) gives its
 * buffer to the next copy of the same length out of shared memory, instead of to the collector,
 * within a bound; a view of a command is never reused.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LargeValues, MAX_RECYCLED_BYTES } from '../src/large-values.ts';

/** `n` bytes of `fill` in shared memory at offset `at`, as a slot in an arena holds a value. */
function sharedValue(n: number, fill: number, at = 3): Uint8Array {
  const b = new Uint8Array(new SharedArrayBuffer(n + 16), at, n);
  b.fill(fill);
  return b;
}

test("a freed copy's buffer takes the next copy of the same length, with the new bytes at the new alignment", () => {
  const memory = new LargeValues();
  const first = memory.copyOut(sharedValue(70_000, 1), 0, 70_000);
  memory.drop(first);
  memory.recycle(first);
  const src = sharedValue(70_000, 2, 5);
  const second = memory.copyOut(src, 0, 70_000);
  assert.is(second.buffer, first.buffer, 'the freed buffer is reused');
  assert.is(second.byteOffset & 7, src.byteOffset & 7, 'at the source alignment');
  assert.ok(
    second.every((x) => x === 2),
    'holds the new value',
  );
  const third = memory.copyOut(sharedValue(70_000, 3), 0, 70_000);
  assert.is.not(third.buffer, first.buffer, 'a buffer serves one copy at a time');
  const other = memory.copyOut(sharedValue(50_000, 4), 0, 50_000);
  assert.is.not(other.buffer, first.buffer, 'only copies of the same length');
});

test('views of commands are not recycled, and recycled memory is bounded', () => {
  const memory = new LargeValues();
  const command = new Uint8Array(80_000);
  const view = memory.keep(command, 100, 70_100);
  memory.drop(view);
  memory.recycle(view);
  assert.is.not(memory.copyOut(sharedValue(70_000, 1), 0, 70_000).buffer, command.buffer, 'a view is not reused');
  const n = 1 << 20;
  const copies = Array.from({ length: MAX_RECYCLED_BYTES / n + 8 }, () => memory.copyOut(sharedValue(n, 5), 0, n));
  for (const c of copies) {
    memory.drop(c);
    memory.recycle(c);
  }
  const kept = new Set(copies.map((c) => c.buffer));
  let reused = 0;
  for (let i = 0; i < copies.length; i++) if (kept.has(memory.copyOut(sharedValue(n, 6), 0, n).buffer)) reused++;
  assert.ok(reused > 0 && reused * (n + 7) <= MAX_RECYCLED_BYTES, `${reused} recycled copies of 1 MiB: within ${MAX_RECYCLED_BYTES} bytes`);
});

test.run();
