/**
 * Starts the actors of a replicated state machine: on every replica node (one worker each), a
 * Multi-Paxos acceptor, a leader candidate and a replica, under one supervisor. The same function
 * starts them in an actor system (workers or embedded) and in the simulator.
 */
import type { ActorRef, StorageKind, SupervisionOptions, Supervisor, SupervisorSpec } from '@synod/actors';
import {
  Leader, MultiAcceptor, Replica, type LeaderArgs, type LeaderMsg, type LeaderOptions, type MDivergence, type MultiAcceptorMsg,
  type ReplicaArgs, type ReplicaMsg, type ReplicaOptions,
} from '@synod/paxos';
import type { StateMachine } from '@synod/smr';

/** Where a cluster runs: an `ActorSystem` or a `Simulation` (both have these). */
export interface ClusterHost {
  readonly mode: string;
  supervise(spec: SupervisorSpec): Promise<Supervisor>;
  send<M>(to: ActorRef<M>, message: M): void;
}

export interface ClusterOptions {
  /** Prefix of actor names and worker keys. */
  name: string;
  replicas: number;
  machine: StateMachine;
  storage: StorageKind;
  leader?: Partial<LeaderOptions>;
  replica?: Partial<ReplicaOptions>;
  supervision?: SupervisionOptions;
  /**
   * For campaigns that prove they catch bugs: acceptors that forget what they promised and
   * accepted when they restart (NOT Paxos: never set it outside such a test).
   */
  forgetfulAcceptors?: boolean;
}

export interface Cluster {
  supervisor: Supervisor;
  acceptors: ActorRef<MultiAcceptorMsg>[];
  leaders: ActorRef<LeaderMsg>[];
  replicas: ActorRef<ReplicaMsg>[];
  /** The worker key of replica node i. */
  workerKey(i: number): string;
  /** Sends `divergence` notices of every replica to `to` (a replica that finds a peer disagrees at an index). */
  watchDivergence(to: ActorRef<MDivergence>): void;
}

export async function startCluster(host: ClusterHost, o: ClusterOptions): Promise<Cluster> {
  const n = o.replicas;
  const key = (i: number) => `${o.name}-${i}`;
  const machineModule = o.machine.module;
  if (host.mode === 'workers' && !machineModule) {
    throw new TypeError(`state machine "${o.machine.name}" has no module: add \`module: import.meta.url\` to defineStateMachine so workers can load it`);
  }
  const preload = machineModule ? [machineModule] : [];
  const leaseMs = o.leader?.leaseMs;
  const leaderOptions: Partial<LeaderOptions> = { ...o.leader };
  // Replicas are meant to survive their workers' crashes: a killed worker restarts three actors,
  // so the default intensity is generous (a cluster that still keeps failing escalates).
  const supervisor = await host.supervise({ name: o.name, maxRestarts: 300, windowMs: 10_000, ...o.supervision });
  try {
    const acceptors: ActorRef<MultiAcceptorMsg>[] = [];
    for (let i = 0; i < n; i++) {
      acceptors.push(await supervisor.startChild({
        actor: MultiAcceptor, name: `${o.name}-acceptor-${i}`, worker: key(i), storage: o.storage,
        args: { index: i, leaseMs, ...(o.forgetfulAcceptors ? { forgetful: true } : {}) },
      }) as ActorRef<MultiAcceptorMsg>);
    }
    const replicas: ActorRef<ReplicaMsg>[] = [];
    for (let i = 0; i < n; i++) {
      replicas.push(await supervisor.startChild({
        actor: Replica, name: `${o.name}-replica-${i}`, worker: key(i), storage: o.storage, preload,
        args: { index: i, machine: o.machine.key, options: o.replica } satisfies ReplicaArgs,
      }) as ActorRef<ReplicaMsg>);
    }
    const leaders: ActorRef<LeaderMsg>[] = [];
    for (let i = 0; i < n; i++) {
      leaders.push(await supervisor.startChild({
        actor: Leader, name: `${o.name}-leader-${i}`, worker: key(i), storage: o.storage,
        args: { index: i, acceptors, replicas, leaders: [], options: leaderOptions } satisfies LeaderArgs,
      }) as ActorRef<LeaderMsg>);
    }
    // Refs that did not exist at spawn: given now, and kept for restarts.
    leaders.forEach((ref, i) => {
      supervisor.setChildArgs(ref, { index: i, acceptors, replicas, leaders, options: leaderOptions } satisfies LeaderArgs);
      host.send(ref, { type: 'configure', leaders });
    });
    replicas.forEach((ref, i) => {
      supervisor.setChildArgs(ref, { index: i, machine: o.machine.key, replicas, leaders, options: o.replica } satisfies ReplicaArgs);
      host.send(ref, { type: 'configure', replicas, leaders });
    });
    return {
      supervisor, acceptors, leaders, replicas, workerKey: key,
      watchDivergence: (to) => { for (const r of replicas) host.send(r, { type: 'watch-divergence', to }); },
    };
  } catch (e) {
    await supervisor.shutdown().catch(() => {});
    throw e;
  }
}
