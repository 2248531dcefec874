/**
 * The checker itself on small, hand-made histories: model semantics, unknown and failed
 * outcomes, explanations, the time and memory bounds (unknown, never a guess), and the parallel
 * path agreeing with the in-process one.
 */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CheckerPool,
  InvalidHistoryError,
  UNKNOWN,
  casRegisterModel,
  check,
  checkParallel,
  formatExplanation,
  hashString,
  kvModel,
  parseEdnHistory,
  parseJepsenLog,
  registerModel,
  replicatedMapModel,
  type CasRegisterInput,
  type History,
  type KvInput,
  type ReplicatedMapInput,
  type KvOutput,
  type Model,
  type Operation,
  type RegisterOutput,
} from '@synod/checker';
import { goldenHistories } from './data.ts';
import { kvHistory } from './generate.ts';
import { fromWire, jsonFaithful, toWire } from '../src/wire.ts';

type Op<I, O> = Omit<Operation<I, O>, 'id' | 'process'> & { process?: number };
function history<I, O>(...ops: Op<I, O>[]): History<I, O> {
  return { operations: ops.map((op, id) => ({ process: id, ...op, id })) };
}
const ok = <I, O>(input: I, output: O, call: number, ret: number): Op<I, O> => ({ input, output, outcome: 'ok', call, ret });
const open = <I, O>(input: I, call: number): Op<I, O> => ({ input, outcome: 'unknown', call, ret: Infinity });
const failed = <I, O>(input: I, call: number, ret: number): Op<I, O> => ({ input, outcome: 'fail', call, ret });

type C = CasRegisterInput;
const read = (v: number | null, call: number, ret: number) => ok<C, RegisterOutput>({ f: 'read' }, v, call, ret);
const write = (v: number, call: number, ret: number) => ok<C, RegisterOutput>({ f: 'write', value: v }, null, call, ret);
const cas = (from: number, to: number, swapped: boolean, call: number, ret: number) => ok<C, RegisterOutput>({ f: 'cas', from, to }, swapped, call, ret);

test('an empty history is refused, not judged; trivial ones are judged', async () => {
  assert.throws(
    () => check(history<C, RegisterOutput>(), casRegisterModel),
    (e: unknown) => e instanceof InvalidHistoryError && /no operations, so there is nothing to check/.test((e as Error).message),
  );
  assert.throws(() => check({ operations: [], source: 'h.log' }, casRegisterModel), /^h\.log: the history has no operations/);
  const pool = new CheckerPool({ threads: 2 });
  try {
    await pool.check({ operations: [] }, kvModel).then(
      () => assert.unreachable('pool.check judged an empty history'),
      (e: unknown) => assert.instance(e, InvalidHistoryError),
    );
  } finally {
    await pool.close();
  }
  assert.is(check(history(read(null, 0, 1)), casRegisterModel).verdict, 'linearizable');
  assert.is(check(history(read(1, 0, 1)), casRegisterModel).verdict, 'not-linearizable');
});

test('overlapping calls may take effect in either order; sequential ones may not', () => {
  // write 1 overlaps the read of 1 that started first
  assert.is(check(history(read(1, 0, 3), write(1, 1, 2)), casRegisterModel).verdict, 'linearizable');
  // the read ended before the write began
  assert.is(check(history(read(1, 0, 1), write(1, 2, 3)), casRegisterModel).verdict, 'not-linearizable');
  // a call and a return at the same instant overlap
  assert.is(check(history(read(1, 0, 2), write(1, 2, 3)), casRegisterModel).verdict, 'linearizable');
});

test('cas semantics: ok swaps, fail observed a different value', () => {
  assert.is(check(history(write(1, 0, 1), cas(1, 2, true, 2, 3), read(2, 4, 5)), casRegisterModel).verdict, 'linearizable');
  assert.is(check(history(write(1, 0, 1), cas(1, 2, false, 2, 3)), casRegisterModel).verdict, 'not-linearizable');
  assert.is(check(history(write(1, 0, 1), cas(3, 2, false, 2, 3), read(1, 4, 5)), casRegisterModel).verdict, 'linearizable');
});

