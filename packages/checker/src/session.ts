/**
 * Session guarantees (the seed's §5.2 client-side models), checked over a history whose
 * operations carry log indices, as Synod's replicated state machines report them: a write's
 * index is the log position after it; a read's index is how far its replica had applied.
 *
 *  - read your writes: a session's read sees (index at least) every earlier write of the session;
 *  - monotonic reads: a session's reads never go back (each index at least the previous one);
 *  - monotonic writes: a session's writes take effect in the order it issued them (pipelined or
 *    retried ones included: their indexes increase in issue order);
 *  - causal consistency: an operation made `after` a token (another session's point) sees at
 *    least that point (a read's index at least it, a write placed after it);
 *  - and each read returned the value the log holds at its index (given every write's index),
 *    values compared by their canonical encoding.
 */
import { bytesEqual, encode } from '@synod/canonical';

export interface SessionOperation {
  session: string;
  kind: 'read' | 'write';
  key: string;
  /** Written, or read (`undefined`: absent). */
  value: unknown;
  /** Log index (see the module comment). */
  index: number;
  /** The index of a causal token this operation was made after (`{ after: token }`), if any. */
  after?: number;
}

export interface SessionViolation {
  guarantee: 'read-your-writes' | 'monotonic-reads' | 'monotonic-writes' | 'causal' | 'read-value';
  operation: number;
  message: string;
}

/**
 * Checks session guarantees. Operations of one session must be in the order the session issued
 * them; writes must all be known (completed, with their index) for read values to be checked.
 * Returns the violations found (none: []).
 */
export function checkSessionGuarantees(ops: readonly SessionOperation[], options: { checkValues?: boolean } = {}): SessionViolation[] {
  const out: SessionViolation[] = [];
  const lastWrite = new Map<string, number>();
  const lastRead = new Map<string, number>();
  // Every key's writes by index, to know the value at any index.
  const writes = new Map<string, { index: number; value: unknown }[]>();
  for (const op of ops) {
    if (op.kind !== 'write') continue;
    let w = writes.get(op.key);
    if (!w) {
      w = [];
      writes.set(op.key, w);
    }
    w.push({ index: op.index, value: op.value });
  }
  for (const w of writes.values()) w.sort((a, b) => a.index - b.index);
  const valueAt = (key: string, index: number): unknown => {
    const w = writes.get(key);
    if (!w) return undefined;
    let v: unknown;
    for (const x of w) {
      if (x.index <= index) v = x.value;
      else break;
    }
    return v;
  };
  ops.forEach((op, i) => {
    if (op.after !== undefined && (op.kind === 'read' ? op.index < op.after : op.index <= op.after)) {
      out.push({
        guarantee: 'causal',
        operation: i,
        message: `session ${op.session}: ${op.kind} of ${op.key} at index ${op.index}, made after a token of index ${op.after}`,
      });
    }
    if (op.kind === 'write') {
      const before = lastWrite.get(op.session) ?? 0;
      if (op.index < before)
        out.push({
          guarantee: 'monotonic-writes',
          operation: i,
          message: `session ${op.session}: write of ${op.key} took effect at index ${op.index}, not after the session's earlier write at ${before}`,
        });
      lastWrite.set(op.session, Math.max(before, op.index));
      return;
    }
    const w = lastWrite.get(op.session) ?? 0;
    if (op.index < w)
      out.push({
        guarantee: 'read-your-writes',
        operation: i,
        message: `session ${op.session}: read of ${op.key} at index ${op.index}, before its own write at ${w}`,
      });
    const r = lastRead.get(op.session) ?? 0;
    if (op.index < r)
      out.push({ guarantee: 'monotonic-reads', operation: i, message: `session ${op.session}: read of ${op.key} at index ${op.index} went back from ${r}` });
    lastRead.set(op.session, Math.max(r, op.index));
    if (options.checkValues !== false) {
      const expected = valueAt(op.key, op.index);
      if (!sameValue(expected, op.value)) {
        out.push({
          guarantee: 'read-value',
          operation: i,
          message: `session ${op.session}: read of ${op.key} at index ${op.index} returned ${JSON.stringify(op.value)}, the log holds ${JSON.stringify(expected)} there`,
        });
      }
    }
  });
  return out;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  return bytesEqual(encode(a), encode(b));
}
