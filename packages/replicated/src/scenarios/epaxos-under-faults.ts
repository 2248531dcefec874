/**
 * The ReplicatedMap on EPaxos under simulated faults, as users run it: the cluster is started by
 * `startCluster` with `protocol: 'epaxos'`, instances hold the bytes of client requests, and the
 * clients are the production client (`ClientCore` of @synod/smr) in the Jepsen-style processes of
 * map-under-faults.ts, spread over the replicas (every replica leads what its clients send).
 *
 * Per seed: 3 or 5 replicas, 2-3 processes on their own nodes doing set, get (linearizable: a
 * barrier through the protocol), compareAndSet and delete on one to three keys (one key: every
 * command interferes). A random fault plan: message drop up to 30%, duplication, reordering,
 * delay, partitions, isolation of a replica, crashes of replica nodes (never a majority down at
 * once), pauses; then a heal.
 *
 * After every step (EPaxosInvariants): one command per instance, committed attributes agree,
 * interfering commands execute in the same order on every replica, digests agree at barriers,
 * promises never below votes. At the end: the processes' history is linearizable (the checker,
 * with a step budget: no verdict is a failure), every process finished its final operations after
 * the heal (liveness), and every replica executed the same instances.
 *
 * `epaxosControlScenario` is the control: replicas that recover an instance from what they hold
 * alone, skipping the quorum of replies. A campaign that does not catch it proves nothing.
 */
import { Prng } from '@synod/actors/internals';
import { defineScenario, randomPlan, type FaultPlan, type Simulation, type SimView, type TimedFault } from '@synod/actors/sim';
import { EPaxosInvariants, type EPaxosState } from '@synod/epaxos';
import { startCluster } from '../cluster.js';
import { mapMachine } from '../map-machine.js';
import { MapProcess, checkMapRun, mapSimulationOptions, processesFinished } from './map-under-faults.js';

export interface EPaxosShape {
  replicas: number;
  processes: number;
  keys: string[];
  faultsEndMs: number;
  settleMs: number;
}

export function epaxosShape(seed: number): EPaxosShape {
  const rng = new Prng((seed ^ 0x5eed_e9a) >>> 0);
  const keys = ['a', 'b', 'c'].slice(0, 1 + rng.int(3));
  return { replicas: rng.next() < 0.7 ? 3 : 5, processes: 2 + rng.int(2), keys, faultsEndMs: 400 + rng.int(400), settleMs: 8_000 };
}

const NAME = 'epx';
const replicaName = (i: number): string => `${NAME}-replica-${i}`;

/** Faults over the replica nodes, never a majority of them down at once. */
export function epaxosPlan(seed: number, shape: EPaxosShape): FaultPlan {
  const rng = new Prng((seed ^ 0x1234_5678) >>> 0);
  const nodes = Array.from({ length: shape.replicas }, (_, i) => replicaName(i));
  const plan = randomPlan(seed, {
    nodes,
    endMs: shape.faultsEndMs,
    startMs: 20,
    minFaults: 2,
    maxFaults: 10,
    maxDownMs: 200,
    weights: { 'crash-node': 3, isolate: 2 },
    network: {
      drop: Math.round(rng.next() * 0.3 * 1000) / 1000,
      duplicate: Math.round(rng.next() * 0.1 * 1000) / 1000,
      reorder: Math.round(rng.next() * 0.2 * 1000) / 1000,
      latency: { kind: 'uniform', minMs: 0.05, maxMs: 1 + rng.int(4) },
    },
    disk: { syncDelay: { kind: 'uniform', minMs: 0.1, maxMs: 2 } },
  });
  const faults: TimedFault[] = [...(plan.faults ?? [])];
  faults.sort((a, b) => a.atMs - b.atMs);
  plan.faults = keepAMajorityUp(faults, new Set(nodes), Math.floor((shape.replicas - 1) / 2));
  plan.links = [{ from: 0, drop: 0, duplicate: 0, reorder: 0 }];
  return plan;
}

function keepAMajorityUp(faults: TimedFault[], nodes: Set<string>, maxDown: number): TimedFault[] {
  const down: { from: number; to: number }[] = [];
  return faults.filter((f) => {
    if (f.kind !== 'crash-node' || typeof f.node !== 'string' || !nodes.has(f.node)) return true;
    const from = f.atMs;
    const to = f.atMs + (f.downMs ?? 0) + 100;
    if (down.filter((d) => d.from < to && from < d.to).length >= maxDown) return false;
    down.push({ from, to });
    return true;
  });
}

