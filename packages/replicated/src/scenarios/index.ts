/** Simulation scenarios of @synod/replicated (for `synod sim` and the campaigns in the tests). */
export { mapScenario, forgetfulMapScenario, mapShape, mapPlan, MapProcess, type MapProcessState, type MapShape } from './map-under-faults.js';
export { epaxosScenario, epaxosControlScenario, epaxosShape, epaxosPlan, type EPaxosShape } from './epaxos-under-faults.js';
export { raftScenario, forgetfulRaftScenario, raftShape, raftPlan, campaignRaftOptions, TransferOperator, type RaftShape } from './raft-under-faults.js';
