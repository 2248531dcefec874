/**
 * Replays one simulation run exactly, from the command a failing run printed:
 *
 *   node packages/actors/dist/sim/replay.js --scenario <module>#<export> --seed <n> [--plan '<json>']
 *        [--trace [<records>]] [--json]
 *
 * Without `--plan` it uses the scenario's own plan for the seed. `--trace` prints the run's
 * events (the newest <records>, default all). Exits 1 when the run fails, 2 on a usage error.
 * TypeScript scenario modules need `node --import tsx`.
 */
import { readFileSync } from 'node:fs';
import type { FaultPlan } from './plan.js';
import { formatFailure, loadScenario, runScenario } from './scenario.js';
import { formatTrace } from './trace.js';

const usage = `usage: replay --scenario <module>#<export> --seed <n> [--plan '<json>' | --plan-file <file>] [--trace [<records>]] [--json]`;

function fail(message: string): never {
  console.error(`replay: ${message}\n${usage}`);
  process.exit(2);
}

const args = process.argv.slice(2);
let scenarioSpec: string | undefined;
let seed: number | undefined;
let plan: FaultPlan | undefined;
let trace: boolean | number = false;
let json = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  const value = (): string => {
    const v = args[++i];
    if (v === undefined) fail(`${a} needs a value`);
    return v;
  };
  switch (a) {
    case '--scenario':
      scenarioSpec = value();
      break;
    case '--seed': {
      const v = value();
      seed = Number(v);
      if (!Number.isInteger(seed)) fail(`--seed must be an integer, got ${v}`);
      break;
    }
    case '--plan': {
      const v = value();
      try {
        plan = JSON.parse(v) as FaultPlan;
      } catch (e) {
        fail(`--plan is not valid JSON: ${(e as Error).message}`);
      }
      break;
    }
    case '--plan-file': {
      const f = value();
      try {
        plan = JSON.parse(readFileSync(f, 'utf8')) as FaultPlan;
      } catch (e) {
        fail(`--plan-file ${f}: ${(e as Error).message}`);
      }
      break;
    }
    case '--trace': {
      const next = args[i + 1];
      if (next !== undefined && /^\d+$/.test(next)) {
        trace = Number(next);
        i++;
      } else trace = true;
      break;
    }
    case '--json':
      json = true;
      break;
    case '--help':
    case '-h':
      console.log(usage);
      process.exit(0);
    // eslint-disable-next-line no-fallthrough
    default:
      fail(`unknown argument ${a}`);
  }
}
if (!scenarioSpec) fail('--scenario is required');
if (seed === undefined) fail('--seed is required');

const scenario = await loadScenario(scenarioSpec);
const outcome = await runScenario(scenario, { seed, ...(plan ? { plan } : {}), trace });
if (json) {
  console.log(JSON.stringify(outcome, null, 2));
} else {
  if (outcome.trace) {
    console.log(formatTrace(outcome.trace));
    console.log('');
  }
  const s = outcome.stats;
  console.log(`scenario "${outcome.scenario}", seed ${outcome.seed}: ${outcome.ok ? 'passed' : 'FAILED'}`);
  console.log(
    `  ${outcome.steps} steps, ${outcome.nowMs.toFixed(3)} ms virtual, ${s.deliveries} deliveries, ${s.drops} drops, ${s.duplicates} duplicates, ${s.crashes} crashes, ${s.restarts} restarts, ${s.faults} faults`,
  );
  console.log(`  fingerprint: ${outcome.fingerprint}`);
  if (!outcome.ok) console.log(formatFailure(outcome));
}
process.exit(outcome.ok ? 0 : 1);
