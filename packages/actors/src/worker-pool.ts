import { MessageChannel } from 'node:worker_threads';
import type { CodecSet } from './codec.js';
import type { HostLimits } from './host.js';
import type { LogLevel } from './logger.js';
import { createDoorbell } from './doorbell.js';
import { Activity } from './activity.js';
import type { ArenaRef } from './arena.js';
import { makeArena, type MeshBoot } from './mesh.js';
import type { MeshTransport } from './transport.js';
import { createRing } from './ring.js';
import type { ActorRef } from './ref.js';
import { releaseAbandonedLocks, type StorageOptions } from './stores.js';
import { storageDefaults } from './stores/defaults.js';
import { WorkerNode, type HeartbeatOptions } from './worker-node.js';
import type { NetworkSettings, WorkerEvent } from './worker-protocol.js';

export interface WorkerPoolConfig {
  seed: number;
  limits: HostLimits;
  logLevel: LogLevel;
  statsIntervalMs: number;
  storage: StorageOptions;
  controlTimeoutMs: number;
  heartbeat: HeartbeatOptions;
  /** Booted workers kept ready to become a node: a restart then skips thread start-up. */
  spareWorkers: number;
  loader: string | null;
  /** The data plane, as every worker gets it. */
  mesh: MeshBoot;
  /** The main thread's watch desk (see `HostConfig.watchVia`). */
  watchVia: ActorRef<any>;
  /** The main thread's end of the mesh. */
  transport: MeshTransport;
  /** Rings: the main thread's doorbell. */
  mainDoorbell: SharedArrayBuffer | null;
  /** Rings with arenas: the main thread's arena. */
  mainArena: ArenaRef | null;
  /** Codec sets every worker must load, in registration order. */
  codecSets(): { set: CodecSet; exportName: string; base: number }[];
  /** Refs every worker should be able to name. */
  directory(): ActorRef<any>[];
  /** The partition and trace settings in force (a worker gets them when it joins). */
  network(): NetworkSettings;
  onEvents(events: WorkerEvent[]): void;
  onExit(node: number, code: number | null, reason: string): void;
}

/** What stays of a slot when its worker dies: a restarted worker takes the same node id. */
interface Slot {
  node: number;
  key: string | undefined;
  storeName: string;
  worker: WorkerNode | null;
  /** A start in progress (first start or restart). */
  starting: Promise<WorkerNode> | null;
}

/**
 * The worker threads of a system, by node id ("slot"). A slot keeps its id, its key and its
 * durable storage across worker restarts, so refs to its actors stay valid.
 */
/**
 * The name of the `file` log (`<dir>/<name>.log`) of a worker: `worker-<key>` for a keyed worker,
 * `actor-<name>` for an actor spawned without one. Worker keys and actor names live in separate
 * spaces, so their logs never meet. Open one with `FileStore.open({ dir, storeName })` to read it.
 */
export function workerStoreName(workerKey: string | undefined, actorName: string): string {
  return workerKey !== undefined ? `worker-${workerKey}` : `actor-${actorName}`;
}

export class WorkerPool {
  private readonly slots = new Map<number, Slot>();
  private readonly byKey = new Map<string, Slot>();
  private readonly sharedBuffers = new Map<string, SharedArrayBuffer>();
  /** Per store name too: the `shared` snapshots (a separate region, `storage.sharedSnapshotBytes`). */
  private readonly snapshotBuffers = new Map<string, SharedArrayBuffer>();
  private nextNode = 1;
  private closed = false;
  private readonly spares: WorkerNode[] = [];

  constructor(private readonly cfg: WorkerPoolConfig) {}

  /** A worker for a new actor: the keyed one (started if needed), or a fresh one. */
  place(key: string | undefined, actorName: string): Promise<WorkerNode> {
    if (key !== undefined) {
      const slot = this.byKey.get(key);
      if (slot) return this.ensure(slot.node);
    }
    const slot: Slot = { node: this.nextNode++, key, storeName: workerStoreName(key, actorName), worker: null, starting: null };
    this.slots.set(slot.node, slot);
    if (key !== undefined) this.byKey.set(key, slot);
    return this.ensure(slot.node).catch((e) => {
      // A worker that never started leaves no slot behind.
      if (!slot.worker) {
        this.slots.delete(slot.node);
        if (key !== undefined && this.byKey.get(key) === slot) this.byKey.delete(key);
      }
      throw e;
    });
  }

