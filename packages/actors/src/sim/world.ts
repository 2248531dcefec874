/**
 * The state every part of a simulation shares: virtual time, the event queue, the nodes, the
 * counters, the events, the failure that stops it, and the queue of tasks hosts asked to run
 * "soon" (as microtasks would), run after the current event.
 */
import { EventEmitter } from 'eventemitter3';
import { assert } from '../errors.js';
import { EventQueue, EventType, SimEvent } from './event-queue.js';
import type { SimNode } from './node.js';
import type { SimEvents, SimFailure, SimStats } from './options.js';

export class SimWorld {
  /** Virtual time, ms. Only moves forward. */
  now = 0;
  readonly queue = new EventQueue();
  readonly nodes: SimNode[] = [];
  readonly events = new EventEmitter<SimEvents>();
  readonly stats: SimStats = {
    steps: 0,
    sends: 0,
    deliveries: 0,
    drops: 0,
    duplicates: 0,
    lost: 0,
    timers: 0,
    syncs: 0,
    faults: 0,
    crashes: 0,
    restarts: 0,
    deadLetters: 0,
  };
  /** The failure that stops the run, if any. */
  failure: SimFailure | null = null;
  /** Some promise settled: its continuations must run before the next event. */
  asyncPending = false;

  // Parallel arrays that only grow: entries are overwritten, never shifted or truncated.
  private readonly readyFn: ((() => void) | undefined)[] = [];
  private readonly readyNode: number[] = [];
  private readonly readyEpoch: number[] = [];
  private readyHead = 0;
  private readyLen = 0;

  /** Moves virtual time to `t` (never back). */
  advance(t: number): void {
    assert(t >= this.now, () => `virtual time went back from ${this.now} to ${t}`);
    this.now = t;
  }

  /** Runs `fn` after the current event, as a microtask of `node`'s host incarnation `epoch`. */
  soon(node: number, epoch: number, fn: () => void): void {
    const i = this.readyLen++;
    this.readyFn[i] = fn;
    this.readyNode[i] = node;
    this.readyEpoch[i] = epoch;
  }

  /** Runs the tasks queued by {@link soon}, skipping those of crashed hosts, deferring those of paused nodes. */
  runReady(): void {
    if (this.readyLen === 0) return;
    const fns = this.readyFn;
    while (this.readyHead < this.readyLen) {
      const i = this.readyHead++;
      const fn = fns[i]!;
      fns[i] = undefined;
      const node = this.nodes[this.readyNode[i]!]!;
      const epoch = this.readyEpoch[i]!;
      if (node.epoch !== epoch || !node.up) continue;
      if (node.paused) {
        node.deferred.push(new SimEvent(this.now, 0, EventType.Task, node.id, epoch, null, fn, 0));
        continue;
      }
      fn();
    }
    this.readyHead = 0;
    this.readyLen = 0;
  }

  /** Runs `fn` at virtual time `time` (a simulator callback, tied to no node). */
  callAt(time: number, fn: () => void): SimEvent {
    return this.queue.push(time, EventType.Call, -1, 0, null, fn, 0);
  }

  /** Resolves after `ms` of virtual time. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.callAt(this.now + Math.max(0, ms), () => {
        this.asyncPending = true;
        resolve();
      });
    });
  }
}
