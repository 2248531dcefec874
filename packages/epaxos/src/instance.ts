/**
 * One instance as a replica holds it, named as in the paper: its command (a batch of client
 * requests, or null), its attributes (`seq`, `deps`), its status, and two ballots. `bal` is the
 * ballot this replica promised for it; `vbal` the ballot of its last vote (pre-accept or accept).
 * The paper keeps one ballot; Sutra showed that recovery must choose by the ballot a replica
 * *voted* in, not the one it promised (a prepare raises the promise without a vote), so both are
 * kept, as Paxos keeps promised and accepted ballots.
 *
 * Dependencies are a vector: `deps[q]` means "every instance of replica q numbered up to deps[q]"
 * (0: none). A replica adds, per leader, the highest instance it holds that interferes; everything
 * below it comes along. The set is larger than the interfering instances alone, which only adds
 * order; it is N numbers whatever the load, and stays correct when an instance in between is
 * recovered as a no-op.
 */
import { formatInstance } from './ids.js';

/** `None`: only a promise is held (a prepare came before any vote). */
export const enum Status {
  None = 0,
  PreAccepted = 1,
  Accepted = 2,
  Committed = 3,
  Executed = 4,
}

export interface Instance {
  /** instanceKey(leader, number). */
  key: number;
  status: Status;
  bal: number;
  vbal: number;
  value: Uint8Array | null;
  /** Hashed keys its commands touch; null: every key (a barrier, or a command whose keys are unknown). */
  keys: number[] | null;
  seq: number;
  deps: number[];
  /** Pre-accepted in ballot 0 with exactly the attributes the leader proposed (this replica added nothing). */
  unchanged: boolean;
}

/** What is persisted of an instance (plain data; the status `Executed` is not: execution is redone after a restart). */
export interface InstanceRecord {
  s: Status;
  b: number;
  vb: number;
  v: Uint8Array | null;
  k: number[] | null;
  q: number;
  d: number[];
  u: boolean;
}

export function toRecord(x: Instance): InstanceRecord {
  return { s: x.status === Status.Executed ? Status.Committed : x.status, b: x.bal, vb: x.vbal, v: x.value, k: x.keys, q: x.seq, d: x.deps, u: x.unchanged };
}

export function fromRecord(key: number, r: InstanceRecord): Instance {
  return { key, status: r.s, bal: r.b, vbal: r.vb, value: r.v, keys: r.k, seq: r.q, deps: r.d, unchanged: r.u };
}

/** An instance that interferes with nothing (recovered with nobody holding its command). */
export function isNoop(x: { value: Uint8Array | null; keys: number[] | null }): boolean {
  return x.value === null && x.keys !== null && x.keys.length === 0;
}

/** An instance that interferes with every command and carries none: a barrier (reads, checkpoints). */
export function isBarrier(x: { value: Uint8Array | null; keys: number[] | null }): boolean {
  return x.value === null && x.keys === null;
}

export function sameDeps(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function sameKeys(a: readonly number[] | null, b: readonly number[] | null): boolean {
  if (a === null || b === null) return a === b;
  return sameDeps(a, b);
}

export function sameValue(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === b) return true;
  if (a === null || b === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether two proposals are the same command with the same attributes. */
export function sameProposal(
  a: { value: Uint8Array | null; keys: number[] | null; seq: number; deps: readonly number[] },
  b: { value: Uint8Array | null; keys: number[] | null; seq: number; deps: readonly number[] },
): boolean {
  return a.seq === b.seq && sameDeps(a.deps, b.deps) && sameKeys(a.keys, b.keys) && sameValue(a.value, b.value);
}

export function describeInstance(x: Instance): string {
  const what = isNoop(x) ? 'a no-op' : isBarrier(x) ? 'a barrier' : `${x.value?.length ?? 0} bytes`;
  return `${formatInstance(x.key)} (${what}, seq ${x.seq}, deps [${x.deps.join(',')}])`;
}
