/** The protocols' simulation scenarios, by the name `synod sim --protocol` takes. */
import type { Scenario } from '@synod/actors/sim';
import { synodScenario } from '@synod/paxos/scenarios';
import { mapScenario } from '@synod/replicated/scenarios';

export { synodScenario, forgetfulSynodScenario } from '@synod/paxos/scenarios';
export { mapScenario as multipaxosScenario, forgetfulMapScenario } from '@synod/replicated/scenarios';

export const scenarios: Readonly<Record<'synod' | 'multipaxos', Scenario<any>>> = { synod: synodScenario, multipaxos: mapScenario };
