import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { CanonicalError, bytesEqual, decode, encode, equal, hash, hashBytes } from '../src/index.ts';

const SEED = Number(process.env.CANONICAL_SEED ?? Date.now() % 1_000_000);
const replay = `CANONICAL_SEED=${SEED} npx -y pnpm@12.4.2 test canonical`;

/** Plain data of every supported kind. */
const plain = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.bigInt(),
    fc.string({ unit: 'grapheme' }),
    fc.uint8Array({ maxLength: 8 }),
    fc.date({ noInvalidDate: false }),
  ),
  node: fc.oneof(
    { depthSize: 'small' },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 4 }), tie('node'), { maxKeys: 4 }),
    fc.uniqueArray(fc.integer(), { maxLength: 4 }).map((xs) => new Set(xs)),
    fc
      .uniqueArray(fc.string({ maxLength: 3 }), { maxLength: 4 })
      .chain((ks) => fc.tuple(...ks.map(() => tie('node'))).map((vs) => new Map(ks.map((k, i) => [k, vs[i]])))),
  ),
})).node;

function property(name: string, p: fc.IProperty<any> | fc.IAsyncProperty<any>): void {
  test(name, () => {
    const r = fc.check(p as fc.IProperty<any>, { seed: SEED, numRuns: 300 });
    if (r.failed) assert.unreachable(`${fc.defaultReportMessage(r)}\nreplay: ${replay}`);
  });
}

property(
  'decoding an encoding gives an equal value (same encoding again)',
  fc.property(plain, (v) => {
    const bytes = encode(v);
    const back = decode(bytes);
    // Encodings are injective, so the same bytes again means the same value (prototypes aside:
    // an object decodes with Object.prototype whatever it had).
    assert.ok(bytesEqual(encode(back), bytes));
  }),
);

property(
  'object key order, Map and Set insertion order do not change the bytes',
  fc.property(fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 8 }), fc.integer(), (o, seed) => {
    const keys = Object.keys(o);
    const shuffled = [...keys].sort((a, b) => hash(a, seed) - hash(b, seed) || (a < b ? -1 : 1));
    const o2: Record<string, number> = {};
    for (const k of shuffled) o2[k] = o[k]!;
    assert.ok(bytesEqual(encode(o), encode(o2)));
    assert.ok(bytesEqual(encode(new Map(Object.entries(o))), encode(new Map(shuffled.map((k) => [k, o[k]])))));
    assert.ok(bytesEqual(encode(new Set(keys)), encode(new Set(shuffled))));
  }),
);

test('equality is by canonical form, and types matter', () => {
  assert.ok(equal({ a: 1, b: 2 }, { b: 2, a: 1 }));
  assert.not.ok(equal(new Map([['b', 2]]), new Map([['a', 1]])), 'two different Maps are not equal (JSON.stringify says they are)');
  assert.ok(
    equal(
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
      new Map([
        ['b', 2],
        ['a', 1],
      ]),
    ),
  );
  assert.not.ok(equal(1, 1n));
  assert.not.ok(equal(0, -0));
  assert.not.ok(equal({}, new Map()));
  assert.not.ok(equal([1, undefined], [1]));
  assert.ok(equal(NaN, NaN));
  assert.ok(equal(new Uint8Array([1, 2]), Buffer.from([1, 2])));
});

test('refusals name the problem and the place', () => {
  const cyclic: any = { a: { b: [1] } };
  cyclic.a.b.push(cyclic);
  const cases: [unknown, string, RegExp][] = [
    [cyclic, 'cycle', /\$\.a\.b\[1\]/],
    [{ x: [new (class Foo {})()] }, 'class-instance', /Foo instance.*\$\.x\[0\]/],
    [{ f: () => 1 }, 'unsupported-type', /function.*\$\.f/],
    [{ s: Symbol('x') }, 'unsupported-type', /symbol/],
    [{ s: 'a\ud800b' }, 'unpaired-surrogate', /\$\.s/],
    [
      new Map([
        [{ a: 1 }, 1],
        [{ a: 1 }, 2],
      ]),
      'duplicate-key',
      /Map keys/,
    ],
    [new Uint16Array(2), 'class-instance', /Uint16Array/],
  ];
  for (const [v, problem, message] of cases) {
    try {
      encode(v);
      assert.unreachable(`${problem} was not refused`);
    } catch (e) {
      assert.instance(e, CanonicalError);
      assert.is((e as CanonicalError).problem, problem);
      assert.match((e as Error).message, message);
    }
  }
});

