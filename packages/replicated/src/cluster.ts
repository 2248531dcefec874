/**
 * Starts the actors of a replicated state machine with the protocol asked for: on every replica
 * node (one worker each), Multi-Paxos's acceptor, leader candidate and replica, Raft's node and
 * replica (raft-protocol.ts), or EPaxos's replica (epaxos-protocol.ts), under one supervisor. The
 * same function starts them in an actor system (workers or embedded) and in the simulator.
 */
import {
  InvalidOptionError,
  sameRef,
  type ActorRef,
  type CodecSet,
  type StorageKind,
  type StorageLimits,
  type SupervisionOptions,
  type Supervisor,
  type SupervisorSpec,
} from '@synod/actors';
import {
  Leader,
  MAX_ACCEPTORS,
  MultiAcceptor,
  Replica,
  checkClusterOptions,
  multiPaxosCodecs,
  synodCodecs,
  type LeaderArgs,
  type LeaderMsg,
  type LeaderOptions,
  type MChanges,
  type MDivergence,
  type MultiAcceptorMsg,
  type ReplicaArgs,
  type ReplicaMsg,
  type ReplicaOptions,
} from '@synod/paxos';
import { storageDefaults } from '@synod/actors/internals';
import { clientCodecs, type StateMachine } from '@synod/smr';
import { epaxosProtocol } from './epaxos-protocol.js';
import type { ProtocolDefinition, ProtocolStart } from './protocol.js';
import { raftProtocol } from './raft-protocol.js';

/** Where a cluster runs: an `ActorSystem` or a `Simulation` (both have these). */
export interface ClusterHost {
  readonly mode?: string;
  /** The bounds of its stores (ActorSystem.storageLimits); the defaults when absent. */
  readonly storageLimits?: StorageLimits;
  supervise(spec: SupervisorSpec): Promise<Supervisor>;
  send<M>(to: ActorRef<M>, message: M): void;
}

export interface ClusterOptions {
  /** Prefix of actor names and worker keys. */
  name: string;
  /** The replication protocol (see `registerProtocol`). Default `multipaxos`. */
  protocol?: string;
  replicas: number;
  machine: StateMachine;
  storage: StorageKind;
  leader?: Partial<LeaderOptions>;
  replica?: Partial<ReplicaOptions>;
  /** The protocol's own options (Raft: `RaftOptions` of @synod/raft; EPaxos: `EPaxosOptions` of @synod/epaxos), checked by the protocol. */
  protocolOptions?: unknown;
  supervision?: SupervisionOptions;
  /**
   * For campaigns that prove they catch bugs: acceptors that forget what they promised and
   * accepted when they restart (NOT Paxos: never set it outside such a test). Raft's nodes
   * forget their term and vote instead.
   */
  forgetfulAcceptors?: boolean;
}

export interface Cluster {
  supervisor: Supervisor;
  /** The protocol that orders its commands. */
  protocol: string;
  /** Multi-Paxos acceptors (empty for other protocols: see `roles`). */
  acceptors: ActorRef<MultiAcceptorMsg>[];
  /** Every role of the protocol by name (Multi-Paxos: `acceptors`). */
  roles: Record<string, ActorRef<any>[]>;
  /** Where commands go, by node. */
  leaders: ActorRef<any>[];
  replicas: ActorRef<ReplicaMsg>[];
  /** Every node leads the commands it receives (EPaxos): clients spread over them. */
  leaderless: boolean;
  /** The worker key of replica node i. */
  workerKey(i: number): string;
  /**
   * Sends replica `i`'s applied changes to `to`, from now on and across the replica's restarts
   * (the subscription is part of the arguments its supervisor restarts it with). A restarted
   * replica applies again from its snapshot: changes of slots already sent come again, in order.
   */
  subscribe(i: number, to: ActorRef<MChanges>): void;
  /** Ends a subscription made with {@link subscribe}. */
  unsubscribe(i: number, to: ActorRef<MChanges>): void;
  /** Sends every replica's `divergence` notices to `to` (a replica found a peer disagreeing at an index), across restarts. */
  watchDivergence(to: ActorRef<MDivergence>): void;
}

/**
 * Checks a cluster's options, as `startCluster` does before it starts anything: the protocol, the
 * number of nodes, each role's options (see `checkClusterOptions` of @synod/paxos), and the
 * protocol's own. Throws `InvalidOptionError` naming the option and the rule.
 */
export function checkCluster(o: Pick<ClusterOptions, 'replicas' | 'leader' | 'replica' | 'protocol' | 'protocolOptions'>): {
  leader: LeaderOptions;
  replica: ReplicaOptions;
} {
  const protocol = protocolByName(o.protocol);
  if (!(Number.isInteger(o.replicas) && o.replicas >= 1 && o.replicas <= MAX_ACCEPTORS)) {
    throw new InvalidOptionError(`replicas must be an integer in 1..${MAX_ACCEPTORS}, got ${String(o.replicas)}`);
  }
  const checked = checkClusterOptions({ nodes: o.replicas, leader: o.leader, replica: o.replica });
  protocol.check?.({ nodes: o.replicas, leader: o.leader, protocolOptions: o.protocolOptions });
  return checked;
}

