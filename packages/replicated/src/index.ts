export {
  ReplicatedStateMachine, Session, type ReplicatedOptions, type ReadOptions, type ReplicatedEvents,
} from './replicated-state-machine.js';
export { ReplicatedMap, type MapChange, type MapEvents, type ReplicatedMapOptions } from './replicated-map.js';
export { mapMachine, mapLimits, type MapCommand, type MapQuery } from './map-machine.js';
export { startCluster, type Cluster, type ClusterOptions } from './cluster.js';
export {
  ReplicationError, OutcomeUnknownError, NoLeaderError, InvalidCommandError, CommandFailedError, ReadFailedError,
} from './errors.js';
export { defineStateMachine, type StateMachine, type Applied, type ReadConsistency } from '@synod/paxos';
