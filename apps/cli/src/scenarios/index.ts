/** The protocols' simulation scenarios, by the name `synod sim --protocol` takes. */
import type { Scenario } from '@synod/actors/sim';
import { synodScenario } from '@synod/paxos/scenarios';
import { epaxosScenario, mapScenario } from '@synod/replicated/scenarios';

export { synodScenario, forgetfulSynodScenario } from '@synod/paxos/scenarios';
export { mapScenario as multipaxosScenario, forgetfulMapScenario, epaxosScenario, epaxosControlScenario } from '@synod/replicated/scenarios';

export const scenarios: Readonly<Record<'synod' | 'multipaxos' | 'epaxos', Scenario<any>>> = { synod: synodScenario, multipaxos: mapScenario, epaxos: epaxosScenario };
