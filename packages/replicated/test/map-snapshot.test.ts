/**
 * The map machine's snapshot, written and restored in chunks as a replica does it: a replica
 * restores its own snapshot through one reused buffer (`chunkView`), so the restored values must
 * be copies, never views of that buffer (a Buffer's `slice` copies nothing).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mapMachine, type MapState } from '@synod/replicated';

const core = mapMachine.core;
const enc = (c: Parameters<typeof mapMachine.client.encodeCommand>[0]) => mapMachine.client.encodeCommand(c, 1 << 20);

test('restored through one reused Buffer, every value is its own copy, and size and digest are those of the original', () => {
  const s = core.initial() as MapState;
  for (let i = 0; i < 200; i++) core.apply(s, enc({ op: 'set', key: `k${i}`, value: `value ${i} `.repeat(20) }));
  const source = core.snapshot(s);
  const staging = Buffer.alloc(4096);
  const sink = core.restore();
  let chunks = 0;
  for (let chunk = source.next(512); chunk !== null; chunk = source.next(512)) {
    staging.fill(0xee);
    staging.set(chunk);
    sink.add(staging.subarray(0, chunk.length));
    chunks++;
  }
  staging.fill(0xee); // what a next read would do to the buffer
  const r = sink.finish() as MapState;
  assert.ok(chunks > 10, `many chunks (${chunks})`);
  assert.is(r.keys.size, 200);
  const get = (m: MapState, key: string) => Buffer.from(core.query(m, mapMachine.client.encodeQuery({ op: 'get', key }, 1 << 20)));
  for (let i = 0; i < 200; i++) assert.equal(get(r, `k${i}`), get(s, `k${i}`), `value of k${i}`);
  assert.is(core.size!(r), core.size!(s));
  assert.is(core.digest!(r), core.digest!(s));
});

test.run();