  /** The live worker of a slot, restarting it (same node id) if it died. */
  ensure(node: number): Promise<WorkerNode> {
    const slot = this.slots.get(node);
    if (!slot) return Promise.reject(new Error(`no worker slot ${node}`));
    if (slot.worker && !slot.worker.gone) return Promise.resolve(slot.worker);
    if (!slot.starting) {
      slot.starting = this.boot(slot).finally(() => {
        slot.starting = null;
      });
    }
    return slot.starting;
  }

  /** The live worker of a slot, if any. */
  get(node: number): WorkerNode | undefined {
    const w = this.slots.get(node)?.worker;
    return w && !w.gone ? w : undefined;
  }

  has(node: number): boolean {
    return this.slots.has(node);
  }

  live(): WorkerNode[] {
    const out: WorkerNode[] = [];
    for (const s of this.slots.values()) if (s.worker && !s.worker.gone) out.push(s.worker);
    return out;
  }

  nodes(): number[] {
    return [...this.slots.keys()];
  }

  private sharedBufferFor(storeName: string): SharedArrayBuffer {
    let b = this.sharedBuffers.get(storeName);
    if (!b) {
      b = new SharedArrayBuffer(this.cfg.storage.sharedBytes ?? storageDefaults.sharedBytes);
      this.sharedBuffers.set(storeName, b);
    }
    return b;
  }

  private snapshotBufferFor(storeName: string): SharedArrayBuffer {
    let b = this.snapshotBuffers.get(storeName);
    if (!b) {
      b = new SharedArrayBuffer(this.cfg.storage.sharedSnapshotBytes ?? storageDefaults.sharedSnapshotBytes); // pages are taken as it fills
      this.snapshotBuffers.set(storeName, b);
    }
    return b;
  }

  private newWorker(): WorkerNode {
    const c = this.cfg;
    return new WorkerNode(
      {
        seed: c.seed,
        limits: c.limits,
        logLevel: c.logLevel,
        statsIntervalMs: c.statsIntervalMs,
        storage: c.storage,
        mesh: c.mesh,
        watchVia: c.watchVia,
      },
      c.loader,
      c.heartbeat,
    );
  }

  /** Keeps `spareWorkers` booted workers waiting (started in the background). */
  private refillSpares(): void {
    while (!this.closed && this.spares.length < this.cfg.spareWorkers) {
      const w = this.newWorker();
      this.spares.push(w);
      w.onExit = () => {
        const i = this.spares.indexOf(w);
        if (i >= 0) this.spares.splice(i, 1);
      };
    }
  }

  /** A booted spare if one is ready, else one still booting (it is ahead of a new one), else a new worker. */
  private takeWorker(): WorkerNode {
    let i = this.spares.findIndex((w) => w.alive && !w.gone);
    if (i < 0) i = this.spares.findIndex((w) => !w.gone);
    const w = i >= 0 ? this.spares.splice(i, 1)[0]! : this.newWorker();
    this.refillSpares();
    return w;
  }

