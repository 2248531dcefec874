/**
 * Interference and attributes: what a replica adds to an instance it pre-accepts.
 *
 * Two commands interfere when they touch a common key (`MachineCore.keys`; commands of one client
 * session also share a key, so a session's commands are ordered as issued). For every key the
 * index keeps, per leader, the highest instance touching it and the highest sequence number among
 * them; instances that touch every key (barriers) and all instances are kept apart. An instance
 * touching keys K gets (paper, Figure 2):
 *   deps[q] = the highest instance of q touching a key of K, or any barrier;
 *   seq     = 1 + the highest seq among them.
 * A barrier gets every instance held. Keys are 32-bit hashes: two keys that collide only add order.
 *
 * Entries whose instances every replica has in a snapshot are dropped (`prune`): a command
 * proposed after them is executed after them everywhere without naming them.
 */
import type { Instance } from './instance.js';

interface Entry {
  deps: number[];
  seq: number;
}

export class Conflicts {
  private readonly byKey = new Map<number, Entry>();
  /** Every instance held, per leader (what a barrier depends on). */
  private readonly all: Entry;
  /** Barriers (what every instance depends on). */
  private readonly wild: Entry;

  constructor(readonly n: number) {
    this.all = { deps: new Array(n).fill(0), seq: 0 };
    this.wild = { deps: new Array(n).fill(0), seq: 0 };
  }

  get keyCount(): number {
    return this.byKey.size;
  }

  /** The attributes this replica holds for an instance touching `keys` (null: every key), not counting the instance itself. */
  attributes(keys: readonly number[] | null, self: number): { seq: number; deps: number[] } {
    const deps = new Array<number>(this.n);
    let seq = 0;
    const base = keys === null ? this.all : this.wild;
    for (let q = 0; q < this.n; q++) deps[q] = base.deps[q]!;
    seq = base.seq;
    if (keys !== null) {
      for (const k of keys) {
        const e = this.byKey.get(k);
        if (e === undefined) continue;
        if (e.seq > seq) seq = e.seq;
        for (let q = 0; q < this.n; q++) if (e.deps[q]! > deps[q]!) deps[q] = e.deps[q]!;
      }
    }
    // An instance never depends on itself (held again when recovery pre-accepts it once more).
    const q = self % 32;
    const i = Math.floor(self / 32);
    if (deps[q] === i) deps[q] = i - 1;
    return { seq: seq + 1, deps };
  }

  /** Records an instance this replica holds (called again when its attributes change). */
  add(x: Pick<Instance, 'key' | 'keys' | 'seq'>): void {
    const q = x.key % 32;
    const i = Math.floor(x.key / 32);
    raise(this.all, q, i, x.seq);
    if (x.keys === null) {
      raise(this.wild, q, i, x.seq);
      return;
    }
    for (const k of x.keys) {
      let e = this.byKey.get(k);
      if (e === undefined) {
        e = { deps: new Array(this.n).fill(0), seq: 0 };
        this.byKey.set(k, e);
      }
      raise(e, q, i, x.seq);
    }
  }

  /** Drops keys whose instances are all at or below `stable` (per leader): covered by every replica's snapshot. */
  prune(stable: readonly number[]): void {
    for (const [k, e] of this.byKey) {
      let covered = true;
      for (let q = 0; q < this.n && covered; q++) if (e.deps[q]! > stable[q]!) covered = false;
      if (covered) this.byKey.delete(k);
    }
  }
}

function raise(e: Entry, q: number, i: number, seq: number): void {
  if (i > e.deps[q]!) e.deps[q] = i;
  if (seq > e.seq) e.seq = seq;
}
