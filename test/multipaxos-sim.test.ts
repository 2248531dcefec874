/**
 * Multi-Paxos and the ReplicatedMap proven in simulation: 1,000 seeds of random faults (drop up
 * to 30%, duplication, reordering, delay, partitions including ones that isolate the leader,
 * crashes of replica nodes and of the leader's node, pauses; never a majority down at once).
 * After every step: one value per slot, replicas' applied logs are prefixes of one another and
 * only grow. At the end: the clients' history is linearizable (@synod/checker), the clients'
 * operations after the heal all succeed, and every replica caught up.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatFailure, runCampaign } from '@synod/actors/sim';
import { multipaxosScenario } from '@synod/cli/scenarios';

const SEEDS = Number(process.env.MULTIPAXOS_SEEDS ?? 1_000);

test(`Multi-Paxos keeps every invariant, linearizable histories and liveness over ${SEEDS} fault schedules`, async () => {
  const result = await runCampaign({ scenario: multipaxosScenario, seeds: SEEDS, workers: 2, stopOnFailure: true });
  if (result.firstFailure) console.error(formatFailure(result.firstFailure));
  assert.is(result.seedsRun, SEEDS);
  assert.is(result.passed, SEEDS, 'every seed passes (the failure above, with its replay command, says why not)');
});

test.run();
