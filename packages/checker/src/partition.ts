/**
 * P-compositionality (Herlihy & Wing): a history is linearizable iff each of its parts on
 * independent objects is. For a map, each key is such an object, so each key's operations are
 * checked on their own: many small searches instead of one exponentially larger one.
 */
import type { History, Operation } from './history.js';
import type { Model } from './model.js';

/** The operations of one key (or of the whole history when the model has no keys). */
export interface Partition<I = unknown, O = unknown> {
  /** The key, or `undefined` for an unpartitioned model. */
  readonly key: string | number | undefined;
  /** Operations that may have taken effect (`fail` ones are dropped), in history order. */
  readonly operations: Operation<I, O>[];
}

/**
 * Splits a history by `model.partitionKey`, dropping operations that failed (they did not take
 * effect, so they constrain nothing). Partitions come in the order their keys first appear.
 */
export function partitionHistory<S, I, O>(history: History<I, O>, model: Model<S, I, O>): Partition<I, O>[] {
  const keyOf = model.partitionKey?.bind(model);
  if (!keyOf) return [{ key: undefined, operations: history.operations.filter((op) => op.outcome !== 'fail') }];
  const parts = new Map<string | number, Operation<I, O>[]>();
  for (const op of history.operations) {
    if (op.outcome === 'fail') continue;
    const key = keyOf(op.input);
    let ops = parts.get(key);
    if (!ops) {
      ops = [];
      parts.set(key, ops);
    }
    ops.push(op);
  }
  return [...parts].map(([key, operations]) => ({ key, operations }));
}
