/**
 * The decision procedure: Wing & Gong's search for a linearization, with Lowe's memo of
 * (linearized set, state) pairs, over one partition of a history.
 *
 * Calls and returns form one list in real-time order. Walking it from the front, a call may be
 * linearized now if the model accepts it from the current state; then it is lifted out of the
 * list (with its return) and the walk restarts. Reaching a return means that operation had to
 * be linearized before this point and none of the calls before it worked: backtrack. The list is
 * an array-backed doubly linked list (dancing links), so lifting and restoring are O(1).
 *
 * Unknown outcomes have a call but no return entry: they may be linearized at any point after
 * their call, and they never force a backtrack, so "never took effect" is also covered. The
 * search ends when every operation with a known outcome is linearized.
 *
 * Beyond Lowe: the bits of the linearized set follow call order and carry a Zobrist hash kept
 * as they change; an unknown operation that would not change the state is not placed; and of
 * unknown operations with the same input, only the first not yet placed is tried.
 */
import type { Operation } from './history.js';
import { canonicalJson } from './hash.js';
import { MEMO_ADDED, MEMO_FULL, Memo } from './memo.js';
import { UNKNOWN, type Model, type Unknown } from './model.js';
import { jsonFaithful } from './wire.js';

/** Bounds on one search. */
export interface SearchLimits {
  /** `performance.now()` value past which the search gives up with `unknown`. */
  readonly deadline: number;
  /** Approximate memo size past which the search gives up with `unknown`. */
  readonly maxMemoBytes: number;
  /** Test hook: called with the number of steps taken, every {@link CHECK_EVERY} steps. */
  readonly onProgress?: (steps: number) => void;
}

/** How many steps between deadline checks (reading the clock costs more than a step). */
export const CHECK_EVERY = 4096;

export type SearchResult<S> =
  | { readonly verdict: 'linearizable'; readonly order: Int32Array; readonly steps: number; readonly states: number }
  | {
      readonly verdict: 'not-linearizable';
      /** Longest linearizable prefix found, as indices into the partition's operations. */
      readonly prefix: Int32Array;
      /** Model state after that prefix. */
      readonly stateAfterPrefix: S;
      readonly steps: number;
      readonly states: number;
    }
  | { readonly verdict: 'unknown'; readonly reason: 'time' | 'memory'; readonly prefix: Int32Array; readonly steps: number; readonly states: number };

/** Deterministic per-operation random words for Zobrist hashing of the linearized set. */
function zobristTable(n: number): Int32Array {
  const z = new Int32Array(n);
  let x = 0x9e3779b9 | 0;
  for (let i = 0; i < n; i++) {
    // xorshift32
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    z[i] = x;
  }
  return z;
}

/**
 * Searches for a linearization of `ops` (one partition; `fail` operations already removed).
 * Indices in the result refer to positions in `ops`.
 */
