/**
 * Why a history is not linearizable, in terms a person can check against the raw history: the
 * longest linearizable prefix the search found, the state it leaves, and the operations that
 * cannot be placed after it.
 */
import type { Operation, ProcessId } from './history.js';
import { UNKNOWN, type Model } from './model.js';

/** One operation, described for people (plain data: safe to clone and print as JSON). */
export interface OperationSummary {
  readonly id: number;
  readonly process: ProcessId;
  readonly outcome: Operation['outcome'];
  /** The model's description, e.g. `read() -> 3`. */
  readonly description: string;
  readonly call: number;
  /** `null` when the outcome is unknown (the operation is open). */
  readonly ret: number | null;
  readonly line?: number;
  readonly returnLine?: number;
}

/** One operation that could have come next, and why it does not work there. */
export interface Candidate {
  readonly op: OperationSummary;
  /** `impossible`: the model refuses it in that state; `dead-end`: it is possible, but every way on from there was explored and failed. */
  readonly kind: 'impossible' | 'dead-end';
  readonly reason: string;
}

/** The explanation of a not-linearizable verdict for one partition. */
export interface Explanation {
  /** The partition's key, if the model is partitioned. */
  readonly key?: string | number;
  /** Ids of the operations of the longest linearizable prefix found, in linearization order. */
  readonly prefix: readonly number[];
  /** The last operations of that prefix, each with the state after it. */
  readonly prefixTail: readonly { readonly op: OperationSummary; readonly stateAfter: string }[];
  /** The model state after the prefix. */
  readonly stateAfterPrefix: string;
  /** The operation with the earliest return among those not yet linearized: it must take effect before it returns, and cannot. */
  readonly mustLinearize: OperationSummary;
  /** Operations invoked before that return and not yet linearized: the only ones that could come next. */
  readonly candidates: readonly Candidate[];
  /** How many candidates there were in all (`candidates` may be cut to a bound). */
  readonly candidateCount: number;
}

/** Bounds on the size of an explanation. */
export interface ExplainOptions {
  /** How many operations of the prefix to show with their states (default 8). */
  readonly tail?: number;
  /** How many candidates to list (default 16). */
  readonly maxCandidates?: number;
}

export function summarize<S, I, O>(model: Model<S, I, O>, op: Operation<I, O>): OperationSummary {
  const out = op.outcome === 'ok' ? (op.output as O) : UNKNOWN;
  return {
    id: op.id,
    process: op.process,
    outcome: op.outcome,
    description: model.describeOperation(op.input, out),
    call: op.call,
    ret: Number.isFinite(op.ret) ? op.ret : null,
    ...(op.line !== undefined ? { line: op.line } : {}),
    ...(op.returnLine !== undefined ? { returnLine: op.returnLine } : {}),
  };
}

/**
 * Builds the explanation from what the search found.
 *
 * @param ops - the partition's operations (the search's indices refer to these)
 * @param prefix - the longest linearizable prefix, as indices into `ops`
 * @param stateAfterPrefix - the model state after it
 */
export function explain<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  key: string | number | undefined,
  prefix: Int32Array,
  stateAfterPrefix: S,
  options: ExplainOptions = {},
): Explanation {
  const tailLength = options.tail ?? 8;
  const maxCandidates = options.maxCandidates ?? 16;
  const placed = new Uint8Array(ops.length);
  for (const i of prefix) placed[i] = 1;

  // Replay the prefix for the states along its tail.
  const prefixTail: { op: OperationSummary; stateAfter: string }[] = [];
  let s = model.init();
  for (let k = 0; k < prefix.length; k++) {
    const op = ops[prefix[k]!]!;
    const next = model.step(s, op.input, op.outcome === 'ok' ? (op.output as O) : UNKNOWN);
    if (next === undefined) throw new Error(`explain: the prefix does not replay at operation ${op.id} (a bug in the model or the search)`);
    s = next;
    if (k >= prefix.length - tailLength) prefixTail.push({ op: summarize(model, op), stateAfter: model.describeState(s) });
  }

  // The first return still ahead: the earliest-returning operation not yet placed.
  let must = -1;
  for (let i = 0; i < ops.length; i++) {
    if (placed[i] || ops[i]!.outcome !== 'ok') continue;
    if (must < 0 || ops[i]!.ret < ops[must]!.ret) must = i;
  }
  if (must < 0) throw new Error('explain: every operation is placed, so the history is linearizable (a bug in the search)');
  const deadline = ops[must]!.ret;

  const stateText = model.describeState(stateAfterPrefix);
  const candidates: Candidate[] = [];
  let candidateCount = 0;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (placed[i] || op.call > deadline) continue;
    candidateCount++;
    if (candidates.length >= maxCandidates) continue;
    const next = model.step(stateAfterPrefix, op.input, op.outcome === 'ok' ? (op.output as O) : UNKNOWN);
    candidates.push(
      next === undefined
        ? { op: summarize(model, op), kind: 'impossible', reason: `impossible in state ${stateText}` }
        : {
            op: summarize(model, op),
            kind: 'dead-end',
            reason: `possible (state becomes ${model.describeState(next)}), but no linearization of the rest follows`,
          },
    );
  }
  return {
    ...(key !== undefined ? { key } : {}),
    prefix: Array.from(prefix, (i) => ops[i]!.id),
    prefixTail,
    stateAfterPrefix: stateText,
    mustLinearize: summarize(model, ops[must]!),
    candidates,
    candidateCount,
  };
}

/** Where an operation is: `line 12-15` for parsed histories, else its call and return times. */
export function formatPlace(op: OperationSummary): string {
  if (op.line !== undefined) {
    return op.returnLine !== undefined ? `lines ${op.line}-${op.returnLine}` : `line ${op.line}, never completed`;
  }
  const t = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(3));
  return `t=${t(op.call)}..${op.ret === null ? 'open' : t(op.ret)}`;
}

function formatOp(op: OperationSummary): string {
  const tag = op.outcome === 'unknown' ? ' (outcome unknown)' : '';
  return `#${op.id} process ${op.process}: ${op.description}${tag} [${formatPlace(op)}]`;
}

/** A few lines of text for people. */
export function formatExplanation(e: Explanation): string {
  const lines: string[] = [];
  const where = e.key !== undefined ? `key ${JSON.stringify(e.key)}: ` : '';
  lines.push(
    `${where}the longest linearizable prefix found has ${e.prefix.length} operation${e.prefix.length === 1 ? '' : 's'}, leaving state ${e.stateAfterPrefix}.`,
  );
  if (e.prefixTail.length > 0) {
    lines.push(e.prefixTail.length < e.prefix.length ? `  its last ${e.prefixTail.length}:` : '  in order:');
    for (const t of e.prefixTail) lines.push(`    ${formatOp(t.op)}  => ${t.stateAfter}`);
  }
  lines.push(`  next, ${formatOp(e.mustLinearize)} must take effect before it returns, but no operation can be placed:`);
  for (const c of e.candidates) lines.push(`    ${formatOp(c.op)}: ${c.reason}`);
  if (e.candidateCount > e.candidates.length) lines.push(`    … and ${e.candidateCount - e.candidates.length} more`);
  return lines.join('\n');
}
