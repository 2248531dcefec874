/**
 * The data plane between the threads of a system, as the runtime wires it: which transport
 * (shared-memory rings, or MessagePorts), and its bounds. The main thread creates every ring and
 * doorbell (so they outlive any worker) and hands each host its ends over the control plane.
 */
import { MAX_ARENA_BYTES, MIN_ARENA_BYTES, createArena, newArenaId, type ArenaRef } from './arena.js';
import { InvalidOptionError } from './errors.js';
import { MAX_RING_BYTES, MIN_RING_BYTES } from './ring.js';
import { checkRingWait, defaultRingWait, type RingWaitOptions } from './ring-loop.js';
import { defaultRingTransportLimits, type RingTransportLimits } from './ring-transport.js';
export type { MeshTransport } from './transport.js';

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
  /**
   * Bytes of each thread's shared arena, where large byte values (Uint8Arrays in messages) live
   * while they cross threads, so they are copied once rather than once per hop; a power of two.
   * 0 turns arenas off (every value is copied into the ring). Default 512 MiB: a Multi-Paxos
   * leader alone holds up to 56 MiB of slots in its arena by its default bounds (retained, in
   * flight, kept by acceptors), and blocks come back only once every view of them is collected:
   * between two of V8's own collections a thread writing 400 MB/s of values leaves tens of MiB
   * more. Past three quarters of the arena, threads force full collections (`arenaCollectMs`),
   * which cost several times V8's incremental ones, and a full arena sends values as copies: at
   * 128 MiB, a cluster writing 64 KiB values forced 80 collections per thread in 10 s and ran 15 %
   * slower than at 256 MiB; at 256 MiB, one writing 1 MiB values ran 460-530 MB/s against 580-740
   * at 512 (3 workers, `shared` storage), for 8 % more resident memory (1.73 against 1.88 GB).
   * Memory is taken from the system only as blocks are used.
   */
  arenaBytes: number;
  /** Uint8Arrays this large or larger go through the arena; smaller ones are copied. Default 4096. */
  arenaMinBytes: number;
}

export const defaultRingOptions: RingOptions = {
  ringBytes: 256 * 1024,
  arenaBytes: 512 * 1024 * 1024,
  arenaMinBytes: 4096,
  ...defaultRingTransportLimits,
  ...defaultRingWait,
};

export function checkRingOptions(o: Partial<RingOptions>): void {
  const b = o.ringBytes;
  if (b !== undefined && !(Number.isInteger(b) && b >= MIN_RING_BYTES && b <= MAX_RING_BYTES && (b & (b - 1)) === 0)) {
    throw new InvalidOptionError(`rings.ringBytes must be a power of two from ${MIN_RING_BYTES} to ${MAX_RING_BYTES}, got ${String(b)}`);
  }
  const a = o.arenaBytes;
  if (a !== undefined && a !== 0 && !(Number.isInteger(a) && a >= MIN_ARENA_BYTES && a <= MAX_ARENA_BYTES && (a & (a - 1)) === 0)) {
    throw new InvalidOptionError(`rings.arenaBytes must be 0 (off) or a power of two from ${MIN_ARENA_BYTES} to ${MAX_ARENA_BYTES}, got ${String(a)}`);
  }
  if (o.arenaCollectMs !== undefined && !(Number.isInteger(o.arenaCollectMs) && o.arenaCollectMs >= 0)) {
    throw new InvalidOptionError(`rings.arenaCollectMs must be an integer >= 0 (0: never), got ${String(o.arenaCollectMs)}`);
  }
  for (const k of ['maxBacklogBytes', 'maxPendingBytesPerLink', 'arenaMinBytes'] as const) {
    const v = o[k];
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new InvalidOptionError(`rings.${k} must be a positive integer, got ${String(v)}`);
  }
  checkRingWait(o, 'rings');
}

/** A new arena for a thread, or null when arenas are off. Made on the main thread (ids unique in the process). */
export function makeArena(o: RingOptions): ArenaRef | null {
  if (o.arenaBytes === 0) return null;
  // Blocks fine enough for the smallest value that goes there, coarse enough to keep few.
  const minBlock = Math.min(4096, Math.max(256, 2 ** Math.floor(Math.log2(Math.max(1, o.arenaMinBytes)))), o.arenaBytes / 4);
  return { id: newArenaId(), buffer: createArena(o.arenaBytes, minBlock) };
}

/** What a worker is told about the data plane when it boots. */
export interface MeshBoot {
  kind: TransportKind;
  rings: RingOptions;
  /** Rings: which workers are running (see activity.ts), so spinning never takes a busy thread's core. */
  activity: SharedArrayBuffer | null;
}
