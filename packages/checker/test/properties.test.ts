/**
 * Property tests: histories from a real sequential execution with random overlap are always
 * linearizable; the same histories with one result corrupted (a read of a value never written,
 * an acknowledged write lost) never are. Both for the cas-register and for the kv map (which
 * goes through per-key partitioning). Random histories get the verdict of brute force, and the
 * search's model-driven speed-ups (operationKind, possibleAfter) never change a verdict.
 */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { casRegisterModel, check, formatExplanation, kvModel, type CheckResult } from '@synod/checker';
import {
  bruteForce,
  bruteForceLinearizable,
  casRegisterHistory,
  corruptLostWrite,
  corruptReadNeverWritten,
  kvHistory,
  plain,
  randomCasRegisterHistories,
  randomKvHistories,
  shapes,
} from './generate.ts';
import { assertProperty, runSeed } from './replay.ts';

const seed = runSeed(import.meta.url);
const RUNS = 200;
const MAX_OPS = 50;
const MAX_SPREAD = 5;

function verdict(r: CheckResult): string {
  return r.explanation ? `${r.verdict}\n${formatExplanation(r.explanation)}` : r.reason ? `${r.verdict}: ${r.reason}` : r.verdict;
}

test('cas-register: real executions with overlap are linearizable', () => {
  assertProperty(
    import.meta.url,
    seed,
    fc.property(shapes(MAX_OPS, MAX_SPREAD), (shape) => {
      const r = check(casRegisterHistory(shape), casRegisterModel);
      assert.is(r.verdict, 'linearizable', verdict(r));
    }),
    RUNS,
  );
});

test('cas-register: a read of a value never written is caught', () => {
  assertProperty(
    import.meta.url,
    seed,
    fc.property(shapes(MAX_OPS, MAX_SPREAD), fc.nat(), (shape, pick) => {
      const bad = corruptReadNeverWritten(casRegisterHistory(shape), pick, -1);
      fc.pre(bad !== undefined);
      const r = check(bad!, casRegisterModel);
      assert.is(r.verdict, 'not-linearizable', verdict(r));
      assert.ok(r.explanation, 'a violation comes with an explanation');
    }),
    RUNS,
  );
});

test('cas-register: a lost acknowledged write is caught', () => {
  assertProperty(
    import.meta.url,
    seed,
    fc.property(shapes(MAX_OPS, MAX_SPREAD), fc.nat(), (shape, pick) => {
      const bad = corruptLostWrite(casRegisterHistory(shape), pick, null);
      fc.pre(bad !== undefined);
      const r = check(bad!, casRegisterModel);
      assert.is(r.verdict, 'not-linearizable', verdict(r));
    }),
    RUNS,
  );
});

test('kv: real executions with overlap are linearizable', () => {
  assertProperty(
    import.meta.url,
    seed,
    fc.property(shapes(MAX_OPS, MAX_SPREAD), (shape) => {
      const r = check(kvHistory(shape), kvModel);
      assert.is(r.verdict, 'linearizable', verdict(r));
    }),
    RUNS,
  );
});

test('kv: a read of a value never written is caught', () => {
  assertProperty(
    import.meta.url,
    seed,
    fc.property(shapes(MAX_OPS, MAX_SPREAD), fc.nat(), (shape, pick) => {
      const bad = corruptReadNeverWritten(kvHistory(shape), pick, 'never-written');
      fc.pre(bad !== undefined);
      const r = check(bad!, kvModel);
      assert.is(r.verdict, 'not-linearizable', verdict(r));
    }),
    RUNS,
  );
});

test('kv: a lost acknowledged put is caught', () => {
  assertProperty(
    import.meta.url,
    seed,
    fc.property(shapes(MAX_OPS, MAX_SPREAD), fc.nat(), (shape, pick) => {
      const bad = corruptLostWrite(kvHistory(shape), pick, '');
      fc.pre(bad !== undefined);
      const r = check(bad!, kvModel);
      assert.is(r.verdict, 'not-linearizable', verdict(r));
    }),
    RUNS,
  );
});

test('real executions over few values, one result possibly changed: the same verdict as brute force', () => {
  let bad = 0;
  assertProperty(
    import.meta.url,
    seed,
    fc.property(shapes(9, 3), fc.nat(), fc.integer({ min: 0, max: 3 }), (shape, pick, value) => {
      const h = casRegisterHistory(shape, 3);
      // Change one ok read's result (or none, when pick lands past the reads).
      const reads = h.operations.filter((o) => o.outcome === 'ok' && o.input.f === 'read');
      const target = reads[pick % (reads.length + 1)];
      const changed = target ? { operations: h.operations.map((o) => (o === target ? { ...o, output: value === 3 ? null : value } : o)) } : h;
      const expected = bruteForceLinearizable(changed) ? 'linearizable' : 'not-linearizable';
      if (expected !== 'linearizable') bad++;
      const r = check(changed, casRegisterModel);
      assert.is(r.verdict, expected, verdict(r));
    }),
    6 * RUNS,
  );
  assert.ok(bad > 0, 'some changed results are violations');
});

test('random small histories: the same verdict as brute force over every order', () => {
  let linearizable = 0;
  assertProperty(
    import.meta.url,
    seed,
    fc.property(randomCasRegisterHistories(7), (h) => {
      const expected = bruteForceLinearizable(h) ? 'linearizable' : 'not-linearizable';
      if (expected === 'linearizable') linearizable++;
      const r = check(h, casRegisterModel);
      assert.is(r.verdict, expected, verdict(r));
    }),
    3 * RUNS,
  );
  assert.ok(linearizable > 0, 'some random histories are linearizable');
});

test('random small kv histories (puts, appends, reads of few letters): the same verdict as brute force', () => {
  const verdicts = { linearizable: 0, 'not-linearizable': 0 };
  assertProperty(
    import.meta.url,
    seed,
    fc.property(randomKvHistories(8), (h) => {
      const expected = bruteForce(kvModel, h) ? 'linearizable' : 'not-linearizable';
      verdicts[expected]++;
      const r = check(h, kvModel);
      assert.is(r.verdict, expected, verdict(r));
    }),
    6 * RUNS,
  );
  assert.ok(verdicts.linearizable > 0 && verdicts['not-linearizable'] > 0, `both verdicts occur: ${JSON.stringify(verdicts)}`);
});

test('the speed-ups never change a verdict: kv and cas-register with and without operationKind and possibleAfter', () => {
  const plainKv = plain(kvModel);
  const plainCas = plain(casRegisterModel);
  assertProperty(
    import.meta.url,
    seed,
    fc.property(randomKvHistories(24), (h) => {
      assert.is(check(h, kvModel).verdict, check(h, plainKv).verdict);
    }),
    2 * RUNS,
  );
  assertProperty(
    import.meta.url,
    seed,
    fc.property(shapes(60, MAX_SPREAD), fc.nat(), (shape, pick) => {
      const h = kvHistory(shape);
      const bad = corruptLostWrite(h, pick, '') ?? h;
      for (const x of [h, bad]) assert.is(check(x, kvModel).verdict, check(x, plainKv).verdict);
    }),
    RUNS,
  );
  assertProperty(
    import.meta.url,
    seed,
    fc.property(randomCasRegisterHistories(24), (h) => {
      assert.is(check(h, casRegisterModel).verdict, check(h, plainCas).verdict);
    }),
    2 * RUNS,
  );
});

test.run();
