/**
 * `@synod/replicated`: replicated state inside your own Node process: `ReplicatedMap` and
 * `ReplicatedStateMachine`, surviving the crash of any minority of their workers, with
 * linearizable, session or eventual reads, over a pluggable protocol.
 *
 * @module @synod/replicated
 */
export {
  ReplicatedStateMachine,
  Session,
  type ReplicatedOptions,
  type ReadOptions,
  type ExecuteOptions,
  type ReplicatedEvents,
  type AppliedChange,
  type Divergence,
} from './replicated-state-machine.js';
export { ReplicatedMap, type MapChange, type MapEvents, type ReplicatedMapOptions, type ReplicatedMapConnectOptions } from './replicated-map.js';
export {
  startMember,
  connectCluster,
  parseMember,
  checkMembers,
  type MemberOptions,
  type ClusterMember,
  type ConnectOptions,
  type NetworkClusterOptions,
  type NetworkLimits,
} from './network.js';
export { memberNode, memberStatusRef, memberStatusName, type ClusterLayout } from './cluster-layout.js';
export type {
  MemberStatus,
  MemberStatusMsg,
  MemberStatusError,
  MemberActorStatus,
  MemberLeaderStatus,
  MemberReplicaStatus,
  MemberFaultCommand,
  FaultCommandResult,
} from './member-status.js';
export { mapMachine, mapLimits, decodeMapCommand, type MapCommand, type MapQuery, type MapState } from './map-machine.js';
export type { ValueStore } from './value-store.js';
export {
  startCluster,
  checkCluster,
  replicatedCodecs,
  registerProtocol,
  protocolNames,
  protocolByName,
  multiPaxosProtocol,
  type Cluster,
  type ClusterHost,
  type ClusterOptions,
} from './cluster.js';
export { epaxosProtocol } from './epaxos-protocol.js';
export { raftProtocol, raftOptionsOf } from './raft-protocol.js';
export type { ProtocolDefinition, ProtocolNodes, ProtocolStart } from './protocol.js';
export {
  ClientClosedError,
  ClusterHaltedError,
  CommandFailedError,
  InvalidCommandError,
  NoLeaderError,
  OperationAbortedError,
  OutcomeUnknownError,
  OverloadedError,
  QuotaExceededError,
  ReadFailedError,
  ReplicationError,
  type ReplicationErrorCode,
} from './errors.js';
export {
  defineStateMachine,
  type StateMachine,
  type StateMachineOptions,
  type Applied,
  type ReadConsistency,
  type MachineCore,
  type MachineClient,
} from '@synod/smr';
