/**
 * The trace of a run: every event is folded into a 64-bit fingerprint as it happens (a few
 * integer multiplications, no allocation), and kept as readable records only when asked. Two
 * runs with the same seed and plan have the same fingerprint; a replay with `--trace` shows why.
 */
import { hashString } from '../random.js';

/** What a trace record is about. */
export type TraceKind =
  | 'send'
  | 'deliver'
  | 'drop'
  | 'duplicate'
  | 'lost'
  | 'timer'
  | 'sync'
  | 'fault'
  | 'heal'
  | 'crash'
  | 'start'
  | 'stop'
  | 'restart'
  | 'dead-letter'
  | 'pause'
  | 'resume'
  | 'node-down'
  | 'node-up'
  | 'disk-loss'
  | 'escalated'
  | 'violation'
  | 'failed'
  | 'refused';

/** Numeric codes of trace kinds, folded into the fingerprint. */
export const traceCode: Record<TraceKind, number> = {
  send: 1,
  deliver: 2,
  drop: 3,
  duplicate: 4,
  lost: 5,
  timer: 6,
  sync: 7,
  fault: 8,
  heal: 9,
  crash: 10,
  start: 11,
  stop: 12,
  restart: 13,
  'dead-letter': 14,
  pause: 15,
  resume: 16,
  'node-down': 17,
  'node-up': 18,
  'disk-loss': 19,
  escalated: 20,
  violation: 21,
  failed: 22,
  refused: 23,
};

/** One event of a run, readable. */
export interface TraceRecord {
  /** Steps completed before this event (the step it happened in, counting from 0). */
  step: number;
  /** Virtual time, ms. */
  timeMs: number;
  kind: TraceKind;
  /** The node it happened on, when there is one. */
  node?: number;
  /** Sender and receiver of a message, as `name(node.id)`. */
  from?: string;
  to?: string;
  /** A message's `type` (or its JavaScript type). */
  message?: string;
  detail?: string;
}

/** A 64-bit running hash of integers and strings (two murmur3-style lanes). */
export class Fingerprint {
  private h1 = 0x2545f491;
  private h2 = 0x9e3779b9 | 0;
  private readonly strings = new Map<string, number>();

  /** Folds a 32-bit integer in. */
  int(x: number): void {
    // Two multiplicative lanes with different constants and rotations: cheap, order-sensitive,
    // and well mixed at the end by hex().
    const h = Math.imul(this.h1 ^ (x | 0), 0x9e3779b1);
    this.h1 = (h << 13) | (h >>> 19);
    const g = Math.imul((this.h2 + (x | 0)) | 0, 0x85ebca77);
    this.h2 = g ^ (g >>> 15);
  }

  /**
   * Folds a non-negative virtual time in, to about a microsecond (ms * 2^20, exact in a double,
   * wrapping every 4096 ms: for a fingerprint, times only need to differ).
   */
  time(ms: number): void {
    this.int((ms * 1048576) | 0);
  }

  str(s: string): void {
    let h = this.strings.get(s);
    if (h === undefined) {
      h = hashString(s);
      this.strings.set(s, h);
    }
    this.int(h);
  }

  /** The fingerprint so far: 16 hex digits. */
  hex(): string {
    let a = this.h1 ^ (this.h2 >>> 7);
    let b = this.h2 ^ (this.h1 << 9);
    a = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
    a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
    a ^= a >>> 16;
    b = Math.imul(b ^ (b >>> 16), 0x85ebca6b);
    b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
    b ^= b >>> 16;
    return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
  }
}

/** Records of a run, bounded: past `limit` the oldest are dropped (the fingerprint still covers all). */
export class TraceLog {
  readonly records: TraceRecord[] = [];
  dropped = 0;
  constructor(readonly limit: number) {}

  push(r: TraceRecord): void {
    if (this.records.length >= this.limit) {
      // Amortised: cut a tenth at a time rather than shifting on every push.
      const cut = Math.max(1, this.limit >> 3);
      this.records.splice(0, cut);
      this.dropped += cut;
    }
    this.records.push(r);
  }
}

/** One trace record as a line: `#12 t=3.250 deliver client(1.1) -> replica-0(2.1) inc`. */
export function formatRecord(r: TraceRecord): string {
  let s = `#${r.step} t=${r.timeMs.toFixed(3)} ${r.kind}`;
  if (r.node !== undefined && r.from === undefined) s += ` node ${r.node}`;
  if (r.from !== undefined) s += ` ${r.from} -> ${r.to ?? '?'}`;
  else if (r.to !== undefined) s += ` ${r.to}`;
  if (r.message !== undefined) s += ` ${r.message}`;
  if (r.detail !== undefined) s += ` (${r.detail})`;
  return s;
}

/** A whole trace, one record per line. */
export function formatTrace(records: readonly TraceRecord[]): string {
  return records.map(formatRecord).join('\n');
}