/**
 * At most this of a `shared` log for the acceptors' slots: with 1 MiB values, 16 MiB made the
 * leader stop for every snapshot of the state (measured: 24 against 56 commands/s at 32 MiB).
 */
const SHARED_ACCEPTOR_BYTES = 32 << 20;

/**
 * The acceptors' budget (`maxAcceptorBytes`) of a cluster's leaders: the user's, or by default
 * one that suits the storage. The acceptors' log lives in the store: a `shared` buffer is
 * bounded, memory and files are not, and a larger log means fewer snapshots of a large state and
 * room to go on proposing while one is written. A quarter of a `shared` buffer leaves a half (what
 * its compaction copies into) room for everything else the host keeps.
 */
function acceptorBytes(o: Pick<ProtocolStart, 'storage' | 'sharedBytes' | 'leader'>): number {
  return o.leader?.maxAcceptorBytes ?? (o.storage === 'shared' ? Math.min(SHARED_ACCEPTOR_BYTES, Math.floor(o.sharedBytes / 4)) : 256 << 20);
}

/** The Multi-Paxos cluster: on every node an acceptor, a replica and a leader candidate. */
export const multiPaxosProtocol: ProtocolDefinition = {
  name: 'multipaxos',
  // Replicas snapshot a large state as rarely as the acceptors' budget allows (the leader asks for
  // snapshots once the acceptors hold half of it anyway): each snapshot writes the whole state.
  replicaArgs: (base, o) => ({
    ...base,
    options: { maxSnapshotLagBytes: Math.floor(acceptorBytes(o) / 2), ...base.options },
  }),
  async start(o) {
    const n = o.nodes;
    // The acceptors honour the lease the leaders count on: one value for both.
    const {
      leader: { leaseMs },
    } = checkClusterOptions({ nodes: n, leader: o.leader, replica: o.replica });
    const leaderOptions: Partial<LeaderOptions> = { ...o.leader, maxAcceptorBytes: acceptorBytes(o) };
    const acceptors: ActorRef<MultiAcceptorMsg>[] = [];
    for (let i = 0; i < n; i++) {
      acceptors.push(
        (await o.supervisor.startChild({
          actor: MultiAcceptor,
          name: `${o.name}-acceptor-${i}`,
          worker: o.nodeKey(i),
          storage: o.storage,
          args: { index: i, leaseMs, ...(o.forgetful ? { forgetful: true } : {}) },
        })) as ActorRef<MultiAcceptorMsg>,
      );
    }
    const replicas: ActorRef<ReplicaMsg>[] = [];
    for (let i = 0; i < n; i++) {
      replicas.push(
        (await o.supervisor.startChild({
          actor: Replica,
          name: `${o.name}-replica-${i}`,
          worker: o.nodeKey(i),
          storage: o.storage,
          preload: o.preload,
          args: o.replicaArgs(i, [], []),
        })) as ActorRef<ReplicaMsg>,
      );
    }
    const leaders: ActorRef<LeaderMsg>[] = [];
    for (let i = 0; i < n; i++) {
      leaders.push(
        (await o.supervisor.startChild({
          actor: Leader,
          name: `${o.name}-leader-${i}`,
          worker: o.nodeKey(i),
          storage: o.storage,
          args: { index: i, acceptors, replicas, leaders: [], options: leaderOptions } satisfies LeaderArgs,
        })) as ActorRef<LeaderMsg>,
      );
    }
    // Refs that did not exist at spawn: given now, and kept for restarts.
    leaders.forEach((ref, i) => {
      o.supervisor.setChildArgs(ref, { index: i, acceptors, replicas, leaders, options: leaderOptions } satisfies LeaderArgs);
      o.send(ref, { type: 'configure', leaders });
    });
    return { leaders, replicas, roles: { acceptors } };
  },
};

/** The protocols a cluster can run, by name. */
const protocols = new Map<string, ProtocolDefinition>([
  ['multipaxos', multiPaxosProtocol],
  ['epaxos', epaxosProtocol],
  ['raft', raftProtocol],
]);

/** Makes a protocol available to `startCluster` (and `ReplicatedStateMachine.start({ protocol })`). */
export function registerProtocol(p: ProtocolDefinition): void {
  protocols.set(p.name, p);
}

/** The wire forms a protocol's messages need (see ProtocolDefinition.codecs); none for an unknown name. */
export function protocolCodecs(name: string | undefined): readonly CodecSet[] {
  return protocols.get(name ?? 'multipaxos')?.codecs ?? [];
}

/**
 * The codec sets of a replicated state machine's messages, in the order every system that runs or
 * talks to one registers them (their tags must agree across processes).
 */
