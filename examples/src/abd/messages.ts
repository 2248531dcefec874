// examples/src/abd/messages.ts
import type { ActorRef } from '@synod/actors';

/** A write's timestamp: higher `ts` wins; two writers with the same `ts` are ordered by id. */
export interface Tag { ts: number; writer: number }

export const ZERO: Tag = { ts: 0, writer: 0 };

export function newer(a: Tag, b: Tag): boolean {
  return a.ts > b.ts || (a.ts === b.ts && a.writer > b.writer);
}

/** What a replica is asked: its tag and value, or to keep a value if its tag is newer. */
export type ReplicaMsg =
  | { type: 'abd-get'; op: number; from: ActorRef<ClientMsg> }
  | { type: 'abd-put'; op: number; tag: Tag; value: string | null; from: ActorRef<ClientMsg> };

/** What a replica answers (`op` says which operation of the client it answers). */
export type ClientMsg =
  | { type: 'abd-got'; op: number; replica: number; tag: Tag; value: string | null }
  | { type: 'abd-put-ok'; op: number; replica: number };
