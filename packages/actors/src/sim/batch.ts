/**
 * One batch of a campaign: consecutive seeds of one scenario, run in one thread (a piscina
 * worker, or the caller's thread). Seeds run in ascending order, so stopping at the first
 * failure of a batch is deterministic.
 */
import { runScenario, type Scenario, type ScenarioOutcome } from './scenario.js';

/** A batch of seeds, as sent to a campaign thread (plain data). */
export interface CampaignTask {
  module: string;
  exportName: string;
  seeds: number[];
  stopOnFailure: boolean;
  collectFingerprints: boolean;
}

/** What a batch reports back. */
export interface BatchResult {
  /** Seeds run (fewer than given when it stopped at a failure). */
  ran: number;
  passed: number;
  failures: ScenarioOutcome[];
  /** [seed, fingerprint] per seed run, when asked for. */
  fingerprints: [number, string][];
  deliveries: number;
  steps: number;
}

/** Runs the seeds of one batch in order; stops after the first failure when asked to. */
export async function runBatch(scenario: Scenario<unknown>, task: Pick<CampaignTask, 'seeds' | 'stopOnFailure' | 'collectFingerprints'>): Promise<BatchResult> {
  const out: BatchResult = { ran: 0, passed: 0, failures: [], fingerprints: [], deliveries: 0, steps: 0 };
  for (const seed of task.seeds) {
    const o = await runScenario(scenario, { seed });
    out.ran++;
    out.deliveries += o.stats.deliveries;
    out.steps += o.steps;
    if (task.collectFingerprints) out.fingerprints.push([seed, o.fingerprint]);
    if (o.ok) out.passed++;
    else {
      out.failures.push(o);
      if (task.stopOnFailure) break;
    }
  }
  return out;
}
