/**
 * The seam between a replicated state machine and the protocol that orders its commands. A
 * protocol starts its own actors on each replica node and hands back where clients send
 * commands (`leaders`: the client protocol's `client-request` and leader reads) and the replica
 * of each node (session and eventual reads, change subscriptions, divergence watchers: it takes
 * `ReplicaArgs` and the replica messages of @synod/paxos, as the Multi-Paxos `Replica` does, which
 * Raft reuses).
 */
import type { ActorRef, CodecSet, StorageKind, Supervisor } from '@synod/actors';
import type { LeaderOptions, ReplicaArgs, ReplicaMsg, ReplicaOptions } from '@synod/paxos';
import type { StateMachine } from '@synod/smr';

/** What a protocol is given to start on `nodes` replica nodes. */
export interface ProtocolStart {
  /** Prefix of actor names. */
  name: string;
  nodes: number;
  machine: StateMachine;
  storage: StorageKind;
  /** The supervisor every actor of the cluster goes under. */
  supervisor: Supervisor;
  /** Sends a message from outside (wiring after spawn). */
  send<M>(to: ActorRef<M>, message: M): void;
  /** The worker key of node i (its actors share a worker). */
  nodeKey(i: number): string;
  /** Modules a replica's worker must load first (the state machine's). */
  preload: string[];
  /** Options of the leader role, where the protocol has one (Multi-Paxos; Raft reads the timing ones). */
  leader: Partial<LeaderOptions> | undefined;
  /** Options of the replicas. */
  replica: Partial<ReplicaOptions> | undefined;
  /** The protocol's own options (`ReplicatedOptions.protocolOptions`), as given; `check` has accepted them. */
  protocolOptions: unknown;
  /**
   * The arguments of node i's replica, given every entry point (`leaders`) and replica: what it
   * is started and restarted with (state machine, options, watchers). Call again after a change;
   * `replicaArgsChanged` is the cluster telling the protocol so.
   */
  replicaArgs(i: number, replicas: ActorRef<ReplicaMsg>[], leaders: ActorRef<any>[]): ReplicaArgs;
  /** For campaigns that prove they catch bugs (see ClusterOptions.forgetfulAcceptors). */
  forgetful: boolean;
  /** Bytes of each host's `shared` log buffer: what a durable log may plan on with `shared` storage. */
  sharedBytes: number;
}

/** What a started protocol hands back. */
export interface ProtocolNodes {
  /** Where commands go, by node (one leads at a time, or any, for leaderless protocols). */
  leaders: ActorRef<any>[];
  /** The replica of each node. */
  replicas: ActorRef<ReplicaMsg>[];
  /** Other roles by name, for tools and tests (Multi-Paxos: `acceptors`). */
  roles: Record<string, ActorRef<any>[]>;
}

/** A replication protocol a cluster can run (`protocol` in ReplicatedOptions). */
export interface ProtocolDefinition {
  readonly name: string;
  /** Binary wire forms of the protocol's own messages, registered with the actor system before it starts. */
  readonly codecs?: readonly CodecSet[];
  /**
   * Checks the options this protocol reads, before anything starts (the leader and replica
   * options are checked already): throws InvalidOptionError naming the option and the rule.
   */
  check?(o: { nodes: number; leader: Partial<LeaderOptions> | undefined; protocolOptions: unknown }): void;
  start(o: ProtocolStart): Promise<ProtocolNodes>;
  /** Every node leads the commands it receives (clients spread over the nodes instead of looking for a leader). */
  readonly leaderless?: boolean;
  /**
   * What its replicas take beyond `ReplicaArgs` (every set of replica arguments the cluster makes,
   * at the start and for restarts, goes through it).
   */
  replicaArgs?(base: ReplicaArgs, o: Pick<ProtocolStart, 'nodes' | 'protocolOptions' | 'storage' | 'sharedBytes' | 'leader'>): ReplicaArgs;
}