interface Context {
  shape: EPaxosShape;
  processes: string[];
}

async function setup(sim: Simulation, shape: EPaxosShape, control: boolean): Promise<Context> {
  const n = shape.replicas;
  const cluster = await startCluster(sim, {
    name: NAME,
    protocol: 'epaxos',
    replicas: n,
    machine: mapMachine,
    storage: 'file',
    protocolOptions: {
      keepJournal: true,
      window: 16,
      maxBatchCommands: 16,
      tickMs: 5,
      retransmitMs: 20,
      fastPathWaitMs: 10,
      askAfterMs: 40,
      recoveryTimeoutMs: 150,
      frontierMs: 20,
      replicaTimeoutMs: 400,
      barrierEveryInstances: 8,
      ...(control ? { unsafeRecoveryWithoutQuorum: true } : {}),
    },
    replica: { snapshotEvery: 16, snapshotChunkBytes: 64, maxApplyAttempts: 8 },
    supervision: { maxRestarts: 1_000, windowMs: 1_000 },
  });
  const processes: string[] = [];
  for (let p = 0; p < shape.processes; p++) {
    const name = `process-${p}`;
    processes.push(name);
    await sim.spawn(MapProcess, {
      name,
      args: {
        process: p,
        cluster: { leaders: cluster.leaders, replicas: cluster.replicas, leaderless: true },
        keys: shape.keys,
        busyUntilMs: shape.faultsEndMs,
        finalOps: 3,
        finalAtMs: shape.faultsEndMs + 500,
        attemptTimeoutMs: 100,
        opTimeoutMs: 1_500,
        finalOpTimeoutMs: 3_000,
      },
    });
  }
  const invariants = new EPaxosInvariants(n);
  const names = Array.from({ length: n }, (_, i) => replicaName(i));
  sim.invariant('epaxos safety', (view: SimView) => {
    const v = invariants.observe(names.map((name) => ({ name, state: view.state<EPaxosState>(name) as EPaxosState | undefined, durable: view.durable(name) })));
    return v === null ? true : `${v.property}: ${v.message}`;
  });
  return { shape, processes };
}

/** What a replica executed, in a form equal on replicas that executed the same instances. */
function executedOf(view: Pick<SimView, 'state'>, i: number): string {
  const s = view.state<EPaxosState>(replicaName(i)) as EPaxosState | undefined;
  if (!s || s.restoring !== null) return `replica ${i} is down or restoring`;
  return `${s.executedUpTo.join('.')}/${s.logDigest}/${s.barriers}`;
}

/** How the replicas differ in what they executed (null when they agree). */
function executedDisagreement(view: Pick<SimView, 'state'>, replicas: number): string | null {
  const executed = Array.from({ length: replicas }, (_, i) => executedOf(view, i));
  return executed.every((e) => e === executed[0]) ? null : `replicas did not execute the same instances (prefixes/digest/barriers: ${executed.join(', ')})`;
}

function settled(view: SimView, ctx: Context): boolean {
  return (
    view.nowMs >= ctx.shape.faultsEndMs + 500 &&
    processesFinished(view, ctx.processes) &&
    executedDisagreement(view, ctx.shape.replicas) === null &&
    !executedOf(view, 0).includes(' ')
  );
}

function scenario(control: boolean) {
  return defineScenario<Context>({
    module: import.meta.url,
    name: control ? 'epaxos map with recovery that skips its quorum (control: must fail)' : 'epaxos map under faults',
    plan: (seed) => epaxosPlan(seed, epaxosShape(seed)),
    simulation: mapSimulationOptions,
    setup: (sim, seed) => setup(sim, epaxosShape(seed), control),
    run: async (sim, ctx) => {
      await sim.run({ untilMs: ctx.shape.faultsEndMs + ctx.shape.settleMs, until: (view) => settled(view, ctx) });
    },
    check: (sim, ctx) => checkMapRun(sim, ctx.processes, ctx.shape.settleMs, () => executedDisagreement(sim, ctx.shape.replicas)),
  });
}

/** The ReplicatedMap on EPaxos under faults (see the module comment). */
export const epaxosScenario = scenario(false);
/** The control: recovery that decides from one replica's record, skipping the quorum. */
export const epaxosControlScenario = scenario(true);
