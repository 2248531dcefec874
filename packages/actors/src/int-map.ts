/**
 * A hash map from safe integers to values: open addressing with linear probing and
 * backward-shift deletion (no tombstones).
 *
 * Why not `Map`: protocol state is keyed by instance and slot numbers that slide forward (new
 * ones added, old ones deleted). V8's `Map` handles that pattern poorly (hundreds of ns per
 * insert+delete, measured on Node 20), this one in tens. Iteration order is not insertion order.
 */
export class IntMap<V> {
  private keys: Float64Array;
  private vals: (V | undefined)[];
  private used: Uint8Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 16) {
    let cap = 16;
    while (cap < initialCapacity * 2) cap *= 2;
    this.keys = new Float64Array(cap);
    this.vals = new Array(cap);
    this.used = new Uint8Array(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  private slot(key: number): number {
    // Mix both halves of the integer so keys far apart still spread.
    const lo = key | 0;
    const hi = (key / 4294967296) | 0;
    return (Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> 0) & this.mask;
  }

  get(key: number): V | undefined {
    const mask = this.mask;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      if (this.used[i] === 0) return undefined;
      if (this.keys[i] === key) return this.vals[i];
    }
  }

  has(key: number): boolean {
    const mask = this.mask;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      if (this.used[i] === 0) return false;
      if (this.keys[i] === key) return true;
    }
  }

  set(key: number, value: V): this {
    if (!Number.isSafeInteger(key)) throw new RangeError(`IntMap keys must be safe integers, got ${key}`);
    const mask = this.mask;
    for (let i = this.slot(key); ; i = (i + 1) & mask) {
      if (this.used[i] === 0) {
        this.used[i] = 1;
        this.keys[i] = key;
        this.vals[i] = value;
        if (++this.count * 2 > mask) this.grow();
        return this;
      }
      if (this.keys[i] === key) {
        this.vals[i] = value;
        return this;
      }
    }
  }

  delete(key: number): boolean {
    const mask = this.mask;
    let i = this.slot(key);
    for (;;) {
      if (this.used[i] === 0) return false;
      if (this.keys[i] === key) break;
      i = (i + 1) & mask;
    }
    // Backward-shift: move later members of the probe run into the hole.
    let hole = i;
    for (let j = (i + 1) & mask; this.used[j] === 1; j = (j + 1) & mask) {
      const home = this.slot(this.keys[j]!);
      // Move j into the hole if its home is not within (hole, j] cyclically.
      if (hole <= j ? home <= hole || home > j : home <= hole && home > j) {
        this.keys[hole] = this.keys[j]!;
        this.vals[hole] = this.vals[j];
        hole = j;
      }
    }
    this.used[hole] = 0;
    this.vals[hole] = undefined;
    this.count--;
    return true;
  }

  clear(): void {
    this.used.fill(0);
    this.vals.fill(undefined);
    this.count = 0;
  }

  forEach(fn: (value: V, key: number) => void): void {
    for (let i = 0; i <= this.mask; i++) if (this.used[i] === 1) fn(this.vals[i] as V, this.keys[i]!);
  }

  /** Keys, in table order. Safe to delete the key just returned while iterating. */
  keysArray(): number[] {
    const out: number[] = [];
    for (let i = 0; i <= this.mask; i++) if (this.used[i] === 1) out.push(this.keys[i]!);
    return out;
  }

  *entries(): IterableIterator<[number, V]> {
    for (const k of this.keysArray()) yield [k, this.get(k) as V];
  }

  *values(): IterableIterator<V> {
    for (const k of this.keysArray()) yield this.get(k) as V;
  }

  [Symbol.iterator](): IterableIterator<[number, V]> {
    return this.entries();
  }

  /** A plain Map with the same content (for inspection and structured clone). */
  toMap(): Map<number, V> {
    const m = new Map<number, V>();
    this.forEach((v, k) => m.set(k, v));
    return m;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const oldUsed = this.used;
    const cap = oldKeys.length * 2;
    this.keys = new Float64Array(cap);
    this.vals = new Array(cap);
    this.used = new Uint8Array(cap);
    this.mask = cap - 1;
    for (let i = 0; i < oldKeys.length; i++) {
      if (oldUsed[i] !== 1) continue;
      const key = oldKeys[i]!;
      let j = this.slot(key);
      while (this.used[j] === 1) j = (j + 1) & this.mask;
      this.used[j] = 1;
      this.keys[j] = key;
      this.vals[j] = oldVals[i];
    }
  }
}
