/**
 * Fault plans: plain JSON that says what goes wrong and when. A failing run prints its seed and
 * its plan; the plan replays exactly because every fault is data, and every random choice made
 * while applying it comes from the seed.
 */
import { Prng } from '../random.js';
import { checkDistribution, type Distribution } from './distribution.js';
import { PlanError } from './errors.js';

/** A simulated node: its number, or the name of an actor on it (resolved when the fault applies). */
export type NodeSelector = number | string;

/** Network behaviour of a link (or of every link). Rates are probabilities in 0..1. */
export interface LinkRates {
  /** Delay of each message. */
  latency?: Distribution;
  /** Probability that a message is lost. */
  drop?: number;
  /** Probability that a message is delivered twice. */
  duplicate?: number;
  /**
   * Probability that a message is held back by an extra `reorderDelay` outside the link's FIFO
   * order, so later messages overtake it. Links are FIFO otherwise, like MessagePorts.
   */
  reorder?: number;
  /** The extra delay of a reordered message. Default uniform 0..10 ms. */
  reorderDelay?: Distribution;
}

/** Link behaviour for messages from `from` to `to` (omitted or `'*'`: any node). */
export interface LinkRule extends LinkRates {
  from?: NodeSelector | '*';
  to?: NodeSelector | '*';
}

/** The simulated disk behind `file` storage. */
export interface DiskPlan {
  /** Time an fsync takes; writes made meanwhile wait for the next one (group commit). */
  syncDelay?: Distribution;
  /**
   * What a node crash leaves of writes not yet synced: `lost` (default) keeps none;
   * `random-prefix` keeps a seeded random prefix (the OS may have flushed some of them).
   */
  unsyncedOnCrash?: 'lost' | 'random-prefix';
  /**
   * Probability that, at a crash, the first write after the surviving ones was half written (a
   * torn record): recovery cuts it off, as the file store's checksums do, so the recovered state
   * reflects only complete records.
   */
  tornWriteRate?: number;
}

/** One fault. Network faults last `durationMs` (or until a `heal`); process faults are instant. */
export type Fault =
  /** Splits the listed groups from each other (both ways). Unlisted nodes reach everyone. */
  | { kind: 'partition'; groups: NodeSelector[][]; durationMs?: number }
  /** Cuts every link of one node, both ways. */
  | { kind: 'isolate'; node: NodeSelector; durationMs?: number }
  /** Cuts one direction of one link. */
  | { kind: 'cut'; from: NodeSelector; to: NodeSelector; durationMs?: number }
  /** Changes the rates of matching links (drop, duplicate, reorder, latency) for a while. */
  | ({ kind: 'degrade'; from?: NodeSelector | '*'; to?: NodeSelector | '*'; durationMs?: number } & LinkRates)
  /** Ends every partition, cut and degradation in force: the network is back to the plan's background. */
  | { kind: 'heal' }
  /**
   * Kills a node as a worker crash would: all its actors crash, unsynced disk writes are lost,
   * messages arriving while it is down are lost (and reported as dead letters). Supervisors
   * restart its actors; with `downMs`, not before then. Messages still on the wire when it comes
   * back are delivered to the new incarnation, as a network would: protocols must expect them.
   */
  | { kind: 'crash-node'; node: NodeSelector; downMs?: number }
  /** Crashes one actor as if its handler had thrown. */
  | { kind: 'crash-actor'; actor: string }
  /** Stops a node from running anything for `durationMs` (a GC pause, a stuck thread); events wait. */
  | { kind: 'pause'; node: NodeSelector; durationMs: number };

/** The kinds of fault a plan can hold. */
export type FaultKind = Fault['kind'];

/** A fault and the virtual time it happens at (ms from the start of the simulation). */
export type TimedFault = Fault & { atMs: number };

/** What goes wrong in a run. Plain JSON. */
export interface FaultPlan {
  /** Background behaviour of every link. */
  network?: LinkRates;
  /** Background behaviour of some links, applied in order over `network`. */
  links?: LinkRule[];
  disk?: DiskPlan;
  /** Timed faults. Faults at the same time apply in list order. */
  faults?: TimedFault[];
}

