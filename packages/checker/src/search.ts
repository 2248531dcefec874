/**
 * The decision procedure for one partition: Wing & Gong's search for a linearization with Lowe's
 * memo of (linearized set, state) pairs, as Porcupine and Horn & Kroening implement it, plus
 * three refinements that make it refute fast as well as confirm fast.
 *
 * Calls and returns form one list in real-time order (an array-backed doubly linked list, so
 * lifting an operation out and putting it back are O(1)). The operations that may come next are
 * the calls before the first return in the list; when none of them leads anywhere, the search
 * backtracks. Unknown outcomes have a call but no return: they may be linearized at any point
 * after their call, or never. The search ends when every operation with a known outcome is
 * linearized.
 *
 * Refinements (measured on the hard kv histories of the tests, see bench/checker.ts; all but the
 * first need the model's optional `operationKind` and `possibleAfter`):
 * - Just in time (Lowe): candidates are tried in the order of their returns, the one that must
 *   take effect soonest first, instead of in call order; a slow call is tried last, not first.
 * - Reads at once: an operation the model calls a `read` (`operationKind`) is linearized as soon
 *   as the state allows, with no alternative at that point. Placing a read early never removes a
 *   way on (a read changes nothing, and dropping it from any later linearization leaves one), so
 *   this loses nothing and removes every ordering of reads among themselves.
 * - Dead ends seen early: after a write, the next pending reads (up to {@link LOOKAHEAD_READS})
 *   ask the model's `possibleAfter` whether the writes still available before each read's
 *   return could lead to a state it accepts. A wrong write order is abandoned at once, not after
 *   every ordering of the writes around it was tried up to the read's return.
 * - Unobservable states are one: when no pending read could see the state (or anything updates
 *   make of it) before an overwrite resets it, the state cannot matter, and the memo keeps one
 *   entry for all such states of a linearized set. Writes that a put erases before anyone reads
 *   them are then not tried in every order.
 *
 * Beyond those: the bits of the linearized set follow call order and carry a Zobrist hash kept
 * as they change; an unknown operation that would not change the state is not placed; and of
 * unknown operations with the same input, only the first not yet placed is tried.
 *
 * The search runs in slices ({@link PartitionSearch.run}), so that many partitions can share a
 * thread and a step budget, and the first one refuted ends the check.
 */
import type { Operation } from './history.js';
import { canonicalJson } from './hash.js';
import { MEMO_ADDED, MEMO_FULL, Memo } from './memo.js';
import { UNKNOWN, type Model, type OperationKind, type Unknown } from './model.js';
import { jsonFaithful } from './wire.js';

/** How many pending reads are asked after each write (see the module comment). */
export const LOOKAHEAD_READS = 8;
/** How far along the list that look-ahead walks at most, in events. */
export const LOOKAHEAD_EVENTS = 128;

/** How far the unobservable-state walk goes at most, in events, before it gives up (sound: no merge). */
export const UNOBSERVED_EVENTS = 256;

const READ = 0,
  OVERWRITE = 1,
  UPDATE = 2,
  OTHER = 3;
const KINDS: Record<OperationKind, number> = { read: READ, overwrite: OVERWRITE, update: UPDATE, other: OTHER };

/** The memo's stand-in for every state nobody can observe (see the module comment). */
const UNOBSERVABLE = Symbol('unobservable state');

/** What {@link PartitionSearch.run} reached. `paused`: the steps given ran out first. */
export type SearchStatus = 'linearizable' | 'not-linearizable' | 'memory' | 'paused';

/** Deterministic per-operation random words for Zobrist hashing of the linearized set. */
function zobristTable(n: number): Int32Array {
  const z = new Int32Array(n);
  let x = 0x9e3779b9 | 0;
  for (let i = 0; i < n; i++) {
    // xorshift32
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    z[i] = x;
  }
  return z;
}

/**
 * A resumable search for a linearization of `ops` (one partition; `fail` operations already
 * removed). Indices in its results refer to positions in `ops`.
 */
export class PartitionSearch<S, I, O> {
  /** Steps taken so far (candidates tried). */
  steps = 0;
  private status: SearchStatus = 'paused';

