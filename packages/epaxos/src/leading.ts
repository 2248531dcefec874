/**
 * Command leading: every replica leads the requests its clients send it. Requests that arrive in
 * one turn share an instance (bounded by `maxBatchCommands` and `maxBatchBytes`), at most `window`
 * of this replica's instances are being decided at once, and more requests wait (at most
 * `maxPendingCommands`; beyond, clients are told to retry). A request is the bytes its client
 * wrote, as they will be executed: the leader concatenates whole requests into the instance's
 * value and reads them only to find the keys they touch (interference.ts). It remembers where each
 * client's outcomes go (a route: never in the log).
 *
 * Barriers (instances that interfere with every command) are proposed here too: for reads
 * (reads.ts), and every `barrierEveryInstances` instances led, for digests and the quota.
 *
 * Pure: it touches the world only through `ctx`.
 */
import { SlotBuilder, type MClientRequest } from '@synod/smr';
import { newCoordination, startPreAccept } from './coordinate.js';
import { instanceKey } from './ids.js';
import { keysOfBatch } from './interference.js';
import type { Proposal } from './messages.js';
import { attachReads } from './reads.js';
import { OWN_KEY } from './store.js';
import type { Ctx, EPaxosState } from './state.js';

const builder = new SlotBuilder();

export function onRequest(s: EPaxosState, m: MClientRequest, ctx: Ctx): void {
  if (s.pendingCommands + m.commands > s.eopts.maxPendingCommands && s.pendingCommands > 0) {
    s.stats.redirects++;
    ctx.send(m.from, {
      type: 'client-redirect',
      leader: ctx.self,
      busy: true,
      reads: false,
      reason: `replica ${s.index} has ${s.pendingCommands} commands waiting (maxPendingCommands ${s.eopts.maxPendingCommands}); retry later`,
    });
    return;
  }
  s.answers.route(m.client, m.from);
  s.pending.push({ bytes: m.bytes, commands: m.commands });
  s.pendingCommands += m.commands;
  queueFlush(s, ctx);
}

/** Proposes what waits, after the messages already queued (so a turn's requests share an instance). */
export function queueFlush(s: EPaxosState, ctx: Ctx): void {
  if (s.flushQueued) return;
  s.flushQueued = true;
  ctx.send(ctx.self, { type: 'flush' });
}

export function flush(s: EPaxosState, ctx: Ctx): void {
  s.flushQueued = false;
  const o = s.eopts;
  // A barrier goes first (reads wait for it), even with the window full.
  if (s.barrierWanted && s.ownInFlight <= o.window) {
    s.barrierWanted = false;
    const key = propose(s, { value: null, keys: null, seq: 0, deps: [] }, ctx);
    s.sinceBarrier = 0;
    attachReads(s, key, ctx);
  }
  while (s.pendingHead < s.pending.length && s.ownInFlight < o.window) {
    while (s.pendingHead < s.pending.length && (builder.count === 0 || (builder.commands < o.maxBatchCommands && builder.bytes < o.maxBatchBytes))) {
      const w = s.pending[s.pendingHead]!;
      if (builder.count > 0 && (builder.commands + w.commands > o.maxBatchCommands || builder.bytes + w.bytes.length > o.maxBatchBytes)) break;
      builder.add(w.bytes, w.commands);
      s.pendingCommands -= w.commands;
      s.pending[s.pendingHead++] = undefined as never;
    }
    const value = builder.finish();
    propose(s, { value, keys: keysOfBatch(s.machine.core, value), seq: 0, deps: [] }, ctx);
    if (++s.sinceBarrier >= o.barrierEveryInstances) {
      s.barrierWanted = true;
      queueFlush(s, ctx);
    }
  }
  if (s.pendingHead === s.pending.length) {
    s.pending = [];
    s.pendingHead = 0;
  } else if (s.pendingHead > 4096 && s.pendingHead * 2 > s.pending.length) {
    s.pending = s.pending.slice(s.pendingHead);
    s.pendingHead = 0;
  }
}

/** A new instance of this replica's row, with the attributes it holds (pre-accept, ballot 0). Returns its key. */
function propose(s: EPaxosState, what: Proposal, ctx: Ctx): number {
  const i = s.next++;
  const key = instanceKey(s.index, i);
  ctx.persistEntry(OWN_KEY, i);
  const attrs = s.conflicts.attributes(what.keys, key);
  const proposal: Proposal = { value: what.value, keys: what.keys, seq: attrs.seq, deps: attrs.deps };
  const c = newCoordination(key, 0, 'preaccept', proposal, ctx.now(), s.eopts.retransmitMs);
  s.coordinating.set(key, c);
  s.ownInFlight++;
  s.stats.led++;
  startPreAccept(s, c, ctx);
  return key;
}
