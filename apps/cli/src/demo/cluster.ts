/**
 * The demo's cluster: a ReplicatedMap on `replicas` worker threads (Multi-Paxos or Raft), its
 * storage folder, and the faults one can inflict on it (kill a worker, crash an actor, isolate a
 * node, heal).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ActorRef, ActorSystem } from '@synod/actors';
import { ReplicatedMap } from '@synod/replicated';
import type { DemoOptions } from './options.js';

/** The protocols a demo cluster can run. */
export const DEMO_PROTOCOLS = ['multipaxos', 'raft'] as const;
export type DemoProtocol = (typeof DEMO_PROTOCOLS)[number];

/** The roles on each replica node, by protocol. */
export const ROLES_OF: Record<DemoProtocol, readonly Role[]> = { multipaxos: ['acceptor', 'leader', 'replica'], raft: ['raft', 'replica'] };
export type Role = 'acceptor' | 'leader' | 'raft' | 'replica';

/** One actor of the cluster. */
export interface DemoActor {
  /** Replica node number, 0..replicas-1. */
  index: number;
  role: Role;
  ref: ActorRef<any>;
}

export class DemoCluster {
  /** Every actor, by node then role. */
  readonly actors: DemoActor[];
  /** The roles on each node, in order. */
  readonly roles: readonly Role[];

  private constructor(
    readonly map: ReplicatedMap<string>,
    readonly protocol: DemoProtocol,
    /** Where `file` storage lives (also set for other kinds, unused then). */
    readonly dir: string,
    /** Whether `dir` is removed by `shutdown`. */
    private readonly removeDir: boolean,
  ) {
    const c = map.rsm.cluster;
    this.roles = ROLES_OF[protocol];
    const refs: Record<Role, ActorRef<any>[]> = { acceptor: c.acceptors, leader: c.leaders, raft: c.leaders, replica: c.replicas };
    this.actors = c.replicas.map((_, i) => this.roles.map((role) => ({ index: i, role, ref: refs[role][i]! }))).flat();
  }

  /** Starts the cluster in `options.dir`, or in a fresh temporary folder. */
  static async start(
    options: Pick<DemoOptions, 'protocol' | 'replicas' | 'storage' | 'dir' | 'operationTimeoutMs' | 'maxRestarts' | 'restartWindowMs'>,
  ): Promise<DemoCluster> {
    const dir = options.dir !== undefined ? resolve(options.dir) : mkdtempSync(join(tmpdir(), 'synod-demo-'));
    if (options.dir !== undefined) mkdirSync(dir, { recursive: true });
    try {
      const map = await ReplicatedMap.start<string>({
        protocol: options.protocol,
        replicas: options.replicas,
        storage: options.storage,
        dir,
        mode: 'workers',
        operationTimeoutMs: options.operationTimeoutMs,
        supervision: { maxRestarts: options.maxRestarts, windowMs: options.restartWindowMs },
      });
      return new DemoCluster(map, options.protocol, dir, options.dir === undefined);
    } catch (e) {
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  get system(): ActorSystem {
    return this.map.rsm.system;
  }

  get replicas(): number {
    return this.map.rsm.cluster.leaders.length;
  }

  /** The worker node (thread slot) of replica node `index`. */
  workerNode(index: number): number {
    return this.map.rsm.cluster.leaders[index]!.node;
  }

  /** The replica node index living on worker node `node`, or -1. */
  indexOfWorker(node: number): number {
    return this.map.rsm.cluster.leaders.findIndex((l) => l.node === node);
  }

  /** The actor of `role` on replica node `index` (a role of this cluster's protocol). */
  actor(index: number, role: Role): DemoActor {
    const k = this.roles.indexOf(role);
    if (k < 0) throw new RangeError(`a ${this.protocol} cluster has no ${role} (its roles: ${this.roles.join(', ')})`);
    return this.actors[index * this.roles.length + k]!;
  }

  /** Ends the worker thread of replica node `index` abruptly; its supervisor restarts its actors. */
  async killWorker(index: number): Promise<void> {
    await this.system.killWorker(this.workerNode(index));
  }

  /** Crashes one actor as if its handler had thrown; its supervisor restarts it. */
  async crashActor(index: number, role: Role, reason: string): Promise<void> {
    await this.system.crash(this.actor(index, role).ref, reason);
  }

  /** Cuts replica node `index` off from every other node (clients included) until healed. */
  async isolate(index: number): Promise<void> {
    await this.system.isolate(this.workerNode(index));
  }

  /** Ends every isolation. */
  async heal(): Promise<void> {
    await this.system.heal();
  }

  /** Replica node indexes isolated now. */
  isolated(): number[] {
    return this.system
      .isolatedNodes()
      .map((n) => this.indexOfWorker(n))
      .filter((i) => i >= 0);
  }

  /** Stops the cluster and removes its temporary folder (a given `dir` is kept). */
  async shutdown(): Promise<void> {
    try {
      await this.map.shutdown();
    } finally {
      if (this.removeDir) rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /** Whether `shutdown` removes the storage folder. */
  get temporary(): boolean {
    return this.removeDir;
  }
}
