/**
 * The ReplicatedMap proven in simulation, as users run it (the cluster from `startCluster`, the
 * production client, requests as bytes in the log): 2,000 seeds of random faults (drop up to 30%,
 * duplication, reordering, delay, partitions including ones that isolate the leader, crashes of
 * replica nodes and of the leader's node, pauses; never a majority down at once). After every
 * step: one value per slot, replicas' applied logs are prefixes of one another and only grow. At
 * the end: the history is linearizable (a step budget: the same verdict every run), every process
 * finished its operations after the heal, every replica caught up.
 *
 * And the control: with acceptors that forget their promises when they restart, the campaign
 * must find a failure (else it proves nothing). Longer campaigns: `pnpm campaign:multipaxos`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatFailure, runCampaign } from '@synod/actors/sim';
import { forgetfulMapScenario, mapScenario } from '@synod/replicated/scenarios';

const SEEDS = Number(process.env.MULTIPAXOS_SEEDS ?? 2_000);
const CONTROL_SEEDS = Number(process.env.MULTIPAXOS_CONTROL_SEEDS ?? 400);

test(`the replicated map keeps every invariant, linearizable histories and liveness over ${SEEDS} fault schedules`, async () => {
  const result = await runCampaign({ scenario: mapScenario, seeds: SEEDS, workers: 2, stopOnFailure: true });
  if (result.firstFailure) console.error(formatFailure(result.firstFailure));
  assert.is(result.seedsRun, SEEDS);
  assert.is(result.passed, SEEDS, 'every seed passes (the failure above, with its replay command, says why not)');
});

test(`the control (acceptors that forget) is caught within ${CONTROL_SEEDS} seeds`, async () => {
  const result = await runCampaign({ scenario: forgetfulMapScenario, seeds: CONTROL_SEEDS, workers: 2, stopOnFailure: true });
  assert.ok(result.firstFailure, `no seed of ${CONTROL_SEEDS} caught acceptors that forget their promises: the campaign proves nothing`);
  console.log(
    `control caught at seed ${result.firstFailure!.seed} (${result.seedsRun} seeds run):\n${formatFailure(result.firstFailure!).split('\n').slice(0, 4).join('\n')}`,
  );
});

test.run();
