/**
 * The ReplicatedMap on Raft proven in simulation, as users run it (`startCluster` with
 * `protocol: 'raft'`, the production client, requests as bytes in the log): 1,000 seeds of the
 * Multi-Paxos campaign's random faults (drop up to 30%, duplication, reordering, delay,
 * partitions, crashes of replica nodes and of the leader's node, pauses; never a majority down at
 * once), plus leaders cut off from their peers while clients still reach them, lease reads and
 * leadership transfers. After every step: the Raft paper's safety properties (Figure 3) and the
 * commit rule; replicas apply exactly the committed log. At the end: the history is linearizable
 * (a step budget: the same verdict every run), every process finished its operations after the
 * heal, every replica caught up.
 *
 * And the control that must fail: nodes that forget their term and vote when they restart.
 *
 *   RAFT_SEEDS=20000 pnpm test raft-campaign     # a longer campaign (or: pnpm sim:raft)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatFailure, runCampaign, runScenario } from '@synod/actors/sim';
import { forgetfulRaftScenario, raftScenario } from '@synod/replicated/scenarios';

const SEEDS = Number(process.env.RAFT_SEEDS ?? 1_000);
const CONTROL_SEEDS = Number(process.env.RAFT_CONTROL_SEEDS ?? 400);

test(`Raft keeps every invariant, linearizable histories and liveness over ${SEEDS} fault schedules`, async () => {
  const result = await runCampaign({ scenario: raftScenario, seeds: SEEDS, workers: 2, stopOnFailure: true });
  if (result.firstFailure) console.error(formatFailure(result.firstFailure));
  assert.is(result.seedsRun, SEEDS);
  assert.is(result.passed, SEEDS, 'every seed passes (the failure above, with its replay command, says why not)');
});

test(`with nodes that forget their term and vote on restart, the campaign finds a violation within ${CONTROL_SEEDS} seeds, and its replay fails the same way`, async () => {
  const result = await runCampaign({ scenario: forgetfulRaftScenario, seeds: CONTROL_SEEDS, workers: 2, stopOnFailure: true });
  const failure = result.firstFailure;
  assert.ok(failure, `no seed of ${CONTROL_SEEDS} caught nodes that forget their term and vote: the campaign proves nothing`);
  const report = formatFailure(failure!);
  console.log(`control caught at seed ${failure!.seed} (${result.seedsRun} seeds run):\n${report.split('\n').slice(0, 4).join('\n')}`);
  assert.match(report, new RegExp(`seed ${failure!.seed}\\b`));
  assert.match(failure!.replay!, /replay\.js --scenario .*forgetfulRaftScenario --seed \d+ --plan '\{/);
  // The replay is exact: the same seed and plan fail the same way, with the same fingerprint.
  const again = await runScenario(forgetfulRaftScenario, { seed: failure!.seed, plan: failure!.plan });
  assert.is(again.ok, false);
  assert.is(again.fingerprint, failure!.fingerprint);
});

test.run();
