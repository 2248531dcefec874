/**
 * What runs a host fed by rings (ring-transport.ts): it reads the rings into mailboxes, runs
 * turns, and waits for more.
 *
 * A worker thread waits in three steps, cheapest wake-up first: right after activity it spins
 * on its rings for a while (adapted between 0 and `maxSpinUs` to how often spinning catches the
 * next record: with more threads than cores a spinner takes the core its peer needs, so a spin
 * that keeps missing shrinks to nothing); then it blocks in `Atomics.wait` on its doorbell, at
 * most until its next timer and never longer than `maxWaitMs`, after which it lets its event
 * loop turn (timers, file-store completions, the control plane and heartbeats run there); idle
 * for `parkAfterMs`, or waiting on a store's completion, it parks: `Atomics.waitAsync`, no CPU
 * at all, woken by a writer through its event loop.
 *
 * The main thread is the user's: it never blocks. Its writers wake it with a message on their
 * pair's port (see MainRingDriver).
 */
import { Activity } from './activity.js';
import type { TrackingClock } from './clock.js';
import type { Doorbell } from './doorbell.js';
import { InvalidOptionError } from './errors.js';
import type { ActorHost } from './host.js';
import type { RingTransport } from './ring-transport.js';

/** How a worker fed by rings waits. */
export interface RingWaitOptions {
  /** Longest a worker blocks waiting for records before its event loop turns. Default 1. */
  maxWaitMs: number;
  /** How long a worker spins on its rings after activity before it sleeps (microseconds), while spinning pays. 0: never spin. Default 200 (on this VM a peer that spins too is now and then descheduled for tens of microseconds: shorter spins miss it). */
  maxSpinUs: number;
  /**
   * The spin's bound instead, while more threads are alive than there are cores (the main thread
   * counted): a spin longer than a wake-up costs (tens of microseconds) holds a core the other
   * threads may need for longer than the wake-up it saves. Default 50.
   */
  maxCrowdedSpinUs: number;
  /** Idle this long, a worker parks: it waits without blocking its thread or using CPU. Default 20. */
  parkAfterMs: number;
  /**
   * While every thread's own work took less than this share of its time lately (a worker's
   * reading, turns and writing; the main thread's event loop, the user's code included), workers
   * spin for `maxSpinUs` even when crowded: mostly idle threads take a core from no one for long,
   * and one caller waiting on each commit is exactly that case (each hop that finds its thread
   * asleep pays a wake-up). With one thread busier, `maxCrowdedSpinUs` bounds the spins. 0: always
   * the crowded bound. Default 0.5.
   */
  lightLoadShare: number;
}

export const defaultRingWait: RingWaitOptions = { maxWaitMs: 1, maxSpinUs: 200, maxCrowdedSpinUs: 50, parkAfterMs: 20, lightLoadShare: 0.5 };

/** How often a worker's share of time at work is taken (ms), and how much the last one counts. */
const LOAD_WINDOW_MS = 5;
const LOAD_GAIN = 0.5;

export function checkRingWait(o: Partial<RingWaitOptions>, where: string): void {
  const check = (k: keyof RingWaitOptions, min: number, max: number) => {
    const v = o[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max)) {
      throw new InvalidOptionError(`${where}.${k} must be a number from ${min} to ${max}, got ${String(v)}`);
    }
  };
  check('maxWaitMs', 0.01, 100);
  check('maxSpinUs', 0, 10_000);
  check('maxCrowdedSpinUs', 0, 10_000);
  check('parkAfterMs', 0, 60_000);
  check('lightLoadShare', 0, 1);
}

/** The run loop of a worker thread's host. */
export class WorkerRingLoop {
  private scheduled = false;
  private parked: { cancel(): void } | null = null;
  private closed = false;
  private lastActivity = performance.now();
  /** How often spinning caught the next record lately (a moving average, 0..1; see `spin`). */
  private hitRate = 1;
  /** Idle moments since the last probe (see `spin`). */
  private sinceProbe = 0;
  /** The share of its time this thread spent at work lately (a moving average over windows of LOAD_WINDOW_MS). */
  private load = 1;
  private loadWindowStart = performance.now();
  private workMs = 0;
  /** Where the time goes, for tests and diagnostics. */
  readonly stats = { runs: 0, spins: 0, spinHits: 0, sleeps: 0, parks: 0 };

