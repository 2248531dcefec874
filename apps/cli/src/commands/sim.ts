/**
 * `synod sim`: a simulation campaign of a protocol over many seeds.
 *
 *     synod sim --protocol synod --seeds 2000
 *     synod sim --protocol multipaxos --seed 17              # one seed, with its figures
 *     synod sim --protocol epaxos --seeds 20000
 *     synod sim --protocol raft --seeds 1000
 *     synod sim --protocol synod --seeds 500 --faults network
 *     synod sim --protocol synod --faults my-plan.json --seeds 50
 */
import { availableParallelism } from 'node:os';
import {
  PlanError,
  defineScenario,
  formatFailure,
  locateScenario,
  replayCommand,
  runCampaign,
  runScenario,
  type CampaignResult,
  type FaultPlan,
  type Scenario,
  type ScenarioOutcome,
} from '@synod/actors/sim';
import { EXIT, UsageError, oneOf, positiveNumber, type Command } from '../command.js';
import { PRESETS, readPlanFile, type Preset } from '../sim/faults.js';
import { ProgressBar } from '../sim/progress.js';
import { PROTOCOLS, scenarioFor, type Protocol } from '../sim/scenarios.js';

const DEFAULT_SEEDS = 100;
/** Most seeds one campaign runs. */
const MAX_SEEDS = 10_000_000;
/** Failures listed with --keep-going. */
const MAX_FAILURES_SHOWN = 20;

export const simCommand: Command = {
  name: 'sim',
  summary: "Run a protocol's simulation scenario over many seeds, under seeded faults; a failure prints its replay command.",
  usage: 'synod sim --protocol PROTOCOL [--seeds N] [--seed S] [--faults PRESET|FILE] [options]',
  description: [
    'Each seed is one deterministic run of the protocol on simulated nodes (virtual clock, simulated',
    "network and disk) under that seed's fault plan, with the protocol's invariants checked after",
    'every step and its liveness and linearizability checked at the end. Seeds run on threads.',
    'Protocols: synod (single-decree Paxos: proposers, acceptors, learners),',
    '           multipaxos (leaders, acceptors, replicas of a ReplicatedMap, with clients),',
    "           epaxos (EPaxos replicas of a ReplicatedMap, every one leading its clients' commands),",
    '           raft (RaftNodes and replicas of a ReplicatedMap, with clients and leadership transfers).',
    "--faults:  plan     each seed's own random plan: network and process faults (default)",
    '           network  only its network faults (drop, duplicate, reorder, delay, partitions)',
    '           crashes  only its process faults (node and actor crashes, pauses)',
    '           none     no faults at all',
    '           FILE     a JSON fault plan for every seed, e.g.',
    '                    {"faults":[{"atMs":50,"kind":"crash-node","node":"acceptor-0","downMs":20}]}',
    '                    (plans from a file run on this thread)',
    'A failure prints its seed, its plan and the one command that replays it exactly.',
    'Exit status: 0 every seed passed, 1 a seed failed, 2 bad options.',
  ].join('\n'),
  positionals: false,
  options: {
    protocol: { type: 'string', short: 'p', value: 'PROTOCOL', description: `Which scenario: ${PROTOCOLS.join(', ')}.` },
    seeds: { type: 'string', short: 'n', value: 'N', description: `How many seeds (default ${DEFAULT_SEEDS}; 1 with --seed alone).` },
    seed: { type: 'string', short: 's', value: 'S', description: 'The first seed (default 1). Alone, runs that one seed and prints its figures.' },
    faults: { type: 'string', value: 'PRESET|FILE', description: `Faults: ${PRESETS.join(', ')}, or a JSON plan file (default plan).` },
    threads: { type: 'string', value: 'N', description: 'Threads for the campaign (default: all cores; 0: this thread).' },
    'keep-going': { type: 'boolean', description: `Run every seed even after a failure, and list the failures (up to ${MAX_FAILURES_SHOWN}).` },
    json: { type: 'boolean', description: 'Print the result as JSON (the failures with their plans and replay commands).' },
  },

  async run({ values, stdout, stderr }) {
    const protocol = oneOf<Protocol>(values, 'protocol', PROTOCOLS, true)!;
    const firstSeed = values.seed === undefined ? 1 : integer(String(values.seed), '--seed');
    const count = positiveNumber(values, 'seeds', values.seed !== undefined ? 1 : DEFAULT_SEEDS);
    if (count > MAX_SEEDS) throw new UsageError(`--seeds must be at most ${MAX_SEEDS}, got ${count}`);
    const threadsRaw = values.threads === undefined ? undefined : String(values.threads);
    if (threadsRaw !== undefined && !/^\d+$/.test(threadsRaw)) throw new UsageError(`--threads must be a whole number (0: this thread), got '${threadsRaw}'`);
    const faults = values.faults === undefined ? 'plan' : String(values.faults);
    let scenario: Scenario<any>;
    let filePlan: FaultPlan | undefined;
    if ((PRESETS as readonly string[]).includes(faults)) {
      scenario = scenarioFor(protocol, faults as Preset);
    } else {
      try {
        filePlan = readPlanFile(faults);
      } catch (e) {
        if (e instanceof PlanError) throw new UsageError(e.message);
        throw e;
      }
      const plan = filePlan;
      const { kind: _kind, module: _module, ...base } = scenarioFor(protocol, 'plan');
      // Not exported anywhere, so it runs on this thread; replays name the protocol's own scenario.
      scenario = defineScenario({ ...base, name: `${base.name} (plan from ${faults})`, plan: () => plan });
    }
    const workers = filePlan !== undefined ? 0 : threadsRaw !== undefined ? Number(threadsRaw) : availableParallelism();
    const json = values.json === true;
    const seedText = count === 1 ? `seed ${firstSeed}` : `seeds ${firstSeed}..${firstSeed + count - 1}`;
    const where = workers === 0 || count === 1 ? 'on this thread' : `${workers} thread${workers === 1 ? '' : 's'}`;
    (json ? stderr : stdout)(`synod sim: scenario "${scenario.name}", ${seedText}, ${where}\n`);

    if (count === 1) return runOne(scenario, protocol, firstSeed, filePlan, json, stdout);

    const bar = new ProgressBar(stderr, process.stderr.isTTY === true);
    let result: CampaignResult;
    try {
      result = await runCampaign({
        scenario,
        seeds: { from: firstSeed, count },
        workers,
        progress: bar.update,
        stopOnFailure: values['keep-going'] !== true,
        maxFailures: MAX_FAILURES_SHOWN,
      });
    } finally {
      bar.end();
    }
    for (const f of result.failures) await withReplay(f, protocol, filePlan);
    if (json) {
      stdout(
        `${JSON.stringify({
          scenario: result.scenario,
          protocol,
          faults,
          total: result.total,
          seedsRun: result.seedsRun,
          passed: result.passed,
          failed: result.seedsRun - result.passed,
          elapsedMs: Math.round(result.elapsedMs),
          seedsPerSecond: round1(result.seedsPerSecond),
          deliveries: result.deliveries,
          threads: result.workers,
          failures: result.failures,
        })}\n`,
      );
    } else {
      const rate = `${(result.elapsedMs / 1000).toFixed(1)} s, ${round1(result.seedsPerSecond)} seeds/s, ${result.deliveries.toLocaleString('en-US')} message deliveries`;
      if (result.failures.length === 0) {
        stdout(`passed: all ${result.passed} seeds (${rate})\n`);
      } else {
        const failed = result.seedsRun - result.passed;
        stdout(
          `FAILED: ${failed} of ${result.seedsRun} seeds run${result.seedsRun < result.total ? ` (stopped at the first failure; --keep-going runs them all)` : ''} (${rate})\n`,
        );
        for (const f of result.failures) stdout(`\n${formatFailure(f)}\n`);
      }
    }
    return result.failures.length === 0 ? EXIT.ok : EXIT.failed;
  },
};

