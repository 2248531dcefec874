/**
 * A simulated node (one worker: a host while it is up, and what outlives the host: its disk and
 * its shared memory), and the transport that carries its envelopes into the simulated network.
 */
import type { Envelope } from '../envelope.js';
import type { ActorHost, Transport } from '../host.js';
import type { MemoryStore } from '../store.js';
import { SimDisk, SimSharedStore, type SimDiskStore } from './disk.js';
import type { SimEvent } from './event-queue.js';

/** One simulated worker: a host while it is up, and what outlives the host (disk, shared memory). */
export class SimNode {
  host: ActorHost | null = null;
  up = false;
  /** Incarnation of the host: timers and tasks of a crashed one are skipped. */
  epoch = 0;
  paused = false;
  pauseToken = 0;
  pausedUntil = 0;
  /** Events that came while paused, in order: they run at resume. */
  deferred: SimEvent[] = [];
  transport: SimTransport | null = null;
  memory: MemoryStore | null = null;
  file: SimDiskStore | null = null;
  readonly disk = new SimDisk();
  readonly shared: SimSharedStore;
  /** A crashed node stays down until then (`crash-node` with `downMs`). */
  downUntil = 0;
  syncRequested = false;
  /** Starts a sync of what was written (set once by the simulation). */
  startSync: () => void = () => {};
  constructor(
    readonly id: number,
    storage: { maxChunkBytes: number; sharedSnapshotBytes: number },
  ) {
    this.shared = new SimSharedStore({ ...storage, node: id });
  }
}

/** Carries a host's envelopes into the simulated network. Dead once its node crashed. */
export class SimTransport implements Transport {
  dead = false;
  constructor(
    private readonly node: number,
    private readonly out: (from: number, env: Envelope) => void,
  ) {}
  send(env: Envelope): void {
    if (!this.dead) this.out(this.node, env);
  }
  flush(): void {
    /* sends enter the network at once */
  }
}