  constructor(
    private readonly host: ActorHost,
    private readonly transport: RingTransport,
    private readonly doorbell: Doorbell,
    private readonly clock: TrackingClock,
    private readonly opts: RingWaitOptions,
    /** Which threads run now: spinning only while a core is free for it. Null: no limit. */
    private readonly activity: Activity | null = null,
  ) {
    transport.onWork = () => this.wake();
  }

  start(): void {
    this.schedule();
  }

  /** Brings a parked loop back (work arrived other than through the doorbell). */
  wake(): void {
    if (this.parked !== null) {
      this.parked.cancel();
      this.parked = null;
    }
    this.schedule();
  }

  close(): void {
    this.closed = true;
    this.parked?.cancel();
    this.parked = null;
    this.activity?.idle();
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  /** What a sleep checks once announced: records to read, or room a backlog asked for (see RingTransport.hasWork). */
  private readonly hasWork = (): boolean => this.transport.hasWork();

  /** Sleeps on the doorbell (see Doorbell.sleep), counted as not running meanwhile. */
  private sleep(timeoutMs: number): boolean {
    this.activity?.idle();
    const woke = this.doorbell.sleep(timeoutMs, this.hasWork);
    this.activity?.running();
    return woke;
  }

  private readonly run = (): void => {
    this.scheduled = false;
    this.parked = null;
    if (this.closed) return;
    this.stats.runs++;
    this.activity?.running();
    const host = this.host;
    const transport = this.transport;
    // When the current pass began: the clock read that ends one pass starts the next (a read
    // costs as much as a small turn); only a spin or a sleep between them needs a fresh one.
    let started = performance.now();
    const sliceEnd = started + host.limits.maxDrainMs;
    const budget = host.limits.maxMessagesPerDrain;
    let active = true; // spin only right after activity
    for (;;) {
      const settled = host.asksSettled;
      const got = transport.poll(budget);
      host.drain();
      transport.flush();
      transport.maybeCollect();
      const now = performance.now();
      if (got > 0) {
        this.lastActivity = now;
        active = true;
        this.workMs += now - started;
      }
      started = now;
      if (now - this.loadWindowStart >= LOAD_WINDOW_MS) this.takeLoad(now);
      // Answered asks: let the event loop run their continuations now.
      if (host.asksSettled !== settled) break;
      const runnable = host.busy && !transport.congested();
      if (runnable || got > 0) {
        if (now < sliceEnd) continue;
        break;
      }
      if (active) {
        active = false;
        if (this.opts.maxSpinUs > 0 && this.spin()) {
          started = performance.now();
          continue;
        }
      }
      if (now - this.lastActivity >= this.opts.parkAfterMs || host.awaitingDurability) {
        this.park();
        return;
      }
      const timeoutMs = Math.min(this.opts.maxWaitMs, this.clock.msUntilNext(), sliceEnd - now);
      if (timeoutMs <= 0) break;
      this.stats.sleeps++;
      const woke = this.sleep(timeoutMs);
      if (!woke) break;
      started = performance.now();
      if (started >= sliceEnd) break;
    }
    this.schedule();
  };

  /**
   * Polls the rings for up to `maxSpinUs`; true when a record arrived. Whether to spin at all
   * follows how often spinning has caught the next record lately (a moving average of hits):
   * spinning that keeps missing (the peer is slow, or shares the core, or the machine is busy)
   * costs the peer CPU, and the record arrives just after it anyway. After about thirty misses in
   * a row (a busy machine: a burst of a few, when a peer is descheduled or collects garbage, does
   * not count), only every 16th idle moment probes, to find out whether spinning would catch
   * something again; a hit brings it back.
   * Spins are all or nothing: a short spin would mostly end just before a sleeping peer could
   * answer (waking it costs more than most spins last).
   */
  private spin(): boolean {
    if (this.hitRate < 0.2) {
      if (++this.sinceProbe < 16) return false;
      this.sinceProbe = 0;
    }
    const transport = this.transport;
    const activity = this.activity;
    if (activity !== null && !activity.coreFree()) return false;
    this.stats.spins++;
    // Long spins only while every thread is mostly idle: one busy thread means the cores are wanted.
    const crowded = activity !== null && activity.crowded() && activity.busiestLoad() >= this.opts.lightLoadShare;
    const spinUs = crowded ? Math.min(this.opts.maxSpinUs, this.opts.maxCrowdedSpinUs) : this.opts.maxSpinUs;
    const until = performance.now() + spinUs / 1000;
    for (let i = 1; ; i++) {
      if (transport.hasData()) {
        // A hit brings spinning back at once (a probe that hits means the peer answers quickly now).
        this.stats.spinHits++;
        this.hitRate = Math.max(0.75, this.hitRate * 0.9 + 0.1);
        return true;
      }
      if ((i & 15) === 0) {
        if (performance.now() >= until) break;
        // A peer started running and the cores are all taken: give this one back.
        if (activity !== null && (i & 255) === 0 && !activity.coreFree()) return false;
      }
    }
    this.hitRate *= 0.95;
    return false;
  }

  /** Closes a window of the work share (see `load`). */
  private takeLoad(now: number): void {
    const share = Math.min(1, this.workMs / (now - this.loadWindowStart));
    this.load += LOAD_GAIN * (share - this.load);
    this.loadWindowStart = now;
    this.workMs = 0;
    this.activity?.setLoad(this.load);
  }

  private park(): void {
    this.stats.parks++;
    this.activity?.idle();
    // Parked, it works no more: its share drops, and the window starts again when it wakes.
    this.load = 0;
    this.workMs = 0;
    this.loadWindowStart = performance.now();
    this.activity?.setLoad(0);
    const p = this.doorbell.sleepAsync(this.hasWork, () => {
      this.parked = null;
      this.lastActivity = performance.now();
      this.schedule();
    });
    if (p === false) this.schedule();
    else this.parked = p;
  }
}

/**
 * Feeds the main thread's host from its rings without ever blocking it. Idle, it announces sleep
 * on its doorbell; a worker that then publishes to it posts a message on their pair's port (see
 * `RingEnds.peerRingsByPort`), and the message's event reads every ring at once. (An
 * `Atomics.waitAsync` per wait costs more: a promise and a registration under V8's global lock
 * to arm, a task posted to the event loop to resolve.)
 */
export class MainRingDriver {
  private waiting = false;
  private scheduled = false;
  private closed = false;
  /** The event loop's utilization when the main thread's load was last published (see `publishLoad`). */
  private elu = performance.eventLoopUtilization();
  private eluAt = performance.now();

