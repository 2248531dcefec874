// examples/src/abd/scenario.ts
import { defineScenario, randomPlan, type Simulation } from '@synod/actors/sim';
import { check, formatExplanation, registerModel, type Operation, type RegisterInput } from '@synod/checker';
import { AbdClient, type ClientState } from './client.js';
import { abdInvariant } from './invariants.js';
import { AbdReplica } from './replica.js';

const REPLICAS = 3;
const CLIENTS = 4;
const OPS = 30;
const replicaNames = Array.from({ length: REPLICAS }, (_, i) => `abd-replica-${i}`);
const clientNames = Array.from({ length: CLIENTS }, (_, i) => `abd-client-${i}`);

async function setup(sim: Simulation, writeBack: boolean): Promise<void> {
  const replicas = [];
  for (let i = 0; i < REPLICAS; i++) replicas.push(await sim.spawn(AbdReplica, { name: replicaNames[i]!, args: { index: i }, storage: 'file' }));
  for (let c = 0; c < CLIENTS; c++) {
    await sim.spawn(AbdClient, {
      name: clientNames[c]!,
      args: { id: c + 1, replicas, ops: OPS, writeBack, retryMs: 30, opTimeoutMs: 400, record: true },
    });
  }
  sim.invariant('replica tags only grow', abdInvariant(replicaNames));
}

/** Every client ran its operations, and their history is linearizable for a register. */
function finalCheck(sim: Simulation): true | string {
  const operations: Operation<RegisterInput, string | null>[] = [];
  for (const name of clientNames) {
    const s = sim.state<ClientState>(name);
    if (!s || s.done < OPS) return `liveness: ${name} finished ${s?.done ?? 0} of its ${OPS} operations`;
    for (const op of s.history) operations.push({ ...op, id: operations.length });
  }
  const result = check({ operations }, registerModel, { maxSteps: 1_000_000 });
  if (result.verdict === 'linearizable') return true;
  if (result.verdict === 'unknown') return 'the checker gave no verdict within its step budget (a failure: no verdict proves nothing)';
  return `not linearizable:\n${result.explanation ? formatExplanation(result.explanation) : ''}`;
}

function scenario(writeBack: boolean) {
  return defineScenario({
    module: import.meta.url,
    name: writeBack ? 'ABD register under faults' : 'ABD register without write-back (control: must fail)',
    plan: (seed) => randomPlan(seed, {
      nodes: replicaNames,
      endMs: 300,
      maxFaults: 6,
      weights: { 'crash-node': 2, partition: 2 },
      network: { drop: 0.25, duplicate: 0.05, reorder: 0.2, latency: { kind: 'uniform', minMs: 0.1, maxMs: 10 } },
    }),
    simulation: { logLevel: 'silent' },
    setup: (sim) => setup(sim, writeBack),
    run: { untilMs: 5_000, until: (view) => clientNames.every((n) => (view.state<ClientState>(n)?.done ?? 0) >= OPS) },
    check: finalCheck,
  });
}

/** The ABD register under random faults: every step keeps the invariant, every history is linearizable. */
export const abdScenario = scenario(true);
/** The control: reads without write-back. A campaign that does not catch it proves nothing. */
export const abdControlScenario = scenario(false);
