/**
 * A node's Raft log in memory: the entries after its compaction point (`snapIndex`, whose entry
 * had `snapTerm`), as etcd's raftLog keeps them after a snapshot. Indices are 1-based as in the
 * paper; index 0 (term 0) is the empty log's anchor. Pure data: the node persists what changes.
 */
import type { Entry } from './messages.js';

/** A term unknown here: the index is compacted away or beyond the last entry. */
export const UNKNOWN_TERM = -1;

export class RaftLog {
  /** Entries up to here are compacted (covered by a replica snapshot). */
  snapIndex = 0;
  /** The term of the entry at `snapIndex`. */
  snapTerm = 0;
  /** `entries[k]` is the entry at index `snapIndex + 1 + k`. */
  entries: Entry[] = [];

  get firstIndex(): number {
    return this.snapIndex + 1;
  }
  get lastIndex(): number {
    return this.snapIndex + this.entries.length;
  }
  get lastTerm(): number {
    return this.entries.length > 0 ? this.entries[this.entries.length - 1]!.term : this.snapTerm;
  }

  /** The entry at `i`, if this log holds it. */
  entry(i: number): Entry | undefined {
    return i > this.snapIndex ? this.entries[i - this.snapIndex - 1] : undefined;
  }

  /** The term of the entry at `i`; {@link UNKNOWN_TERM} when compacted away or beyond the end. */
  term(i: number): number {
    if (i === this.snapIndex) return this.snapTerm;
    if (i < this.snapIndex || i > this.lastIndex) return UNKNOWN_TERM;
    return this.entries[i - this.snapIndex - 1]!.term;
  }

  /** Whether the entry at `i` has term `t` (the AppendEntries consistency check, §5.3). */
  matchTerm(i: number, t: number): boolean {
    const have = this.term(i);
    return have !== UNKNOWN_TERM && have === t;
  }

  /**
   * Whether a candidate whose log ends at (`lastIndex`, `lastTerm`) is at least as up-to-date as
   * this log (§5.4.1): a later last term wins; with equal last terms, the longer log.
   */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const mine = this.lastTerm;
    return lastTerm > mine || (lastTerm === mine && lastIndex >= this.lastIndex);
  }

  /**
   * The largest index at or below `index` whose term is at most `term`, and that term (etcd's
   * findConflictByTerm): entries with a larger term cannot match a log whose entry at `index`
   * has `term`, since terms only grow along a log.
   */
  findConflictByTerm(index: number, term: number): [index: number, term: number] {
    let i = Math.min(index, this.lastIndex);
    for (; i > this.snapIndex; i--) {
      const t = this.entries[i - this.snapIndex - 1]!.term;
      if (t <= term) return [i, t];
    }
    // At the compaction point (or below it, where nothing is known): its term, or none.
    return i === this.snapIndex ? [i, this.snapTerm] : [i, 0];
  }

  /**
   * Entries from `from` on, at least one (when there is one), while their bytes stay within
   * `maxBytes` and their number within `maxCount`.
   */
  slice(from: number, maxBytes: number, maxCount = Number.POSITIVE_INFINITY): Entry[] {
    if (from <= this.snapIndex || from > this.lastIndex) return [];
    const start = from - this.snapIndex - 1;
    let end = start;
    let bytes = 0;
    while (end < this.entries.length && end - start < maxCount) {
      const b = this.entries[end]!.bytes;
      if (end > start && bytes + b > maxBytes) break;
      bytes += b;
      end++;
    }
    return this.entries.slice(start, end);
  }

  /** Appends after the last entry. */
  append(entries: readonly Entry[]): void {
    for (const e of entries) this.entries.push(e);
  }

  /** Removes the entries from `i` on (a conflicting suffix, §5.3). */
  truncateFrom(i: number): void {
    if (i <= this.snapIndex) throw new RangeError(`raft log: cannot truncate from ${i}, at or below the compaction point ${this.snapIndex}`);
    if (i <= this.lastIndex) this.entries.length = i - this.snapIndex - 1;
  }

  /** Drops the entries up to `index` (they are in a snapshot); `index` must be in this log. */
  compact(index: number): void {
    if (index <= this.snapIndex) return;
    const t = this.term(index);
    if (t === UNKNOWN_TERM) throw new RangeError(`raft log: cannot compact to ${index}, beyond the last index ${this.lastIndex}`);
    this.entries = this.entries.slice(index - this.snapIndex);
    this.snapIndex = index;
    this.snapTerm = t;
  }

  /** Replaces the whole log by a compaction point (a snapshot installed from the leader). */
  reset(index: number, term: number): void {
    this.entries = [];
    this.snapIndex = index;
    this.snapTerm = term;
  }
}
