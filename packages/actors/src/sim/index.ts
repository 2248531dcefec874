/**
 * `@synod/actors/sim`: the deterministic simulator. The same actor definitions as in workers
 * mode, on simulated nodes in one thread, with a virtual clock, a simulated network and disk,
 * fault plans as plain JSON, invariants checked after every step, fingerprints, scenarios that
 * replay from one command, and campaigns over many seeds on a piscina pool.
 */
export {
  Simulation, defaultDisk,
  type SimulationOptions, type SimSpawnOptions, type RunOptions, type RunResult, type SimFailure, type SimStats, type SimEvents,
} from './simulation.js';
export type { SimView, ActorView, MessageInFlight, Invariant, DeepReadonly } from './view.js';
export {
  randomPlan, checkPlan, checkFault,
  type FaultPlan, type Fault, type TimedFault, type FaultKind, type LinkRates, type LinkRule, type DiskPlan, type NodeSelector,
  type RandomPlanOptions, type RandomFaultKind,
} from './plan.js';
export type { Distribution } from './distribution.js';
export { defaultNetwork } from './network.js';
export { formatTrace, formatRecord, type TraceRecord, type TraceKind } from './trace.js';
export { PlanError, SimulationError } from './errors.js';
export {
  defineScenario, isScenario, runScenario, locateScenario, loadScenario, replayCommand, formatFailure, shellQuote,
  type Scenario, type ScenarioDefinition, type ScenarioSimulationOptions, type ScenarioOutcome, type ScenarioFailure,
  type ScenarioRunOptions, type ScenarioLocation,
} from './scenario.js';
export {
  runCampaign, CampaignPool, expandSeeds,
  type CampaignOptions, type CampaignPoolOptions, type CampaignResult, type CampaignProgress, type SeedRange,
} from './campaign.js';
export type { BatchResult } from './batch.js';
