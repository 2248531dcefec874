/**
 * Campaigns over the simulator's test protocol (a replicated counter, see
 * `@synod/actors/sim/examples/counter`): the correct version passes 1,000 seeds under random
 * faults on two threads; the version with a planted bug (acknowledge before persisting) is
 * caught within a bounded number of seeds, with a command that replays it exactly.
 */
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CampaignPool, formatFailure, runCampaign, runScenario, type CampaignProgress, type CampaignResult } from '@synod/actors/sim';
// Not exported by the package (a test protocol with a planted bug): the built module, as campaign threads load it.
import { counterScenario, lazyCounterScenario } from '../dist/sim/examples/counter.js';
import { oddSeedsFail, relayScenario } from './fixtures/sim-scenarios.ts';

/** Seeds the CI campaign runs (at least 1,000). */
const CI_SEEDS = Number(process.env.SIM_CI_SEEDS ?? 1_000);
/** The planted bug must be caught within this many seeds. */
const BUG_BOUND = 50;

/** One pool of two threads for the whole file: threads start (and load tsx) once. */
const pool = new CampaignPool({ workers: 2 });
test.after(() => pool.close());

function failWith(r: CampaignResult): never {
  const text = r.firstFailure ? formatFailure(r.firstFailure) : 'no failure recorded';
  console.error(text);
  throw new assert.Assertion({
    message: `campaign "${r.scenario}" failed:\n${text}`,
    generated: false,
    operator: 'campaign',
    expects: 'no failure',
    actual: r.firstFailure?.seed,
  });
}

function runReplay(command: string) {
  const r = spawnSync(command, { shell: true, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

test(`CI campaign: the correct replicated counter passes ${CI_SEEDS} seeds of random faults on 2 threads`, async () => {
  const progress: CampaignProgress[] = [];
  const r = await pool.run({ scenario: counterScenario, seeds: CI_SEEDS, progress: (p) => progress.push(p), progressEveryMs: 1_000 });
  console.log(`  ${r.seedsRun} seeds, ${r.deliveries} deliveries, ${r.seedsPerSecond.toFixed(0)} seeds/s on ${r.workers} threads`);
  if (r.failures.length > 0) failWith(r);
  assert.is(r.seedsRun, CI_SEEDS);
  assert.is(r.passed, CI_SEEDS);
  assert.ok(r.deliveries > CI_SEEDS * 500, 'every seed exchanged messages');
  assert.is(progress.at(-1)!.done, CI_SEEDS, 'the last progress report covers every seed');
});

test(`the planted bug (acknowledge before persisting) is caught within ${BUG_BOUND} seeds, and its replay command reproduces it`, async () => {
  const r = await pool.run({ scenario: lazyCounterScenario, seeds: BUG_BOUND, batchSize: 5 });
  assert.ok(r.firstFailure, `no failure within ${BUG_BOUND} seeds`);
  const f = r.firstFailure!;
  console.log(
    formatFailure(f)
      .split('\n')
      .map((l) => `  | ${l}`)
      .join('\n'),
  );
  assert.is(f.failure!.kind, 'invariant');
  assert.is(f.failure!.name, 'acknowledged increments are never lost');
  assert.ok(f.replay, 'the failure carries a replay command');
  assert.match(
    f.replay!,
    /^node packages\/actors\/dist\/sim\/replay\.js --scenario packages\/actors\/dist\/sim\/examples\/counter\.js#lazyCounterScenario --seed \d+ --plan '/,
  );
  assert.ok(r.seedsRun < BUG_BOUND, 'the campaign stopped at the failure');
  const replay = runReplay(f.replay!);
  assert.is(replay.code, 1, replay.out);
  assert.ok(replay.out.includes(`fingerprint: ${f.fingerprint}`), `the replay has the same fingerprint ${f.fingerprint}:\n${replay.out}`);
  assert.ok(replay.out.includes('acknowledged increments were lost'), replay.out);
});

test('the first failure reported is the lowest failing seed, whatever the thread timing', async () => {
  let lowest = -1;
  for (let seed = 1; seed <= BUG_BOUND && lowest < 0; seed++) {
    if (!(await runScenario(lazyCounterScenario, { seed })).ok) lowest = seed;
  }
  assert.ok(lowest > 0);
  for (const batchSize of [1, 3]) {
    const r = await pool.run({ scenario: lazyCounterScenario, seeds: BUG_BOUND, batchSize });
    assert.is(r.firstFailure?.seed, lowest, `batchSize ${batchSize}`);
  }
});

test('a seed gives the same fingerprint on a piscina thread as on this one (TypeScript scenario modules too); seeds differ', async () => {
  {
    for (const scenario of [relayScenario, counterScenario]) {
      const r = await pool.run({ scenario, seeds: 12, collectFingerprints: true, batchSize: 2 });
      if (r.failures.length > 0) failWith(r);
      for (let seed = 1; seed <= 12; seed++) {
        const here = await runScenario(scenario, { seed });
        assert.is(r.fingerprints!.get(seed), here.fingerprint, `${scenario.name}, seed ${seed}`);
      }
      assert.is(new Set(r.fingerprints!.values()).size, 12, 'every seed ran differently');
    }
  }
});

test('a failing TypeScript scenario prints a replay command with tsx, which reproduces it; without stopping, every failure is kept', async () => {
  const r = await pool.run({ scenario: oddSeedsFail, seeds: 10, stopOnFailure: false, batchSize: 2 });
  assert.is(r.seedsRun, 10);
  assert.equal(
    r.failures.map((f) => f.seed),
    [1, 3, 5, 7, 9],
  );
  const f = r.firstFailure!;
  assert.is(f.failure!.kind, 'check');
  assert.match(
    f.replay!,
    /^node --import tsx packages\/actors\/dist\/sim\/replay\.js --scenario packages\/actors\/test\/fixtures\/sim-scenarios\.ts#oddSeedsFail --seed 1 --plan '\{\}'$/,
  );
  const replay = runReplay(f.replay!);
  assert.is(replay.code, 1, replay.out);
  assert.match(replay.out, /seed 1 is odd \(last seq 1\)/);
  const passing = runReplay(f.replay!.replace('--seed 1', '--seed 2'));
  assert.is(passing.code, 0, passing.out);
});

test('a campaign in the calling thread (workers: 0) gives the same results', async () => {
  const here = await runCampaign({ scenario: relayScenario, seeds: 6, workers: 0, collectFingerprints: true });
  const there = await runCampaign({ scenario: relayScenario, seeds: 6, workers: 1, collectFingerprints: true });
  assert.equal([...here.fingerprints!], [...there.fingerprints!]);
});

test.run();