  private async boot(slot: Slot): Promise<WorkerNode> {
    if (this.closed) throw new Error('the worker pool is closed');
    const c = this.cfg;
    const node = this.takeWorker();
    node.onMessage = (m) => {
      if (m.t === 'events') c.onEvents(m.events);
    };
    let adopted = false;
    node.onExit = (code, reason) => {
      if (!adopted) return;
      if (c.mesh.activity) Activity.gone(c.mesh.activity, slot.node);
      if (slot.worker === node) {
        c.transport.disconnect(slot.node);
        for (const other of this.live()) {
          if (other !== node) other.call('disconnect', (ctl) => ctl.disconnect(slot.node), c.controlTimeoutMs).catch(() => {});
        }
      }
      c.onExit(slot.node, code, reason);
    };
    await node.ready;
    const timeout = c.controlTimeoutMs;
    // Rings are made here, on the main thread, fresh for every worker that takes the node: a
    // restarted worker never reads or writes its dead predecessor's rings.
    const rings = c.mesh.kind === 'rings' ? this.ringPair() : null;
    const doorbell = rings ? createDoorbell() : null;
    const arena = rings ? makeArena(c.mesh.rings) : null;
    // Every live thread's arena, so whatever refers to one can be read from the first record on.
    const arenas: ArenaRef[] = [];
    if (c.mainArena) arenas.push(c.mainArena);
    for (const w of this.live()) if (w.arena) arenas.push(w.arena);
    const mainPort = await node.adopt(
      slot.node,
      slot.storeName,
      this.sharedBufferFor(slot.storeName),
      timeout,
      rings && doorbell
        ? {
            doorbell,
            arena,
            arenas,
            mainRings: { out: rings.up, in: rings.down, peerDoorbell: c.mainDoorbell!, peerRingsByPort: true, peerArena: c.mainArena ?? undefined },
          }
        : undefined,
      this.snapshotBufferFor(slot.storeName),
    );
    adopted = true;
    // Codecs first: nothing may reach this worker encoded with tags it cannot read.
    for (const { set, exportName, base } of c.codecSets()) {
      await node.call('register codecs', (ctl) => ctl.registerCodecs(set.module, exportName, base), timeout);
      await node.call('activate codecs', (ctl) => ctl.activateCodecs(set.module), timeout);
    }
    const refs = c.directory();
    if (refs.length) await node.call('directory', (ctl) => ctl.directory(refs, []), timeout);
    // Before it joins the mesh: a restarted worker of an isolated node stays isolated.
    const net = c.network();
    if (net.isolated.length > 0 || net.trace !== null) await node.call('network', (ctl) => ctl.network(net), timeout);
    slot.worker = node;
    c.transport.connect(
      slot.node,
      mainPort,
      rings && doorbell ? { out: rings.down, in: rings.up, peerDoorbell: doorbell, peerArena: arena ?? undefined } : undefined,
    );
    // Join the mesh: a direct link to every other live worker.
    const joins: Promise<void>[] = [];
    for (const other of this.live()) {
      if (other === node) continue;
      const { port1, port2 } = new MessageChannel();
      if (doorbell !== null) {
        const pair = this.ringPair(); // up: new node → other, down: other → new node
        joins.push(
          other.connect(slot.node, port1, timeout, { out: pair.down, in: pair.up, peerDoorbell: doorbell, peerArena: arena ?? undefined }),
          node.connect(other.node, port2, timeout, { out: pair.up, in: pair.down, peerDoorbell: other.doorbell!, peerArena: other.arena ?? undefined }),
        );
      } else {
        joins.push(other.connect(slot.node, port1, timeout), node.connect(other.node, port2, timeout));
      }
    }
    await Promise.all(joins);
    return node;
  }

  /** The two rings of a pair of threads: `up` written by the newer one, `down` by the other. */
  private ringPair(): { up: SharedArrayBuffer; down: SharedArrayBuffer } {
    const bytes = this.cfg.mesh.rings.ringBytes;
    return { up: createRing(bytes), down: createRing(bytes) };
  }

  /** Loads a codec set in every live worker, then turns encoding on everywhere. */
  async registerCodecs(set: CodecSet, exportName: string, base: number): Promise<void> {
    const t = this.cfg.controlTimeoutMs;
    const live = this.live();
    await Promise.all(live.map((w) => w.call('register codecs', (c) => c.registerCodecs(set.module, exportName, base), t)));
    await Promise.all(live.map((w) => w.call('activate codecs', (c) => c.activateCodecs(set.module), t)));
  }

  /** Applies partition and trace settings on every live worker. */
  async broadcastNetwork(settings: NetworkSettings): Promise<void> {
    const t = this.cfg.controlTimeoutMs;
    await Promise.all(
      this.live().map((w) =>
        w
          .call('network', (c) => c.network(settings), t)
          .catch(() => {
            /* it died: it gets them when it rejoins */
          }),
      ),
    );
  }

  broadcastDirectory(add: ActorRef<any>[], remove: ActorRef<any>[]): void {
    for (const w of this.live()) w.call('directory', (c) => c.directory(add, remove), this.cfg.controlTimeoutMs).catch(() => {});
  }

  /** Fault injection: ends a worker abruptly. */
  async kill(node: number): Promise<void> {
    const w = this.get(node);
    if (w) await w.terminate();
  }

  /** Shuts every worker down (stores flushed), then ends the threads. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.spares.splice(0).map((w) => w.terminate()));
    const t = this.cfg.controlTimeoutMs;
    await Promise.all(
      [...this.slots.values()].map(async (s) => {
        const pending = s.starting;
        if (pending) await pending.catch(() => {});
        const w = s.worker;
        if (!w || w.gone) return;
        try {
          await w.call('shutdown', (c) => c.shutdown(), t);
        } catch {
          /* terminate below */
        }
        await w.terminate();
      }),
    );
    releaseAbandonedLocks(this.cfg.storage, this.sharedBuffers); // file locks of workers that died and stayed dead
  }
}