test('unknown outcomes may take effect any time after their invoke, or never', () => {
  const w = open<C, RegisterOutput>({ f: 'write', value: 5 }, 2);
  assert.is(check(history(write(1, 0, 1), w, read(1, 3, 4), read(5, 10, 11), read(5, 12, 13)), casRegisterModel).verdict, 'linearizable');
  assert.is(check(history(write(1, 0, 1), w, read(1, 3, 4)), casRegisterModel).verdict, 'linearizable', 'never');
  assert.is(check(history(write(1, 0, 1), w, read(5, 3, 4), read(1, 5, 6)), casRegisterModel).verdict, 'not-linearizable', 'at most once');
  assert.is(check(history(read(5, 0, 1), { ...w, call: 2 }), casRegisterModel).verdict, 'not-linearizable', 'not before its invoke');
  // A cas that would do nothing when first possible must still be placeable later, when it does something.
  const c = open<C, RegisterOutput>({ f: 'cas', from: 2, to: 3 }, 2);
  assert.is(check(history(write(1, 0, 1), c, write(2, 3, 4), read(3, 5, 6)), casRegisterModel).verdict, 'linearizable');
  assert.is(check(history(write(1, 0, 1), c, read(3, 3, 4), write(2, 5, 6)), casRegisterModel).verdict, 'not-linearizable');
  // Two unknown writes of the same value: one may take effect early, the other late.
  const u = open<C, RegisterOutput>({ f: 'write', value: 5 }, 0);
  const twins = history(u, { ...u }, read(5, 1, 2), write(1, 3, 4), read(5, 5, 6));
  assert.is(check(twins, casRegisterModel).verdict, 'linearizable');
  assert.is(check(history(u, read(5, 1, 2), write(1, 3, 4), read(5, 5, 6)), casRegisterModel).verdict, 'not-linearizable');
});

test('failed operations did not take effect', () => {
  const h = history(write(1, 0, 1), failed<C, RegisterOutput>({ f: 'write', value: 2 }, 2, 3), read(2, 4, 5));
  assert.is(check(h, casRegisterModel).verdict, 'not-linearizable');
  assert.is(check(history(write(1, 0, 1), failed<C, RegisterOutput>({ f: 'write', value: 2 }, 2, 3), read(1, 4, 5)), casRegisterModel).verdict, 'linearizable');
});

test('the plain register has no cas', () => {
  const h = history(cas(0, 1, true, 0, 1)) as History<never, RegisterOutput>;
  assert.is(check(h, registerModel).verdict, 'not-linearizable');
});

test('malformed histories are refused, not judged', () => {
  assert.throws(
    () => check({ operations: [{ id: 3, process: 0, input: { f: 'read' }, outcome: 'ok', output: null, call: 0, ret: 1 }] }, casRegisterModel),
    (e: unknown) => e instanceof InvalidHistoryError,
  );
  assert.throws(() => check(history(read(null, 2, 1)), casRegisterModel), /returns \(1\) before it is invoked \(2\)/);
  assert.throws(
    () => check(history({ input: { f: 'read' }, outcome: 'unknown', call: 0, ret: 4 } as Op<C, RegisterOutput>), casRegisterModel),
    /ret must be Infinity/,
  );
  assert.throws(() => check(history(read(null, 0, 1)), casRegisterModel, { timeLimitMs: 0 }), /timeLimitMs must be a positive/);
});

