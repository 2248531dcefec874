/**
 * The protocols' scenarios with a `--faults` preset applied, exported so campaign threads and
 * the replay command can load them by name (`<this module>#synodNetwork`, …).
 */
import { defineScenario, type Scenario } from '@synod/actors/sim';
import { scenarios } from '../scenarios/index.js';
import { filterPlan, type Preset } from './faults.js';

export type Protocol = keyof typeof scenarios;
export const PROTOCOLS = Object.keys(scenarios) as Protocol[];

const DESCRIBED: Record<Exclude<Preset, 'plan'>, string> = { network: 'network faults only', crashes: 'crashes only', none: 'no faults' };

function withPreset(base: Scenario<any>, preset: Exclude<Preset, 'plan'>): Scenario<any> {
  const { kind: _kind, ...definition } = base;
  return defineScenario({
    ...definition,
    module: import.meta.url,
    name: `${base.name} (${DESCRIBED[preset]})`,
    plan: (seed) => filterPlan(base.plan?.(seed) ?? {}, preset),
  });
}

export const synodNetwork = withPreset(scenarios.synod, 'network');
export const synodCrashes = withPreset(scenarios.synod, 'crashes');
export const synodNone = withPreset(scenarios.synod, 'none');
export const multipaxosNetwork = withPreset(scenarios.multipaxos, 'network');
export const multipaxosCrashes = withPreset(scenarios.multipaxos, 'crashes');
export const multipaxosNone = withPreset(scenarios.multipaxos, 'none');
export const epaxosNetwork = withPreset(scenarios.epaxos, 'network');
export const epaxosCrashes = withPreset(scenarios.epaxos, 'crashes');
export const epaxosNone = withPreset(scenarios.epaxos, 'none');
export const raftNetwork = withPreset(scenarios.raft, 'network');
export const raftCrashes = withPreset(scenarios.raft, 'crashes');
export const raftNone = withPreset(scenarios.raft, 'none');

const byPreset: Record<Protocol, Record<Preset, Scenario<any>>> = {
  synod: { plan: scenarios.synod, network: synodNetwork, crashes: synodCrashes, none: synodNone },
  multipaxos: { plan: scenarios.multipaxos, network: multipaxosNetwork, crashes: multipaxosCrashes, none: multipaxosNone },
  epaxos: { plan: scenarios.epaxos, network: epaxosNetwork, crashes: epaxosCrashes, none: epaxosNone },
  raft: { plan: scenarios.raft, network: raftNetwork, crashes: raftCrashes, none: raftNone },
};

/** The scenario of a protocol under a preset. */
export function scenarioFor(protocol: Protocol, preset: Preset): Scenario<any> {
  return byPreset[protocol][preset];
}