  private readonly model: Model<S, I, O>;
  private readonly n: number;
  private readonly inputs: I[];
  private readonly outputs: (O | Unknown)[];
  /** READ, OVERWRITE, UPDATE or OTHER per operation. */
  private readonly kind: Uint8Array;
  private readonly lookahead: boolean;
  /** Whether unobservable states are merged (the model classifies and the partition has overwrites). */
  private readonly mergeUnobservable: boolean;
  /** Overwrites not yet linearized. */
  private overwritesLeft = 0;
  private readonly observers: Int32Array;
  // The event list: nodes 1..events in real-time order; node 0 is the head of a circular list.
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly nodeOp: Int32Array;
  /** Call node: its return node, or 0 when the outcome is unknown. Return node: -1. Head: -2. */
  private readonly match: Int32Array;
  /** Candidate order: by return (unknown outcomes last), then call. */
  private readonly rank: Int32Array;
  /** The previous unknown operation with the same input, or -1 (see the module comment). */
  private readonly twin: Int32Array;
  /** Each operation's bit in the linearized set: its rank by call time. */
  private readonly bitOf: Int32Array;
  private readonly zobrist: Int32Array;
  private readonly bits: Uint32Array;
  /** The window of `bits` that is neither all ones (before lo) nor all zeros (from hi on). */
  private lo = 0;
  private hi = 0;
  private readonly memo: Memo<S | typeof UNOBSERVABLE>;

  // The path: the node placed at each depth and the state before it.
  private readonly stackNode: Int32Array;
  private readonly stackState: S[];
  // Candidates of each depth: pool[frameStart[d] .. frameEnd[d]), next to try at frameNext[d].
  private pool: Int32Array;
  private readonly frameStart: Int32Array;
  private readonly frameEnd: Int32Array;
  private readonly frameNext: Int32Array;
  private readonly writes: I[] = [];

  private state: S;
  private zob = 0;
  private depth = 0;
  private remaining: number;

  // The longest prefix so far, kept in place: stack entries below `stable` have not changed
  // since it was last copied, so each copy only adds what is new.
  private readonly best: Int32Array;
  private bestLength = 0;
  private stable = 0;
  private bestState: S;

  constructor(model: Model<S, I, O>, ops: readonly Operation<I, O>[], options: { readonly maxMemoBytes: number }) {
    this.model = model;
    const n = ops.length;
    this.n = n;
    const inputs: I[] = new Array(n);
    const outputs: (O | Unknown)[] = new Array(n);
    const kind = new Uint8Array(n).fill(OTHER);
    let definite = 0;
    let events = 0;
    for (let i = 0; i < n; i++) {
      const op = ops[i]!;
      if (op.outcome === 'fail') throw new Error(`PartitionSearch: operation ${op.id} failed; remove failed operations first`);
      inputs[i] = op.input;
      const known = op.outcome === 'ok';
      outputs[i] = known ? (op.output as O) : UNKNOWN;
      if (known) definite++;
      if (model.operationKind) kind[i] = KINDS[model.operationKind(op.input, outputs[i]!)] ?? OTHER;
      if (kind[i] === OVERWRITE) this.overwritesLeft++;
      events += known ? 2 : 1;
    }
    this.inputs = inputs;
    this.outputs = outputs;
    this.kind = kind;
    this.lookahead = typeof model.possibleAfter === 'function';
    this.mergeUnobservable = this.lookahead && model.operationKind !== undefined && this.overwritesLeft > 0;
    this.observers = new Int32Array(n);
    this.remaining = definite;

    // Events in real-time order; a call before a return at the same time (they overlap).
    // Encoded as op * 2 + (0 call | 1 return) for a cheap sort key.
    const order = new Int32Array(events);
    for (let i = 0, k = 0; i < n; i++) {
      order[k++] = i * 2;
      if (outputs[i] !== UNKNOWN) order[k++] = i * 2 + 1;
    }
    const times = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      times[2 * i] = ops[i]!.call;
      times[2 * i + 1] = ops[i]!.ret;
    }
    order.sort((a, b) => times[a]! - times[b]! || (a & 1) - (b & 1) || a - b);

