/**
 * A model is the sequential specification an object must look like: its initial state and what
 * one operation does to a state. The checker asks only these few questions, so adding a model
 * for your own object is one small object literal.
 */
import type { Outcome } from './history.js';
import type { JepsenOperation } from './parsers/jepsen-ops.js';

/** The output of an operation whose outcome is unknown: any output is acceptable. */
export const UNKNOWN: unique symbol = Symbol('synod.checker.unknown-output');
export type Unknown = typeof UNKNOWN;

/** Where a worker thread can import a model from, so that checks can run on piscina. */
export interface ModelSource {
  /** Module URL (`import.meta.url` of the module that exports the model). */
  readonly module: string;
  /** Name of the export holding the model. */
  readonly exportName: string;
}

/** What {@link Model.fromJepsen} returns: the operation in this model's terms. */
export interface DecodedOperation<I, O> {
  readonly input: I;
  readonly outcome: Outcome;
  /** Required when `outcome` is `ok`. */
  readonly output?: O;
}

/**
 * A sequential specification.
 *
 * @typeParam S - state. Must not be `undefined` (that means "not allowed"); treat it as
 *   immutable: `step` returns a new state, it never changes the one it is given.
 * @typeParam I - operation input, e.g. `{ f: 'write', value: 3 }`.
 * @typeParam O - operation output, e.g. the value a read returned.
 */
export interface Model<S = unknown, I = unknown, O = unknown> {
  /** Short name, e.g. `cas-register`. */
  readonly name: string;
  /** The state before any operation. */
  init(): S;
  /**
   * Applies `input` to `state`. Returns the next state if the operation could have returned
   * `output` from `state`, else `undefined`. When the outcome is unknown `output` is
   * {@link UNKNOWN}: then any output is acceptable and only the state change matters.
   */
  step(state: S, input: I, output: O | Unknown): S | undefined;
  /** A hash of a state, consistent with `equal` (32-bit integer; more bits are ignored). */
  hash(state: S): number;
  /** Whether two states are the same. */
  equal(a: S, b: S): boolean;
  /**
   * For P-compositionality: operations with different keys touch disjoint parts of the state
   * (a map's keys), so each key's operations are checked on their own. When this is defined the
   * checker always partitions, so `step` only ever sees operations of one key and the state can
   * be that key's state alone.
   */
  partitionKey?(input: I): string | number;
  /**
   * Optional, for speed only: what kind of operation this is, given its output ({@link UNKNOWN}
   * when the outcome is unknown). See {@link OperationKind}. Answer `'other'` when unsure; a
   * wrong answer makes the checker miss linearizations.
   */
  operationKind?(input: I, output: O | Unknown): OperationKind;
  /**
   * Optional, for speed only: `false` when no sequence of some of `writes` (each at most once, in
   * any order) leads from `state` to a state where the operation is possible with this `output`.
   * `writes` are operations not yet linearized that could still come first. Answer `true` when
   * unsure: a wrong `false` makes the checker miss linearizations. With it, a partial
   * linearization is abandoned as soon as a pending read can no longer be explained, not only
   * when that read's return is reached.
   */
  possibleAfter?(state: S, input: I, output: O, writes: readonly I[]): boolean;
  /** E.g. `cas(1, 2) -> ok`. */
  describeOperation(input: I, output: O | Unknown): string;
  /** E.g. `3`. */
  describeState(state: S): string;
  /** Lets {@link checkParallel} load the model in worker threads. */
  readonly source?: ModelSource;
  /**
   * Decodes an operation of a Jepsen history (log or EDN) into this model's terms; throws an
   * `Error` whose message says what is wrong with the operation (the parser adds file and line).
   */
  fromJepsen?(op: JepsenOperation): DecodedOperation<I, O>;
}

/**
 * How an operation (with its output) relates to the state, for {@link Model.operationKind}:
 * - `read`: possible only in some states, and never changes the state (a read; a
 *   compare-and-set that failed). The checker linearizes it as soon as the state allows: placing
 *   a read early never removes a way on.
 * - `overwrite`: always possible, and the state after it does not depend on the state before
 *   (a put, a write). States that no read can tell apart before the next overwrite are one.
 * - `update`: always possible, and changes the state in a way that depends on it (an append, an
 *   increment).
 * - `other`: anything else (a compare-and-set that swapped, a delete that reports whether the key
 *   existed).
 */
export type OperationKind = 'read' | 'overwrite' | 'update' | 'other';

/** Any model, for APIs that do not care about its types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyModel = Model<any, any, any>;
