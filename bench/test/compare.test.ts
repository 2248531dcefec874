/**
 * `--compare`: a value is marked moved exactly when the two runs' min–max ranges do not overlap;
 * better or worse follows the unit; values of one run only are new or gone; a suite file can be
 * compared with a combined file.
 */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseResults, type Combined } from '../report/combined.ts';
import { betterWhen, chanceApart, compareRuns, formatComparisonText, mark, rangesApart } from '../report/compare.ts';

const fixture = new URL('./fixtures/results.json', import.meta.url);
const load = (): Combined => parseResults(readFileSync(fixture, 'utf8'), 'fixture');

/** Sets one figure of the synod suite: median, min, max. */
function setFigure(c: Combined, name: string, median: number, min: number, max: number): void {
  const f = c.suites.synod!.result!.figures[name]!;
  Object.assign(f, { median, min, max });
}

test('identical runs: nothing moved', () => {
  const c = compareRuns(load(), load(), 'before.json');
  assert.is(c.counts.moved, 0);
  assert.ok(c.counts.within > 50);
  assert.ok(c.sameMachine);
});

test('ranges apart: moved, better or worse by the unit; overlapping: within', () => {
  const before = load();
  const after = load();
  // rounds/s (higher is better): 40k [38.8k–41.6k] → 50k [48k–52k]: apart, better.
  setFigure(after, 'workers.r3.inflight64.rounds_per_s', 50_000, 48_000, 52_000);
  // us (lower is better): 420 [399–436.8] → 600 [580–640]: apart, worse.
  setFigure(after, 'workers.r3.inflight1.round_us_p99', 600, 580, 640);
  // embedded 160k [152k–166.4k] → 150k [140k–153k]: 153k overlaps 152k: within, though the median fell 6 %.
  setFigure(after, 'embedded.r3.inflight64.rounds_per_s', 150_000, 140_000, 153_000);
  const c = compareRuns(after, before, 'before.json');
  const row = (name: string) => c.rows.find((r) => r.suite === 'synod' && r.name === name)!;
  assert.is(row('workers.r3.inflight64.rounds_per_s').verdict, 'moved');
  assert.is(row('workers.r3.inflight64.rounds_per_s').direction, 'better');
  assert.is(mark(row('workers.r3.inflight64.rounds_per_s')), '▲ better');
  assert.is(row('workers.r3.inflight1.round_us_p99').direction, 'worse');
  assert.is(mark(row('workers.r3.inflight1.round_us_p99')), '▲ worse');
  assert.is(row('embedded.r3.inflight64.rounds_per_s').verdict, 'within');
  assert.is(mark(row('embedded.r3.inflight64.rounds_per_s')), '');
  assert.is(c.counts.moved, 2);
  assert.ok(Math.abs(row('workers.r3.inflight64.rounds_per_s').change! - 0.25) < 1e-9);
});

test('a ratio that moved is up or down (its unit does not say which is better)', () => {
  const after = load();
  Object.assign(after.suites.synod!.result!.ratios['workers_vs_bare.r3.inflight64']!, { median: 0.3, min: 0.28, max: 0.32 });
  const r = compareRuns(after, load(), 'b').rows.find((x) => x.name === 'workers_vs_bare.r3.inflight64')!;
  assert.is(r.kind, 'ratio');
  assert.is(r.direction, 'down');
});

test('figures of one run only are new or gone; an absent suite compares nothing', () => {
  const before = load();
  const after = load();
  delete after.suites.synod!.result!.figures['workers.r7.inflight1.rounds_per_s'];
  after.suites.synod!.result!.figures['workers.r9.inflight1.rounds_per_s'] = { unit: 'rounds/s', median: 1, min: 1, max: 1, runs: [1] };
  delete after.suites.multipaxos!.result;
  after.suites.multipaxos!.status = 'failed';
  const c = compareRuns(after, before, 'b');
  assert.is(c.rows.find((r) => r.name === 'workers.r7.inflight1.rounds_per_s')!.verdict, 'gone');
  assert.is(c.rows.find((r) => r.name === 'workers.r9.inflight1.rounds_per_s')!.verdict, 'new');
  assert.not.ok(c.rows.some((r) => r.suite === 'multipaxos'));
});

test('a suite file compares with a combined file, and another machine is noted', () => {
  const suiteFile = JSON.stringify({
    suite: 'transport',
    date: '2026-11-01T00:00:00Z',
    commit: 'old1234',
    machine: { cpu: 'Other CPU', cores: 8, node: 'v22.0.0' },
    setup: {},
    figures: { 'actors.workers.oneway.msgs_per_s': { unit: 'msgs/s', median: 1e6, min: 0.9e6, max: 1.1e6, runs: [1e6] } },
    ratios: {},
  });
  const earlier = parseResults(suiteFile, 'transport.json');
  const c = compareRuns(load(), earlier, 'transport.json');
  const row = c.rows.find((r) => r.name === 'actors.workers.oneway.msgs_per_s')!;
  assert.is(row.verdict, 'moved');
  assert.is(row.direction, 'better');
  assert.equal(c.counts, { moved: 1, within: 0, new: 2, gone: 0 }, 'the other transport figure and ratio are new');
  assert.not.ok(c.sameMachine);
  const text = formatComparisonText(c);
  assert.match(text, /another machine \(Other CPU, 8 cores, Node v22\.0\.0\)/);
  assert.match(text, /▲ better +transport actors\.workers\.oneway\.msgs_per_s +1 M \[900 k–1\.1 M\] → 6 M \[5\.7 M–6\.24 M\] msgs\/s +\+500 %/);
  assert.match(text, /1 moved beyond the run-to-run spread/);
});

test('the chance of ranges apart with nothing changed, and runs of different modes', () => {
  assert.ok(Math.abs(chanceApart(5, 5) - 2 / 252) < 1e-12);
  assert.ok(Math.abs(chanceApart(3, 3) - 0.1) < 1e-12);
  assert.ok(Math.abs(chanceApart(3, 5) - 2 / 56) < 1e-12);
  assert.is(chanceApart(1, 1), 1);
  const quick = load();
  quick.mode = 'quick';
  const c = compareRuns(quick, load(), 'full.json');
  assert.equal(c.runs, { before: 5, after: 5 });
  assert.not.ok(c.sameMode);
  const text = formatComparisonText(c);
  assert.match(text, /note: that was a full run and this one is not/);
  assert.match(text, /by chance 0\.8 % of the time with 5 and 5 runs/);
});

test('the rule and the units', () => {
  assert.ok(rangesApart({ median: 2, min: 1.5, max: 2.5 }, { median: 4, min: 3, max: 5 }));
  assert.not.ok(rangesApart({ median: 2, min: 1.5, max: 3 }, { median: 4, min: 3, max: 5 }), 'touching ranges overlap');
  assert.is(betterWhen('rounds/s'), 'higher');
  assert.is(betterWhen('us'), 'lower');
  assert.is(betterWhen('s'), 'lower');
  assert.is(betterWhen('records'), undefined);
});

test.run();
