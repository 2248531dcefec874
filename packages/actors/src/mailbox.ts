/**
 * A bounded FIFO ring buffer. `push` refuses (returns false) when full: the caller decides
 * what overflow means (a dead letter, or waiting for room). Storage grows in powers of two up
 * to the bound, so an idle actor costs little memory.
 */
export class Mailbox<T> {
  private buf: (T | undefined)[];
  private mask: number;
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`mailbox capacity must be at least 1, got ${capacity}`);
    const initial = Math.min(16, nextPow2(capacity));
    this.buf = new Array(initial);
    this.mask = initial - 1;
  }

  get length(): number {
    return this.count;
  }
  get isFull(): boolean {
    return this.count >= this.capacity;
  }

  push(item: T): boolean {
    if (this.count >= this.capacity) return false;
    if (this.count === this.buf.length) this.grow();
    this.buf[(this.head + this.count) & this.mask] = item;
    this.count++;
    return true;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.count--;
    return item;
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.buf[this.head];
  }

  /** Removes and returns everything, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item);
    return out;
  }

  private grow(): void {
    const old = this.buf;
    const size = old.length * 2;
    const next: (T | undefined)[] = new Array(size);
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) & this.mask];
    this.buf = next;
    this.mask = size - 1;
    this.head = 0;
  }
}

function nextPow2(n: number): number {
  if (!Number.isFinite(n)) return 1 << 30;
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
