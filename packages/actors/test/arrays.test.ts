/** setLength and clearArray: the hot paths' replacements for `a.length = n` keep its meaning. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clearArray, setLength } from '../dist/arrays.js';

test('shortens by a few or by many, empties, lengthens with holes, and leaves an array of that length alone', () => {
  for (const [from, to] of [
    [5, 3],
    [100, 2],
    [40, 0],
    [3, 3],
    [0, 0],
  ] as const) {
    const a = Array.from({ length: from }, (_, i) => i);
    setLength(a, to);
    assert.equal(
      a,
      Array.from({ length: to }, (_, i) => i),
      `${from} -> ${to}`,
    );
  }
  const b = [1];
  setLength(b, 3);
  assert.is(b.length, 3);
  assert.is(b[0], 1);
  assert.not.ok(1 in b, 'a hole, as with a.length = 3');
  const c = [1, 2, 3];
  clearArray(c);
  assert.equal(c, []);
});

test.run();
