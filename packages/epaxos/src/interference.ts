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
/** Hashed keys of the batch being read, duplicates included (grown as needed, reused: no garbage per batch). */
let scratch = new Uint32Array(4096);

/** Sorted, distinct hashed keys, or null for every key. */
export function keysOfBatch(machine: MachineCore, value: Uint8Array): number[] | null {
  let count = 0;
  const push = (h: number): void => {
    if (count === scratch.length) {
      const grown = new Uint32Array(scratch.length * 2);
      grown.set(scratch);
      scratch = grown;
    }
    scratch[count++] = h;
  };
  const r = reader.reset(value);
  while (r.nextRequest()) {
    // A request's commands mostly share a session or a few: its key is hashed once per request.
    const sessionKeys: (number | undefined)[] = [];
    while (r.nextCommand()) {
      if (r.seq === 1) return null;
      let sk = sessionKeys[r.sessionIndex];
      if (sk === undefined) {
        sk = hashString(`\u0000session ${r.clientId}/${r.sessionNos[r.sessionIndex]!}`);
        sessionKeys[r.sessionIndex] = sk;
        push(sk);
      }
      let named: readonly string[] | null | undefined;
      try {
        named = machine.keys?.(r.command);
      } catch {
        named = null;
      }
      if (named === undefined || named === null) return null;
      for (const k of named) push(hashString(k));
    }
  }
  const sorted = scratch.subarray(0, count).sort();
  const out: number[] = [];
  for (let i = 0; i < count; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) out.push(sorted[i]!);
  return out;
}
