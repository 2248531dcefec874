/**
 * Raft proven in simulation, on the same runtime and replicas as Multi-Paxos: 1,000 seeds of
 * random faults (drop up to 30%, duplication, reordering, delay, partitions including ones that
 * cut the leader off from its peers while clients still reach it, crashes and restarts of nodes
 * never a majority at once, pauses, then a heal), with leadership transfers asked for along the
 * way. After every step: the Raft paper's safety properties (Figure 3) and the commit rule;
 * replicas apply exactly the committed log. At the end: the clients' history is linearizable
 * (an undecided check fails), every client finished its final operations after the heal, every
 * replica caught up.
 *
 * And the control that must fail: nodes that forget their term and vote when they restart.
 *
 *   RAFT_SEEDS=20000 pnpm test raft-sim     # a longer campaign (or: pnpm sim:raft)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatFailure, runCampaign, runScenario } from '@synod/actors/sim';
import { forgetfulRaftScenario, raftScenario } from '@synod/cli/scenarios';

const SEEDS = Number(process.env.RAFT_SEEDS ?? 1_000);

test(`Raft keeps every invariant, linearizable histories and liveness over ${SEEDS} fault schedules`, async () => {
  const result = await runCampaign({ scenario: raftScenario, seeds: SEEDS, workers: 2, stopOnFailure: true });
  if (result.firstFailure) console.error(formatFailure(result.firstFailure));
  assert.is(result.seedsRun, SEEDS);
  assert.is(result.passed, SEEDS, 'every seed passes (the failure above, with its replay command, says why not)');
});

test('with nodes that forget their term and vote on restart, the campaign finds a violation and prints its seed and replay command', async () => {
  const result = await runCampaign({ scenario: forgetfulRaftScenario, seeds: SEEDS, workers: 2, stopOnFailure: true });
  const failure = result.firstFailure;
  assert.ok(failure, `no violation found in ${SEEDS} seeds`);
  const report = formatFailure(failure!);
  console.log(`the control failed, as it must:\n${report}`);
  assert.is(failure!.failure!.kind, 'invariant');
  assert.match(failure!.failure!.message, /^(term|election-safety|log-matching|leader-completeness|state-machine-safety|commit-rule|leader-append-only):/);
  assert.match(report, new RegExp(`seed ${failure!.seed}\\b`));
  assert.match(failure!.replay!, /replay\.js --scenario .*forgetfulRaftScenario --seed \d+ --plan '\{/);
  // The replay is exact: the same seed and plan fail the same way, with the same fingerprint.
  const again = await runScenario(forgetfulRaftScenario, { seed: failure!.seed, plan: failure!.plan });
  assert.is(again.ok, false);
  assert.is(again.fingerprint, failure!.fingerprint);
});

test.run();
