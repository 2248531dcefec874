/**
 * Raft as a protocol of a replicated state machine (`protocol: 'raft'`): on every replica node a
 * RaftNode (`@synod/raft`: election, log, replication, commitment, client entry) beside the same
 * replica Multi-Paxos uses, which applies what its node commits with the executor of @synod/smr.
 * Clients see no difference: the RaftNodes take the client protocol the Multi-Paxos leaders take
 * (requests, reads, redirects), and the replicas answer them, so read consistencies, sessions and
 * errors are the same.
 *
 * Options: the leader options that mean the same in Raft (timing, window, batch and queue bounds,
 * flow control) are taken from `leader`; Raft's own (PreVote, CheckQuorum, per-follower in-flight
 * bounds, log compaction) from `protocolOptions`, which win. The lease is Raft's own: followers
 * refuse other candidates for an election timeout after hearing the leader, so `leaseMs` has no
 * meaning here.
 */
import { InvalidOptionError, type ActorRef } from '@synod/actors';
import { Replica, type LeaderOptions, type ReplicaMsg } from '@synod/paxos';
import { RaftNode, raftCodecs, resolveRaftOptions, type RaftMsg, type RaftNodeArgs, type RaftOptions } from '@synod/raft';
import type { ProtocolDefinition } from './protocol.js';

/** Leader options that Raft reads, and the Raft option each one sets. */
const FROM_LEADER: readonly [keyof LeaderOptions, keyof RaftOptions][] = [
  ['window', 'window'],
  ['maxBatchCommands', 'maxBatchCommands'],
  ['maxBatchBytes', 'maxBatchBytes'],
  ['maxInflightBytes', 'maxUncommittedBytes'],
  ['maxPendingCommands', 'maxPendingCommands'],
  ['maxApplyLag', 'maxApplyLag'],
  ['maxPendingReads', 'maxPendingReads'],
  ['heartbeatMs', 'heartbeatMs'],
  ['electionTimeoutMs', 'electionTimeoutMs'],
  ['maxClockDrift', 'maxClockDrift'],
  ['tickMs', 'tickMs'],
  ['replicaTimeoutMs', 'replicaTimeoutMs'],
  ['preferredLeader', 'preferredLeader'],
];

/**
 * The Raft options of a cluster: those `leader` sets that mean the same in Raft, then
 * `protocolOptions`, checked ({@link resolveRaftOptions}: InvalidOptionError naming the option).
 */
export function raftOptionsOf(leader: Partial<LeaderOptions> | undefined, protocolOptions: unknown, where = 'raft options'): Partial<RaftOptions> {
  const out: Record<string, unknown> = {};
  for (const [from, to] of FROM_LEADER) if (leader?.[from] !== undefined) out[to] = leader[from];
  if (protocolOptions !== undefined) {
    if (typeof protocolOptions !== 'object' || protocolOptions === null || Array.isArray(protocolOptions)) {
      throw new InvalidOptionError(
        `${where}: protocolOptions must be an object of Raft options, got ${protocolOptions === null ? 'null' : Array.isArray(protocolOptions) ? 'an array' : typeof protocolOptions}`,
      );
    }
    Object.assign(out, protocolOptions);
  }
  resolveRaftOptions(out as Partial<RaftOptions>, where);
  return out as Partial<RaftOptions>;
}

/** The Raft cluster: on every node a RaftNode and a replica. */
export const raftProtocol: ProtocolDefinition = {
  name: 'raft',
  codecs: [raftCodecs],
  check(o) {
    const { preferredLeader } = resolveRaftOptions(raftOptionsOf(o.leader, o.protocolOptions));
    if (preferredLeader >= o.nodes) {
      throw new InvalidOptionError(`raft options: preferredLeader (${preferredLeader}) must be a node of the cluster (0..${o.nodes - 1}), or -1 for none`);
    }
  },
  async start(o) {
    const n = o.nodes;
    const options = raftOptionsOf(o.leader, o.protocolOptions);
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
    const argsOf = (i: number, nodes: ActorRef<RaftMsg>[]): RaftNodeArgs => ({
      index: i,
      size: n,
      nodes,
      replicas,
      options,
      ...(o.forgetful ? { forgetful: true } : {}),
    });
    const nodes: ActorRef<RaftMsg>[] = [];
    for (let i = 0; i < n; i++) {
      nodes.push(
        (await o.supervisor.startChild({
          actor: RaftNode,
          name: `${o.name}-raft-${i}`,
          worker: o.nodeKey(i),
          storage: o.storage,
          args: argsOf(i, []),
        })) as ActorRef<RaftMsg>,
      );
    }
    // Refs that did not exist at spawn: given now, and kept for restarts.
    nodes.forEach((ref, i) => {
      o.supervisor.setChildArgs(ref, argsOf(i, nodes));
      o.send(ref, { type: 'configure', nodes });
    });
    return { leaders: nodes, replicas, roles: { raft: nodes } };
  },
};
