/**
 * The progress display: plain lines without a terminal; on a terminal the same lines above a
 * status line (step, run, budget) that is redrawn in place and cleared at the end.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Progress } from '../report/progress.ts';

function sink(isTTY: boolean) {
  let text = '';
  return {
    write: (s: string) => {
      text += s;
    },
    isTTY,
    columns: 60,
    get text() {
      return text;
    },
  };
}

test('without a terminal: one plain line per event, only run K/N lines of a suite', () => {
  const s = sink(false);
  const p = new Progress(s);
  p.begin('persist', 2, 7, 150);
  p.suiteOutput('warming up');
  p.suiteOutput('run 1/5: memory 1.2 M/s');
  p.end('6 figures, 2 ratios');
  p.close();
  assert.match(s.text, /^\[2\/7\] persist \(budget 2:30\)\n {4}persist run 1\/5: memory 1\.2 M\/s\n {4}persist: 6 figures, 2 ratios \(0:00\)\n$/);
  assert.not.ok(s.text.includes('\x1b'), 'no terminal codes in a log');
});

test('on a terminal: lines above a status line that names the step and run, cut to the width', () => {
  const s = sink(true);
  const p = new Progress(s);
  p.begin('multipaxos', 6, 7, 300);
  p.suiteOutput('run 3/5: a very long line that goes on and on past the sixty columns of this terminal');
  const last = s.text.slice(s.text.lastIndexOf('\n') + 1);
  assert.match(last, /^\[6\/7\] multipaxos {2}run 3\/5 {2}0:00 of 5:00 {2}· total 0:00$/);
  assert.ok(s.text.includes('\r\x1b[K    multipaxos run 3/5: a very long line that goes on and …\n'), JSON.stringify(s.text));
  p.close();
  assert.ok(s.text.endsWith('\r\x1b[K'), 'status line cleared');
});

test.run();
