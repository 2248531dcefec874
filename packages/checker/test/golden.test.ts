/**
 * Every history in test/fixtures/histories gets the verdict its EXPECTED.txt gives: the 60
 * Jepsen etcd logs (cas-register) and the kv EDN files (kv map, partitioned per key).
 */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { casRegisterModel, check, formatExplanation, kvModel, parseEdnHistory, parseJepsenLog } from '@synod/checker';
import { goldenHistories } from './data.ts';

const etcd = goldenHistories('jepsen-etcd');
const kv = goldenHistories('kv');

test('the data is all there', () => {
  assert.is(etcd.length, 60);
  assert.is(kv.length, 4);
  assert.ok(etcd.some((g) => g.expected === 'linearizable') && etcd.some((g) => g.expected === 'not-linearizable'));
});

for (const g of etcd) {
  test(`jepsen-etcd/${g.file} is ${g.expected}`, () => {
    const history = parseJepsenLog(readFileSync(g.path, 'utf8'), casRegisterModel, g.file);
    const r = check(history, casRegisterModel);
    assert.is(r.verdict, g.expected, r.explanation ? formatExplanation(r.explanation) : r.reason);
    if (r.verdict === 'not-linearizable') {
      const e = r.explanation!;
      assert.ok(e.candidates.length > 0, 'names the operations that cannot be placed');
      assert.ok(e.mustLinearize.line !== undefined, 'points at a line of the file');
    }
  });
}

for (const g of kv) {
  test(`kv/${g.file} is ${g.expected}`, () => {
    const history = parseEdnHistory(readFileSync(g.path, 'utf8'), kvModel, g.file);
    const r = check(history, kvModel);
    assert.is(r.verdict, g.expected, r.explanation ? formatExplanation(r.explanation) : r.reason);
    assert.ok(r.partitions.length > 1, 'checked per key');
    if (r.verdict === 'not-linearizable') assert.type(r.explanation!.key, 'string');
  });
}

test.run();
