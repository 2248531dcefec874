/**
 * The seam between the runtime and a data plane: what a host hands envelopes to (MessagePorts,
 * shared-memory rings, the network), and what the main thread wires into a mesh.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ArenaRef } from './arena.js';
import type { Envelope } from './envelope.js';

/**
 * Carries envelopes to other hosts: the seam between the runtime and a data plane (MessagePorts,
 * shared-memory rings, the network). A host knows nothing else of it.
 */
export interface Transport {
  /** Queues an envelope for another node; it leaves at the next `flush`. Never blocks, never throws. */
  send(env: Envelope): void;
  /** Posts everything queued. */
  flush(): void;
  /**
   * Back-pressure: true while the transport holds more unsent data than its bound allows. The
   * host then runs no turns (so it sends no more) until it is false again; whoever feeds the
   * host calls `drain` once it is. Absent: never congested.
   */
  congested?(): boolean;
  /**
   * Room for `n` bytes that the caller fills and then sends, perhaps many times: a place from
   * which every send passes a reference instead of a copy (a shared arena). Null when this
   * transport has none or it is full. Absent: none.
   */
  sharedBytes?(n: number): Uint8Array | null;
}

/** One host's ends of the rings of a pair, handed out by whoever wires the mesh. */
export interface RingEnds {
  /** The ring this host writes (the peer reads it). */
  out: SharedArrayBuffer;
  /** The ring this host reads. */
  in: SharedArrayBuffer;
  /** The peer's doorbell, rung after publishing to it. */
  peerDoorbell: SharedArrayBuffer;
  /**
   * The peer is the main thread: ring it with a message on the pair's port instead of
   * `Atomics.notify` (it never blocks, and an event-loop message wakes it for less than an
   * `Atomics.waitAsync` costs to arm and resolve).
   */
  peerRingsByPort?: boolean;
  /** The peer's arena (its large values arrive as references into it). */
  peerArena?: ArenaRef;
}

/** A transport that joins a mesh: one link per other node, made and broken by the main thread. */
export interface MeshTransport extends Transport {
  /** Joins the link to `node` (its port, and its rings when the transport uses rings). */
  connect(node: number, port: MessagePort, rings?: RingEnds): void;
  /** `node` died: forget its link (what was queued for it becomes dead letters). */
  disconnect(node: number): void;
  close(): void;
}