export function searchLinearization<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], limits: SearchLimits): SearchResult<S> {
  const n = ops.length;
  const inputs: I[] = new Array(n);
  const outputs: (O | Unknown)[] = new Array(n);
  let definite = 0;
  let events = 0;
  for (let i = 0; i < n; i++) {
    const op = ops[i]!;
    if (op.outcome === 'fail') throw new Error(`searchLinearization: operation ${op.id} failed; remove failed operations first`);
    inputs[i] = op.input;
    const known = op.outcome === 'ok';
    outputs[i] = known ? (op.output as O) : UNKNOWN;
    if (known) definite++;
    events += known ? 2 : 1;
  }
  if (definite === 0) return { verdict: 'linearizable', order: new Int32Array(0), steps: 0, states: 0 };

  // Events in real-time order; a call before a return at the same time (they overlap).
  // Encoded as op * 2 + (0 call | 1 return) for a cheap sort key.
  const order = new Int32Array(events);
  for (let i = 0, k = 0; i < n; i++) {
    order[k++] = i * 2;
    if (outputs[i] !== UNKNOWN) order[k++] = i * 2 + 1;
  }
  const times = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) { times[2 * i] = ops[i]!.call; times[2 * i + 1] = ops[i]!.ret; }
  order.sort((a, b) => times[a]! - times[b]! || (a & 1) - (b & 1) || a - b);

  // Nodes 1..events in list order; node 0 is the head of a circular list.
  const N = events + 1;
  const next = new Int32Array(N);
  const prev = new Int32Array(N);
  const nodeOp = new Int32Array(N);
  // For a call node: its return node, or 0 when the outcome is unknown. For a return node: -1.
  const match = new Int32Array(N);
  const returnNode = new Int32Array(n);
  // Each operation's bit in the linearized set is its rank by call time, whatever the order of
  // the history: then the set is ones, then a short mixed window, then zeros (see memo.ts).
  const bitOf = new Int32Array(n);
  for (let k = 0, rank = 0; k < events; k++) {
    const node = k + 1;
    const e = order[k]!;
    next[node] = node + 1 === N ? 0 : node + 1;
    prev[node] = node - 1;
    nodeOp[node] = e >> 1;
    if ((e & 1) === 1) { match[node] = -1; returnNode[e >> 1] = node; }
    else bitOf[e >> 1] = rank++;
  }
  next[0] = 1;
  prev[0] = events;
  match[0] = -2; // the head: reaching it means the walk went past every return
  for (let node = 1; node < N; node++) {
    if (match[node] !== -1) match[node] = returnNode[nodeOp[node]!]!;
  }

  // twin[op]: the previous unknown operation (by call) with the same input, or -1. Two such
  // operations are interchangeable once both are invoked (no returns, same effect), so the later
  // one is only tried when the earlier one is already placed.
  const twin = new Int32Array(n).fill(-1);
  const lastWithInput = new Map<string, number>();
  for (let k = 0; k < events; k++) {
    const e = order[k]!;
    const op = e >> 1;
    if ((e & 1) === 1 || outputs[op] !== UNKNOWN || !jsonFaithful(inputs[op])) continue;
    const key = canonicalJson(inputs[op]);
    const t = lastWithInput.get(key);
    if (t !== undefined) twin[op] = t;
    lastWithInput.set(key, op);
  }

  const words = (n + 31) >>> 5;
  const bits = new Uint32Array(words);
  // The window of `bits` that is neither all ones (before lo) nor all zeros (from hi on).
  let lo = 0;
  let hi = 0;
  const FULL = 0xffffffff;
  const zobrist = zobristTable(n);
  const memo = new Memo<S>((a, b) => model.equal(a, b), limits.maxMemoBytes);
  const stackNode = new Int32Array(n);
  const stackState: S[] = new Array(n);

  let state = model.init();
  let zob = 0;
  let depth = 0;
  let remaining = definite;
  let entry = next[0]!;
  let steps = 0;
  // The longest prefix so far, kept in place: stack entries below `stable` have not changed
  // since it was last copied, so each copy only adds what is new.
  const best = new Int32Array(n);
  let bestLength = 0;
  let stable = 0;
  let bestState = state;
  const saveBest = () => {
    for (let d = stable; d < depth; d++) best[d] = nodeOp[stackNode[d]!]!;
    bestLength = depth;
    stable = depth;
    bestState = state;
  };
  const prefix = () => {
    if (depth > bestLength) saveBest();
    return best.slice(0, bestLength);
  };

  for (;;) {
    if (++steps % CHECK_EVERY === 0) {
      limits.onProgress?.(steps);
      if (performance.now() > limits.deadline) return { verdict: 'unknown', reason: 'time', prefix: prefix(), steps, states: memo.size };
    }
    const m = match[entry]!;
    if (m >= 0) {
      // A call: try to linearize it now.
      const op = nodeOp[entry]!;
      const t = twin[op]!;
      if (t >= 0 && (bits[bitOf[t]! >>> 5]! & (1 << (bitOf[t]! & 31))) === 0) {
        entry = next[entry]!; // its twin, earlier in the list, stands for it
        continue;
      }
      const nextState = model.step(state, inputs[op]!, outputs[op]!);
      // An unknown operation that would leave the state as it is need not be placed here: any
      // way on from placing it is also a way on from not placing it (it may never take effect,
      // and having no return it constrains no one). This prunes most of what timeouts add.
      if (nextState !== undefined && !(m === 0 && model.equal(nextState, state))) {
        const b = bitOf[op]!;
        const w = b >>> 5;
        const bit = 1 << (b & 31);
        bits[w]! |= bit;
        if (w >= hi) hi = w + 1;
        if (w === lo) while (lo < hi && bits[lo] === FULL) lo++;
        const h = zob ^ zobrist[b]!;
        const added = memo.add(h ^ Math.imul(model.hash(nextState) | 0, 0x9e3779b1), bits, lo, hi, nextState);
        if (added === MEMO_ADDED) {
          stackNode[depth] = entry;
          stackState[depth] = state;
          depth++;
          state = nextState;
          zob = h;
          // Lift the call and its return out of the list.
          next[prev[entry]!] = next[entry]!;
          prev[next[entry]!] = prev[entry]!;
          if (m > 0) {
            next[prev[m]!] = next[m]!;
            prev[next[m]!] = prev[m]!;
            if (--remaining === 0) return { verdict: 'linearizable', order: prefix(), steps, states: memo.size };
          }
          entry = next[0]!;
          continue;
        }
        // Undo the bit (the window too).
        bits[w]! &= ~bit;
        if (w < lo) lo = w;
        if (w === hi - 1) while (hi > lo && bits[hi - 1] === 0) hi--;
        if (added === MEMO_FULL) return { verdict: 'unknown', reason: 'memory', prefix: prefix(), steps, states: memo.size };
      }
      entry = next[entry]!;
    } else {
      // A return: its operation had to be linearized by now. Backtrack.
      if (m !== -1) throw new Error('searchLinearization: walked off the end of the history (a bug)');
      if (depth > bestLength) saveBest();
      if (depth === 0) return { verdict: 'not-linearizable', prefix: best.slice(0, bestLength), stateAfterPrefix: bestState, steps, states: memo.size };
      depth--;
      if (depth < stable) stable = depth;
      entry = stackNode[depth]!;
      state = stackState[depth]!;
      const b = bitOf[nodeOp[entry]!]!;
      const w = b >>> 5;
      bits[w]! &= ~(1 << (b & 31));
      if (w < lo) lo = w;
      if (w === hi - 1) while (hi > lo && bits[hi - 1] === 0) hi--;
      zob ^= zobrist[b]!;
      // Restore in the reverse order of lifting.
      const r = match[entry]!;
      if (r > 0) {
        next[prev[r]!] = r;
        prev[next[r]!] = r;
        remaining++;
      }
      next[prev[entry]!] = entry;
      prev[next[entry]!] = entry;
      entry = next[entry]!;
    }
  }
}
