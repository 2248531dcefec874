/**
 * A map replica's keys: a hash table from a key's UTF-8 bytes to the handle of its value, with
 * the key's bytes in a cell of the value store (value-store.ts).
 *
 * Replicas find a key from the bytes of the command, never making a string of it: a string per
 * command (or a cache of them) and a JavaScript Map cost a replica four or five cache misses per
 * command once the keys outnumber the cache (a string cache slot, the string, the Map's bucket,
 * its entry), and a `set` on a map of tens of thousands of keys is mostly those misses. Here a
 * lookup hashes the key's bytes (already in cache: they are the command's), reads one slot of the
 * table, and compares the key's cell: two misses.
 *
 * Open addressing with linear probing; a slot is 4 ints: the key's hash, its cell's handle + 1
 * (0: empty), its value's handle. Deletes shift the slots after them back (no tombstones). The
 * table doubles past half full; slots hold their hashes, so growing reads no key.
 */
import { hashBytes } from '@synod/canonical';
import type { ValueStore } from './value-store.js';

const STRIDE = 4;
const HASH = 0;
const KEY = 1;
const VALUE = 2;

const utf8 = new TextEncoder();

export class KeyIndex {
  private slots = new Int32Array(64 * STRIDE);
  private mask = 63;
  /** Keys held. */
  size = 0;

  constructor(private readonly values: ValueStore) {}

  /**
   * The slot of the key `src[start, end)` whose bytes hash (`hashBytes`, seed 0) to `hash`, or -1.
   * A slot is valid until the next `insert` or `removeAt`.
   */
  find(hash: number, src: Uint8Array, start: number, end: number): number {
    const s = this.slots;
    hash |= 0; // as the table holds it (hashBytes returns it unsigned)
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const at = i * STRIDE;
      const key = s[at + KEY]!;
      if (key === 0) return -1;
      if (s[at + HASH] === hash && this.values.equalsRange(key - 1, src, start, end)) return i;
    }
  }

  /** The handle of the value in `slot`. */
  valueAt(slot: number): number {
    return this.slots[slot * STRIDE + VALUE]!;
  }

  setValueAt(slot: number, value: number): void {
    this.slots[slot * STRIDE + VALUE] = value;
  }

  /** The handle of the key's cell in `slot`. */
  keyAt(slot: number): number {
    return this.slots[slot * STRIDE + KEY]! - 1;
  }

  /** Adds a key not held yet (its hash, its cell's handle), with its value's handle. */
  insert(hash: number, key: number, value: number): void {
    if (2 * (this.size + 1) > this.mask + 1) this.grow();
    this.place(hash, key + 1, value);
    this.size++;
  }

  /** Removes the key in `slot`, moving back the slots after it that would no longer be found. */
  removeAt(slot: number): void {
    const s = this.slots;
    const mask = this.mask;
    let hole = slot;
    for (let i = (slot + 1) & mask; s[i * STRIDE + KEY] !== 0; i = (i + 1) & mask) {
      const home = s[i * STRIDE + HASH]! & mask;
      // Stays when its home lies cyclically in (hole, i]; otherwise it moves into the hole.
      const stays = hole <= i ? hole < home && home <= i : hole < home || home <= i;
      if (stays) continue;
      s.copyWithin(hole * STRIDE, i * STRIDE, i * STRIDE + STRIDE);
      hole = i;
    }
    s.fill(0, hole * STRIDE, hole * STRIDE + STRIDE);
    this.size--;
  }

  /** Every key and value handle, as pairs (key, value) in one array: what a snapshot reads later. */
  pairs(): Int32Array {
    const out = new Int32Array(2 * this.size);
    const s = this.slots;
    let n = 0;
    for (let at = 0; at < s.length; at += STRIDE) {
      if (s[at + KEY] === 0) continue;
      out[n++] = s[at + KEY]! - 1;
      out[n++] = s[at + VALUE]!;
    }
    return out;
  }

  /** The slot of `key`, or -1 (for reads that come as strings, and for tests). */
  slotOf(key: string): number {
    const bytes = utf8.encode(key);
    return this.find(hashBytes(bytes), bytes, 0, bytes.length);
  }

  private place(hash: number, keyPlusOne: number, value: number): void {
    const s = this.slots;
    let i = hash & this.mask;
    while (s[i * STRIDE + KEY] !== 0) i = (i + 1) & this.mask;
    const at = i * STRIDE;
    s[at + HASH] = hash;
    s[at + KEY] = keyPlusOne;
    s[at + VALUE] = value;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(2 * old.length);
    this.mask = 2 * (this.mask + 1) - 1;
    for (let at = 0; at < old.length; at += STRIDE) if (old[at + KEY] !== 0) this.place(old[at + HASH]!, old[at + KEY]!, old[at + VALUE]!);
  }
}
