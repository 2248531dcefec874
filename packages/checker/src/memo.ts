/**
 * The memo of Lowe's improvement to Wing & Gong: the set of (linearized operations, model
 * state) pairs already explored. Reaching a pair again cannot lead anywhere new, so the search
 * backtracks. Bitsets live in one growing Uint32Array arena and the index is open addressing
 * over Int32Arrays, so adding a pair allocates nothing but the occasional doubling.
 */

/** Results of {@link Memo.add}. */
export const MEMO_PRESENT = 0;
export const MEMO_ADDED = 1;
export const MEMO_FULL = -1;
export type MemoAdd = typeof MEMO_PRESENT | typeof MEMO_ADDED | typeof MEMO_FULL;

export class Memo<S> {
  private slots: Int32Array;
  private mask: number;
  private hashes: Int32Array;
  private arena: Uint32Array;
  private readonly states: S[] = [];
  private count = 0;
  /** Approximate bytes per entry: bitset, hash, two index slots, state reference. */
  private readonly entryBytes: number;

  /**
   * @param words - 32-bit words per bitset
   * @param equal - state equality
   * @param maxBytes - past this (approximately) `add` answers MEMO_FULL
   */
  constructor(private readonly words: number, private readonly equal: (a: S, b: S) => boolean, private readonly maxBytes: number) {
    const cap = 1024;
    this.slots = new Int32Array(cap * 2);
    this.mask = cap * 2 - 1;
    this.hashes = new Int32Array(cap);
    this.arena = new Uint32Array(cap * words);
    this.entryBytes = words * 4 + 4 + 2 * 4 + 8;
  }

  /** Number of pairs stored. */
  get size(): number { return this.count; }

  /** Approximate bytes used. */
  get bytes(): number { return this.count * this.entryBytes; }

  /** Adds (bits, state) under `hash` unless it is already there. */
  add(hash: number, bits: Uint32Array, state: S): MemoAdd {
    const W = this.words;
    const arena = this.arena;
    const slots = this.slots;
    const hashes = this.hashes;
    let i = hash & this.mask;
    for (let s = slots[i]!; s !== 0; s = slots[i]!) {
      const e = s - 1;
      if (hashes[e] === hash) {
        let same = true;
        const base = e * W;
        for (let w = 0; w < W; w++) {
          if (arena[base + w] !== bits[w]) { same = false; break; }
        }
        if (same && this.equal(this.states[e]!, state)) return MEMO_PRESENT;
      }
      i = (i + 1) & this.mask;
    }
    if ((this.count + 1) * this.entryBytes > this.maxBytes) return MEMO_FULL;
    const e = this.count++;
    if (e >= hashes.length) {
      this.grow();
      return this.insertNew(hash, bits, state, e);
    }
    hashes[e] = hash;
    arena.set(bits, e * W);
    this.states.push(state);
    slots[i] = e + 1;
    return MEMO_ADDED;
  }

  private insertNew(hash: number, bits: Uint32Array, state: S, e: number): MemoAdd {
    this.hashes[e] = hash;
    this.arena.set(bits, e * this.words);
    this.states.push(state);
    let i = hash & this.mask;
    while (this.slots[i] !== 0) i = (i + 1) & this.mask;
    this.slots[i] = e + 1;
    return MEMO_ADDED;
  }

  private grow(): void {
    const cap = this.hashes.length * 2;
    const hashes = new Int32Array(cap);
    hashes.set(this.hashes);
    this.hashes = hashes;
    const arena = new Uint32Array(cap * this.words);
    arena.set(this.arena);
    this.arena = arena;
    // Keep the index at most half full, so probes stay short.
    this.slots = new Int32Array(cap * 2);
    this.mask = cap * 2 - 1;
    for (let e = 0; e < this.count - 1; e++) {
      let i = hashes[e]! & this.mask;
      while (this.slots[i] !== 0) i = (i + 1) & this.mask;
      this.slots[i] = e + 1;
    }
  }
}
