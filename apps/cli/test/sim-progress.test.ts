/**
 * `synod sim`'s progress bar: in a pipe, one plain line per report that says something new (the
 * campaign's final report repeats the counts of the last one); on a terminal, redrawn in place
 * and ended with one newline.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProgressBar } from '../src/sim/progress.ts';

const at = (done: number, failed = 0) => ({ scenario: 's', done, total: 20, failed, elapsedMs: 1000, seedsPerSecond: done });

test('in a pipe: a line per new count, never the same line twice', () => {
  let out = '';
  const bar = new ProgressBar((s) => {
    out += s;
  }, false);
  bar.update(at(5));
  bar.update(at(20));
  bar.update(at(20)); // the final report, as the campaign sends it
  bar.end();
  const lines = out.split('\n').filter(Boolean);
  assert.is(lines.length, 2, out);
  assert.match(lines[0]!, '5/20 seeds, 0 failed');
  assert.match(lines[1]!, /^\[█+\] 20\/20 seeds, 0 failed, 20\.0 seeds\/s$/);
  bar.update(at(20, 1));
  assert.match(out.split('\n').filter(Boolean)[2]!, '20/20 seeds, 1 failed', 'a new failure count is news');
});

test('on a terminal: redrawn in place, one newline at the end', () => {
  let out = '';
  const bar = new ProgressBar((s) => {
    out += s;
  }, true);
  bar.update(at(20));
  bar.update(at(20));
  bar.end();
  assert.is(out.split('\r\x1b[2K').length - 1, 2, 'each report redraws the line');
  assert.is(out.split('\n').length - 1, 1, 'and the bar ends with one newline');
});

test.run();
