/**
 * Reads without a leader.
 *
 * There is no single log index in EPaxos: replicas execute commands that do not interfere in
 * different orders, so two replicas that executed "as many" instances need not hold the same
 * state. What every replica does share are barriers: instances that interfere with every command
 * (`keys` null). Before the b-th barrier every replica has executed exactly the same instances, in
 * an order that agrees on every interfering pair, so all replicas pass through the same state
 * there. The number of barriers executed is the session point, the "index" the client protocol
 * carries:
 *
 *  - `linearizable` (and `lease`: without a leader there is no lease to lean on): the replica
 *    that receives the reads proposes a barrier (one for all the reads of a turn) and answers them
 *    when it executes that barrier, from the state there. The barrier goes through the protocol
 *    like a command, so every write acknowledged before the reads arrived is ordered before it.
 *    Their index is the barrier's number b (the state is the same on every replica there).
 *  - `session`: a replica answers once it has executed at least `afterIndex` barriers, from its
 *    state at that moment. Everything it had executed then comes before its next barrier on every
 *    replica (that barrier interferes with it), so the answer's index is barriers + 1, as is a
 *    command's outcome: a later read of the session, anywhere, waits for that barrier, which the
 *    replica holding the read proposes when none of its own is on the way.
 *  - `eventual`: any replica's state, at once.
 *
 * Pure: it touches the world only through `ctx`.
 */
import type { ActorRef } from '@synod/actors';
import type { ClientReply, MClientReads } from '@synod/smr';
import type { Instance } from './instance.js';
import { checkpoint } from './digests.js';
import type { Ctx, EPaxosState } from './state.js';

const sendOf =
  (ctx: Ctx) =>
  (to: ActorRef<any>, m: ClientReply): void =>
    ctx.send(to, m);

export function onReads(s: EPaxosState, m: MClientReads, ctx: Ctx): void {
  const send = sendOf(ctx);
  const query = (q: Uint8Array) => s.exec.query(q);
  if (s.restoring !== null) {
    s.answers.unavailable(m, m.from, s.barriers, `replica ${s.index} is installing a snapshot`, send);
    return;
  }
  switch (m.consistency) {
    case 'eventual':
      s.answers.reads(m, m.from, s.barriers + 1, ctx.now(), query, send);
      return;
    case 'session':
      // Served once `barriers >= afterIndex`: the answers' check is `point >= afterIndex`, with point = barriers + 1.
      s.answers.reads({ ...m, afterIndex: m.afterIndex + 1 }, m.from, s.barriers + 1, ctx.now(), query, send);
      if (s.answers.waitingReads > 0 && s.sessionBarrier === 0) wantBarrier(s, ctx);
      return;
    default:
      if (s.linearWaiting + s.linearQueue.length >= s.eopts.maxPendingReads) {
        s.stats.redirects++;
        send(m.from, {
          type: 'client-redirect',
          leader: ctx.self,
          busy: true,
          reads: true,
          reason: `replica ${s.index} has ${s.eopts.maxPendingReads} linearizable reads waiting for their barrier (maxPendingReads); retry later`,
        });
        return;
      }
      s.linearQueue.push(m);
      wantBarrier(s, ctx);
  }
}

/** A barrier at the next flush (the reads of this turn share it). */
export function wantBarrier(s: EPaxosState, ctx: Ctx): void {
  s.barrierWanted = true;
  if (!s.flushQueued) {
    s.flushQueued = true;
    ctx.send(ctx.self, { type: 'flush' });
  }
}

/** A barrier of this replica was proposed: the linearizable reads waiting go with it; session reads wait for it. */
export function attachReads(s: EPaxosState, barrier: number, ctx: Ctx): void {
  if (s.linearQueue.length > 0) {
    s.linearByBarrier.set(barrier, { reads: s.linearQueue, deadline: ctx.now() + s.opts.readTimeoutMs });
    s.linearWaiting += s.linearQueue.length;
    s.linearQueue = [];
  }
  if (s.sessionBarrier === 0 && s.answers.waitingReads > 0) s.sessionBarrier = barrier;
}

/** A barrier was executed: the common point moves; reads attached to it are answered; digests compared; quota decided. */
export function onBarrierExecuted(s: EPaxosState, x: Instance, ctx: Ctx): void {
  s.barriers++;
  s.stats.barriers++;
  const core = s.machine.core;
  let measure = s.appliedBytes;
  if (core.size) {
    try {
      measure = core.size(s.exec.state);
    } catch {
      /* the counted bytes stand in */
    }
  }
  s.exec.overQuota = measure > s.opts.maxStateBytes;
  const attached = s.linearByBarrier.get(x.key);
  if (attached !== undefined) {
    s.linearByBarrier.delete(x.key);
    s.linearWaiting -= attached.reads.length;
    const send = sendOf(ctx);
    for (const m of attached.reads)
      s.answers.reads({ ...m, consistency: 'session', afterIndex: 0 }, m.from, s.barriers, ctx.now(), (q) => s.exec.query(q), send);
  }
  if (x.key === s.sessionBarrier) s.sessionBarrier = 0;
  checkpoint(s, ctx);
}

/** An instance that reads were attached to was executed as something else (recovered as a no-op): they wait for a new barrier. */
export function requeueReads(s: EPaxosState, key: number, ctx: Ctx): void {
  const attached = s.linearByBarrier.get(key);
  if (attached !== undefined) {
    s.linearByBarrier.delete(key);
    s.linearWaiting -= attached.reads.length;
    s.linearQueue.push(...attached.reads);
    wantBarrier(s, ctx);
  }
  if (key === s.sessionBarrier) s.sessionBarrier = 0;
}

/** After executing, and on ticks: session reads whose point is reached; late ones answered "unavailable". */
export function serveSessionReads(s: EPaxosState, ctx: Ctx): void {
  if (s.answers.waitingReads === 0) return;
  s.answers.serve(s.barriers + 1, ctx.now(), (q) => s.exec.query(q), sendOf(ctx));
  if (s.answers.waitingReads > 0 && s.sessionBarrier === 0) wantBarrier(s, ctx);
}

/** On ticks: linearizable reads whose barrier did not come in time are answered "unavailable" (the client tries again). */
export function expireReads(s: EPaxosState, ctx: Ctx): void {
  const now = ctx.now();
  const late: number[] = [];
  s.linearByBarrier.forEach((r, key) => {
    if (now >= r.deadline) late.push(key);
  });
  for (const key of late) {
    const r = s.linearByBarrier.get(key)!;
    s.linearByBarrier.delete(key);
    s.linearWaiting -= r.reads.length;
    for (const m of r.reads)
      s.answers.unavailable(
        m,
        m.from,
        s.barriers,
        `the barrier for this read was not executed at replica ${s.index} within ${s.opts.readTimeoutMs} ms (readTimeoutMs)`,
        sendOf(ctx),
      );
  }
  serveSessionReads(s, ctx);
}
