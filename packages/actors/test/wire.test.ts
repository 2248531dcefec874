/**
 * WireWriter.value / WireReader.value: the compact encoding of plain data that binary codecs use
 * for user values. Whatever goes in must come out as structured clone would give it back.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WireReader, WireWriter } from '@synod/actors/internals';

function roundtrip(v: unknown): unknown {
  const w = new WireWriter(16);
  w.value(v);
  const r = new WireReader();
  const bytes = new Uint8Array(w.take());
  r.buf = bytes;
  r.view = new DataView(bytes.buffer);
  r.pos = 0;
  const out = r.value();
  assert.is(r.pos, bytes.length, 'the reader consumed exactly what was written');
  return out;
}

test('numbers, strings, booleans, null and undefined come back as they were', () => {
  const values = [
    0,
    1,
    127,
    128,
    2 ** 31,
    2 ** 53 - 1,
    -1,
    -(2 ** 53 - 1),
    1.5,
    -2.25,
    NaN,
    Infinity,
    -Infinity,
    '',
    'a',
    'héllo wörld ✓',
    'x'.repeat(5000),
    true,
    false,
    null,
    undefined,
  ];
  for (const v of values) assert.ok(Object.is(roundtrip(v), v), `value ${String(v).slice(0, 20)}`);
  assert.ok(Object.is(roundtrip(-0), -0), 'negative zero stays negative');
});

test('arrays, nested objects and byte arrays come back equal, and are copies', () => {
  const bytes = new Uint8Array([1, 2, 3, 255]);
  const v = { a: [1, 'two', { three: [3] }], b: { c: null, d: undefined }, bytes, empty: {}, list: [] };
  const out = roundtrip(v) as typeof v;
  assert.equal(out, v);
  assert.ok(out.bytes instanceof Uint8Array);
  assert.is.not(out.bytes, bytes);
  assert.ok(Object.keys(out.b).includes('d'), 'an undefined property is kept, as structured clone does');
});

test('Map, Set, Date and bigint fall back to structured clone', () => {
  const v = {
    m: new Map<unknown, unknown>([
      ['k', 1],
      [2, { x: 1 }],
    ]),
    s: new Set([1, 'a']),
    d: new Date(5),
    n: 2n ** 70n,
  };
  const out = roundtrip(v) as typeof v;
  assert.ok(out.m instanceof Map && out.m.get('k') === 1);
  assert.equal(out.m.get(2), { x: 1 });
  assert.ok(out.s instanceof Set && out.s.has('a'));
  assert.ok(out.d instanceof Date && out.d.getTime() === 5);
  assert.is(out.n, 2n ** 70n);
});

test('a "__proto__" key is data, not a prototype', () => {
  const v = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as Record<string, unknown>;
  const out = roundtrip(v) as Record<string, unknown>;
  assert.equal(Object.keys(out), ['__proto__', 'ok']);
  assert.is((out as { polluted?: boolean }).polluted, undefined);
  assert.is(Object.getPrototypeOf(out), Object.prototype);
});

test('a corrupt tag is refused with an error naming the byte', () => {
  const r = new WireReader();
  r.buf = new Uint8Array([250]);
  r.view = new DataView(r.buf.buffer);
  r.pos = 0;
  assert.throws(() => r.value(), /corrupt value tag at byte 0/);
});

test.run();
