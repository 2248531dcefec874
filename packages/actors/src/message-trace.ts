/**
 * Observing the messages of a running system, for live views (a sequence diagram on a
 * dashboard), without slowing the hot path when nobody looks.
 *
 * A host calls its `tap` for every envelope it routes. The sampler here records every message
 * sent during a short window (`windowMs`) once every `periodMs`, at most `maxPerWindow` per
 * host, and hands each finished window over. Windows are aligned on the wall clock
 * (`floor(now / periodMs)`), and every thread of a process reads the same clock, so the windows
 * of all hosts cover the same instants: together they are a faithful picture of everything the
 * system sent during those milliseconds, not a random scatter of unrelated messages.
 */
import type { Clock } from './clock.js';
import type { Envelope } from './envelope.js';
import { InvalidOptionError, messageType } from './errors.js';

/** What to record. Every bound is named. */
export interface MessageTraceOptions {
  /** A window opens every this many ms. */
  periodMs: number;
  /** How long each window records, ms (at most `periodMs`). */
  windowMs: number;
  /** Messages recorded per host per window at most; the rest are only counted. */
  maxPerWindow: number;
}

export const defaultMessageTrace: MessageTraceOptions = { periodMs: 1_000, windowMs: 20, maxPerWindow: 200 };

/** An actor's address as a trace carries it: `[node, id]` (names are resolved by the reader). */
export type TraceAddress = readonly [node: number, id: number];

/** One message, as it was sent. */
export interface TracedMessage {
  /** When it was routed (wall clock, ms, sub-millisecond precision). */
  atMs: number;
  /** The sender; null for a send from outside any actor. */
  from: TraceAddress | null;
  to: TraceAddress;
  /** The message's `type` field (or its JS type). */
  type: string;
  kind: 'send' | 'ask' | 'reply' | 'enqueue';
}

/** The messages one host sent during one window. */
export interface TraceWindow {
  node: number;
  /** Start of the window, wall clock ms (a multiple of `periodMs`). */
  startMs: number;
  windowMs: number;
  messages: TracedMessage[];
  /** Messages sent in the window beyond `maxPerWindow`: counted, not recorded. */
  omitted: number;
}

const kinds = ['send', 'ask', 'reply', 'enqueue'] as const;

/** Checks trace options; throws an `InvalidOptionError` naming the wrong one. */
export function checkMessageTrace(o: MessageTraceOptions): void {
  const positive = (k: keyof MessageTraceOptions) => {
    if (!(Number.isInteger(o?.[k]) && o[k] > 0)) throw new InvalidOptionError(`message trace: ${k} must be a positive integer, got ${String(o?.[k])}`);
  };
  positive('periodMs');
  positive('windowMs');
  positive('maxPerWindow');
  if (o.windowMs > o.periodMs) throw new InvalidOptionError(`message trace: windowMs (${o.windowMs}) must not exceed periodMs (${o.periodMs})`);
}

/**
 * Records windows of messages on one host. Install {@link tap} as the host's tap; finished
 * windows go to `emit` shortly after they close.
 */
export class MessageSampler {
  private window: TraceWindow | null = null;
  private timer: unknown = null;
  private stopped = false;

  constructor(
    private readonly node: number,
    private readonly options: MessageTraceOptions,
    private readonly clock: Clock,
    private readonly emit: (w: TraceWindow) => void,
  ) {
    checkMessageTrace(options);
  }

  /** The host's tap: cheap outside a window (one clock read and a division). */
  readonly tap = (env: Envelope): void => {
    const now = this.clock.now();
    const { periodMs, windowMs } = this.options;
    const startMs = Math.floor(now / periodMs) * periodMs;
    if (now - startMs >= windowMs || this.stopped) return;
    let w = this.window;
    if (w === null || w.startMs !== startMs) {
      if (w !== null) this.close();
      w = this.window = { node: this.node, startMs, windowMs, messages: [], omitted: 0 };
      // Close it once it is over, even if nothing else is sent on this host.
      this.timer = this.clock.schedule(startMs + windowMs - now + 1, () => {
        this.timer = null;
        this.close();
      });
    }
    if (w.messages.length >= this.options.maxPerWindow) {
      w.omitted++;
      return;
    }
    w.messages.push({
      atMs: now,
      from: env.from === null ? null : [env.from.node, env.from.id],
      to: [env.toNode, env.to],
      type: messageType(env.msg),
      kind: kinds[env.kind],
    });
  };

  private close(): void {
    const w = this.window;
    this.window = null;
    if (this.timer !== null) {
      this.clock.cancel(this.timer);
      this.timer = null;
    }
    if (w !== null && !this.stopped) this.emit(w);
  }

  /** Hands over the open window (if any) and records nothing more. */
  stop(): void {
    this.close();
    this.stopped = true;
  }
}
