/**
 * EPaxos proven in simulation, as users run it (the cluster from `startCluster` with
 * `protocol: 'epaxos'`, the production client, requests as bytes in instances): 1,000 seeds of
 * random faults (drop up to 30%, duplication, reordering, delay, partitions, isolated replicas,
 * crashes of replica nodes, pauses; never a majority down at once). After every step: one command
 * per instance, committed attributes agree, interfering commands execute in the same order on
 * every replica, digests agree at barriers. At the end: the history is linearizable (a step
 * budget: the same verdict every run), every process finished its operations after the heal, every
 * replica executed the same instances.
 *
 * And the control: with recovery that decides from one replica's record, skipping its quorum, the
 * campaign must find a failure (else it proves nothing). Longer campaigns: `pnpm sim:epaxos` (20,000 seeds).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatFailure, runCampaign } from '@synod/actors/sim';
import { epaxosControlScenario, epaxosScenario } from '@synod/replicated/scenarios';

const SEEDS = Number(process.env.EPAXOS_SEEDS ?? 1_000);
const CONTROL_SEEDS = Number(process.env.EPAXOS_CONTROL_SEEDS ?? 200);

test(`EPaxos keeps every invariant, linearizable histories and liveness over ${SEEDS} fault schedules`, async () => {
  const result = await runCampaign({ scenario: epaxosScenario, seeds: SEEDS, workers: 2, stopOnFailure: true });
  if (result.firstFailure) console.error(formatFailure(result.firstFailure));
  assert.is(result.seedsRun, SEEDS);
  assert.is(result.passed, SEEDS, 'every seed passes (the failure above, with its replay command, says why not)');
});

test(`the control (recovery without its quorum) is caught within ${CONTROL_SEEDS} seeds`, async () => {
  const result = await runCampaign({ scenario: epaxosControlScenario, seeds: CONTROL_SEEDS, workers: 2, stopOnFailure: true });
  assert.ok(result.firstFailure, `no seed of ${CONTROL_SEEDS} caught recovery that skips its quorum: the campaign proves nothing`);
  const f = result.firstFailure!;
  assert.ok(f.replay, 'the failure names the command that replays it');
  console.log(`control caught at seed ${f.seed} (${result.seedsRun} seeds run):\n${formatFailure(f).split('\n').slice(0, 4).join('\n')}`);
});

test.run();