export function replicatedCodecs(protocol: string | undefined): CodecSet[] {
  return [synodCodecs, clientCodecs, multiPaxosCodecs, ...protocolCodecs(protocol)];
}

/** The names of the protocols available. */
export function protocolNames(): string[] {
  return [...protocols.keys()];
}

/** The protocol registered under `name` (refused with the names there are). */
export function protocolByName(name: string | undefined): ProtocolDefinition {
  const protocol = protocols.get(name ?? 'multipaxos');
  if (!protocol) throw new InvalidOptionError(`protocol must be one of ${protocolNames().join(', ')}, got ${JSON.stringify(name)}`);
  return protocol;
}

export async function startCluster(host: ClusterHost, o: ClusterOptions): Promise<Cluster> {
  const n = o.replicas;
  const key = (i: number) => `${o.name}-${i}`;
  const machineModule = o.machine.module;
  if (host.mode === 'workers' && !machineModule) {
    throw new TypeError(`state machine "${o.machine.name}" has no module: add \`module: import.meta.url\` to defineStateMachine so workers can load it`);
  }
  const protocol = protocolByName(o.protocol);
  checkCluster(o);
  const preload = machineModule ? [machineModule] : [];
  // Replicas are meant to survive their workers' crashes: a killed worker restarts all its
  // actors, so the default intensity is generous (a cluster that still keeps failing escalates).
  const supervisor = await host.supervise({ name: o.name, maxRestarts: 300, windowMs: 10_000, ...o.supervision });
  try {
    // Subscribers and divergence watchers by replica, kept in its restart arguments.
    const subscribers: ActorRef<MChanges>[][] = Array.from({ length: n }, () => []);
    let divergenceWatchers: ActorRef<MDivergence>[] = [];
    let wiring: { replicas: ActorRef<ReplicaMsg>[]; leaders: ActorRef<any>[] } = { replicas: [], leaders: [] };
    const sharedBytes = host.storageLimits?.sharedBytes ?? storageDefaults.sharedBytes;
    const replicaArgs = (i: number, replicas = wiring.replicas, leaders = wiring.leaders): ReplicaArgs => {
      const base: ReplicaArgs = { index: i, machine: o.machine.key, replicas, leaders, options: o.replica, subscribers: subscribers[i], divergenceWatchers };
      return protocol.replicaArgs
        ? protocol.replicaArgs(base, { nodes: n, protocolOptions: o.protocolOptions, storage: o.storage, sharedBytes, leader: o.leader })
        : base;
    };
    const nodes = await protocol.start({
      name: o.name,
      nodes: n,
      machine: o.machine,
      storage: o.storage,
      supervisor,
      send: (to, m) => host.send(to, m),
      nodeKey: key,
      preload,
      leader: o.leader,
      replica: o.replica,
      protocolOptions: o.protocolOptions,
      replicaArgs,
      forgetful: o.forgetfulAcceptors === true,
      sharedBytes,
    });
    const { leaders, replicas } = nodes;
    wiring = { replicas, leaders };
    replicas.forEach((ref, i) => {
      supervisor.setChildArgs(ref, replicaArgs(i));
      host.send(ref, { type: 'configure', replicas, leaders });
    });
    const replicaAt = (i: number, where: string): ActorRef<ReplicaMsg> => {
      const ref = replicas[i];
      if (!ref) throw new InvalidOptionError(`${where}: no replica ${String(i)} (this cluster has 0..${n - 1})`);
      return ref;
    };
    return {
      supervisor,
      protocol: protocol.name,
      acceptors: (nodes.roles.acceptors ?? []) as ActorRef<MultiAcceptorMsg>[],
      roles: nodes.roles,
      leaders,
      replicas,
      leaderless: protocol.leaderless === true,
      workerKey: key,
      subscribe(i, to) {
        const ref = replicaAt(i, 'subscribe');
        if (!subscribers[i]!.some((r) => sameRef(r, to))) subscribers[i] = [...subscribers[i]!, to];
        supervisor.setChildArgs(ref, replicaArgs(i));
        host.send(ref, { type: 'subscribe', to });
      },
      unsubscribe(i, to) {
        const ref = replicaAt(i, 'unsubscribe');
        subscribers[i] = subscribers[i]!.filter((r) => !sameRef(r, to));
        supervisor.setChildArgs(ref, replicaArgs(i));
        host.send(ref, { type: 'unsubscribe', to });
      },
      watchDivergence(to) {
        if (divergenceWatchers.some((r) => sameRef(r, to))) return;
        divergenceWatchers = [...divergenceWatchers, to];
        replicas.forEach((ref, i) => {
          supervisor.setChildArgs(ref, replicaArgs(i));
          host.send(ref, { type: 'watch-divergence', to });
        });
      },
    };
  } catch (e) {
    await supervisor.shutdown().catch(() => {});
    throw e;
  }
}
