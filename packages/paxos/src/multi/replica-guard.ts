/**
 * The guard: what keeps a slot whose apply kills the replica (an endless loop, memory exhausted,
 * `process.exit` in the state machine) from restarting it forever. Whatever `apply` throws is
 * already a failed command; this is for what cannot be caught.
 *
 * After a restart, and up to the commit point it hears first (the point it died at is below it),
 * the replica applies slots in ranges under a durable guard: it persists "applying [from, to),
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

interface GuardEntry { from: number; to: number; attempts: number }

/** The guard a restart starts with (null at the first start: nothing was ever persisted). */
export function guardFromRecovered(entries: Map<PersistKey, unknown>): Guard | null {
  if (!entries.has('started')) return null;
  const g = entries.get('guard') as GuardEntry | undefined;
  const suspect = g !== undefined && Number.isSafeInteger(g.from) && Number.isSafeInteger(g.to) && g.to > g.from ? g : null;
  return { until: -1, suspect, current: null };
}

/** The first commit point heard after a restart bounds the guarded stretch. */
export function learnGuardLimit(s: ReplicaState): void {
  const g = s.guard;
  if (g !== null && g.until < 0 && s.knownUpTo > 0) g.until = s.knownUpTo;
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
  let attempts = 1;
  const sus = g.suspect;
  if (sus !== null && from >= sus.to) g.suspect = null;
  else if (sus !== null && from >= sus.from) {
    // It died somewhere in this range: one slot at a time; a single slot counts its attempts.
    to = from + 1;
    if (sus.to - sus.from === 1) {
      attempts = sus.attempts + 1;
      if (attempts > s.opts.maxApplyAttempts) {
        halt(s, from, sus.attempts, ctx);
        return;
      }
    }
  }
  g.current = { from, to, attempts, durable: false };
  ctx.persistEntry('guard', { from, to, attempts } satisfies GuardEntry);
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
    } catch { /* a corrupt slot: named by its number alone */ }
  }
  const which = count === 0 ? 'a no-op' : `${count} command${count === 1 ? '' : 's'}: ${commands.join(', ')}${count > 5 ? ', …' : ''}`;
  const detail = `replica ${s.index} stopped applying at slot ${slot}: applying it killed the replica ${attempts} times (maxApplyAttempts ${s.opts.maxApplyAttempts}); ` +
    `the slot holds ${which}. Fix the state machine, then restart with a higher replica.maxApplyAttempts`;
  s.halted = { slot, detail };
  ctx.log.error(detail);
  const d: MDivergence = { type: 'divergence', replica: s.index, peer: s.index, from: slot, to: slot, detail, halted: true };
  for (const w of s.divergenceWatchers) ctx.send(w, d);
}
