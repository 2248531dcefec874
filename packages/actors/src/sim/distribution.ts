/**
 * Delays as plain data (so a fault plan stays JSON): fixed, uniform or exponential, each with a
 * bound. Samples come from the simulation's seeded generators only.
 */
import type { Prng } from '../random.js';
import { PlanError } from './errors.js';

/** A delay distribution, in milliseconds of virtual time. */
export type Distribution =
  | { kind: 'fixed'; ms: number }
  | { kind: 'uniform'; minMs: number; maxMs: number }
  /** `minMs` plus an exponential with mean `meanMs`, cut at `maxMs` (a long tail with a bound). */
  | { kind: 'exponential'; meanMs: number; minMs?: number; maxMs: number };

/** Checks a distribution from a plan; throws a {@link PlanError} naming `where`. */
export function checkDistribution(d: unknown, where: string): asserts d is Distribution {
  const nonNeg = (v: unknown, k: string) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new PlanError(`${where}: ${k} must be a finite number >= 0, got ${JSON.stringify(v)}`);
  };
  if (typeof d !== 'object' || d === null) throw new PlanError(`${where}: a distribution must be an object like {"kind":"uniform","minMs":1,"maxMs":5}`);
  const x = d as Record<string, unknown>;
  switch (x.kind) {
    case 'fixed':
      nonNeg(x.ms, 'ms');
      return;
    case 'uniform':
      nonNeg(x.minMs, 'minMs');
      nonNeg(x.maxMs, 'maxMs');
      if ((x.maxMs as number) < (x.minMs as number)) throw new PlanError(`${where}: maxMs (${String(x.maxMs)}) is below minMs (${String(x.minMs)})`);
      return;
    case 'exponential':
      nonNeg(x.meanMs, 'meanMs');
      nonNeg(x.maxMs, 'maxMs');
      if (x.minMs !== undefined) nonNeg(x.minMs, 'minMs');
      if ((x.maxMs as number) < ((x.minMs as number | undefined) ?? 0)) throw new PlanError(`${where}: maxMs is below minMs`);
      return;
    default:
      throw new PlanError(`${where}: kind must be "fixed", "uniform" or "exponential", got ${JSON.stringify(x.kind)}`);
  }
}

/**
 * A distribution compiled for the hot path: a numeric code and three numbers, the same shape
 * for every kind, so sampling is one switch with no allocation.
 */
export class Sampler {
  /** 0 fixed, 1 uniform, 2 exponential. */
  readonly code: number;
  readonly a: number;
  readonly b: number;
  readonly c: number;

  constructor(d: Distribution) {
    switch (d.kind) {
      case 'fixed':
        this.code = 0;
        this.a = d.ms;
        this.b = 0;
        this.c = d.ms;
        break;
      case 'uniform':
        this.code = 1;
        this.a = d.minMs;
        this.b = d.maxMs - d.minMs;
        this.c = d.maxMs;
        break;
      case 'exponential':
        this.code = 2;
        this.a = d.minMs ?? 0;
        this.b = d.meanMs;
        this.c = d.maxMs;
        break;
    }
  }

  sample(rng: Prng): number {
    switch (this.code) {
      case 0:
        return this.a;
      case 1:
        return this.a + rng.next() * this.b;
      default: {
        const x = this.a - this.b * Math.log(1 - rng.next());
        return x > this.c ? this.c : x;
      }
    }
  }
}
