import type { Envelope } from '../envelope.js';

/** What a simulation event does when its time comes. */
export const enum EventType {
  /** An envelope arrives at `node` (sent from `arg`). */
  Deliver = 0,
  /** A host clock callback (an actor timer or an ask timeout) of `node`, incarnation `epoch`. */
  Timer = 1,
  /** A host's `scheduler.later` task. */
  Task = 2,
  /** The disk of `node` finishes a sync (disk generation `arg`). */
  Sync = 3,
  /** A simulator callback not tied to a node: fault plan steps, supervisor delays, pause ends. */
  Call = 4,
}

/**
 * One scheduled event. Plain fields of fixed shape (no closures on the hot path: a delivery
 * carries its envelope, not a function). `pos` is its index in the heap, so that a cancelled
 * timer leaves the heap at once instead of lingering until its time.
 */
export class SimEvent {
  pos = -1;
  constructor(
    public time: number,
    public seq: number,
    public type: EventType,
    /** The node the event belongs to (-1 for none). */
    public node: number,
    /** The node incarnation a timer or task belongs to: stale ones are skipped. */
    public epoch: number,
    public env: Envelope | null,
    public fn: (() => void) | null,
    public arg: number,
  ) {}
}

/**
 * A binary min-heap of events ordered by (time, seq). `seq` is unique and increasing, so events
 * at the same virtual time run in the order they were scheduled: the order never depends on
 * anything but the simulation's own decisions.
 */
export class EventQueue {
  private heap: SimEvent[] = [];
  private nextSeq = 0;
  /** Released delivery events, for reuse (bounded). */
  private readonly free: SimEvent[] = [];

  get size(): number {
    return this.heap.length;
  }

  /** Schedules an event; returns it (the handle for {@link remove}). */
  push(time: number, type: EventType, node: number, epoch: number, env: Envelope | null, fn: (() => void) | null, arg: number): SimEvent {
    const ev = new SimEvent(time, this.nextSeq++, type, node, epoch, env, fn, arg);
    this.insert(ev);
    return ev;
  }

  /**
   * Schedules a delivery, reusing a released event object: deliveries are most events, and
   * nothing outside the simulation holds on to them (unlike timer handles).
   */
  pushDelivery(time: number, node: number, env: Envelope, fromNode: number): void {
    const ev = this.free.pop();
    if (ev === undefined) {
      this.insert(new SimEvent(time, this.nextSeq++, EventType.Deliver, node, 0, env, null, fromNode));
      return;
    }
    ev.time = time;
    ev.seq = this.nextSeq++;
    ev.node = node;
    ev.env = env;
    ev.arg = fromNode;
    this.insert(ev);
  }

  /** Gives back a delivery event that ran. */
  release(ev: SimEvent): void {
    ev.env = null;
    if (this.free.length < 4096) this.free.push(ev);
  }

  /** Puts back an event taken out earlier (a paused node's deferred events), at a new time. */
  reschedule(ev: SimEvent, time: number): void {
    ev.time = time;
    ev.seq = this.nextSeq++;
    this.insert(ev);
  }

  peek(): SimEvent | undefined {
    return this.heap[0];
  }

  pop(): SimEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop()!;
    if (last !== top) {
      heap[0] = last;
      last.pos = 0;
      this.down(0);
    }
    top.pos = -1;
    return top;
  }

  /** Removes a scheduled event; false when it already ran or was removed. */
  remove(ev: SimEvent): boolean {
    const i = ev.pos;
    const heap = this.heap;
    if (i < 0 || heap[i] !== ev) return false;
    const last = heap.pop()!;
    ev.pos = -1;
    if (last !== ev) {
      heap[i] = last;
      last.pos = i;
      this.down(i);
      this.up(last.pos);
    }
    return true;
  }

  /** Every scheduled event, in no particular order (for read-only views). */
  all(): readonly SimEvent[] {
    return this.heap;
  }

  private insert(ev: SimEvent): void {
    ev.pos = this.heap.length;
    this.heap.push(ev);
    this.up(ev.pos);
  }

  private up(i: number): void {
    const heap = this.heap;
    const ev = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (parent.time < ev.time || (parent.time === ev.time && parent.seq < ev.seq)) break;
      heap[i] = parent;
      parent.pos = i;
      i = p;
    }
    heap[i] = ev;
    ev.pos = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const ev = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      let child = heap[l]!;
      if (r < n) {
        const right = heap[r]!;
        if (right.time < child.time || (right.time === child.time && right.seq < child.seq)) {
          c = r;
          child = right;
        }
      }
      if (ev.time < child.time || (ev.time === child.time && ev.seq < child.seq)) break;
      heap[i] = child;
      child.pos = i;
      i = c;
    }
    heap[i] = ev;
    ev.pos = i;
  }
}
