/**
 * The simulated network: per-link behaviour (latency, drop, duplicate, reorder) from the plan's
 * background plus the degradations in force, and the cuts of partitions. Links are FIFO unless a
 * message is picked for reordering. Tables are rebuilt when faults change (rare) so that the
 * per-message decision is a few array reads and, only for rates above zero, a random draw.
 */
import type { Prng } from '../random.js';
import { Sampler, type Distribution } from './distribution.js';
import type { LinkRates, LinkRule, NodeSelector } from './plan.js';

/** Background network when the plan says nothing: FIFO links, 0.5..2 ms, no loss. */
export const defaultNetwork: Required<Omit<LinkRates, 'reorderDelay'>> & { reorderDelay: Distribution } = {
  latency: { kind: 'uniform', minMs: 0.5, maxMs: 2 },
  drop: 0,
  duplicate: 0,
  reorder: 0,
  reorderDelay: { kind: 'uniform', minMs: 0, maxMs: 10 },
};

/** The behaviour of one directed link, compiled. */
class Link {
  constructor(
    readonly latency: Sampler,
    readonly drop: number,
    readonly duplicate: number,
    readonly reorder: number,
    readonly reorderDelay: Sampler,
  ) {}
}

/** A network fault in force, with the id that ends it. */
type Active =
  | { id: number; kind: 'groups'; groups: number[][] }
  | { id: number; kind: 'isolate'; node: number }
  | { id: number; kind: 'cut'; from: number; to: number }
  | { id: number; kind: 'degrade'; from: number | '*'; to: number | '*'; rates: LinkRates };

/** What {@link Network.decide} concluded for one message. */
export const enum Outcome {
  Deliver = 0,
  Partitioned = 1,
  Dropped = 2,
}

/** The network of one simulation: link tables, faults in force, and the per-message decision. */
export class Network {
  private stride = 0;
  private links: Link[] = [];
  private blocked = new Uint8Array(0);
  /** Delivery time of the last FIFO message per link: later ones never arrive before it. */
  private lastAt = new Float64Array(0);
  private nodes = 0;
  private readonly active: Active[] = [];
  private dirty = true;
  /** Set by {@link decide}: when the message arrives, and when its duplicate does (NaN: none). */
  at = 0;
  dupAt = Number.NaN;

  constructor(
    private readonly rng: Prng,
    private readonly base: LinkRates,
    private readonly rules: readonly LinkRule[],
    /** Resolves an actor name in a rule to its node (undefined while it does not exist). */
    private readonly resolve: (sel: NodeSelector) => number | undefined,
  ) {}

  /** Whether the background rules name actors (then a new actor may change the tables). */
  get rulesUseNames(): boolean {
    return this.rules.some((r) => (typeof r.from === 'string' && r.from !== '*') || (typeof r.to === 'string' && r.to !== '*'));
  }

  /** The number of nodes (0 .. n-1) changed, or an actor a rule names appeared. */
  setNodes(n: number): void {
    this.nodes = n;
    this.dirty = true;
  }

  invalidate(): void {
    this.dirty = true;
  }

  /** Adds a network fault (node selectors already resolved). */
  add(fault: Active): void {
    this.active.push(fault);
    this.dirty = true;
  }

  /** Ends one fault; false if it was already over (healed). */
  end(id: number): boolean {
    const i = this.active.findIndex((a) => a.id === id);
    if (i < 0) return false;
    this.active.splice(i, 1);
    this.dirty = true;
    return true;
  }

  /** Ends every fault in force; returns how many there were. */
  heal(): number {
    const n = this.active.length;
    this.active.length = 0;
    this.dirty = true;
    return n;
  }

  /** Faults in force (for views and tests). */
  get faultsInForce(): number {
    return this.active.length;
  }

  isBlocked(from: number, to: number): boolean {
    if (this.dirty) this.rebuild();
    return from < this.stride && to < this.stride && this.blocked[from * this.stride + to] === 1;
  }

