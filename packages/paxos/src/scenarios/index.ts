/** Simulation scenarios of the protocols: for campaigns (`synod sim`) and the tests. */
export { synodScenario, forgetfulSynodScenario, synodPlan, shapeOf, SimClient, type SynodSimShape, type SimClientState } from './synod.js';