test('an explanation names the prefix, the state, and the operations that cannot be placed', () => {
  // The read of 2 can still go before the read of 1 returns; the read of 1 can go nowhere.
  const h = history(write(1, 0, 1), write(2, 2, 3), read(1, 4, 5), read(2, 4.5, 6));
  const r = check(h, casRegisterModel);
  assert.is(r.verdict, 'not-linearizable');
  const e = r.explanation!;
  assert.equal(e.prefix, [0, 1]);
  assert.is(e.stateAfterPrefix, '2');
  assert.is(e.mustLinearize.id, 2);
  assert.equal(
    e.candidates.map((c) => [c.op.id, c.kind]),
    [
      [2, 'impossible'],
      [3, 'dead-end'],
    ],
  );
  assert.equal(
    e.prefixTail.map((t) => t.stateAfter),
    ['1', '2'],
  );
  const text = formatExplanation(e);
  assert.match(text, /longest linearizable prefix found has 2 operations, leaving state 2/);
  assert.match(text, /#2 process 2: read\(\) -> 1 .* must take effect before it returns/);
  assert.match(text, /impossible in state 2/);
});

test('explanations of parsed histories point at lines', () => {
  const g = goldenHistories('jepsen-etcd').find((x) => x.file === 'etcd_000.log')!;
  const r = check(parseJepsenLog(readFileSync(g.path, 'utf8'), casRegisterModel, g.file), casRegisterModel);
  assert.match(formatExplanation(r.explanation!), /\[lines \d+-\d+\]/);
  assert.is(check(parseJepsenLog(readFileSync(g.path, 'utf8'), casRegisterModel, g.file), casRegisterModel, { explain: false }).explanation, undefined);
});

const hard = goldenHistories('jepsen-etcd').find((x) => x.file === 'etcd_002.log')!;
const hardHistory = () => parseJepsenLog(readFileSync(hard.path, 'utf8'), casRegisterModel, hard.file);

test('past the time bound the answer is unknown, with the reason', () => {
  const r = check(hardHistory(), casRegisterModel, { timeLimitMs: 0.001 });
  assert.is(r.verdict, 'unknown');
  assert.match(r.reason!, /time limit of 0.001 ms \(option timeLimitMs\)/);
});

test('past the memory bound the answer is unknown, with the reason', () => {
  const r = check(hardHistory(), casRegisterModel, { maxMemoBytes: 1024 });
  assert.is(r.verdict, 'unknown');
  assert.match(r.reason!, /memo reached its bound of 1 KiB \(option maxMemoBytes\)/);
});

test('kv and replicated-map models', () => {
  const kv = history<KvInput, KvOutput>(
    ok({ f: 'put', key: 'a', value: 'x' }, null, 0, 1),
    ok({ f: 'append', key: 'a', value: 'y' }, null, 2, 3),
    ok({ f: 'get', key: 'a' }, 'xy', 4, 5),
    ok({ f: 'get', key: 'b' }, '', 4, 5),
  );
  assert.is(check(kv, kvModel).verdict, 'linearizable');
  assert.is(check(history<KvInput, KvOutput>(ok({ f: 'get', key: 'b' }, 'x', 0, 1)), kvModel).explanation!.key, 'b');
  // A get's output is a string; null is no value the key can hold (refused, not a crash).
  assert.is(
    check(history<KvInput, KvOutput>(ok({ f: 'put', key: 'a', value: 'x' }, null, 0, 1), ok({ f: 'get', key: 'a' }, null, 2, 3)), kvModel).verdict,
    'not-linearizable',
  );
  const m = replicatedMapModel;
  let s = m.init();
  s = m.step(s, { f: 'set', key: 'k', value: { b: 1, a: [2] } }, UNKNOWN)!;
  assert.ok(m.step(s, { f: 'get', key: 'k' }, { a: [2], b: 1 }) !== undefined, 'values compare canonically, key order aside');
  assert.is(
    m.step(
      s,
      { f: 'get', key: 'k' },
      new Map<string, unknown>([
        ['a', [2]],
        ['b', 1],
      ]),
    ),
    undefined,
    'a Map is not an object',
  );
  assert.is(m.step(s, { f: 'get', key: 'k' }, undefined), undefined);
  assert.is(m.step(s, { f: 'compareAndSet', key: 'k', expected: 1, value: 2 }, true), undefined);
  assert.is(m.describeState!(m.step(s, { f: 'compareAndSet', key: 'k', expected: { a: [2], b: 1 }, value: 2 }, true)!), '2');
  assert.is(m.step(s, { f: 'delete', key: 'k' }, false), undefined);
  assert.is(m.step(m.init(), { f: 'delete', key: 'k' }, false), '');
  assert.is(m.describeState!(m.step(m.init(), { f: 'compareAndSet', key: 'k', expected: undefined, value: 1 }, true)!), '1', 'expected undefined = absent');
});

test('a user model: a counter', () => {
  type In = { f: 'inc' } | { f: 'get' };
  const counter: Model<number, In, number> = {
    name: 'counter',
    init: () => 0,
    step: (s, i, o) => (i.f === 'inc' ? s + 1 : o === UNKNOWN || o === s ? s : undefined),
    hash: (s) => s,
    equal: (a, b) => a === b,
    describeOperation: (i, o) => (i.f === 'inc' ? 'inc()' : `get() -> ${o === UNKNOWN ? '?' : o}`),
    describeState: String,
  };
  const h = history<In, number>(ok({ f: 'inc' }, 0, 0, 3), ok({ f: 'inc' }, 0, 1, 2), ok({ f: 'get' }, 1, 1.5, 4), ok({ f: 'get' }, 2, 5, 6));
  assert.is(check(h, counter).verdict, 'linearizable');
  assert.is(check(history<In, number>(ok({ f: 'inc' }, 0, 0, 1), ok({ f: 'get' }, 0, 2, 3)), counter).verdict, 'not-linearizable');
  assert.is(hashString('ab') === hashString('ba'), false);
});

/** The operations of one key, renumbered: a history of their own. */
function onlyKey<I extends { key: string }, O>(h: History<I, O>, key: string): History<I, O> {
  return { operations: h.operations.filter((op) => op.input.key === key).map((op, id) => ({ ...op, id })) };
}

test('the parallel path gives the same verdicts as the in-process one', async () => {
  const pool = new CheckerPool({ threads: 2 });
  try {
    for (const g of goldenHistories('kv')) {
      const h = parseEdnHistory(readFileSync(g.path, 'utf8'), kvModel, g.file);
      const inProcess = check(h, kvModel);
      const threaded = await pool.check(h, kvModel, { minOperationsForThreads: 0 });
      assert.is(inProcess.verdict, g.expected, g.file);
      assert.is(threaded.verdict, g.expected, g.file);
      if (g.expected === 'linearizable') {
        assert.equal(
          threaded.partitions.map((p) => [p.key, p.verdict]),
          inProcess.partitions.map((p) => [p.key, p.verdict]),
        );
      } else {
        // Each path may stop at a different violation; whichever it reports is one.
        for (const r of [inProcess, threaded]) {
          const key = r.explanation!.key as string;
          assert.is(check(onlyKey(h, key), kvModel).verdict, 'not-linearizable', `${g.file}: key ${key}`);
        }
      }
    }
    // Small histories stay in this thread (same result either way).
    const small = kvHistory({ steps: [{ kind: 0, key: 0, from: 0, fate: 'ok', applied: true }], before: [0], after: [0], spread: 0 });
    assert.is((await pool.check(small, kvModel)).verdict, 'linearizable');
  } finally {
    await pool.close();
  }
  const h = parseEdnHistory(readFileSync(goldenHistories('kv')[0]!.path, 'utf8'), kvModel, 'kv');
  assert.is((await checkParallel(h, kvModel, { threads: 2, minOperationsForThreads: 0 })).verdict, goldenHistories('kv')[0]!.expected);
});

test('operations cross to threads intact, by JSON when it is exact and by structured clone when not', async () => {
  assert.ok(jsonFaithful({ a: [1, 'x', null, true, { b: 2 }] }));
  for (const v of [undefined, NaN, Infinity, -0, [undefined], { a: undefined }, new Map(), 1n, [1, , 3], new Date(0)]) {
    assert.not.ok(jsonFaithful(v), String(v));
  }
  const parts = (h: History<unknown, unknown>) => [{ key: 'k', operations: h.operations.filter((o) => o.outcome !== 'fail') as Operation[] }];
  const json = history<unknown, unknown>(
    { input: { f: 'get', key: 'k' }, outcome: 'ok', output: { n: [1, 2] }, call: 0, ret: 1, line: 3, returnLine: 4 },
    open({ f: 'set', key: 'k', value: 'x' }, 2),
  );
  const odd = history<unknown, unknown>(ok({ f: 'get', key: 'k' }, undefined, 0, 1), ok({ f: 'set', key: 'k', value: [undefined, NaN] }, null, 2, 3));
  for (const h of [json, odd]) {
    const w = toWire(parts(h)[0]!);
    const back = fromWire(structuredClone(w));
    assert.equal(back, parts(h)[0]);
    assert.is(typeof w.values === 'string', h === json);
  }
  // And the verdicts agree through a real pool, undefined outputs included.
  const rm = (last: unknown) =>
    history<ReplicatedMapInput, unknown>(
      ok({ f: 'get', key: 'a' }, undefined, 0, 1),
      ok({ f: 'set', key: 'a', value: [undefined] }, null, 2, 3),
      ok({ f: 'get', key: 'a' }, last, 4, 5),
      ok({ f: 'get', key: 'b' }, undefined, 0, 1),
    );
  const threaded = await checkParallel(rm([undefined]), replicatedMapModel, { threads: 2, minOperationsForThreads: 0 });
  assert.equal(
    threaded.partitions.map((p) => [p.key, p.verdict]),
    [
      ['a', 'linearizable'],
      ['b', 'linearizable'],
    ],
  );
  assert.equal(
    threaded.partitions.map((p) => p.verdict),
    check(rm([undefined]), replicatedMapModel).partitions.map((p) => p.verdict),
  );
  const bad = await checkParallel(rm([null]), replicatedMapModel, { threads: 2, minOperationsForThreads: 0 });
  assert.is(bad.verdict, 'not-linearizable');
  assert.is(bad.explanation!.key, 'a');
  assert.is(check(rm([null]), replicatedMapModel).verdict, 'not-linearizable');
});

test.run();
