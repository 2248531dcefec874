// examples/src/abd/invariants.ts
import type { SimView } from '@synod/actors/sim';
import { newer, type Tag } from './messages.js';
import type { ReplicaState } from './replica.js';

/**
 * What must hold after every step: a replica's durable tag never goes back, across its
 * restarts too (it acknowledged a put only once the put was durable). Returns an explanation, or
 * true.
 */
export function abdInvariant(replicas: string[]): (view: SimView) => true | string {
  const last = new Map<string, Tag>();
  return (view) => {
    for (const name of replicas) {
      const durable = view.durableData(name);
      if (durable === undefined || !durable.hasState) continue;
      const tag = (durable.state as ReplicaState).tag;
      const before = last.get(name);
      if (before !== undefined && newer(before, tag)) return `${name} went back from tag ${before.ts}.${before.writer} to ${tag.ts}.${tag.writer}`;
      last.set(name, tag);
    }
    return true;
  };
}
