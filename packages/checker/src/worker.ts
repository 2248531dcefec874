/**
 * The piscina task: check a batch of partitions in a worker thread. The model is imported from
 * its `source`, once per worker.
 */
import { checkInterleaved, type PartitionLimits, type PartitionResult } from './interleave.js';
import type { AnyModel, ModelSource } from './model.js';
import { fromWire, type WirePartition } from './wire.js';

/** What the main thread sends. */
export interface CheckTask {
  readonly source: ModelSource;
  readonly partitions: readonly WirePartition[];
  /** `Date.now()` deadline (`Infinity`: none): worker clocks (`performance.now`) have their own origins. */
  readonly deadlineEpochMs: number;
  readonly limits: Omit<PartitionLimits, 'timeLeftMs' | 'stop'>;
  /** Shared by the tasks of one check: set by the first that finds a violation. */
  readonly stop: Int32Array;
}

const models = new Map<string, Promise<AnyModel>>();

async function load(source: ModelSource): Promise<AnyModel> {
  const id = `${source.module}#${source.exportName}`;
  let m = models.get(id);
  if (!m) {
    m = import(source.module).then((mod: Record<string, unknown>) => {
      const model = mod[source.exportName] as AnyModel | undefined;
      if (!model || typeof model.step !== 'function') throw new Error(`${source.module} has no model export named ${source.exportName}`);
      return model;
    });
    models.set(id, m);
  }
  return m;
}

export default async function run(task: CheckTask): Promise<PartitionResult[]> {
  const model = await load(task.source);
  // A task that starts after another found a violation returns at once.
  const parts = task.partitions.map(fromWire);
  return checkInterleaved(model, parts, { ...task.limits, timeLeftMs: task.deadlineEpochMs - Date.now(), stop: task.stop });
}