/** One seed, with its figures (steps, virtual time, deliveries, faults, fingerprint). */
async function runOne(
  scenario: Scenario<any>,
  protocol: Protocol,
  seed: number,
  filePlan: FaultPlan | undefined,
  json: boolean,
  stdout: (s: string) => void,
): Promise<number> {
  const o = await runScenario(scenario, { seed });
  await withReplay(o, protocol, filePlan);
  if (json) {
    stdout(`${JSON.stringify(o)}\n`);
  } else {
    const s = o.stats;
    stdout(`seed ${seed}: ${o.ok ? 'passed' : 'FAILED'}\n`);
    stdout(
      `  ${o.steps.toLocaleString('en-US')} steps, ${o.nowMs.toFixed(1)} ms virtual; ${s.deliveries} deliveries, ${s.drops} drops, ${s.duplicates} duplicates; ` +
        `${s.crashes} crashes, ${s.restarts} restarts, ${s.faults} faults\n`,
    );
    stdout(`  fingerprint ${o.fingerprint}\n`);
    stdout(`  plan ${JSON.stringify(o.plan)}\n`);
    if (!o.ok) stdout(`${formatFailure(o)}\n`);
  }
  return o.ok ? EXIT.ok : EXIT.failed;
}

/**
 * A run of a plan from a file has no exported scenario of its own: its replay command names
 * the protocol's scenario, with the plan (which is what replays it).
 */
async function withReplay(o: ScenarioOutcome, protocol: Protocol, filePlan: FaultPlan | undefined): Promise<void> {
  if (o.ok || o.replay || filePlan === undefined) return;
  o.replay = replayCommand(await locateScenario(scenarioFor(protocol, 'plan')), o.seed, o.plan);
}

function integer(raw: string, flag: string): number {
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n)) throw new UsageError(`${flag} must be a whole number, got '${raw}'`);
  return n;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
