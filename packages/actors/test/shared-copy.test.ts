/**
 * Copies to and from shared memory (shared-copy.ts): whatever the two ends' alignment, kind
 * (shared or plain) and length, including lengths past the scratch buffer, the destination gets
 * exactly the source's bytes and nothing around them changes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { alignedStart, copySharedBytes } from '../dist/shared-copy.js';

function filled(n: number, shared: boolean, seed: number): Uint8Array {
  const a = new Uint8Array(shared ? new SharedArrayBuffer(n) : new ArrayBuffer(n));
  for (let i = 0; i < n; i++) a[i] = (i * 31 + seed) & 0xff;
  return a;
}

const LENGTHS = [0, 1, 63, 64, 2047, 2048, 4097, 65_536, 65_536 * 2 + 13];

for (const [srcShared, dstShared] of [
  [true, false],
  [false, true],
  [true, true],
  [false, false],
] as const) {
  test(`copySharedBytes: ${srcShared ? 'shared' : 'plain'} to ${dstShared ? 'shared' : 'plain'}, every alignment and length`, () => {
    for (const n of LENGTHS) {
      for (const srcOff of [0, 3, 8]) {
        for (const dstOff of [0, 5, 16]) {
          const src = filled(n + 16, srcShared, 7).subarray(srcOff, srcOff + n);
          const dstAll = filled(n + 32, dstShared, 200);
          const before = dstAll.slice();
          const dst = dstAll.subarray(1); // a view: its own byteOffset counts too
          copySharedBytes(dst, dstOff, src);
          const at = 1 + dstOff;
          for (let i = 0; i < dstAll.length; i++) {
            const want = i >= at && i < at + n ? src[i - at] : before[i];
            if (dstAll[i] !== want) assert.unreachable(`n ${n}, src +${srcOff}, dst +${dstOff}: byte ${i} is ${dstAll[i]}, not ${want}`);
          }
        }
      }
    }
  });
}

test('alignedStart: the first offset at or after `from` that shares the source byte’s alignment modulo 8', () => {
  const src = new Uint8Array(new SharedArrayBuffer(64)).subarray(5);
  for (let from = 0; from < 16; from++) {
    const at = alignedStart(from, src, 2);
    assert.ok(at >= from && at < from + 8, `from ${from}: ${at}`);
    assert.is((at - (src.byteOffset + 2)) & 7, 0, `from ${from}: ${at}`);
  }
});

test.run();
