/**
 * EPaxos as a protocol of a replicated state machine (`protocol: 'epaxos'`): one `EPaxosReplica`
 * of @synod/epaxos per node, every one of them a command leader. Clients start at a node chosen
 * by their id (`leaderless`), so they spread over the nodes, and stay there while it answers.
 * `ReplicatedStateMachine` and `ReplicatedMap` work on it unchanged: the same client, sessions,
 * errors and watchers.
 *
 * Reads without a leader. EPaxos has no single log index: replicas execute commands that do not
 * interfere in different orders. What they share are barriers, instances that interfere with
 * every command: before the b-th barrier every replica has executed the same instances, so all
 * pass through the same state there. The number of barriers a replica executed is the "index" of
 * the client protocol (what a session saw):
 *  - `linearizable` (the default): the reads go through the protocol. The replica that receives
 *    them proposes a barrier (one per turn's reads) and answers them when it executes it: every
 *    write acknowledged before the reads arrived is ordered before that barrier.
 *  - `lease`: the same (without a leader there is no lease to lean on).
 *  - `session`: any replica that has executed at least as many barriers as the session saw
 *    answers from its state. A command's outcome and a session read's answer carry "barriers + 1"
 *    (everything the replica executed comes before its next barrier on every replica), so a later
 *    read of the session waits, wherever it goes, for that next barrier, which the replica holding
 *    the read proposes when none of its own is on the way. Read-your-writes and monotonic reads.
 *  - `eventual`: any replica's state, at once.
 *
 * Options: `protocolOptions` are `EPaxosOptions` (batching, the window, timing of retransmission
 * and recovery, barriers); the replica options (snapshots, sessions, reads, quota) are the same as
 * Multi-Paxos's. With EPaxos the state quota is decided at barriers (where every replica has the
 * same state), so the state may pass `maxStateBytes` by what is executed between two of them (a
 * replica proposes one every `barrierEveryInstances` instances it leads).
 */
import { EPaxosReplica, epaxosCodecs, epaxosOptions, type EPaxosArgs } from '@synod/epaxos';
import type { ReplicaMsg } from '@synod/paxos';
import type { ActorRef } from '@synod/actors';
import type { ProtocolDefinition } from './protocol.js';

export const epaxosProtocol: ProtocolDefinition = {
  name: 'epaxos',
  codecs: [epaxosCodecs],
  leaderless: true,
  replicaArgs: (base, o) => ({ ...base, n: o.nodes, epaxos: o.protocolOptions as EPaxosArgs['epaxos'] }) as EPaxosArgs,
  // Checked before any replica starts (and again in each replica's init).
  check(o) {
    epaxosOptions(o.protocolOptions, 'cluster: epaxos options (protocolOptions)');
  },
  async start(o) {
    const replicas: ActorRef<ReplicaMsg>[] = [];
    for (let i = 0; i < o.nodes; i++) {
      replicas.push(
        (await o.supervisor.startChild({
          actor: EPaxosReplica,
          name: `${o.name}-replica-${i}`,
          worker: o.nodeKey(i),
          storage: o.storage,
          preload: o.preload,
          args: o.replicaArgs(i, [], []) as EPaxosArgs,
        })) as unknown as ActorRef<ReplicaMsg>,
      );
    }
    // Every replica is where clients send commands and reads.
    return { leaders: replicas, replicas, roles: {} };
  },
};
