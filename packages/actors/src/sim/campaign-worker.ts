/**
 * The piscina worker of campaigns: imports a scenario (once per thread) and runs batches of
 * seeds. When the parent runs TypeScript under tsx, tsx's loader is installed first so that
 * TypeScript scenario modules load here too.
 */
import { workerData } from 'piscina';
import { runBatch, type BatchResult, type CampaignTask } from './batch.js';
import { isScenario, type Scenario } from './scenario.js';

let loaderReady: Promise<void> | null = null;
const scenarios = new Map<string, Promise<Scenario<unknown>>>();

async function installLoader(): Promise<void> {
  const loader = (workerData as { loader?: string | null } | undefined)?.loader;
  if (!loader) return;
  const m = (await import(loader)) as { register?: () => void; default?: { register?: () => void } };
  (m.register ?? m.default?.register)?.();
}

async function load(module: string, exportName: string): Promise<Scenario<unknown>> {
  const ns = (await import(module)) as Record<string, unknown>;
  const s = ns[exportName];
  if (!isScenario(s)) throw new Error(`campaign worker: ${module} has no scenario export "${exportName}"`);
  return s;
}

export default async function campaignBatch(task: CampaignTask): Promise<BatchResult> {
  await (loaderReady ??= installLoader());
  const key = `${task.module}#${task.exportName}`;
  let s = scenarios.get(key);
  if (!s) {
    s = load(task.module, task.exportName);
    scenarios.set(key, s);
  }
  return runBatch(await s, task);
}
