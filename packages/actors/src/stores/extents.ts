/**
 * The free space of a region as sorted, disjoint, coalesced extents `[start, end)`, all
 * multiples of 8. Small and simple: a region holds few extents (snapshots are written in large
 * runs), so a linear scan is enough.
 */
export const EXTENT_ALIGN = 8;

export function alignUp(n: number): number {
  return Math.ceil(n / EXTENT_ALIGN) * EXTENT_ALIGN;
}

export class FreeExtents {
  private starts: number[] = [];
  private ends: number[] = [];
  /** Free bytes in all. */
  freeBytes = 0;

  /** The free space of `[start, end)` less the `used` extents (which must not overlap: returns the first overlap otherwise). */
  static of(start: number, end: number, used: [number, number][]): FreeExtents | { overlap: [number, number] } {
    const f = new FreeExtents();
    const sorted = used.filter((u) => u[1] > 0).sort((a, b) => a[0] - b[0]);
    let at = start;
    for (const [s, len] of sorted) {
      if (s < at || s + len > end) return { overlap: [s, len] };
      if (s > at) f.add(at, s);
      at = alignUp(s + len);
    }
    if (at < end) f.add(at, end);
    return f;
  }

  private add(start: number, end: number): void {
    this.starts.push(start);
    this.ends.push(end);
    this.freeBytes += end - start;
  }

  /**
   * Takes up to `want` bytes (rounded up to the alignment) from the first free extent: a piece of
   * at least 1 byte and at most `want`; null when nothing is free.
   */
  takeSome(want: number): [number, number] | null {
    if (this.starts.length === 0) return null;
    const start = this.starts[0]!;
    const len = Math.min(alignUp(want), this.ends[0]! - start);
    this.cut(0, len);
    return [start, len];
  }

  /** Takes `bytes` contiguous bytes from the first extent that holds them; null when none does. */
  takeContiguous(bytes: number): number | null {
    const len = alignUp(Math.max(bytes, 1));
    for (let i = 0; i < this.starts.length; i++) {
      if (this.ends[i]! - this.starts[i]! >= len) {
        const start = this.starts[i]!;
        this.cut(i, len);
        return start;
      }
    }
    return null;
  }

  private cut(i: number, len: number): void {
    this.starts[i]! += len;
    this.freeBytes -= len;
    if (this.starts[i] === this.ends[i]) {
      this.starts.splice(i, 1);
      this.ends.splice(i, 1);
    }
  }

  /** Gives `[start, start + len)` back (len rounded up to the alignment, as it was taken). */
  give(start: number, len: number): void {
    if (len <= 0) return;
    const end = start + alignUp(len);
    let i = 0;
    while (i < this.starts.length && this.starts[i]! < start) i++;
    const joinsPrev = i > 0 && this.ends[i - 1] === start;
    const joinsNext = i < this.starts.length && this.starts[i] === end;
    if (joinsPrev && joinsNext) {
      this.ends[i - 1] = this.ends[i]!;
      this.starts.splice(i, 1);
      this.ends.splice(i, 1);
    } else if (joinsPrev) {
      this.ends[i - 1] = end;
    } else if (joinsNext) {
      this.starts[i] = start;
    } else {
      this.starts.splice(i, 0, start);
      this.ends.splice(i, 0, end);
    }
    this.freeBytes += end - start;
  }

  /** Largest contiguous free extent. */
  get largest(): number {
    let m = 0;
    for (let i = 0; i < this.starts.length; i++) m = Math.max(m, this.ends[i]! - this.starts[i]!);
    return m;
  }
}