const faultKinds: readonly FaultKind[] = ['partition', 'isolate', 'cut', 'degrade', 'heal', 'crash-node', 'crash-actor', 'pause'];

function checkRate(v: unknown, where: string): void {
  if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= 1))
    throw new PlanError(`${where} must be a probability within 0..1, got ${JSON.stringify(v)}`);
}

function checkNode(v: unknown, where: string, wildcard = false): void {
  if (wildcard && (v === undefined || v === '*')) return;
  const ok = (typeof v === 'number' && Number.isInteger(v) && v >= 0) || (typeof v === 'string' && v.length > 0 && v !== '*');
  if (!ok) throw new PlanError(`${where} must be a node number or an actor name${wildcard ? ' (or "*")' : ''}, got ${JSON.stringify(v)}`);
}

function checkMs(v: unknown, where: string, required: boolean): void {
  if (v === undefined && !required) return;
  if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw new PlanError(`${where} must be a finite number of ms >= 0, got ${JSON.stringify(v)}`);
}

/** Checks the rates of a link description. */
export function checkRates(r: LinkRates, where: string): void {
  checkRate(r.drop, `${where}.drop`);
  checkRate(r.duplicate, `${where}.duplicate`);
  checkRate(r.reorder, `${where}.reorder`);
  if (r.latency !== undefined) checkDistribution(r.latency, `${where}.latency`);
  if (r.reorderDelay !== undefined) checkDistribution(r.reorderDelay, `${where}.reorderDelay`);
}

/** Checks one fault (without its time). Throws a {@link PlanError} that says which field is wrong. */
export function checkFault(f: Fault, where = 'fault'): void {
  if (typeof f !== 'object' || f === null) throw new PlanError(`${where} must be an object with a "kind"`);
  if (!faultKinds.includes(f.kind))
    throw new PlanError(`${where}.kind must be one of ${faultKinds.join(', ')}, got ${JSON.stringify((f as { kind?: unknown }).kind)}`);
  switch (f.kind) {
    case 'partition':
      if (!Array.isArray(f.groups) || f.groups.length < 2 || !f.groups.every((g) => Array.isArray(g) && g.length > 0)) {
        throw new PlanError(`${where}.groups must list at least two non-empty groups of nodes, like [[1],[2,3]]`);
      }
      f.groups.forEach((g, i) => g.forEach((n, j) => checkNode(n, `${where}.groups[${i}][${j}]`)));
      checkMs(f.durationMs, `${where}.durationMs`, false);
      break;
    case 'isolate':
      checkNode(f.node, `${where}.node`);
      checkMs(f.durationMs, `${where}.durationMs`, false);
      break;
    case 'cut':
      checkNode(f.from, `${where}.from`);
      checkNode(f.to, `${where}.to`);
      checkMs(f.durationMs, `${where}.durationMs`, false);
      break;
    case 'degrade':
      checkNode(f.from, `${where}.from`, true);
      checkNode(f.to, `${where}.to`, true);
      checkRates(f, where);
      checkMs(f.durationMs, `${where}.durationMs`, false);
      break;
    case 'heal':
      break;
    case 'crash-node':
      checkNode(f.node, `${where}.node`);
      checkMs(f.downMs, `${where}.downMs`, false);
      break;
    case 'crash-actor':
      if (typeof f.actor !== 'string' || f.actor.length === 0) throw new PlanError(`${where}.actor must be an actor name`);
      break;
    case 'pause':
      checkNode(f.node, `${where}.node`);
      checkMs(f.durationMs, `${where}.durationMs`, true);
      break;
  }
}

