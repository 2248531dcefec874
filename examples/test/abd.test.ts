/**
 * The code of docs/writing-a-protocol.md, run: the ABD register's campaign under random faults
 * (an invariant after every step, linearizable histories), its must-fail control (reads without
 * write-back) caught with its seed and replay command, its benchmark cell, and the guide's code
 * blocks checked against these files, so the guide cannot drift from code that runs.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatFailure, runCampaign } from '@synod/actors/sim';
import { abdCell } from '../src/abd/bench.js';
import { abdControlScenario, abdScenario } from '../src/abd/scenario.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('the ABD register keeps its invariant and linearizable histories over 300 fault schedules', async () => {
  const result = await runCampaign({ scenario: abdScenario, seeds: 300, workers: 2, stopOnFailure: true });
  if (result.firstFailure) console.error(formatFailure(result.firstFailure));
  assert.is(result.passed, 300);
});

test('the control (reads without write-back) is caught, with the seed and the command that replays it', async () => {
  const result = await runCampaign({ scenario: abdControlScenario, seeds: 300, workers: 2, stopOnFailure: true });
  assert.ok(result.firstFailure, 'no seed caught reads without write-back: the campaign proves nothing');
  const f = result.firstFailure!;
  assert.match(f.failure!.message, /not linearizable/);
  assert.ok(f.replay?.includes(`--seed ${f.seed}`), 'the failure names its replay command');
  console.log(`control caught at seed ${f.seed}:\n${formatFailure(f).split('\n').slice(0, 3).join('\n')}\n  replay: ${f.replay!.slice(0, 120)}…`);
});

test('the benchmark cell measures, under the names a suite reports', async () => {
  const figures = new Map<string, number>();
  await abdCell(
    { add: (name, _unit, v) => figures.set(name, v) },
    { mode: 'embedded', replicas: 3, clients: 2, warmupMs: 20, durationMs: 100, storage: 'memory' },
  );
  assert.equal([...figures.keys()].sort(), ['abd.embedded.r3.c2.ops_per_s', 'abd.embedded.r3.c2.p50_ms', 'abd.embedded.r3.c2.p99_ms']);
  assert.ok(figures.get('abd.embedded.r3.c2.ops_per_s')! > 0, 'operations completed');
});

test('every code block of the guide that names a file of examples/ is in that file, verbatim', () => {
  const guide = readFileSync(`${root}docs/writing-a-protocol.md`, 'utf8');
  const blocks = [...guide.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  let checked = 0;
  for (const block of blocks) {
    const named = /^\/\/ (examples\/\S+\.ts)\n/.exec(block);
    if (!named) continue;
    const file = readFileSync(`${root}${named[1]}`, 'utf8');
    const body = block.slice(named[0].length);
    assert.ok(file.includes(body), `the guide's block from ${named[1]} is not in that file (the guide and the code drifted apart):\n${body.slice(0, 200)}`);
    checked++;
  }
  assert.ok(checked >= 6, `the guide shows the example's code (${checked} blocks checked)`);
});

test.run();
