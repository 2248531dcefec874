/**
 * The instances a replica holds: kept in memory and durably (one entry per instance, persisted
 * before any message of the turn that changed it leaves), indexed for interference, and cut once
 * every live replica's snapshot covers them.
 *
 * Pure: it touches the world only through `ctx`.
 */
import { Status, sameKeys, toRecord, type Instance } from './instance.js';
import { JOURNAL_SIZE, type Ctx, type EPaxosState } from './state.js';

/** Durable keys besides instances (instance keys are numbers). */
export const OWN_KEY = 'own';
export const ROUND_KEY = 'round';
export const CUT_KEY = 'cut';

/** Stores a new or changed instance: in memory, durably, in the interference index. */
export function save(s: EPaxosState, x: Instance, ctx: Ctx): void {
  const before = s.instances.get(x.key);
  s.instances.set(x.key, x);
  ctx.persistEntry(x.key, toRecord(x));
  // The index holds (keys, instance, seq) already when an earlier vote had the same keys and seq:
  // pre-accept, accept and commit usually agree, and adding again walks every key for nothing.
  const indexed = before !== undefined && before.status !== Status.None && before.seq === x.seq && sameKeys(before.keys, x.keys);
  if (x.status !== Status.None && !indexed) s.conflicts.add(x);
  if (x.status === Status.PreAccepted || x.status === Status.Accepted) {
    if (!s.pendingSince.has(x.key)) s.pendingSince.set(x.key, ctx.now());
  } else {
    s.pendingSince.delete(x.key);
  }
  noteChange(s, x.key);
}

/**
 * Whether instance (q, i) is gone from the log here: executed and not held any more, because it
 * was cut (every live replica's snapshot covers it) or came in a snapshot this replica installed.
 * Such an instance is committed everywhere; a message about it is answered with `e-cut`.
 */
export function isCut(s: EPaxosState, q: number, i: number): boolean {
  const key = i * 32 + q;
  return (i <= s.cut[q]! || i <= s.executedUpTo[q]! || s.extraExecuted.has(key)) && !s.instances.has(key);
}

/** Whether instance (q, i) is executed here. */
export function isExecuted(s: EPaxosState, q: number, i: number): boolean {
  if (i <= s.executedUpTo[q]!) return true;
  const key = i * 32 + q;
  return s.instances.get(key)?.status === Status.Executed || s.extraExecuted.has(key);
}

/** Moves leader q's executed prefix over every executed instance that follows it. */
export function advanceExecuted(s: EPaxosState, q: number): void {
  let up = s.executedUpTo[q]!;
  for (;;) {
    const key = (up + 1) * 32 + q;
    if (s.instances.get(key)?.status === Status.Executed) up++;
    else if (s.extraExecuted.delete(key)) up++;
    else break;
  }
  s.executedUpTo[q] = up;
}

export function noteChange(s: EPaxosState, key: number): void {
  const j = s.journal;
  if (j === null) return;
  j.changed[j.changedCount % JOURNAL_SIZE] = key;
  j.changedCount++;
}

export function noteExecuted(s: EPaxosState, key: number): void {
  const j = s.journal;
  if (j === null) return;
  j.executed[j.executedCount % JOURNAL_SIZE] = key;
  j.epochs[j.executedCount % JOURNAL_SIZE] = s.barriers;
  j.executedCount++;
}

/**
 * Cuts the log: instances of leader q up to `stable[q]` (executed here and in every live
 * replica's snapshot) are forgotten, durably, with the cut point.
 */
export function cutLog(s: EPaxosState, stable: readonly number[], ctx: Ctx): void {
  let moved = false;
  for (let q = 0; q < s.n; q++) {
    const to = Math.min(stable[q]!, s.executedUpTo[q]!, s.snapshot?.executed[q] ?? 0);
    for (let i = s.cut[q]! + 1; i <= to; i++) {
      const key = i * 32 + q;
      if (s.instances.delete(key)) ctx.persistEntry(key, undefined);
      s.pendingSince.delete(key);
    }
    if (to > s.cut[q]!) {
      s.cut[q] = to;
      moved = true;
    }
  }
  if (moved) {
    ctx.persistEntry(CUT_KEY, [...s.cut]);
    s.conflicts.prune(s.cut);
  }
}
