/**
 * Jepsen's history shape, common to its logs and its EDN files: a list of events, each an
 * `:invoke` or a completion (`:ok`, `:fail`, `:info`) of one process's pending call. This module
 * pairs events into operations and lets the model decode each into its own terms.
 */
import type { History, Operation, ProcessId } from '../history.js';
import type { DecodedOperation, Model } from '../model.js';
import { formatEdn, type EdnValue } from './edn-reader.js';
import { HistoryParseError } from './errors.js';

export type JepsenEventType = 'invoke' | 'ok' | 'fail' | 'info';

/** One line of a Jepsen history. */
export interface JepsenEvent {
  /** 1-based source line. */
  readonly line: number;
  readonly process: ProcessId;
  readonly type: JepsenEventType;
  /** The function without its colon: `read`, `write`, `cas`, `get` … */
  readonly f: string;
  /** `:key`, when the history names one. */
  readonly key: EdnValue | undefined;
  readonly value: EdnValue;
}

/** One call as a model's {@link Model.fromJepsen} sees it. */
export interface JepsenOperation {
  readonly process: ProcessId;
  readonly f: string;
  readonly key: EdnValue | undefined;
  /** The value given at invoke (`nil` for a read). */
  readonly invokeValue: EdnValue;
  /** How it completed: `open` when the history ends before it does. */
  readonly type: 'ok' | 'fail' | 'info' | 'open';
  /** The value given at completion; `undefined` when open. */
  readonly value: EdnValue | undefined;
}

/**
 * Pairs invokes with completions and decodes them with `model.fromJepsen`.
 * Rules: a process has at most one pending call; a completion names the same function (and key)
 * as its invoke; `:info` and calls never completed are unknown outcomes. A history with no
 * operation, or with none completed by `:ok` or `:fail`, is refused: there is nothing to check.
 *
 * @throws HistoryParseError naming `source` and the line at fault (0 for the file as a whole).
 */
export function historyFromJepsenEvents<S, I, O>(events: Iterable<JepsenEvent>, model: Model<S, I, O>, source: string): History<I, O> {
  const decode = model.fromJepsen?.bind(model);
  if (!decode) throw new HistoryParseError(source, 0, `the ${model.name} model cannot read Jepsen histories (it has no fromJepsen)`);
  interface Pending {
    invoke: JepsenEvent;
    id: number;
  }
  const pending = new Map<ProcessId, Pending>();
  const ops: (Operation<I, O> | undefined)[] = [];

  const build = (p: Pending, jop: JepsenOperation, completion: JepsenEvent | undefined): Operation<I, O> => {
    const at = completion ?? p.invoke;
    let d: DecodedOperation<I, O>;
    try {
      d = decode(jop);
    } catch (e) {
      throw new HistoryParseError(source, at.line, `${describeJepsen(jop)}: ${(e as Error).message}`);
    }
    const open = jop.type === 'info' || jop.type === 'open';
    if (open !== (d.outcome === 'unknown')) {
      throw new HistoryParseError(source, at.line, `the ${model.name} model decoded a :${jop.type} as ${d.outcome} (a bug in its fromJepsen)`);
    }
    if (d.outcome === 'ok' && !('output' in d)) {
      throw new HistoryParseError(source, at.line, `the ${model.name} model gave an ok operation no output (a bug in its fromJepsen)`);
    }
    // Object literals, not spreads: parsing cost is mostly building these.
    const { id } = p;
    const line = p.invoke.line;
    switch (d.outcome) {
      case 'ok':
        return { id, process: jop.process, input: d.input, outcome: 'ok', output: d.output as O, call: line, ret: at.line, line, returnLine: at.line };
      case 'fail':
        return { id, process: jop.process, input: d.input, outcome: 'fail', call: line, ret: at.line, line, returnLine: at.line };
      case 'unknown':
        return completion
          ? { id, process: jop.process, input: d.input, outcome: 'unknown', call: line, ret: Infinity, line, returnLine: completion.line }
          : { id, process: jop.process, input: d.input, outcome: 'unknown', call: line, ret: Infinity, line };
    }
  };

  for (const ev of events) {
    const p = pending.get(ev.process);
    if (ev.type === 'invoke') {
      if (p) {
        throw new HistoryParseError(
          source,
          ev.line,
          `process ${ev.process} invokes :${ev.f} while its :${p.invoke.f} from line ${p.invoke.line} has not completed (a process does one operation at a time)`,
        );
      }
      pending.set(ev.process, { invoke: ev, id: ops.length });
      ops.push(undefined);
      continue;
    }
    if (!p) throw new HistoryParseError(source, ev.line, `process ${ev.process} completes :${ev.f} (:${ev.type}) but has no pending invoke`);
    if (p.invoke.f !== ev.f) {
      throw new HistoryParseError(source, ev.line, `process ${ev.process} completes :${ev.f} but invoked :${p.invoke.f} at line ${p.invoke.line}`);
    }
    if (!sameKey(p.invoke.key, ev.key)) {
      throw new HistoryParseError(
        source,
        ev.line,
        `process ${ev.process} completes key ${fmtKey(ev.key)} but invoked key ${fmtKey(p.invoke.key)} at line ${p.invoke.line}`,
      );
    }
    pending.delete(ev.process);
    const jop: JepsenOperation = { process: ev.process, f: ev.f, key: p.invoke.key, invokeValue: p.invoke.value, type: ev.type, value: ev.value };
    ops[p.id] = build(p, jop, ev);
  }
  for (const p of pending.values()) {
    const jop: JepsenOperation = { process: p.invoke.process, f: p.invoke.f, key: p.invoke.key, invokeValue: p.invoke.value, type: 'open', value: undefined };
    ops[p.id] = build(p, jop, undefined);
  }
  if (ops.length === 0) {
    throw new HistoryParseError(source, 0, 'no operations: the file is empty or blank (or holds only nemesis events), so there is nothing to check');
  }
  if (!ops.some((op) => op!.outcome !== 'unknown')) {
    throw new HistoryParseError(source, 0, `no operation completed: ${ops.length} invoked, none with an :ok or :fail completion, so there is nothing to check`);
  }
  return { operations: ops as Operation<I, O>[], source };
}

function sameKey(a: EdnValue | undefined, b: EdnValue | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return formatEdn(a) === formatEdn(b);
}

function fmtKey(k: EdnValue | undefined): string {
  return k === undefined ? '(none)' : formatEdn(k);
}

function describeJepsen(op: JepsenOperation): string {
  const key = op.key === undefined ? '' : ` key ${formatEdn(op.key)}`;
  const done = op.type === 'open' ? 'never completed' : `:${op.type} ${op.value === undefined ? '' : formatEdn(op.value)}`;
  return `process ${op.process} :${op.f}${key} ${formatEdn(op.invokeValue)} → ${done}`;
}

/** For models: `value` as an integer or nil, else throw with a message that names `what`. */
export function expectIntOrNil(value: EdnValue | undefined, what: string): number | null {
  if (value === null) return null;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  throw new Error(`${what} must be an integer or nil, got ${value === undefined ? 'nothing' : formatEdn(value)}`);
}

/** For models: `value` as an integer, else throw. */
export function expectInt(value: EdnValue | undefined, what: string): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  throw new Error(`${what} must be an integer, got ${value === undefined ? 'nothing' : formatEdn(value)}`);
}

/** For models: `value` as a string, else throw. */
export function expectString(value: EdnValue | undefined, what: string): string {
  if (typeof value === 'string') return value;
  throw new Error(`${what} must be a string, got ${value === undefined ? 'nothing' : formatEdn(value)}`);
}
