/**
 * The keys of a batch of client requests: what the leader of an instance computes once, and every
 * replica uses to find what the instance interferes with.
 *
 * A command touches the keys its state machine names (`MachineCore.keys`) and the key of its
 * client session: the executor applies a session's commands only in the session's order (a later
 * one first is a gap, refused), so they must be ordered as every replica orders them, which
 * EPaxos does only for commands that interfere. A command whose keys are unknown (no `keys`, or
 * null, or a throw) touches every key, and so does the first command of a session: it creates the
 * session, and with `maxSessions` reached it makes every replica forget the session created first
 * (`evictFirstCreated`), which must happen at the same point of every session's commands on every
 * replica.
 */
import { hashString } from '@synod/actors/internals';
import { SlotReader, type MachineCore } from '@synod/smr';

const reader = new SlotReader();

/** Sorted, distinct hashed keys, or null for every key. */
export function keysOfBatch(machine: MachineCore, value: Uint8Array): number[] | null {
  const keys = new Set<number>();
  const r = reader.reset(value);
  while (r.nextRequest()) {
    while (r.nextCommand()) {
      if (r.seq === 1) return null;
      keys.add(hashString(`\u0000session ${r.clientId}/${r.sessionNos[r.sessionIndex]!}`));
      let named: readonly string[] | null | undefined;
      try {
        named = machine.keys?.(r.command);
      } catch {
        named = null;
      }
      if (named === undefined || named === null) return null;
      for (const k of named) keys.add(hashString(k));
    }
  }
  return [...keys].sort((a, b) => a - b);
}
