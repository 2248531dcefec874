/**
 * The Synod proven in simulation: a campaign of 2,000 seeds of random faults (drop up to 30%,
 * duplication, reordering, delay, partitions, crashes and restarts of acceptors and proposers,
 * never a majority of acceptors down at once, competing proposals) finds no invariant violation,
 * and every instance is decided after the faults heal. The same campaign with acceptors that
 * forget their promises on a crash must find a violation, and say how to replay it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatFailure, runCampaign, runScenario } from '@synod/actors/sim';
import { forgetfulSynodScenario, synodScenario } from '@synod/paxos/scenarios';

const SEEDS = Number(process.env.SYNOD_SEEDS ?? 2_000);

test(`the Synod keeps every invariant and stays live over ${SEEDS} simulated fault schedules`, async () => {
  const result = await runCampaign({ scenario: synodScenario, seeds: SEEDS, workers: 2, stopOnFailure: true });
  if (result.firstFailure) console.error(formatFailure(result.firstFailure));
  assert.is(result.seedsRun, SEEDS);
  assert.is(result.passed, SEEDS, 'every seed passes (the failure above, with its replay command, says why not)');
});

test('with acceptors that forget their promises on a crash, the campaign finds a safety violation and prints its replay', async () => {
  const result = await runCampaign({ scenario: forgetfulSynodScenario, seeds: SEEDS, workers: 2, stopOnFailure: true });
  const failure = result.firstFailure;
  assert.ok(failure, `no violation found in ${SEEDS} seeds`);
  assert.is(failure!.failure!.kind, 'invariant');
  assert.match(failure!.failure!.message, /one-value-chosen|learned-is-chosen|clients never|answered/);
  assert.match(failure!.replay!, /replay\.js --scenario .*forgetfulSynodScenario --seed \d+ --plan '\{/);
  // The replay is exact: the same seed and plan fail the same way, with the same fingerprint.
  const again = await runScenario(forgetfulSynodScenario, { seed: failure!.seed, plan: failure!.plan });
  assert.is(again.ok, false);
  assert.is(again.fingerprint, failure!.fingerprint);
});

test.run();
