/**
 * Partitions on their way to worker threads. Structured clone of one object per operation is
 * slower than checking most partitions, so operations travel as columns: typed arrays for the
 * numbers, and inputs and outputs as one JSON text when JSON carries them exactly (else as
 * arrays, structured-cloned).
 */
import type { Operation, ProcessId } from './history.js';
import type { Partition } from './partition.js';

/** A partition as columns. */
export interface WirePartition {
  readonly key: string | number | undefined;
  readonly ids: Int32Array;
  readonly processes: ProcessId[];
  /** 0 ok, 1 unknown (failed operations are never sent). */
  readonly unknown: Uint8Array;
  readonly call: Float64Array;
  readonly ret: Float64Array;
  /** Source lines, -1 for none. */
  readonly lines: Int32Array;
  readonly returnLines: Int32Array;
  /** JSON text of `[inputs, outputs]`, or the arrays themselves. */
  readonly values: string | readonly [unknown[], unknown[]];
}

const MAX_DEPTH = 32;

/** Whether `JSON.parse(JSON.stringify(v))` gives back an equal value. */
export function jsonFaithful(v: unknown, depth = 0): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0);
    case 'object': {
      if (v === null) return true;
      if (depth >= MAX_DEPTH) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!(i in v) || !jsonFaithful(v[i], depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return false;
      if (Object.getOwnPropertySymbols(v).length > 0) return false;
      for (const k in v) if (!jsonFaithful((v as Record<string, unknown>)[k], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}

export function toWire(part: Partition): WirePartition {
  const ops = part.operations;
  const n = ops.length;
  const ids = new Int32Array(n);
  const processes: ProcessId[] = new Array(n);
  const unknown = new Uint8Array(n);
  const call = new Float64Array(n);
  const ret = new Float64Array(n);
  const lines = new Int32Array(n);
  const returnLines = new Int32Array(n);
  const inputs: unknown[] = new Array(n);
  const outputs: unknown[] = new Array(n);
  let faithful = true;
  for (let i = 0; i < n; i++) {
    const op = ops[i]!;
    ids[i] = op.id;
    processes[i] = op.process;
    unknown[i] = op.outcome === 'ok' ? 0 : 1;
    call[i] = op.call;
    ret[i] = op.ret;
    lines[i] = op.line ?? -1;
    returnLines[i] = op.returnLine ?? -1;
    inputs[i] = op.input;
    // Unknown outcomes have no output; null stands in and is never read.
    outputs[i] = op.outcome === 'ok' ? op.output : null;
    if (faithful && !(jsonFaithful(op.input) && jsonFaithful(outputs[i]))) faithful = false;
  }
  const values = faithful ? JSON.stringify([inputs, outputs]) : ([inputs, outputs] as const);
  return { key: part.key, ids, processes, unknown, call, ret, lines, returnLines, values };
}

export function fromWire(w: WirePartition): Partition {
  const [inputs, outputs] = typeof w.values === 'string' ? (JSON.parse(w.values) as [unknown[], unknown[]]) : w.values;
  const n = w.ids.length;
  const operations: Operation[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const op: { -readonly [K in keyof Operation]: Operation[K] } =
      w.unknown[i] === 0
        ? { id: w.ids[i]!, process: w.processes[i]!, input: inputs[i], outcome: 'ok', output: outputs[i], call: w.call[i]!, ret: w.ret[i]! }
        : { id: w.ids[i]!, process: w.processes[i]!, input: inputs[i], outcome: 'unknown', call: w.call[i]!, ret: w.ret[i]! };
    if (w.lines[i]! >= 0) op.line = w.lines[i]!;
    if (w.returnLines[i]! >= 0) op.returnLine = w.returnLines[i]!;
    operations[i] = op;
  }
  return { key: w.key, operations };
}