  constructor(
    private readonly host: ActorHost,
    private readonly transport: RingTransport,
    private readonly doorbell: Doorbell,
    /** Where workers see which threads are busy (activity.ts); the main thread publishes its load there. */
    private readonly activity: SharedArrayBuffer | null = null,
  ) {
    transport.onWork = () => this.wake();
    transport.onDoorbell = () => this.rang();
  }

  start(): void {
    this.arm();
  }

  /** Work arrived other than by the doorbell: read soon. */
  wake(): void {
    if (this.waiting) {
      this.waiting = false;
      this.doorbell.awake();
    }
    this.schedule();
  }

  close(): void {
    this.closed = true;
    if (this.waiting) this.doorbell.awake();
    this.waiting = false;
  }

  /** A writer rang (it flipped the doorbell back to awake): a message event, nothing of ours on the stack, so read now. */
  private rang(): void {
    this.waiting = false;
    if (!this.scheduled && !this.closed) this.run();
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  /** What a sleep checks once announced: records to read, or room a backlog asked for (see RingTransport.hasWork). */
  private readonly hasWork = (): boolean => this.transport.hasWork();

  private readonly run = (): void => {
    this.scheduled = false;
    if (this.closed) return;
    const host = this.host;
    const budget = host.limits.maxMessagesPerDrain;
    const got = this.transport.poll(budget);
    host.drain();
    this.transport.flush();
    this.publishLoad();
    // No collections here: this is the user's thread (its views are collected when V8 decides).
    // More than one budget's worth, or turns left: come back after the event loop turns.
    if (got >= budget || (host.busy && !this.transport.congested())) this.schedule();
    else this.arm();
  };

  /**
   * Tells the workers how busy this thread is (its event loop's utilization, the user's code
   * included), once per LOAD_WINDOW_MS at most: a busy main thread needs its core, and workers
   * then keep their spins short (see `RingWaitOptions.lightLoadShare`).
   */
  private publishLoad(): void {
    if (this.activity === null) return;
    const now = performance.now();
    if (now - this.eluAt < LOAD_WINDOW_MS) return;
    const elu = performance.eventLoopUtilization();
    Activity.mainLoad(this.activity, performance.eventLoopUtilization(elu, this.elu).utilization);
    this.elu = elu;
    this.eluAt = now;
  }

  private arm(): void {
    if (this.closed || this.waiting) return;
    if (this.doorbell.sleepUntilMessage(this.hasWork)) this.waiting = true;
    else this.schedule();
  }
}
