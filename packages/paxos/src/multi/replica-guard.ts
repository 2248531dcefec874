/**
 * The guard: what keeps a slot whose apply kills the replica (an endless loop, memory exhausted,
 * `process.exit` in the state machine) from restarting it forever. Whatever `apply` throws is
 * already a failed command; this is for what cannot be caught.
 *
 * After a restart, and past the point it may have died at (see `learnGuardLimit`), the replica
 * applies slots in ranges under a durable guard: it persists "applying [from, to),
 * attempt k" and applies the range only once that is durable (persist before send: the message
 * that starts the apply waits for it). Dying within a range leaves the guard: the next restart
 * single-steps through that range, and a single slot that kills it `maxApplyAttempts` times
 * stops the replica there, with its commands named, instead of a silent endless loop. Every
 * replica applies the same log, so they all stop at the same slot; the divergence watchers (the
 * ReplicatedStateMachine) hear it and fail the operations waiting. Raising `maxApplyAttempts`
 * (after fixing the machine) lets it try again.
 *
 * Pure: it touches the world only through `ctx`.
 */
import type { PersistKey } from '@synod/actors';
import { SlotReader } from '@synod/smr';
import type { Ctx, Guard, MDivergence, ReplicaState } from './replica-state.js';

/** Slots per guarded range when nothing is suspected. */
const RANGE = 64;

/** What is persisted before a range is applied: the range, and what was already suspected. */
interface GuardEntry {
  current: Range;
  suspect: SuspectRange | null;
}
interface Range {
  from: number;
  to: number;
}
interface SuspectRange extends Range {
  deaths: number;
}

const sameRange = (a: Range, b: Range): boolean => a.from === b.from && a.to === b.to;

/**
 * The guard a restart starts with (null at the first start: nothing was ever persisted). A
 * guard entry found means the replica died while applying its `current` range: that range is
 * now suspect, once more if it already was.
 */
export function guardFromRecovered(entries: Map<PersistKey, unknown>): Guard | null {
  if (!entries.has('started')) return null;
  const g = entries.get('guard') as GuardEntry | undefined;
  let suspect: SuspectRange | null = null;
  if (g !== undefined && g.current && g.current.to > g.current.from) {
    const before = g.suspect && sameRange(g.suspect, g.current) ? g.suspect.deaths : 0;
    suspect = { from: g.current.from, to: g.current.to, deaths: before + 1 };
  }
  return { until: -1, suspect, current: null };
}

/**
 * How far to guard: past the point the replica may have died at. That point is below what was
 * chosen when it died, which a new leader may not have chosen again yet (the first commit point
 * heard can be lower), and at most about `snapshotEvery` slots past its last snapshot (snapshots
 * come every that many slots): so the farther of the first commit point heard and twice that
 * distance past the snapshot it restarted from.
 */
export function learnGuardLimit(s: ReplicaState): void {
  const g = s.guard;
  if (g === null || g.until >= 0 || s.knownUpTo <= 0) return;
  const snapshotAt = s.snapshot?.index ?? 0;
  g.until = Math.max(s.knownUpTo, snapshotAt + 2 * s.opts.snapshotEvery, g.suspect?.to ?? 0);
}

/**
 * Whether the apply loop must stop for the guard: while the next range's guard is not durable
 * yet (or the limit is not known yet). Past the limit the guard ends.
 */
export function guarding(s: ReplicaState): boolean {
  const g = s.guard;
  if (g === null) return false;
  const applied = s.exec.appliedUpTo;
  if (g.until < 0) return true;
  if (applied >= g.until) {
    s.guard = null;
    s.guardEnded = true;
    return false;
  }
  return !(g.current !== null && g.current.durable && applied < g.current.to);
}

/** The current range's guard is durable: its slots may be applied. */
export function applyGuarded(s: ReplicaState): void {
  const c = s.guard?.current;
  if (c) c.durable = true;
}

/** After the apply loop: a range done, start the next; past the limit, remove the guard. */
export function afterGuardedApply(s: ReplicaState, ctx: Ctx): void {
  if (s.guardEnded) {
    s.guardEnded = false;
    ctx.persistEntry('guard', undefined);
  }
  const g = s.guard;
  if (g === null || g.until < 0 || s.halted !== null) return;
  if (g.current !== null && s.exec.appliedUpTo >= g.current.to) g.current = null;
  if (g.current === null && s.ahead.has(s.exec.appliedUpTo)) nextGuardedRange(s, g, ctx);
}

/** Persists the guard of the next range, and asks to apply it once that is durable. */
function nextGuardedRange(s: ReplicaState, g: Guard, ctx: Ctx): void {
  const from = s.exec.appliedUpTo;
  let to = Math.min(g.until, from + RANGE);
  const sus = g.suspect;
  if (sus !== null && from >= sus.to) g.suspect = null;
  else if (sus !== null && from < sus.from) {
    to = Math.min(to, sus.from); // up to the suspect range, which keeps its count
  } else if (sus !== null) {
    if (sus.to - sus.from > 1) {
      to = from + 1; // it died somewhere in this range: one slot at a time
    } else {
      // This very slot killed it `deaths` times.
      if (sus.deaths >= s.opts.maxApplyAttempts) {
        halt(s, from, sus.deaths, ctx);
        return;
      }
      to = from + 1;
    }
  }
  g.current = { from, to, attempts: 0, durable: false };
  ctx.persistEntry('guard', { current: { from, to }, suspect: g.suspect } satisfies GuardEntry);
  ctx.send(ctx.self, { type: 'apply-guarded' });
}

/** Stops applying at `slot`: it killed this replica `attempts` times. */
export function halt(s: ReplicaState, slot: number, attempts: number, ctx: Ctx): void {
  const value = s.ahead.get(slot);
  const commands: string[] = [];
  let count = 0;
  if (value) {
    try {
      const r = new SlotReader().reset(value);
      while (r.nextRequest()) {
        while (r.nextCommand()) {
          if (count++ < 5) commands.push(`command ${r.seq} of session ${r.clientId}/${r.sessionNos[r.sessionIndex]}`);
        }
      }
    } catch {
      /* a corrupt slot: named by its number alone */
    }
  }
  const which = count === 0 ? 'a no-op' : `${count} command${count === 1 ? '' : 's'}: ${commands.join(', ')}${count > 5 ? ', …' : ''}`;
  const detail =
    `replica ${s.index} stopped applying at slot ${slot}: applying it killed the replica ${attempts} times (maxApplyAttempts ${s.opts.maxApplyAttempts}); ` +
    `the slot holds ${which}. Fix the state machine, then restart with a higher replica.maxApplyAttempts`;
  s.halted = { slot, detail };
  ctx.log.error(detail);
  const d: MDivergence = { type: 'divergence', replica: s.index, peer: s.index, from: slot, to: slot, detail, halted: true };
  for (const w of s.divergenceWatchers) ctx.send(w, d);
}