/** Checks a whole plan. Throws a {@link PlanError} naming the first wrong field. */
export function checkPlan(plan: FaultPlan): void {
  if (typeof plan !== 'object' || plan === null || Array.isArray(plan)) throw new PlanError('a fault plan must be an object like {"faults":[...]}');
  if (plan.network !== undefined) checkRates(plan.network, 'plan.network');
  if (plan.links !== undefined) {
    if (!Array.isArray(plan.links)) throw new PlanError('plan.links must be an array of link rules');
    plan.links.forEach((l, i) => {
      checkNode(l.from, `plan.links[${i}].from`, true);
      checkNode(l.to, `plan.links[${i}].to`, true);
      checkRates(l, `plan.links[${i}]`);
    });
  }
  if (plan.disk !== undefined) {
    const d = plan.disk;
    if (d.syncDelay !== undefined) checkDistribution(d.syncDelay, 'plan.disk.syncDelay');
    if (d.unsyncedOnCrash !== undefined && d.unsyncedOnCrash !== 'lost' && d.unsyncedOnCrash !== 'random-prefix') {
      throw new PlanError(`plan.disk.unsyncedOnCrash must be "lost" or "random-prefix", got ${JSON.stringify(d.unsyncedOnCrash)}`);
    }
    checkRate(d.tornWriteRate, 'plan.disk.tornWriteRate');
  }
  if (plan.faults !== undefined) {
    if (!Array.isArray(plan.faults)) throw new PlanError('plan.faults must be an array of timed faults');
    plan.faults.forEach((f, i) => {
      checkMs(f?.atMs, `plan.faults[${i}].atMs`, true);
      checkFault(f, `plan.faults[${i}]`);
    });
  }
}

/** The fault kinds {@link randomPlan} draws from. Network degradations are split by what they do. */
export type RandomFaultKind = 'partition' | 'isolate' | 'cut' | 'drop' | 'duplicate' | 'delay' | 'reorder' | 'crash-node' | 'crash-actor' | 'pause';

/** Options of {@link randomPlan}. Every bound is named. */
export interface RandomPlanOptions {
  /** Nodes faults may hit (numbers or names of actors on them). */
  nodes: NodeSelector[];
  /** Actors `crash-actor` may hit. None: no actor crashes. */
  actors?: string[];
  /** Faults start within [startMs, endMs); a `heal` at `endMs` ends every network fault. */
  endMs: number;
  /** Default 0. */
  startMs?: number;
  /** Number of faults, drawn uniformly within [minFaults, maxFaults]. Default 1..6. */
  minFaults?: number;
  maxFaults?: number;
  /** Relative weights of the kinds. Default 1 each (crash-actor 0 without `actors`). */
  weights?: Partial<Record<RandomFaultKind, number>>;
  /** Duration of network faults and pauses, drawn within [min, max]. Default [10, 200]. */
  faultMs?: [number, number];
  /** A crashed node stays down up to this long. Default 100. */
  maxDownMs?: number;
  /** Background network and disk, copied into the plan. */
  network?: LinkRates;
  disk?: DiskPlan;
}

const randomKinds: readonly RandomFaultKind[] = ['partition', 'isolate', 'cut', 'drop', 'duplicate', 'delay', 'reorder', 'crash-node', 'crash-actor', 'pause'];

/** Rounds plan numbers so printed plans stay short (the plan is what replays, not the draw). */
const r3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * A seeded random fault plan: the same seed and options give the same plan. Use it as a
 * scenario's `plan(seed)` to explore many fault schedules in a campaign.
 */
