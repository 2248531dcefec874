/**
 * What `synod sim --faults` takes: a preset that keeps part of each seed's own fault plan, or a
 * plan file used for every seed.
 *
 *   plan      the scenario's seeded random plan: network and process faults (the default)
 *   network   only its network faults: background drop, duplication, reordering, delay;
 *             partitions, isolations, cuts, degradations
 *   crashes   only its process faults: node crashes, actor crashes, pauses
 *   none      no faults at all (the protocol on a perfect network)
 *   FILE      a JSON fault plan (see FaultPlan in @synod/actors/sim) for every seed
 */
import { readFileSync } from 'node:fs';
import { checkPlan, PlanError, type FaultPlan, type FaultKind } from '@synod/actors/sim';

export const PRESETS = ['plan', 'network', 'crashes', 'none'] as const;
export type Preset = (typeof PRESETS)[number];

/** Largest plan file read, bytes. */
export const MAX_PLAN_FILE_BYTES = 1024 * 1024;

const NETWORK: readonly FaultKind[] = ['partition', 'isolate', 'cut', 'degrade', 'heal'];
const PROCESS: readonly FaultKind[] = ['crash-node', 'crash-actor', 'pause', 'heal'];

/** The part of `plan` a preset keeps. */
export function filterPlan(plan: FaultPlan, preset: Preset): FaultPlan {
  if (preset === 'plan') return plan;
  if (preset === 'none') return {};
  const kinds = preset === 'network' ? NETWORK : PROCESS;
  const out: FaultPlan = { faults: (plan.faults ?? []).filter((f) => kinds.includes(f.kind)) };
  // Background link behaviour is network weather; the disk (sync delays, what a crash keeps)
  // matters only with crashes and changes nothing otherwise.
  if (preset === 'network') {
    if (plan.network) out.network = plan.network;
    if (plan.links) out.links = plan.links;
  }
  if (plan.disk) out.disk = plan.disk;
  return out;
}

/** A fault plan read from a JSON file and checked; the error says what is wrong and where. */
export function readPlanFile(file: string): FaultPlan {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PlanError(`--faults ${file}: ${code === 'ENOENT' ? `no such file (and not one of the presets ${PRESETS.join(', ')})` : (e as Error).message}`);
  }
  if (text.length > MAX_PLAN_FILE_BYTES) throw new PlanError(`--faults ${file}: the file is over ${MAX_PLAN_FILE_BYTES} bytes`);
  let plan: FaultPlan;
  try {
    plan = JSON.parse(text) as FaultPlan;
  } catch (e) {
    throw new PlanError(`--faults ${file}: not valid JSON (${(e as Error).message})`);
  }
  try {
    checkPlan(plan);
  } catch (e) {
    throw new PlanError(`--faults ${file}: ${(e as Error).message}`);
  }
  return plan;
}
