/**
 * A replicated state machine whose members are processes (on one machine or many): `startMember`
 * runs one member (what `synod node` does), `connectCluster` gives a client in any other process
 * the system and cluster `ReplicatedStateMachine.connect` and `ReplicatedMap.connect` wrap.
 */
import {
  ActorSystem,
  InvalidOptionError,
  MAX_MEMBER_NODE,
  type ActorRef,
  type LogLevel,
  type LogSink,
  type NetPeer,
  type NetTlsOptions,
  type NetworkOptions,
  type StorageKind,
} from '@synod/actors';
import type { LeaderOptions, ReplicaOptions } from '@synod/paxos';
import type { StateMachine } from '@synod/smr';
import { checkCluster, replicatedCodecs, startCluster, type Cluster } from './cluster.js';
import { layoutHost, memberStatusName, memberStatusRef } from './cluster-layout.js';
import { memberStatusActor, type MemberStatusMsg } from './member-status.js';

/** Limits of the network transport a member or client may set (see NetworkOptions of @synod/actors). */
export type NetworkLimits = Partial<
  Pick<
    NetworkOptions,
    'maxFrameBytes' | 'maxBatchBytes' | 'maxQueuedBytesPerPeer' | 'maxQueuedBytes' | 'handshakeTimeoutMs' | 'minReconnectDelayMs' | 'maxReconnectDelayMs'
  >
>;

/** What members and clients of one networked cluster must agree on. */
export interface NetworkClusterOptions {
  /** Every member, node numbers 1..n (each once): `{ node, host, port }` or `"N@host:port"`. */
  members: (NetPeer | string)[];
  /** Connections from a different cluster id are refused. */
  clusterId: string;
  /** Mutual TLS (certificates of the cluster's CA: `synod certs`), or `'insecure'` (plain TCP, closed test networks only). */
  tls: NetTlsOptions | 'insecure';
  /** Prefix of actor names; the same on every member and client. Default `map`. */
  name?: string;
  /** `multipaxos` (default), `raft` or `epaxos`; the same everywhere. */
  protocol?: string;
  /** Bounds of the network transport. */
  network?: NetworkLimits;
  /** Minimum level of log records. Default `warn` for clients, `info` for members. */
  logLevel?: LogLevel;
  logSink?: LogSink;
}

/** Options of one member process. */
export interface MemberOptions extends NetworkClusterOptions {
  /** The state machine every member runs. */
  machine: StateMachine;
  /** This member's node number (one of `members`). */
  node: number;
  /** Where to listen. Default: this member's entry in `members`. */
  listen?: { host: string; port: number };
  /** `file` (default: survives the process's crash; give `dir`) or `memory` (benchmarks of the network alone: NOT crash-safe). */
  storage?: Extract<StorageKind, 'file' | 'memory'>;
  /** Directory of the member's logs and snapshots (`file`). */
  dir?: string;
  leader?: Partial<LeaderOptions>;
  replica?: Partial<ReplicaOptions>;
  protocolOptions?: object;
  /**
   * Take fault commands (partition, heal, drop, delay) from the network, at its status actor.
   * Default false: anyone with a client certificate could otherwise cut the cluster.
   */
  allowRemoteFaults?: boolean;
}

/** A running member. */
export interface ClusterMember {
  readonly system: ActorSystem;
  readonly cluster: Cluster;
  /** The port it listens on. */
  readonly port: number;
  /** Its status actor (see member-status.ts). */
  readonly status: ActorRef<MemberStatusMsg>;
  /** Stops its actors and closes its connections. */
  shutdown(): Promise<void>;
}

/** Parses `"N@host:port"` (or passes `{ node, host, port }` through). */
export function parseMember(m: NetPeer | string): NetPeer {
  if (typeof m !== 'string') return m;
  const match = /^(\d+)@(.+):(\d+)$/.exec(m.trim());
  if (!match) throw new InvalidOptionError(`a member is "N@host:port" (e.g. "1@10.0.0.5:7401"), got ${JSON.stringify(m)}`);
  const host = match[2]!.replace(/^\[(.*)\]$/, '$1');
  return { node: Number(match[1]), host, port: Number(match[3]) };
}

/** Checks the members: node numbers exactly 1..n. */
export function checkMembers(list: (NetPeer | string)[]): NetPeer[] {
  if (!Array.isArray(list) || list.length === 0) throw new InvalidOptionError('members must list every member of the cluster ("N@host:port", N = 1..n)');
  const members = list.map(parseMember).sort((a, b) => a.node - b.node);
  members.forEach((m, i) => {
    if (m.node !== i + 1) {
      throw new InvalidOptionError(`members must be numbered 1..${members.length}, each once (got ${members.map((x) => x.node).join(', ')})`);
    }
  });
  if (members.length > MAX_MEMBER_NODE) throw new InvalidOptionError(`at most ${MAX_MEMBER_NODE} members`);
  return members;
}

function layoutOf(name: string, protocol: string, n: number): string {
  return `${protocol}/${name}/${n}`;
}

/**
 * Runs member `node` of a networked cluster on this process: its actors (for Multi-Paxos its
 * acceptor, replica and leader candidate) under a supervisor, its listener, and its connections
 * to the other members.
 */