    const N = events + 1;
    const next = (this.next = new Int32Array(N));
    const prev = (this.prev = new Int32Array(N));
    const nodeOp = (this.nodeOp = new Int32Array(N));
    const match = (this.match = new Int32Array(N));
    const returnNode = new Int32Array(n);
    // Bits follow call order, whatever the order of the history: then the linearized set is
    // ones, then a short mixed window, then zeros (see memo.ts).
    const bitOf = (this.bitOf = new Int32Array(n));
    for (let k = 0, b = 0; k < events; k++) {
      const node = k + 1;
      const e = order[k]!;
      next[node] = node + 1 === N ? 0 : node + 1;
      prev[node] = node - 1;
      nodeOp[node] = e >> 1;
      if ((e & 1) === 1) {
        match[node] = -1;
        returnNode[e >> 1] = node;
      } else bitOf[e >> 1] = b++;
    }
    next[0] = events > 0 ? 1 : 0;
    prev[0] = events;
    match[0] = -2;
    for (let node = 1; node < N; node++) {
      if (match[node] !== -1) match[node] = returnNode[nodeOp[node]!]!;
    }

    // Just in time when the model classifies its operations (reads then go at once); else call
    // order, as Wing & Gong and Porcupine (trying slow writes first pays when reads do not).
    const justInTime = model.operationKind !== undefined;
    const key = new Float64Array(n);
    for (let i = 0; i < n; i++) key[i] = !justInTime ? ops[i]!.call : outputs[i] === UNKNOWN ? Infinity : ops[i]!.ret;
    const byRank = new Int32Array(n);
    for (let i = 0; i < n; i++) byRank[i] = i;
    byRank.sort((a, b) => key[a]! - key[b]! || times[2 * a]! - times[2 * b]! || a - b);
    this.rank = new Int32Array(n);
    for (let r = 0; r < n; r++) this.rank[byRank[r]!] = r;

    this.twin = new Int32Array(n).fill(-1);
    const lastWithInput = new Map<string, number>();
    for (let k = 0; k < events; k++) {
      const e = order[k]!;
      const op = e >> 1;
      if ((e & 1) === 1 || outputs[op] !== UNKNOWN || !jsonFaithful(inputs[op])) continue;
      const key = canonicalJson(inputs[op]);
      const t = lastWithInput.get(key);
      if (t !== undefined) this.twin[op] = t;
      lastWithInput.set(key, op);
    }

