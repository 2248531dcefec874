/**
 * Scenarios: a simulation set-up, a fault plan per seed, how long to run and what must hold at
 * the end, exported from a module so that campaign threads and the replay command can import it.
 * A failing scenario run reports its seed, its plan and one command that replays it exactly.
 */
import { relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { errorText, toError } from '../errors.js';
import { SimulationError } from './errors.js';
import type { FaultPlan } from './plan.js';
import { Simulation, type RunOptions, type SimStats, type SimulationOptions } from './simulation.js';
import type { TraceRecord } from './trace.js';

/** Simulation options a scenario may set (the seed and plan come from the run). */
export type ScenarioSimulationOptions = Omit<SimulationOptions, 'seed' | 'plan'>;

/** What {@link defineScenario} takes. */
export interface ScenarioDefinition<T = unknown> {
  /**
   * The URL of the module that exports this scenario: pass `import.meta.url`. Campaign threads
   * import it, and the replay command names it. Without it, a scenario runs only in this thread.
   */
  module?: string;
  /** A readable name, for reports. */
  name: string;
  /** Simulation options (limits, supervision, heartbeat, ...), fixed or per seed. */
  simulation?: ScenarioSimulationOptions | ((seed: number) => ScenarioSimulationOptions);
  /** The fault plan of a seed (plain JSON; see `randomPlan`). Default: no faults. */
  plan?(seed: number): FaultPlan;
  /** Spawns the actors, sends the first messages, registers invariants. Its result goes to `run` and `check`. */
  setup(sim: Simulation, seed: number): T | Promise<T>;
  /** How far to run: bounds for `sim.run`, or a driver that runs the simulation itself. */
  run: RunOptions | ((sim: Simulation, context: T) => Promise<unknown>);
  /**
   * What must hold at the end (after invariants held at every step). Return `false` or a
   * string (the explanation), or throw, to fail.
   */
  check?(sim: Simulation, context: T): void | boolean | string | Promise<void | boolean | string>;
}

/** A scenario: export it from its module. */
export interface Scenario<T = unknown> extends ScenarioDefinition<T> {
  readonly kind: 'synod.scenario';
}

/**
 * Defines a scenario. Export it so campaign threads and the replay command can import it:
 *
 * ```ts
 * export const crashes = defineScenario({
 *   module: import.meta.url,
 *   name: 'counter under crashes',
 *   plan: (seed) => randomPlan(seed, { nodes: ['counter'], endMs: 500 }),
 *   async setup(sim) { return sim.spawn(Counter, { name: 'counter', storage: 'file' }); },
 *   run: { untilMs: 1_000 },
 *   check: (sim) => sim.state('counter') !== undefined || 'the counter is not running',
 * });
 * ```
 */
export function defineScenario<T>(definition: ScenarioDefinition<T>): Scenario<T> {
  if (!definition || typeof definition.setup !== 'function') throw new TypeError('defineScenario needs a `setup(sim, seed)` function');
  if (typeof definition.name !== 'string' || !definition.name) throw new TypeError('defineScenario needs a `name`');
  if (definition.module !== undefined && typeof definition.module !== 'string')
    throw new TypeError('defineScenario: `module` must be a URL string; pass import.meta.url');
  if (typeof definition.run !== 'function' && (typeof definition.run !== 'object' || definition.run === null)) {
    throw new TypeError('defineScenario needs `run`: bounds like { untilMs: 1000 }, or a driver function');
  }
  return Object.freeze({ ...definition, kind: 'synod.scenario' as const });
}

/** Whether a value is a scenario made with {@link defineScenario}. */
export function isScenario(v: unknown): v is Scenario<unknown> {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'synod.scenario';
}

/** Why a scenario run failed. */
export interface ScenarioFailure {
  /**
   * `invariant`: an invariant failed after a step; `check`: the final check failed;
   * `system-failed`: the root supervisor gave up; `error`: set-up, the driver or the plan threw.
   */
  kind: 'invariant' | 'check' | 'system-failed' | 'error';
  /** The invariant's name. */
  name?: string;
  message: string;
  /** Steps completed when it was detected. */
  step: number;
  timeMs: number;
}

/** The result of one scenario run. Plain data (it crosses threads). */
export interface ScenarioOutcome {
  scenario: string;
  seed: number;
  plan: FaultPlan;
  ok: boolean;
  fingerprint: string;
  steps: number;
  nowMs: number;
  stats: SimStats;
  failure?: ScenarioFailure;
  /** The command that replays this run exactly (when the scenario's module is known). */
  replay?: string;
  /** Trace records, when the run kept them. */
  trace?: TraceRecord[];
}

/** Options of {@link runScenario}. */
export interface ScenarioRunOptions {
  seed: number;
  /** The plan to use instead of the scenario's `plan(seed)` (a replay, or a hand-edited plan). */
  plan?: FaultPlan;
  /** Keep trace records (true, or how many of the newest). */
  trace?: boolean | number;
}

/** Runs a scenario once with a seed. Never throws for a failing run: the outcome says why. */
export async function runScenario<T>(scenario: Scenario<T>, options: ScenarioRunOptions): Promise<ScenarioOutcome> {
  if (!isScenario(scenario)) throw new SimulationError('runScenario: the first argument must be a scenario made with defineScenario()');
  const seed = options.seed;
  if (!Number.isInteger(seed)) throw new SimulationError(`runScenario: seed must be an integer, got ${String(seed)}`);
  let plan: FaultPlan = {};
  let sim: Simulation | undefined;
  let failure: ScenarioFailure | undefined;
  try {
    plan = options.plan ?? scenario.plan?.(seed) ?? {};
    const simOptions = typeof scenario.simulation === 'function' ? scenario.simulation(seed) : (scenario.simulation ?? {});
    sim = new Simulation({ ...simOptions, seed, plan, ...(options.trace !== undefined ? { trace: options.trace } : {}) });
    const context = await scenario.setup(sim, seed);
    if (typeof scenario.run === 'function') await scenario.run(sim, context);
    else await sim.run(scenario.run);
    const simFailure = sim.failed;
    if (simFailure) {
      failure = { ...simFailure };
    } else if (scenario.check) {
      let verdict: void | boolean | string;
      try {
        verdict = await scenario.check(sim, context);
      } catch (e) {
        verdict = errorText(e);
      }
      if (verdict === false || typeof verdict === 'string') {
        failure = { kind: 'check', message: typeof verdict === 'string' ? verdict : 'the final check failed', step: sim.stats.steps, timeMs: sim.nowMs };
      }
    }
  } catch (e) {
    const info = toError(e);
    failure = { kind: 'error', message: `${info.name}: ${info.message}`, step: sim?.stats.steps ?? 0, timeMs: sim?.nowMs ?? 0 };
  }
  const outcome: ScenarioOutcome = {
    scenario: scenario.name,
    seed,
    plan,
    ok: failure === undefined,
    fingerprint: sim?.fingerprint ?? '',
    steps: sim?.stats.steps ?? 0,
    nowMs: sim?.nowMs ?? 0,
    stats: sim ? { ...sim.stats } : emptyStats(),
  };
  if (failure) {
    outcome.failure = failure;
    const where = await locateScenario(scenario).catch(() => undefined);
    if (where) outcome.replay = replayCommand(where, seed, plan);
  }
  if (options.trace && sim) outcome.trace = [...sim.trace];
  return outcome;
}

function emptyStats(): SimStats {
  return { steps: 0, sends: 0, deliveries: 0, drops: 0, duplicates: 0, lost: 0, timers: 0, syncs: 0, faults: 0, crashes: 0, restarts: 0, deadLetters: 0 };
}

/** Where a scenario lives: its module URL and export name. */
export interface ScenarioLocation {
  module: string;
  exportName: string;
}

const locations = new WeakMap<object, ScenarioLocation>();

/** Finds which export of its module a scenario is (so a thread or a command can import it). */
export async function locateScenario(scenario: Scenario<any>): Promise<ScenarioLocation> {
  const cached = locations.get(scenario);
  if (cached) return cached;
  if (!scenario.module) {
    throw new SimulationError(
      `scenario "${scenario.name}" has no module: add \`module: import.meta.url\` to defineScenario(...) so threads and the replay command can load it`,
    );
  }
  if (isMainScript(scenario.module)) {
    // Importing the entry script from itself waits for its own top-level await: a deadlock.
    throw new SimulationError(
      `scenario "${scenario.name}" is defined in the main script (${displayPath(scenario.module)}); put it in a module of its own and import it, so campaign threads and the replay command can load it`,
    );
  }
  const ns = (await import(scenario.module)) as Record<string, unknown>;
  for (const [exportName, value] of Object.entries(ns)) {
    if (value === scenario) {
      const loc = { module: scenario.module, exportName };
      locations.set(scenario, loc);
      return loc;
    }
  }
  throw new SimulationError(`scenario "${scenario.name}" is not exported by ${scenario.module}; export it (export const x = defineScenario(...))`);
}

function isMainScript(url: string): boolean {
  const main = process.argv[1];
  if (!main || !url.startsWith('file:')) return false;
  try {
    return fileURLToPath(url) === resolve(main);
  } catch {
    return false;
  }
}

/** Loads a scenario from `module#exportName` (a path or a file URL). */
export async function loadScenario(spec: string): Promise<Scenario<unknown>> {
  const hash = spec.lastIndexOf('#');
  if (hash <= 0 || hash === spec.length - 1) throw new SimulationError(`a scenario is named as <module>#<export>, got "${spec}"`);
  const mod = spec.slice(0, hash);
  const exportName = spec.slice(hash + 1);
  const url = /^[a-z]+:\/\//i.test(mod) ? mod : pathToFileURL(resolve(mod)).href;
  const ns = (await import(url)) as Record<string, unknown>;
  const s = ns[exportName];
  if (!isScenario(s)) throw new SimulationError(`${mod} has no scenario export "${exportName}" (exports: ${Object.keys(ns).join(', ') || 'none'})`);
  return s;
}

/** Quotes a word for a POSIX shell. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:#=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function displayPath(url: string): string {
  if (!url.startsWith('file:')) return url;
  const rel = relative(process.cwd(), fileURLToPath(url));
  return rel.startsWith('..') ? fileURLToPath(url) : rel;
}

/**
 * The one command that replays a run exactly: the scenario, the seed and the plan.
 * TypeScript scenario modules get tsx's loader.
 */
export function replayCommand(where: ScenarioLocation, seed: number, plan: FaultPlan): string {
  const script = displayPath(new URL(`./replay${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href);
  const mod = displayPath(where.module);
  const needsTsx = /\.(c|m)?ts$/.test(mod) || script.endsWith('.ts');
  return [
    'node',
    ...(needsTsx ? ['--import', 'tsx'] : []),
    script,
    '--scenario',
    shellQuote(`${mod}#${where.exportName}`),
    '--seed',
    String(seed),
    '--plan',
    shellQuote(JSON.stringify(plan)),
  ].join(' ');
}

/** A failing outcome as text: what failed, where, the seed, the plan and the replay command. */
export function formatFailure(o: ScenarioOutcome): string {
  if (!o.failure) return `scenario "${o.scenario}", seed ${o.seed}: passed (fingerprint ${o.fingerprint})`;
  const f = o.failure;
  const what =
    f.kind === 'invariant'
      ? `invariant "${f.name}" violated`
      : f.kind === 'check'
        ? 'final check failed'
        : f.kind === 'system-failed'
          ? 'the root supervisor gave up'
          : 'the run threw';
  return [
    `simulation failed: scenario "${o.scenario}", seed ${o.seed}`,
    `  ${what} after step ${f.step} at ${f.timeMs.toFixed(3)} ms (virtual):`,
    `  ${f.message}`,
    `  fingerprint: ${o.fingerprint}`,
    `  plan: ${JSON.stringify(o.plan)}`,
    o.replay ? `  replay: ${o.replay}` : '  replay: (give the scenario `module: import.meta.url` and export it to get a replay command)',
  ].join('\n');
}