  /** Decides the fate of one message from `from` to `to` sent at `now`. */
  decide(from: number, to: number, now: number): Outcome {
    if (this.dirty) this.rebuild();
    const i = from * this.stride + to;
    if (this.blocked[i] === 1) return Outcome.Partitioned;
    const link = this.links[i]!;
    const rng = this.rng;
    if (link.drop > 0 && rng.next() < link.drop) return Outcome.Dropped;
    this.at = this.arrival(link, i, now);
    this.dupAt = link.duplicate > 0 && rng.next() < link.duplicate ? this.arrival(link, i, now) : Number.NaN;
    return Outcome.Deliver;
  }

  private arrival(link: Link, i: number, now: number): number {
    let at = now + link.latency.sample(this.rng);
    if (link.reorder > 0 && this.rng.next() < link.reorder) return at + link.reorderDelay.sample(this.rng);
    const last = this.lastAt[i]!;
    if (at < last) at = last;
    this.lastAt[i] = at;
    return at;
  }

  private rebuild(): void {
    this.dirty = false;
    const n = this.nodes;
    if (n > this.stride) {
      // Grow in powers of two, keeping each link's FIFO position.
      let s = Math.max(4, this.stride);
      while (s < n) s *= 2;
      const lastAt = new Float64Array(s * s);
      for (let f = 0; f < this.stride; f++) for (let t = 0; t < this.stride; t++) lastAt[f * s + t] = this.lastAt[f * this.stride + t]!;
      this.lastAt = lastAt;
      this.stride = s;
    }
    const s = this.stride;
    const resolved = this.rules.map((r, i) => ({ from: this.sel(r.from), to: this.sel(r.to), rates: r as LinkRates, key: `r${i}` }));
    const degrades = this.active.filter((a): a is Extract<Active, { kind: 'degrade' }> => a.kind === 'degrade');
    const links: Link[] = new Array(s * s);
    const blocked = new Uint8Array(s * s);
    const cache = new Map<string, Link>();
    for (let f = 0; f < s; f++) {
      for (let t = 0; t < s; t++) {
        const layers: LinkRates[] = [this.base];
        // Links with the same layers share one compiled object.
        let key = '';
        for (const r of resolved)
          if (matches(r.from, f) && matches(r.to, t)) {
            layers.push(r.rates);
            key += r.key;
          }
        for (const d of degrades)
          if (matches(d.from, f) && matches(d.to, t)) {
            layers.push(d.rates);
            key += `d${d.id}`;
          }
        let link = cache.get(key);
        if (!link) {
          link = compile(layers);
          cache.set(key, link);
        }
        links[f * s + t] = link;
        if (f !== t && this.cuts(f, t)) blocked[f * s + t] = 1;
      }
    }
    this.links = links;
    this.blocked = blocked;
  }

  private sel(v: NodeSelector | '*' | undefined): number | '*' | -1 {
    if (v === undefined || v === '*') return '*';
    const n = this.resolve(v);
    return n === undefined ? -1 : n;
  }

  private cuts(f: number, t: number): boolean {
    for (const a of this.active) {
      switch (a.kind) {
        case 'groups': {
          const gf = a.groups.findIndex((g) => g.includes(f));
          const gt = a.groups.findIndex((g) => g.includes(t));
          if (gf >= 0 && gt >= 0 && gf !== gt) return true;
          break;
        }
        case 'isolate':
          if (f === a.node || t === a.node) return true;
          break;
        case 'cut':
          if (f === a.from && t === a.to) return true;
          break;
        case 'degrade':
          break;
      }
    }
    return false;
  }
}

function matches(sel: number | '*' | -1, node: number): boolean {
  return sel === '*' || sel === node;
}

function compile(layers: readonly LinkRates[]): Link {
  const r: LinkRates = {};
  for (const l of layers) {
    if (l.latency !== undefined) r.latency = l.latency;
    if (l.drop !== undefined) r.drop = l.drop;
    if (l.duplicate !== undefined) r.duplicate = l.duplicate;
    if (l.reorder !== undefined) r.reorder = l.reorder;
    if (l.reorderDelay !== undefined) r.reorderDelay = l.reorderDelay;
  }
  return new Link(
    new Sampler(r.latency ?? defaultNetwork.latency),
    r.drop ?? 0,
    r.duplicate ?? 0,
    r.reorder ?? 0,
    new Sampler(r.reorderDelay ?? defaultNetwork.reorderDelay),
  );
}

/** A network fault in force (node selectors resolved). */
export type { Active as NetworkFault };
