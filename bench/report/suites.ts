/**
 * The suites `pnpm bench` runs, in order, with their time budgets. A suite is
 * `bench/<name>.ts`, built to `bench/dist/<name>.js`; one that is not in the checkout is reported
 * as missing. Budgets: the full run must end within 35 minutes on 2 cores (with the scaling step), the quick one within 5.
 * Each suite gets its budget in BENCH_BUDGET_S and should plan to finish well within it; one
 * that runs past it is reported as over budget, and one still running at
 * {@link HARD_LIMIT_FACTOR} times its budget is stopped (a shared machine under load can slow a
 * suite down that much, and a first look should still come back with numbers).
 */

export interface SuiteSpec {
  readonly name: string;
  /** One line for the report. */
  readonly what: string;
  /** Seconds allowed in a full and in a quick run. */
  readonly budgetS: { readonly full: number; readonly quick: number };
  /** Measured in the scaling step (it honours BENCH_SCALING=1). */
  readonly scaling: boolean;
}

export const SUITES: readonly SuiteSpec[] = [
  {
    name: 'transport',
    what: 'the actor runtime against raw MessagePorts between two workers; one-way on one thread',
    budgetS: { full: 150, quick: 12 },
    scaling: true,
  },
  {
    name: 'persist',
    what: 'acknowledged persisted turns per second for memory, shared and file storage (group commit and one sync per turn); file snapshots written and recovered, MB/s',
    budgetS: { full: 200, quick: 40 },
    scaling: false,
  },
  {
    name: 'sim',
    what: 'the deterministic simulator: deliveries per second, campaign seeds per second on 1 and 2 threads',
    budgetS: { full: 120, quick: 10 },
    scaling: false,
  },
  { name: 'checker', what: 'the linearizability checker on the golden histories and a large synthetic one', budgetS: { full: 90, quick: 8 }, scaling: false },
  {
    name: 'synod',
    what: 'the Synod: rounds per second against instances in flight and acceptors; workers, embedded, bare baseline; round latency',
    budgetS: { full: 240, quick: 18 },
    scaling: true,
  },
  {
    name: 'multipaxos',
    what: 'Multi-Paxos: commands per second against batch limit and window; latency for one client; cost per command against acceptors and command size',
    budgetS: { full: 300, quick: 35 },
    scaling: true,
  },
  {
    name: 'state',
    what: 'a large ReplicatedMap with file storage: fill through the API, a follower catching up by chunked snapshot, snapshot write, restart',
    budgetS: { full: 400, quick: 60 },
    scaling: false,
  },
  {
    name: 'protocols',
    what: 'the replication protocols side by side (Multi-Paxos, Raft, EPaxos) on identical workloads: commands per second batched and unbatched, one-client latency, CPU per command, 3 and 5 replicas, workers and embedded; from killing the leader to the next commit; commands/s, CPU and latency against the share of conflicting commands (0, 2, 25, 100 %) and against replicas (3, 5); Flexible Paxos quorums (q2 = 2 of 5)',
    budgetS: { full: 480, quick: 65 },
    scaling: false,
  },
];

/** A suite still running at this many times its budget is stopped. */
export const HARD_LIMIT_FACTOR = 2;

/** The scaling step's budget (all its suites, core counts and runs together): no run starts past it. */
export const SCALING_BUDGET_S = { full: 120, quick: 20 } as const;

/** Runs of the scaling step when --runs does not say (each measures every core count once). */
export const SCALING_RUNS = { full: 5, quick: 2 } as const;

/** Seconds allowed for one scaling measurement (one suite on one core count). */
export const SCALING_MEASUREMENT_MAX_S = { full: 40, quick: 10 } as const;

/** The spec of a suite by name, or undefined. */
export function suiteSpec(name: string): SuiteSpec | undefined {
  return SUITES.find((s) => s.name === name);
}
