/** The protocols' simulation scenarios, by the name `synod sim --protocol` takes. */
import type { Scenario } from '@synod/actors/sim';
import { synodScenario } from '@synod/paxos/scenarios';
import { multipaxosScenario } from './multipaxos.js';
import { raftScenario } from './raft.js';

export { synodScenario, forgetfulSynodScenario } from '@synod/paxos/scenarios';
export { multipaxosScenario, MapClient, multipaxosPlan, multipaxosShape, type MapClientState } from './multipaxos.js';
export { raftScenario, forgetfulRaftScenario, raftPlan, raftShape, simRaftOptions, ForgetfulRaftNode, TransferOperator } from './raft.js';

export const scenarios: Readonly<Record<'synod' | 'multipaxos' | 'raft', Scenario<any>>> = { synod: synodScenario, multipaxos: multipaxosScenario, raft: raftScenario };