    this.zobrist = zobristTable(n);
    this.bits = new Uint32Array((n + 31) >>> 5);
    this.memo = new Memo<S | typeof UNOBSERVABLE>((a, b) => a === b || (a !== UNOBSERVABLE && b !== UNOBSERVABLE && model.equal(a, b)), options.maxMemoBytes);
    this.stackNode = new Int32Array(n + 1);
    this.stackState = new Array(n + 1);
    this.pool = new Int32Array(Math.max(64, 4 * n));
    this.frameStart = new Int32Array(n + 1);
    this.frameEnd = new Int32Array(n + 1);
    this.frameNext = new Int32Array(n + 1);
    this.best = new Int32Array(n);
    this.state = model.init();
    this.bestState = this.state;
    if (definite === 0) this.status = 'linearizable';
    else this.openFrame();
  }

  /** (linearized set, state) pairs memoised. */
  get states(): number {
    return this.memo.size;
  }

  /** The last status {@link run} returned (`paused` before the first run). */
  get result(): SearchStatus {
    return this.status;
  }

  /**
   * Searches on for at most `maxSteps` steps. Returns `paused` when they run out first; call
   * again to go on. Once the answer is known, further calls return it at once.
   */
  run(maxSteps: number): SearchStatus {
    if (this.status !== 'paused') return this.status;
    const model = this.model;
    const { inputs, outputs, match, nodeOp, next, prev, bitOf, zobrist, bits, memo, kind, stackNode, stackState } = this;
    const FULL = 0xffffffff;
    const limit = this.steps + maxSteps;
    for (;;) {
      const d = this.depth;
      const k = this.frameNext[d]!;
      if (k < this.frameEnd[d]!) {
        if (this.steps >= limit) return 'paused';
        this.steps++;
        this.frameNext[d] = k + 1;
        const entry = this.pool[k]!;
        const op = nodeOp[entry]!;
        const m = match[entry]!;
        const state = this.state;
        const nextState = model.step(state, inputs[op]!, outputs[op]!);
        if (nextState === undefined) continue;
        // An unknown operation that would leave the state as it is need not be placed here: any
        // way on from placing it is also a way on from not placing it.
        if (m === 0 && model.equal(nextState, state)) continue;
        if (this.lookahead && kind[op] !== READ && !this.viable(nextState, entry)) {
          // Still a linearizable prefix, one longer: explanations start from the longest.
          if (d + 1 > this.bestLength) this.saveBestWith(op, nextState);
          continue;
        }
        const unobservable = this.mergeUnobservable && kind[op] !== READ && this.unobservable(nextState, entry);
        // An unknown operation whose effect nobody can observe need not be placed either: every
        // way on from there is a way on without it, since it may never take effect.
        if (unobservable && m === 0) continue;
        const b = bitOf[op]!;
        const w = b >>> 5;
        const bit = 1 << (b & 31);
        bits[w]! |= bit;
        if (w >= this.hi) this.hi = w + 1;
        if (w === this.lo) while (this.lo < this.hi && bits[this.lo] === FULL) this.lo++;
        const h = this.zob ^ zobrist[b]!;
        const added = unobservable
          ? memo.add(h ^ 0x2545f491, bits, this.lo, this.hi, UNOBSERVABLE)
          : memo.add(h ^ Math.imul(model.hash(nextState) | 0, 0x9e3779b1), bits, this.lo, this.hi, nextState);
        if (added !== MEMO_ADDED) {
          this.clearBit(b);
          if (added === MEMO_FULL) return (this.status = 'memory');
          continue;
        }
        stackNode[d] = entry;
        stackState[d] = state;
        this.depth = d + 1;
        this.state = nextState;
        this.zob = h;
        // Lift the call and its return out of the list.
        next[prev[entry]!] = next[entry]!;
        prev[next[entry]!] = prev[entry]!;
        if (kind[op] === OVERWRITE) this.overwritesLeft--;
        if (m > 0) {
          next[prev[m]!] = next[m]!;
          prev[next[m]!] = prev[m]!;
          if (--this.remaining === 0) return (this.status = 'linearizable');
        }
        this.openFrame();
      } else {
        // Nothing more to try here: backtrack.
        if (d > this.bestLength) this.saveBest();
        if (d === 0) return (this.status = 'not-linearizable');
        const up = d - 1;
        this.depth = up;
        if (up < this.stable) this.stable = up;
        const entry = stackNode[up]!;
        this.state = stackState[up]!;
        stackState[up] = undefined as S; // let the state go
        const op = nodeOp[entry]!;
        if (kind[op] === OVERWRITE) this.overwritesLeft++;
        this.clearBit(bitOf[op]!);
        this.zob ^= zobrist[bitOf[op]!]!;
        // Restore in the reverse order of lifting.
        const r = match[entry]!;
        if (r > 0) {
          next[prev[r]!] = r;
          prev[next[r]!] = r;
          this.remaining++;
        }
        next[prev[entry]!] = entry;
        prev[next[entry]!] = entry;
      }
    }
  }

  /** The linearization found (when `linearizable`), or the longest linearizable prefix found. */
  prefix(): Int32Array {
    if (this.depth > this.bestLength) this.saveBest();
    return this.best.slice(0, this.bestLength);
  }

  /** The model state after {@link prefix}. */
  stateAfterPrefix(): S {
    if (this.depth > this.bestLength) this.saveBest();
    return this.bestState;
  }

  private clearBit(b: number): void {
    const bits = this.bits;
    const w = b >>> 5;
    bits[w]! &= ~(1 << (b & 31));
    if (w < this.lo) this.lo = w;
    if (w === this.hi - 1) while (this.hi > this.lo && bits[this.hi - 1] === 0) this.hi--;
  }

  private saveBest(): void {
    for (let d = this.stable; d < this.depth; d++) this.best[d] = this.nodeOp[this.stackNode[d]!]!;
    this.bestLength = this.depth;
    this.stable = this.depth;
    this.bestState = this.state;
  }

  /** The path so far and then `op`, which leads to `state`. */
  private saveBestWith(op: number, state: S): void {
    this.saveBest();
    this.best[this.depth] = op;
    this.bestLength = this.depth + 1;
    this.bestState = state;
  }

  /**
   * The candidates at the current depth: the calls before the first return in the list, the
   * earliest return first; or only a read that is possible now (see the module comment).
   */
  private openFrame(): void {
    const d = this.depth;
    const start = d === 0 ? 0 : this.frameEnd[d - 1]!;
    if (start + this.n + 1 > this.pool.length) {
      const grown = new Int32Array(Math.max(this.pool.length * 2, start + this.n + 1));
      grown.set(this.pool.subarray(0, start));
      this.pool = grown;
    }
    const { pool, next, match, nodeOp, twin, bits, bitOf, rank, kind, outputs } = this;
    let end = start;
    let read = -1;
    for (let e = next[0]!; match[e]! >= 0; e = next[e]!) {
      const op = nodeOp[e]!;
      const t = twin[op]!;
      // Its twin, earlier in the list, stands for it until placed.
      if (t >= 0 && (bits[bitOf[t]! >>> 5]! & (1 << (bitOf[t]! & 31))) === 0) continue;
      if (
        kind[op] === READ &&
        outputs[op] !== UNKNOWN &&
        (read < 0 || rank[op]! < rank[nodeOp[read]!]!) &&
        this.model.step(this.state, this.inputs[op]!, this.outputs[op]!) !== undefined
      )
        read = e;
      pool[end++] = e;
    }
    if (read >= 0) {
      pool[start] = read;
      end = start + 1;
    } else {
      // Insertion sort by rank: the lists are short.
      for (let i = start + 1; i < end; i++) {
        const e = pool[i]!;
        const r = rank[nodeOp[e]!]!;
        let j = i - 1;
        while (j >= start && rank[nodeOp[pool[j]!]!]! > r) {
          pool[j + 1] = pool[j]!;
          j--;
        }
        pool[j + 1] = e;
      }
    }
    this.frameStart[d] = start;
    this.frameNext[d] = start;
    this.frameEnd[d] = end;
  }

  /**
   * Whether `state`, reached by placing `placed`, can still explain the next pending reads: for
   * each, the writes called before its return (and not yet placed) are offered to the model's
   * `possibleAfter`.
   */
  private viable(state: S, placed: number): boolean {
    const { next, match, nodeOp, inputs, outputs, kind, writes } = this;
    const possibleAfter = this.model.possibleAfter!;
    const placedReturn = match[placed]!;
    writes.length = 0;
    let reads = 0;
    let walked = 0;
    for (let e = next[0]!; e !== 0 && reads < LOOKAHEAD_READS && walked < LOOKAHEAD_EVENTS; e = next[e]!, walked++) {
      if (e === placed || e === placedReturn) continue;
      const op = nodeOp[e]!;
      if (match[e]! >= 0) {
        if (kind[op] !== READ) writes.push(inputs[op]!);
      } else if (kind[op] === READ || kind[op] === OTHER) {
        reads++;
        if (!possibleAfter.call(this.model, state, inputs[op]!, outputs[op] as O, writes)) return false;
      }
    }
    return true;
  }

  /**
   * Whether no pending operation could observe `state`, reached by placing `placed`, before an
   * overwrite resets it. Observers (reads, other) called before the first return of a pending
   * overwrite with a known outcome may come before it; each asks `possibleAfter` with the updates
   * and others called by then. Anything called after that return comes after an overwrite. If none
   * can be explained from `state`, every way on places an overwrite before any observer, and
   * updates before it are always possible: the state cannot matter.
   */
  private unobservable(state: S, placed: number): boolean {
    if (this.overwritesLeft === 0) return false;
    const { next, match, nodeOp, inputs, outputs, kind, writes, observers } = this;
    const placedReturn = match[placed]!;
    writes.length = 0;
    let count = 0;
    let walked = 0;
    for (let e = next[0]!; e !== 0; e = next[e]!) {
      if (++walked > UNOBSERVED_EVENTS) return false;
      if (e === placed || e === placedReturn) continue;
      const op = nodeOp[e]!;
      const k = kind[op]!;
      if (match[e]! >= 0) {
        if (k === UPDATE || k === OTHER) writes.push(inputs[op]!);
        if ((k === READ || k === OTHER) && outputs[op] !== UNKNOWN) observers[count++] = op;
      } else if (k === OVERWRITE) {
        break;
      }
    }
    // Without a known overwrite ahead, the walk saw every observer to the end of the list.
    const possibleAfter = this.model.possibleAfter!;
    for (let i = 0; i < count; i++) {
      const op = observers[i]!;
      if (possibleAfter.call(this.model, state, inputs[op]!, outputs[op] as O, writes)) return false;
    }
    return true;
  }
}