export async function startMember(o: MemberOptions): Promise<ClusterMember> {
  const members = checkMembers(o.members);
  const me = members.find((m) => m.node === o.node);
  if (!me) throw new InvalidOptionError(`node ${String(o.node)} is not among the members (${members.map((m) => m.node).join(', ')})`);
  const storage = o.storage ?? 'file';
  if (storage !== 'file' && storage !== 'memory') throw new InvalidOptionError(`storage must be file or memory, got ${JSON.stringify(storage)}`);
  if (storage === 'file' && !o.dir) throw new InvalidOptionError('storage "file" needs `dir`: the directory of this member\'s logs');
  const name = o.name ?? 'map';
  const protocol = o.protocol ?? 'multipaxos';
  checkCluster({ replicas: members.length, leader: o.leader, replica: o.replica, protocol, protocolOptions: o.protocolOptions });
  const system = await ActorSystem.start({
    mode: 'embedded',
    logLevel: o.logLevel ?? 'info',
    ...(o.logSink ? { logSink: o.logSink } : {}),
    codecs: replicatedCodecs(protocol),
    storage: o.dir ? { dir: o.dir } : {},
    network: {
      ...o.network,
      node: o.node,
      clusterId: o.clusterId,
      layout: layoutOf(name, protocol, members.length),
      listen: o.listen ?? { host: me.host, port: me.port },
      peers: members.filter((m) => m.node !== o.node),
      tls: o.tls,
    },
  });
  try {
    const host = layoutHost(system, o.node - 1, members.length);
    const cluster = await startCluster(host, {
      name,
      protocol,
      replicas: members.length,
      machine: o.machine,
      storage,
      leader: o.leader,
      replica: o.replica,
      protocolOptions: o.protocolOptions,
    });
    host.started();
    // After the cluster's actors: its ref is the next id on this node (memberStatusRef).
    const expected = memberStatusRef<MemberStatusMsg>(host, o.node - 1, name);
    const def = memberStatusActor({ system, net: system.net!, cluster, node: o.node, allowRemoteFaults: o.allowRemoteFaults === true });
    const status = await system.spawn(def, { name: memberStatusName(name, o.node - 1) });
    if (status.id !== expected.id)
      throw new Error(`cluster layout: the status actor started as #${status.node}.${status.id}, not #${expected.node}.${expected.id} as clients compute`);
    return {
      system,
      cluster,
      status,
      port: system.net!.port!,
      shutdown: () => system.shutdown(),
    };
  } catch (e) {
    await system.shutdown();
    throw e;
  }
}

/** Options of a client of a networked cluster (see `ReplicatedMap.connect`). */
export interface ConnectOptions extends NetworkClusterOptions {
  /** Resolves once a member answered; rejects after this long with what the members said. Default 10000. */
  connectTimeoutMs?: number;
}

/** Connects a client: a system on a fresh client node number, the cluster's refs computed from its layout. */
export async function connectCluster(
  o: ConnectOptions,
  machine: StateMachine,
): Promise<{ system: ActorSystem; cluster: Cluster; statusRefs: ActorRef<MemberStatusMsg>[] }> {
  const members = checkMembers(o.members);
  const name = o.name ?? 'map';
  const protocol = o.protocol ?? 'multipaxos';
  const timeoutMs = o.connectTimeoutMs ?? 10_000;
  if (!(Number.isInteger(timeoutMs) && timeoutMs > 0)) throw new InvalidOptionError(`connectTimeoutMs must be a positive integer, got ${String(timeoutMs)}`);
  checkCluster({ replicas: members.length, protocol });
  const node = MAX_MEMBER_NODE + 1 + Math.floor(Math.random() * (0xfffe - MAX_MEMBER_NODE));
  const system = await ActorSystem.start({
    mode: 'embedded',
    logLevel: o.logLevel ?? 'warn',
    ...(o.logSink ? { logSink: o.logSink } : {}),
    codecs: replicatedCodecs(protocol),
    statsIntervalMs: 0,
    network: { ...o.network, node, clusterId: o.clusterId, layout: layoutOf(name, protocol, members.length), peers: members, tls: o.tls },
  });
  try {
    const net = system.net!;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        net.events.off('peer:up', up);
        const said = [...net.lastRefusal].map(([n, why]) => `node ${n}: ${why}`);
        reject(
          new InvalidOptionError(
            `could not connect to any member of cluster ${JSON.stringify(o.clusterId)} within ${timeoutMs} ms ` +
              `(${members.map((m) => `${m.node}@${m.host}:${m.port}`).join(', ')})${said.length ? `; refused: ${said.join('; ')}` : '; no member answered'}`,
          ),
        );
      }, timeoutMs);
      const up = (): void => {
        clearTimeout(timer);
        resolve();
      };
      net.events.once('peer:up', up);
    });
    const host = layoutHost(system, null, members.length);
    const cluster = await startCluster(host, { name, protocol, replicas: members.length, machine, storage: 'memory' });
    host.started();
    const statusRefs = members.map((_, i) => memberStatusRef<MemberStatusMsg>(host, i, name));
    return { system, cluster, statusRefs };
  } catch (e) {
    await system.shutdown();
    throw e;
  }
}
