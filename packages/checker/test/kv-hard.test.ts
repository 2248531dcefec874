/**
 * The generated hard kv histories (test/fixtures/kv-hard: 50 and 100 concurrent clients, about
 * 4 000 events each, slow calls, calls left open at the end, one planted violation or none): the
 * committed files are what the generator makes, and each gets its verdict within a step budget
 * (so "fast" is asserted without a clock), in this thread and on threads.
 */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CheckerPool, check, formatExplanation, kvModel, parseEdnHistory } from '@synod/checker';
import { KV_HARD_FIXTURES, generateKvHard, kvHardDir } from './kv-hard.ts';

/** Steps per key that every fixture must be decided within (they take a few thousand). */
const BUDGET = 100_000;

const expected = new Map(
  readFileSync(kvHardDir + 'EXPECTED.txt', 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(' ') as [string, string]),
);

test('the fixtures are what the generator makes from their seeds', () => {
  assert.is(expected.size, KV_HARD_FIXTURES.length);
  for (const f of KV_HARD_FIXTURES) {
    const h = generateKvHard(f.options);
    assert.ok(
      readFileSync(kvHardDir + f.file, 'utf8') === h.text,
      `${f.file} differs from generateKvHard(${JSON.stringify(f.options)}); run node --import tsx packages/checker/test/kv-hard.ts`,
    );
    assert.is(expected.get(f.file), h.planted ? 'not-linearizable' : 'linearizable');
    assert.ok(h.events > 3_000, `${f.file}: ${h.events} events`);
  }
  const clients = new Set(KV_HARD_FIXTURES.map((f) => f.options.clients));
  assert.ok(clients.has(50) && clients.has(100));
});

for (const f of KV_HARD_FIXTURES) {
  test(`${f.file} is ${expected.get(f.file)} within ${BUDGET} steps per key`, () => {
    const h = parseEdnHistory(readFileSync(kvHardDir + f.file, 'utf8'), kvModel, f.file);
    const r = check(h, kvModel, { maxSteps: BUDGET });
    assert.is(r.verdict, expected.get(f.file), r.explanation ? formatExplanation(r.explanation) : r.reason);
    const planted = generateKvHard(f.options).planted;
    if (planted) assert.is(r.explanation!.key, planted.key, 'the violation is found in the key it was planted in');
  });
}

test('on threads: the same verdicts', async () => {
  const pool = new CheckerPool({ threads: 2 });
  try {
    for (const f of KV_HARD_FIXTURES) {
      const h = parseEdnHistory(readFileSync(kvHardDir + f.file, 'utf8'), kvModel, f.file);
      const r = await pool.check(h, kvModel, { minOperationsForThreads: 0, maxSteps: BUDGET });
      assert.is(r.verdict, expected.get(f.file), f.file);
    }
  } finally {
    await pool.close();
  }
});

test.run();
