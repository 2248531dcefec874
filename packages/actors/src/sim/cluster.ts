/**
 * The simulated nodes: adding one (a worker), bringing a host up on it (first start, or after a
 * crash) with a virtual clock, a scheduler of simulator tasks, a transport into the simulated
 * network and stores over its simulated disk; and where a new actor goes.
 */
import type { Clock } from '../clock.js';
import type { Envelope } from '../envelope.js';
import { InvalidOptionError } from '../errors.js';
import { ActorHost, type HostEvents, type HostLimits, type Scheduler } from '../host.js';
import type { LogLevel, LogSink } from '../logger.js';
import { deriveSeed, type Prng } from '../random.js';
import type { ActorRef } from '../ref.js';
import { MemoryStore, type ActorStore, type StorageKind } from '../store.js';
import type { Sampler } from './distribution.js';
import { SimDiskStore } from './disk.js';
import { EventType, type SimEvent } from './event-queue.js';
import type { Network } from './network.js';
import { SimNode, SimTransport } from './node.js';
import type { Tracer } from './tracer.js';
import type { SimWorld } from './world.js';

/** Node 0: the driver, the outside world from which `sim.send` and `sim.ask` come. */
export const DRIVER = 0;

export interface ClusterConfig {
  seed: number;
  limits: HostLimits;
  maxNodes: number;
  logLevel: LogLevel;
  logSink: LogSink;
  snapshotLimits: { maxChunkBytes: number; sharedSnapshotBytes: number };
  /** How long a disk sync takes, and the generator it draws from. */
  syncDelay: Sampler;
  diskRng: Prng;
}

export class Cluster {
  private readonly workerNodes = new Map<string, number>();

  constructor(
    private readonly world: SimWorld,
    private readonly cfg: ClusterConfig,
    private readonly network: Network,
    private readonly tracer: Tracer,
    /** The host events of a node's host. */
    private readonly hostEvents: (node: SimNode) => HostEvents,
    /** Carries an envelope a host sent into the simulated network. */
    private readonly transmit: (from: number, env: Envelope) => void,
    /** Names a ref from another node (for the sender of a decoded message). */
    private readonly resolveRef: (node: number, id: number) => ActorRef<any>,
  ) {}

  get nodes(): readonly SimNode[] {
    return this.world.nodes;
  }

  /** The host of node 0, the driver. */
  get driver(): ActorHost {
    return this.world.nodes[DRIVER]!.host!;
  }

  addNode(): SimNode {
    const nodes = this.world.nodes;
    if (nodes.length >= this.cfg.maxNodes) {
      throw new InvalidOptionError(`this simulation already has ${this.cfg.maxNodes} nodes (maxNodes); give actors a shared \`worker\` key or raise maxNodes`);
    }
    const node = new SimNode(nodes.length, this.cfg.snapshotLimits);
    node.startSync = () => {
      node.syncRequested = false;
      if (node.disk.beginSync()) {
        this.world.queue.push(this.world.now + this.cfg.syncDelay.sample(this.cfg.diskRng), EventType.Sync, node.id, 0, null, null, node.disk.generation);
      }
    };
    nodes.push(node);
    this.network.setNodes(nodes.length);
    return node;
  }

  /** Starts a fresh host on a node (first start, or after a crash): a new worker. */
  bringUp(node: SimNode): ActorHost {
    const world = this.world;
    const epoch = ++node.epoch;
    const id = node.id;
    const queue = world.queue;
    const clock: Clock = {
      now: () => world.now,
      schedule: (delayMs, fn) => queue.push(world.now + (delayMs > 0 ? delayMs : 0), EventType.Timer, id, epoch, null, fn, 0),
      cancel: (handle) => {
        queue.remove(handle as SimEvent);
      },
    };
    const scheduler: Scheduler = {
      soon: (fn) => world.soon(id, epoch, fn),
      later: (fn) => {
        queue.push(world.now, EventType.Task, id, epoch, null, fn, 0);
      },
    };
    node.memory = null;
    node.file = null;
    const host = new ActorHost({
      node: id,
      seed: this.cfg.seed,
      clock,
      scheduler,
      limits: this.cfg.limits,
      events: this.hostEvents(node),
      logLevel: this.cfg.logLevel,
      logSink: this.cfg.logSink,
      store: (kind) => this.storeFor(node, kind),
      resolveRef: this.resolveRef,
      settled: () => {
        world.asyncPending = true;
      },
      // Each incarnation of a node numbers its asks apart (deterministically): a reply stored
      // before a crash must not resolve a new ask.
      corrBase: 1 + (deriveSeed(this.cfg.seed, `$corr/${id}/${epoch}`) % 2 ** 31),
    });
    node.transport = new SimTransport(id, this.transmit);
    host.transport = node.transport;
    node.host = host;
    node.up = true;
    node.paused = false;
    if (id !== DRIVER) this.tracer.event('node-up', id, epoch, 0, undefined, () => ({ detail: `incarnation ${epoch}` }));
    return host;
  }

  /** The host of a node, brought up if it is down. */
  hostOf(node: SimNode): ActorHost {
    return node.up ? node.host! : this.bringUp(node);
  }

  private storeFor(node: SimNode, kind: StorageKind): ActorStore {
    switch (kind) {
      case 'memory':
        return (node.memory ??= new MemoryStore(this.cfg.snapshotLimits));
      case 'shared':
        return node.shared;
      case 'file':
        return (node.file ??= new SimDiskStore(node.disk, () => this.requestSync(node), this.cfg.snapshotLimits));
    }
  }

  /** Asks for a sync of a node's disk: once per step, every write of the step joins it (group commit). */
  requestSync(node: SimNode): void {
    if (node.syncRequested) return;
    node.syncRequested = true;
    this.world.soon(node.id, node.epoch, node.startSync);
  }

  /** A node where a new actor goes: its worker key's node, or a new one. */
  place(worker: string | undefined): SimNode {
    if (worker !== undefined) {
      const existing = this.workerNodes.get(worker);
      if (existing !== undefined) return this.world.nodes[existing]!;
      const node = this.addNode();
      this.workerNodes.set(worker, node.id);
      return node;
    }
    return this.addNode();
  }
}
