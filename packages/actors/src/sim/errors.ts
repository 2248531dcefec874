import { SynodError, registerErrors } from '../errors.js';

/** A fault plan (or a fault given to `sim.fault`) is malformed or names something that does not exist. */
export class PlanError extends SynodError {
  override name = 'PlanError';
  override readonly code: string = 'plan';
}

/** A simulation was used in a way it cannot honour (a second `run` at once, a bad scenario, ...). */
export class SimulationError extends SynodError {
  override name = 'SimulationError';
  override readonly code: string = 'simulation';
}

registerErrors({ PlanError, SimulationError });
