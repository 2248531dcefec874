/**
 * `@synod/actors/sim`: the deterministic simulator. The same actor definitions as in workers
 * mode, on simulated nodes in one thread, with a virtual clock, a simulated network and disk,
 * fault plans as plain JSON, invariants checked after every step, fingerprints, scenarios that
 * replay from one command, and campaigns over many seeds on a piscina pool.
 *
 * ```ts
 * // scenarios.ts: a scenario lives in a module of its own, so threads can import it.
 * export const underFaults = defineScenario({
 *   module: import.meta.url,
 *   name: 'counter under faults',
 *   plan: (seed) => randomPlan(seed, { nodes: ['counter'], actors: ['counter'], endMs: 500 }),
 *   async setup(sim) { await sim.spawn(Counter, { name: 'counter', storage: 'file' }); },
 *   run: { untilMs: 1_000 },
 *   check: (sim) => sim.state('counter') !== undefined || 'the counter is down at the end',
 * });
 *
 * // main.ts
 * const r = await runCampaign({ scenario: underFaults, seeds: 10_000, workers: 2, progress: true });
 * if (r.firstFailure) console.error(formatFailure(r.firstFailure)); // seed, plan, replay command
 * ```
 *
 * A failure's replay command runs `replay.js` (this folder) with the scenario, the seed and the
 * plan; add `--trace` to print every event of the run.
 *
 * @module @synod/actors/sim
 */
export {
  Simulation,
  defaultDisk,
  type SimulationOptions,
  type SimSpawnOptions,
  type RunOptions,
  type RunResult,
  type SimFailure,
  type SimStats,
  type SimEvents,
} from './simulation.js';
export type { SimView, ActorView, MessageInFlight, Invariant, DeepReadonly } from './view.js';
export {
  randomPlan,
  checkPlan,
  checkFault,
  type FaultPlan,
  type Fault,
  type TimedFault,
  type FaultKind,
  type LinkRates,
  type LinkRule,
  type DiskPlan,
  type NodeSelector,
  type RandomPlanOptions,
  type RandomFaultKind,
} from './plan.js';
export type { Distribution } from './distribution.js';
export { defaultNetwork } from './network.js';
export { formatTrace, formatRecord, type TraceRecord, type TraceKind } from './trace.js';
export { PlanError, SimulationError } from './errors.js';
export {
  defineScenario,
  isScenario,
  runScenario,
  locateScenario,
  loadScenario,
  replayCommand,
  formatFailure,
  shellQuote,
  type Scenario,
  type ScenarioDefinition,
  type ScenarioSimulationOptions,
  type ScenarioOutcome,
  type ScenarioFailure,
  type ScenarioRunOptions,
  type ScenarioLocation,
} from './scenario.js';
export {
  runCampaign,
  CampaignPool,
  expandSeeds,
  type CampaignOptions,
  type CampaignPoolOptions,
  type CampaignResult,
  type CampaignProgress,
  type SeedRange,
} from './campaign.js';
export type { BatchResult } from './batch.js';
