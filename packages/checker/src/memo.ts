/**
 * The memo of Lowe's improvement to Wing & Gong: the set of (linearized operations, model
 * state) pairs already explored. Reaching a pair again cannot lead anywhere new, so the search
 * backtracks.
 *
 * A linearized set is a bitset over the partition's operations. In a long history almost all of
 * it is all-ones (operations long done) followed by all-zeros (operations not yet invoked), so an
 * entry keeps only the window of words in between: `lo` (words before it are all ones), and the
 * words up to the last non-zero one. Windows live in one growing Uint32Array arena and the
 * index is open addressing over Int32Arrays, so adding a pair allocates nothing but the
 * occasional doubling. The caller supplies the hash (Zobrist, kept up to date as bits change).
 */

/** Results of {@link Memo.add}. */
export const MEMO_PRESENT = 0;
export const MEMO_ADDED = 1;
export const MEMO_FULL = -1;
export type MemoAdd = typeof MEMO_PRESENT | typeof MEMO_ADDED | typeof MEMO_FULL;

/** Bytes per entry besides its window: hash, lo, length, offset, two index slots, state reference. */
const ENTRY_BYTES = 4 * 4 + 2 * 4 + 8;

export class Memo<S> {
  private slots: Int32Array;
  private mask: number;
  private hashes: Int32Array;
  private los: Int32Array;
  private lens: Int32Array;
  private offsets: Int32Array;
  private arena: Uint32Array;
  private used = 0;
  private states: S[];
  private count = 0;

  /**
   * @param equal - state equality
   * @param maxBytes - past this (approximately) `add` answers MEMO_FULL
   */
  constructor(
    private readonly equal: (a: S, b: S) => boolean,
    private readonly maxBytes: number,
  ) {
    const cap = 1024;
    this.slots = new Int32Array(cap * 2);
    this.mask = cap * 2 - 1;
    this.hashes = new Int32Array(cap);
    this.los = new Int32Array(cap);
    this.lens = new Int32Array(cap);
    this.offsets = new Int32Array(cap);
    this.arena = new Uint32Array(cap * 2);
    this.states = new Array<S>(cap);
  }

  /** Number of pairs stored. */
  get size(): number {
    return this.count;
  }

  /** Approximate bytes used. */
  get bytes(): number {
    return this.count * ENTRY_BYTES + this.used * 4;
  }

  /**
   * Adds (bits, state) under `hash` unless it is already there. `bits[0..lo)` must be all ones
   * and `bits[hi..)` all zeros.
   */
  add(hash: number, bits: Uint32Array, lo: number, hi: number, state: S): MemoAdd {
    const len = hi - lo;
    const arena = this.arena;
    const slots = this.slots;
    const mask = this.mask;
    const hashes = this.hashes;
    const los = this.los;
    const lens = this.lens;
    let i = hash & mask;
    for (let s = slots[i]!; s !== 0; s = slots[i]!) {
      const e = s - 1;
      if (hashes[e] === hash && los[e] === lo && lens[e] === len) {
        let same = true;
        const base = this.offsets[e]! - lo;
        for (let w = lo; w < hi; w++) {
          if (arena[base + w] !== bits[w]) {
            same = false;
            break;
          }
        }
        if (same && this.equal(this.states[e]!, state)) return MEMO_PRESENT;
      }
      i = (i + 1) & mask;
    }
    if ((this.count + 1) * ENTRY_BYTES + (this.used + len) * 4 > this.maxBytes) return MEMO_FULL;
    const e = this.count++;
    if (e >= this.hashes.length) {
      this.growEntries();
      i = hash & this.mask;
      while (this.slots[i] !== 0) i = (i + 1) & this.mask;
    }
    if (this.used + len > this.arena.length) this.growArena(this.used + len);
    this.hashes[e] = hash;
    this.los[e] = lo;
    this.lens[e] = len;
    this.offsets[e] = this.used;
    const dst = this.arena;
    const base = this.used - lo;
    for (let w = lo; w < hi; w++) dst[base + w] = bits[w]!; // a subarray() view would allocate
    this.used += len;
    this.states[e] = state;
    this.slots[i] = e + 1;
    return MEMO_ADDED;
  }

  private growEntries(): void {
    const cap = this.hashes.length * 2;
    const grow = (a: Int32Array) => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.hashes = grow(this.hashes);
    this.los = grow(this.los);
    this.lens = grow(this.lens);
    this.offsets = grow(this.offsets);
    this.states.length = cap; // set by index below: no push-by-push growth
    // Keep the index at most half full, so probes stay short.
    this.slots = new Int32Array(cap * 2);
    this.mask = cap * 2 - 1;
    const slots = this.slots;
    const mask = this.mask;
    const hashes = this.hashes;
    for (let e = 0; e < this.count - 1; e++) {
      let i = hashes[e]! & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = e + 1;
    }
  }

  private growArena(need: number): void {
    let cap = this.arena.length * 2;
    while (cap < need) cap *= 2;
    const arena = new Uint32Array(cap);
    arena.set(this.arena.subarray(0, this.used));
    this.arena = arena;
  }
}