export function randomPlan(seed: number, o: RandomPlanOptions): FaultPlan {
  if (!Array.isArray(o.nodes) || o.nodes.length === 0) throw new PlanError('randomPlan: nodes must list at least one node');
  checkMs(o.endMs, 'randomPlan: endMs', true);
  const startMs = o.startMs ?? 0;
  if (!(startMs <= o.endMs)) throw new PlanError('randomPlan: startMs must not be after endMs');
  const minFaults = o.minFaults ?? 1;
  const maxFaults = o.maxFaults ?? 6;
  if (!(Number.isInteger(minFaults) && Number.isInteger(maxFaults) && minFaults >= 0 && maxFaults >= minFaults)) {
    throw new PlanError('randomPlan: minFaults and maxFaults must be integers with 0 <= minFaults <= maxFaults');
  }
  const [minMs, maxMs] = o.faultMs ?? [10, 200];
  const maxDownMs = o.maxDownMs ?? 100;
  const actors = o.actors ?? [];
  const weights = randomKinds.map((k) => Math.max(0, o.weights?.[k] ?? (k === 'crash-actor' && actors.length === 0 ? 0 : 1)));
  if (actors.length === 0) weights[randomKinds.indexOf('crash-actor')] = 0;
  if (o.nodes.length < 2) {
    weights[randomKinds.indexOf('partition')] = 0;
    weights[randomKinds.indexOf('cut')] = 0;
  }
  const total = weights.reduce((a, b) => a + b, 0);
  const rng = new Prng((seed ^ 0x9a7b1e5) >>> 0);
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
  const span = () => r3(minMs + rng.next() * (maxMs - minMs));
  const count = total === 0 ? 0 : minFaults + rng.int(maxFaults - minFaults + 1);
  const faults: TimedFault[] = [];
  for (let i = 0; i < count; i++) {
    const atMs = r3(startMs + rng.next() * (o.endMs - startMs));
    let x = rng.next() * total;
    let kind: RandomFaultKind = randomKinds[0]!;
    for (let k = 0; k < randomKinds.length; k++) {
      x -= weights[k]!;
      if (x < 0) {
        kind = randomKinds[k]!;
        break;
      }
    }
    const node = pick(o.nodes);
    switch (kind) {
      case 'partition': {
        const shuffled = o.nodes.slice();
        for (let j = shuffled.length - 1; j > 0; j--) {
          const k = rng.int(j + 1);
          [shuffled[j], shuffled[k]] = [shuffled[k]!, shuffled[j]!];
        }
        const cutAt = 1 + rng.int(shuffled.length - 1);
        faults.push({ atMs, kind: 'partition', groups: [shuffled.slice(0, cutAt), shuffled.slice(cutAt)], durationMs: span() });
        break;
      }
      case 'isolate':
        faults.push({ atMs, kind: 'isolate', node, durationMs: span() });
        break;
      case 'cut': {
        let to = pick(o.nodes);
        while (to === node) to = pick(o.nodes);
        faults.push({ atMs, kind: 'cut', from: node, to, durationMs: span() });
        break;
      }
      case 'drop':
        faults.push({ atMs, kind: 'degrade', to: node, drop: r3(0.1 + rng.next() * 0.8), durationMs: span() });
        break;
      case 'duplicate':
        faults.push({ atMs, kind: 'degrade', from: node, duplicate: r3(0.1 + rng.next() * 0.8), durationMs: span() });
        break;
      case 'delay': {
        const lo = r3(2 + rng.next() * 20);
        faults.push({ atMs, kind: 'degrade', to: node, latency: { kind: 'uniform', minMs: lo, maxMs: r3(lo + rng.next() * 40) }, durationMs: span() });
        break;
      }
      case 'reorder':
        faults.push({
          atMs,
          kind: 'degrade',
          from: node,
          reorder: r3(0.2 + rng.next() * 0.7),
          reorderDelay: { kind: 'uniform', minMs: 0, maxMs: 10 },
          durationMs: span(),
        });
        break;
      case 'crash-node':
        faults.push({ atMs, kind: 'crash-node', node, downMs: r3(rng.next() * maxDownMs) });
        break;
      case 'crash-actor':
        faults.push({ atMs, kind: 'crash-actor', actor: pick(actors) });
        break;
      case 'pause':
        faults.push({ atMs, kind: 'pause', node, durationMs: span() });
        break;
    }
  }
  faults.sort((a, b) => a.atMs - b.atMs);
  faults.push({ atMs: o.endMs, kind: 'heal' });
  const plan: FaultPlan = { faults };
  if (o.network) plan.network = o.network;
  if (o.disk) plan.disk = o.disk;
  return plan;
}
