/**
 * The data plane between the threads of a system, as the runtime wires it: which transport
 * (shared-memory rings, or MessagePorts), and its bounds. The main thread creates every ring and
 * doorbell (so they outlive any worker) and hands each host its ends over the control plane.
 */
import type { MessagePort } from 'node:worker_threads';
import { InvalidOptionError } from './errors.js';
import type { Transport } from './host.js';
import { MAX_RING_BYTES, MIN_RING_BYTES } from './ring.js';
import { checkRingWait, defaultRingWait, type RingWaitOptions } from './ring-loop.js';
import { defaultRingTransportLimits, type RingEnds, type RingTransportLimits } from './ring-transport.js';

/**
 * `rings` (default): shared-memory rings between every pair of threads that talk, a doorbell
 * per thread (microseconds per hop). `ports`: one MessagePort per pair, a batch per flush (tens
 * of microseconds per hop); kept as the fallback and for comparison.
 */
export type TransportKind = 'rings' | 'ports';

/** Bounds and waiting of the ring transport. Every one is named and has a default. */
export interface RingOptions extends RingWaitOptions, RingTransportLimits {
  /** Bytes of each ring (one per direction per pair of threads that talk); a power of two. Default 256 KiB. */
  ringBytes: number;
}

export const defaultRingOptions: RingOptions = {
  ringBytes: 256 * 1024,
  ...defaultRingTransportLimits,
  ...defaultRingWait,
};

export function checkRingOptions(o: Partial<RingOptions>): void {
  const b = o.ringBytes;
  if (b !== undefined && !(Number.isInteger(b) && b >= MIN_RING_BYTES && b <= MAX_RING_BYTES && (b & (b - 1)) === 0)) {
    throw new InvalidOptionError(`rings.ringBytes must be a power of two from ${MIN_RING_BYTES} to ${MAX_RING_BYTES}, got ${String(b)}`);
  }
  for (const k of ['maxBacklogBytes', 'maxPendingBytesPerLink'] as const) {
    const v = o[k];
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new InvalidOptionError(`rings.${k} must be a positive integer, got ${String(v)}`);
  }
  checkRingWait(o, 'rings');
}

/** A transport that joins a mesh: one link per other node, made and broken by the main thread. */
export interface MeshTransport extends Transport {
  /** Joins the link to `node` (its port, and its rings when the transport uses rings). */
  connect(node: number, port: MessagePort, rings?: RingEnds): void;
  /** `node` died: forget its link (what was queued for it becomes dead letters). */
  disconnect(node: number): void;
  close(): void;
}

/** What a worker is told about the data plane when it boots. */
export interface MeshBoot {
  kind: TransportKind;
  rings: RingOptions;
}
