/** The protocols' simulation scenarios, by the name `synod sim --protocol` takes. */
import type { Scenario } from '@synod/actors/sim';
import { synodScenario } from '@synod/paxos/scenarios';
import { epaxosScenario, mapScenario, raftScenario } from '@synod/replicated/scenarios';

export { synodScenario, forgetfulSynodScenario } from '@synod/paxos/scenarios';
export {
  mapScenario as multipaxosScenario,
  forgetfulMapScenario,
  epaxosScenario,
  epaxosControlScenario,
  raftScenario,
  forgetfulRaftScenario,
} from '@synod/replicated/scenarios';

export const scenarios: Readonly<Record<'synod' | 'multipaxos' | 'epaxos' | 'raft', Scenario<any>>> = {
  synod: synodScenario,
  multipaxos: mapScenario,
  epaxos: epaxosScenario,
  raft: raftScenario,
};
