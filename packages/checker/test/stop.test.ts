/**
 * A violation ends the check: partitions still being searched are stopped, in this thread and on
 * a pool's threads, instead of being waited for. A step budget gives the same `unknown`, to the
 * step, on every run.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CheckerPool, check, kvModel, type History, type KvInput, type KvOutput, type Operation } from '@synod/checker';
import { SLICE_STEPS } from '../src/interleave.ts';

type Op = Operation<KvInput, KvOutput>;

/**
 * Key "slow": 40 concurrent appends of the same letter, then a read of 41 letters. Refuting it
 * means visiting every subset of the appends (2^40 of them): in practice it never ends.
 */
function slowOps(): Omit<Op, 'id'>[] {
  const ops: Omit<Op, 'id'>[] = [];
  for (let p = 0; p < 40; p++) ops.push({ process: p, input: { f: 'append', key: 'slow', value: 'a' }, outcome: 'ok', output: null, call: p / 100, ret: 10 });
  ops.push({ process: 40, input: { f: 'get', key: 'slow' }, outcome: 'ok', output: 'a'.repeat(41), call: 20, ret: 21 });
  return ops;
}

/** Key "bad": its first read returns a value nobody wrote. */
const badOps = (): Omit<Op, 'id'>[] => [{ process: 41, input: { f: 'get', key: 'bad' }, outcome: 'ok', output: 'never written', call: 0, ret: 1 }];

const historyOf = (ops: Omit<Op, 'id'>[]): History<KvInput, KvOutput> => ({ operations: ops.map((op, id) => ({ ...op, id })) });

test('in this thread: the partition refuted first ends the check; the one before it is stopped', () => {
  const r = check(historyOf([...slowOps(), ...badOps()]), kvModel);
  assert.is(r.verdict, 'not-linearizable');
  assert.is(r.explanation!.key, 'bad');
  const slow = r.partitions.find((p) => p.key === 'slow')!;
  assert.is(slow.verdict, 'unknown');
  assert.match(slow.reason!, /not searched to the end: key "bad" is not linearizable/);
  assert.ok(slow.steps <= SLICE_STEPS, `the slow key searched for one slice, not ${slow.steps} steps`);
});

test('on threads: the thread that refutes a partition stops the others', async () => {
  const pool = new CheckerPool({ threads: 2 });
  try {
    const r = await pool.check(historyOf([...slowOps(), ...badOps()]), kvModel, { minOperationsForThreads: 0, tasksPerThread: 1 });
    assert.is(r.verdict, 'not-linearizable');
    assert.is(r.explanation!.key, 'bad');
    const slow = r.partitions.find((p) => p.key === 'slow')!;
    assert.is(slow.verdict, 'unknown');
    assert.match(slow.reason!, /not searched to the end: another partition is not linearizable/);
  } finally {
    await pool.close();
  }
});

test('a step budget: unknown with the reason, the same on every run, and no wall clock involved', () => {
  const h = historyOf(slowOps());
  const a = check(h, kvModel, { maxSteps: 10_000 });
  const b = check(h, kvModel, { maxSteps: 10_000 });
  assert.is(a.verdict, 'unknown');
  assert.match(a.reason!, /key "slow": the step budget of 10000 steps \(option maxSteps\) ran out after \d+ states/);
  assert.is(a.partitions[0]!.steps, 10_000);
  assert.equal([b.partitions[0]!.steps, b.partitions[0]!.states, b.reason], [a.partitions[0]!.steps, a.partitions[0]!.states, a.reason]);
  // A budget is per partition: a quick key next to the slow one still gets its answer.
  const both = check(historyOf([...slowOps(), ...badOps()]), kvModel, { maxSteps: 10_000 });
  assert.is(both.verdict, 'not-linearizable');
  assert.throws(() => check(h, kvModel, { maxSteps: 0 }), /maxSteps must be a positive whole number of steps, got 0/);
  assert.throws(() => check(h, kvModel, { maxSteps: 2.5 }), /maxSteps must be a positive whole number/);
});

test.run();