test('a small value that expands exponentially is refused at maxBytes, quickly (issue 13, case 4)', () => {
  let x: object = { leaf: 1 };
  for (let i = 0; i < 30; i++) x = { a: x, b: x }; // 364 bytes by v8.serialize, 2^30 leaves as a tree
  try {
    encode(x, { maxBytes: 64 * 1024 });
    assert.unreachable('accepted');
  } catch (e) {
    assert.is((e as CanonicalError).problem, 'too-large');
  }
});

test('shared references are written where they appear, within the bound (issue 13, case 3)', () => {
  const o = { s: 'x'.repeat(32_000) };
  try {
    encode(Array(600).fill(o), { maxBytes: 64 * 1024 });
    assert.unreachable('19 MB accepted under a 64 KiB bound');
  } catch (e) {
    assert.is((e as CanonicalError).problem, 'too-large');
  }
  const small = { k: 1 };
  assert.equal(decode(encode([small, small])), [{ k: 1 }, { k: 1 }]);
});

test('depth is bounded', () => {
  let x: unknown = 1;
  for (let i = 0; i < 200; i++) x = [x];
  assert.throws(
    () => encode(x, { maxDepth: 100 }),
    (e: CanonicalError) => e.problem === 'too-deep',
  );
  assert.ok(encode(x, { maxDepth: 300 }).length > 200);
});

test('decoding refuses bytes that are not one whole encoding, without large allocations', () => {
  for (const bad of [
    new Uint8Array([]),
    new Uint8Array([99]),
    new Uint8Array([9, 0xff, 0xff, 0xff, 0x7f]),
    new Uint8Array([1, 1]),
    new Uint8Array([7, 3, 0x61]),
  ]) {
    assert.throws(
      () => decode(bad),
      (e: CanonicalError) => e.problem === 'corrupt',
    );
  }
});

test('a key named __proto__ decodes as data', () => {
  const o = JSON.parse('{"__proto__": {"polluted": true}}');
  const back = decode(encode(o)) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
  assert.equal(back.__proto__, { polluted: true });
  assert.is(({} as any).polluted, undefined);
});

/** MurmurHash3 x86_32 byte by byte, as its reference implementation reads: what every replica's digest is. */
function murmur3Reference(bytes: Uint8Array, seed: number): number {
  let h = seed | 0;
  const blocks = bytes.length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  const tail = bytes.length - blocks;
  if (tail > 2) k ^= bytes[blocks + 2]! << 16;
  if (tail > 1) k ^= bytes[blocks + 1]! << 8;
  if (tail > 0) {
    k ^= bytes[blocks]!;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

test('hashBytes is MurmurHash3 x86_32 (published vectors)', () => {
  const text = (s: string) => new TextEncoder().encode(s);
  assert.is(hashBytes(text(''), 0), 0);
  assert.is(hashBytes(text(''), 1), 0x514e28b7);
  assert.is(hashBytes(text('hello'), 0), 0x248bfa47);
  assert.is(hashBytes(text('The quick brown fox jumps over the lazy dog'), 0), 0x2e4ff723);
});

property(
  'hashBytes of any range, at any alignment, in any buffer, is the reference hash of those bytes',
  fc.property(fc.uint8Array({ maxLength: 2048, size: 'max' }), fc.nat(7), fc.nat(7), fc.integer(), fc.boolean(), (data, lead, trail, seed, shared) => {
    // Long ranges take the word-read path when aligned; leading bytes shift them off alignment.
    const size = lead + data.length + trail;
    const buf = new Uint8Array(shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size));
    buf.set(data, lead);
    assert.is(hashBytes(buf, seed, lead, lead + data.length), murmur3Reference(data, seed));
    assert.is(hashBytes(buf.subarray(lead, lead + data.length), seed), murmur3Reference(data, seed));
  }),
);

test.run();
