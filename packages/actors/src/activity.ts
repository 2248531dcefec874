/**
 * Which worker threads are running (working or spinning) right now, and which are alive, in a
 * SharedArrayBuffer the main thread makes for the system: a thread spins waiting for records only
 * while that leaves a core for every running thread. With more threads than cores, a spinner would
 * take the core a working peer needs (on 2 cores, a client and two acceptors that spin share them
 * three ways); and with more threads alive than cores (the main thread counted), spins are kept
 * short (see `RingWaitOptions.maxCrowdedSpinUs`) unless every thread is mostly idle (each worker
 * publishes its share of time at work, the main thread its event loop's utilization:
 * `RingWaitOptions.lightLoadShare`).
 * Advisory: a slot per node (nodes beyond the table share slots), read with plain atomic loads.
 */
import { availableParallelism } from 'node:os';

const SLOTS = 64;
/** The main thread's load goes in node 0's slot (workers are nodes 1 and up). */
const MAIN_SLOT = 0;

/** Running flags, alive flags, then loads (per mille of time at work): a slot each per node. */
export function createActivity(): SharedArrayBuffer {
  return new SharedArrayBuffer(12 * SLOTS);
}

export class Activity {
  private readonly flags: Int32Array;
  private readonly alive: Int32Array;
  private readonly loads: Int32Array;
  private readonly slot: number;

  constructor(
    buffer: SharedArrayBuffer,
    node: number,
    private readonly cores = availableParallelism(),
  ) {
    this.flags = new Int32Array(buffer, 0, SLOTS);
    this.alive = new Int32Array(buffer, 4 * SLOTS, SLOTS);
    this.loads = new Int32Array(buffer, 8 * SLOTS, SLOTS);
    this.slot = node % SLOTS;
    Atomics.store(this.alive, this.slot, 1);
    Atomics.store(this.loads, this.slot, 1000);
  }

  /** This thread's share of time at work lately, 0..1. */
  setLoad(share: number): void {
    Atomics.store(this.loads, this.slot, Math.round(share * 1000));
  }

  /** The busiest thread's share of time at work lately, 0..1: the live workers' and the main thread's. */
  busiestLoad(): number {
    let max = Atomics.load(this.loads, MAIN_SLOT);
    for (let i = 0; i < SLOTS; i++) if (Atomics.load(this.alive, i) === 1) max = Math.max(max, Atomics.load(this.loads, i));
    return max / 1000;
  }

  /**
   * The main thread's share of time at work lately (its event loop's utilization: the user's code
   * counts), published by the main thread, which has no slot of its own otherwise.
   */
  static mainLoad(buffer: SharedArrayBuffer, share: number): void {
    Atomics.store(new Int32Array(buffer, 8 * SLOTS, SLOTS), MAIN_SLOT, Math.round(share * 1000));
  }

  running(): void {
    Atomics.store(this.flags, this.slot, 1);
  }
  idle(): void {
    Atomics.store(this.flags, this.slot, 0);
  }

  /** Whether this thread (running) and the others running fit in the cores. */
  coreFree(): boolean {
    let n = 0;
    const f = this.flags;
    for (let i = 0; i < SLOTS; i++) n += Atomics.load(f, i);
    return n <= this.cores;
  }

  /** Whether more threads are alive (the workers here and the main thread) than there are cores. */
  crowded(): boolean {
    let n = 1;
    const a = this.alive;
    for (let i = 0; i < SLOTS; i++) n += Atomics.load(a, i);
    return n > this.cores;
  }

  /** A node's worker is gone: it runs no more (called by the main thread). */
  static gone(buffer: SharedArrayBuffer, node: number): void {
    Atomics.store(new Int32Array(buffer, 0, SLOTS), node % SLOTS, 0);
    Atomics.store(new Int32Array(buffer, 4 * SLOTS, SLOTS), node % SLOTS, 0);
    Atomics.store(new Int32Array(buffer, 8 * SLOTS, SLOTS), node % SLOTS, 0);
  }
}
