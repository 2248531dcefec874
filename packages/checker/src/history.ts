/**
 * Histories: what clients asked for, and what came back.
 *
 * An operation is one call by one process, from its invoke to its outcome. The checker only
 * looks at real-time order (`call`, `ret`) and at inputs and outputs; process ids and source
 * lines are there to explain a verdict.
 */
import { SynodError, registerErrors } from '@synod/errors';

/** Who made a call. One process does one thing at a time (as in Jepsen). */
export type ProcessId = number | string;

/**
 * How a call ended.
 * - `ok`: it returned and took effect; `output` is what it returned.
 * - `fail`: it returned and certainly did not take effect (the checker drops it).
 * - `unknown`: no answer (timeout, lost reply, crash): it may take effect at any time after its
 *   invoke, or never. Its `ret` is `Infinity`.
 */
export type Outcome = 'ok' | 'fail' | 'unknown';

/** One call, from invoke to outcome. */
export interface Operation<I = unknown, O = unknown> {
  /** Index in the history's `operations`. */
  readonly id: number;
  readonly process: ProcessId;
  readonly input: I;
  readonly outcome: Outcome;
  /** What the call returned; present when `outcome` is `ok`. */
  readonly output?: O;
  /** When it was invoked (any monotonic clock; parsers use the line number). */
  readonly call: number;
  /** When it returned; `Infinity` when the outcome is unknown. */
  readonly ret: number;
  /** Source line of the invoke, when parsed from a file. */
  readonly line?: number;
  /** Source line of the outcome, when parsed from a file and there was one. */
  readonly returnLine?: number;
}

/** A history: operations in any order (the checker orders them by `call` and `ret`). */
export interface History<I = unknown, O = unknown> {
  readonly operations: readonly Operation<I, O>[];
  /** Where it came from (a file name), for messages. */
  readonly source?: string;
}

/** A history that breaks the rules of {@link validateHistory}. */
export class InvalidHistoryError extends SynodError {
  override readonly name = 'InvalidHistoryError';
  override readonly code: string = 'invalid-history';
  constructor(
    message: string,
    readonly operationId?: number,
  ) {
    super(message);
  }
}

/**
 * Checks the shape of a history: ids match positions, `call <= ret`, unknown operations are open
 * (`ret === Infinity`), ok operations have a finite `ret`. Throws {@link InvalidHistoryError}.
 */
export function validateHistory(history: History): void {
  const ops = history.operations;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const where = `${history.source ? history.source + ': ' : ''}operation ${i}`;
    if (op.id !== i) throw new InvalidHistoryError(`${where} has id ${op.id}; ids must equal their index in operations`, i);
    if (!Number.isFinite(op.call)) throw new InvalidHistoryError(`${where} has no finite call time (${op.call})`, i);
    if (op.outcome === 'unknown') {
      if (op.ret !== Infinity) throw new InvalidHistoryError(`${where} has an unknown outcome, so its ret must be Infinity (got ${op.ret})`, i);
    } else if (op.outcome === 'ok' || op.outcome === 'fail') {
      if (!Number.isFinite(op.ret)) throw new InvalidHistoryError(`${where} is ${op.outcome} but has no finite ret (${op.ret})`, i);
      if (op.ret < op.call) throw new InvalidHistoryError(`${where} returns (${op.ret}) before it is invoked (${op.call})`, i);
    } else {
      throw new InvalidHistoryError(`${where} has outcome ${JSON.stringify(op.outcome)}; expected ok, fail or unknown`, i);
    }
  }
}

/** Counts operations by outcome. */
export function countOutcomes(history: History): Record<Outcome, number> {
  const counts = { ok: 0, fail: 0, unknown: 0 };
  for (const op of history.operations) counts[op.outcome]++;
  return counts;
}

registerErrors({ InvalidHistoryError });
