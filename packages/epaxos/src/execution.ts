/**
 * Execution (paper, §4.3.2): a committed instance is executed once every instance it depends on,
 * transitively, is committed. The dependency graph from it is split into strongly connected
 * components (Tarjan); components are executed in reverse topological order (what an instance
 * depends on first), and the instances of one component by sequence number, then leader, then
 * number. Committed attributes are the same on every replica, so every replica executes
 * interfering instances in the same order; instances that do not interfere may go in any order.
 *
 * Each instance's value (a batch of client requests) goes to the executor of @synod/smr, as a
 * Multi-Paxos slot does: exactly once per session command, in each session's order, outcomes kept
 * for the clients. This replica answers the clients of the instances it led.
 *
 * An instance that interferes with every command (a barrier) is a point every replica passes
 * with the same instances executed before it: reads (reads.ts), digests and the quota are decided
 * there.
 *
 * Pure: it touches the world only through `ctx`.
 */
import { hashBytes } from '@synod/canonical';
import type { ActorRef } from '@synod/actors';
import { mixOutcome, type ClientReply, type ResultSink } from '@synod/smr';
import { leaderOf } from './ids.js';
import { Status, isNoop, type Instance } from './instance.js';
import { onBarrierExecuted, requeueReads, serveSessionReads } from './reads.js';
import { snapshotDue, startSnapshot } from './snapshots.js';
import { advanceExecuted, noteExecuted } from './store.js';
import type { Ctx, EPaxosState } from './state.js';

/** `Outcome.Ok` and `Outcome.Failed` of @synod/smr (a const enum of another package, read as numbers here). */
const OK = 0;
const FAILED = 1;

/** Where the executor's outcomes go: the digest of the instance, its clients (if this replica led it), change subscribers. */
export function sinkOf(s: EPaxosState): ResultSink {
  return {
    result(client, sessionNo, seq, outcome, bytes, command, applied, index) {
      // The commands are the instance's committed value, the same on every replica (the instance's
      // key seeds its digest): what can differ is what came of them, as in the executor's digest.
      const h = s.instanceDigest ^ seq;
      s.instanceDigest = bytes.length <= 4 ? mixOutcome(h, outcome, bytes) : hashBytes(bytes, h ^ outcome);
      if (applied && (outcome === OK || outcome === FAILED)) s.appliedBytes += command.commandLength;
      if (s.answering) s.answers.result(client, sessionNo, seq, outcome, bytes, command, applied, s.barriers + 1);
      if (applied && s.changes !== null) {
        // A copy: the command lies in the instance's bytes.
        s.changes.push({ slot: index - 1, client, sessionNo, seq, ok: outcome === OK, command: command.copyCommand(), result: bytes });
      }
    },
  };
}

/** An instance was committed here: execute what it unblocks. */
export function onCommitted(s: EPaxosState, key: number, ctx: Ctx): void {
  s.needed.delete(key);
  if (s.restoring !== null) return;
  const before = s.exec.appliedUpTo;
  executeFrom(s, key, ctx);
  const waiting = s.blocked.get(key);
  if (waiting !== undefined) {
    s.blocked.delete(key);
    for (const w of waiting) executeFrom(s, w, ctx);
  }
  if (s.exec.appliedUpTo !== before) afterExecute(s, ctx);
}

/** After a restart or a snapshot installed: executes every committed instance it can. */
export function executeAll(s: EPaxosState, ctx: Ctx): void {
  if (s.restoring !== null) return;
  const before = s.exec.appliedUpTo;
  s.blocked.clear();
  s.waitsFor.clear();
  const committed: number[] = [];
  s.instances.forEach((x, key) => {
    if (x.status === Status.Committed) committed.push(key);
  });
  committed.sort((a, b) => a - b);
  for (const key of committed) executeFrom(s, key, ctx);
  if (s.exec.appliedUpTo !== before) afterExecute(s, ctx);
}

interface Frame {
  key: number;
  x: Instance;
  q: number;
  j: number;
}

/**
 * Executes `root` and everything it depends on, if all of it is committed; else remembers that
 * `root` waits for the first instance found missing (and that execution needs it).
 *
 * Incremental: what a walk executes is never walked again (each leader's executed prefix is
 * skipped), and when a walk stops at a missing instance, every instance still on its stack
 * reaches that one (each is on the path to it, or in a component with an instance on the path),
 * so it is marked (`waitsFor`): a later walk that reaches it stops there too, at once, instead of
 * walking again everything behind it. Without the marks each commit re-walks every committed,
 * unexecuted instance behind a missing one: quadratic in the instances in flight per commit.
 */
function executeFrom(s: EPaxosState, root: number, ctx: Ctx): void {
  const x0 = s.instances.get(root);
  if (x0 === undefined || x0.status !== Status.Committed) return;
  if (waiting(s, root) >= 0) {
    block(s, root, s.waitsFor.get(root)!, ctx);
    return;
  }
  const index = new Map<number, number>();
  const low = new Map<number, number>();
  const stack: number[] = [];
  const onStack = new Set<number>();
  const frames: Frame[] = [];
  let counter = 0;
  const visit = (key: number, x: Instance): void => {
    index.set(key, counter);
    low.set(key, counter);
    counter++;
    stack.push(key);
    onStack.add(key);
    frames.push({ key, x, q: 0, j: s.executedUpTo[0]! + 1 });
  };
  const stop = (missing: number): void => {
    for (const k of stack) s.waitsFor.set(k, missing);
    block(s, root, missing, ctx);
  };
  visit(root, x0);
  while (frames.length > 0) {
    const f = frames[frames.length - 1]!;
    let child = -1;
    let childX: Instance | undefined;
    while (f.q < s.n) {
      // Children executed meanwhile moved the prefix on: skip it.
      if (f.j <= s.executedUpTo[f.q]!) f.j = s.executedUpTo[f.q]! + 1;
      if (f.j > f.x.deps[f.q]!) {
        f.q++;
        if (f.q < s.n) f.j = s.executedUpTo[f.q]! + 1;
        continue;
      }
      const j = f.j++;
      const w = j * 32 + f.q;
      if (w === f.key) continue;
      const y = s.instances.get(w);
      if (y !== undefined && y.status === Status.Executed) continue;
      if (y === undefined && s.extraExecuted.has(w)) continue;
      if (y === undefined || y.status !== Status.Committed) return stop(w);
      if (!index.has(w)) {
        const missing = waiting(s, w);
        if (missing >= 0) return stop(missing);
        child = w;
        childX = y;
        break;
      }
      if (onStack.has(w)) low.set(f.key, Math.min(low.get(f.key)!, index.get(w)!));
    }
    if (child >= 0) {
      visit(child, childX!);
      continue;
    }
    frames.pop();
    const parent = frames[frames.length - 1];
    if (parent !== undefined) low.set(parent.key, Math.min(low.get(parent.key)!, low.get(f.key)!));
    if (low.get(f.key) === index.get(f.key)) {
      const component: Instance[] = [];
      for (;;) {
        const k = stack.pop()!;
        onStack.delete(k);
        component.push(s.instances.get(k)!);
        if (k === f.key) break;
      }
      component.sort(executionOrder);
      for (const x of component) executeOne(s, x, ctx);
    }
  }
}

/** The instance a committed one was found waiting for, if that one is still not committed here; else -1 (and the mark goes). */
function waiting(s: EPaxosState, key: number): number {
  const missing = s.waitsFor.get(key);
  if (missing === undefined) return -1;
  const m = s.instances.get(missing);
  if ((m === undefined && !s.extraExecuted.has(missing) && !isExecutedPrefix(s, missing)) || (m !== undefined && m.status < Status.Committed)) return missing;
  s.waitsFor.delete(key);
  return -1;
}

function isExecutedPrefix(s: EPaxosState, key: number): boolean {
  return Math.floor(key / 32) <= s.executedUpTo[leaderOf(key)]!;
}

/** Within a strongly connected component: by sequence number, then leader, then number. */
function executionOrder(a: Instance, b: Instance): number {
  return a.seq - b.seq || leaderOf(a.key) - leaderOf(b.key) || a.key - b.key;
}

function block(s: EPaxosState, root: number, missing: number, ctx: Ctx): void {
  let list = s.blocked.get(missing);
  if (list === undefined) {
    list = [];
    s.blocked.set(missing, list);
  }
  if (!list.includes(root)) list.push(root);
  if (!s.needed.has(missing)) s.needed.set(missing, ctx.now());
}

function executeOne(s: EPaxosState, x: Instance, ctx: Ctx): void {
  const q = leaderOf(x.key);
  s.answering = q === s.index;
  s.instanceDigest = Math.imul(x.key | 0, 0x9e3779b1) ^ Math.floor(x.key / 4294967296);
  if (s.changes === null && s.subscribers.length > 0) s.changes = [];
  s.exec.applySlot(x.value, s.sink);
  s.answering = false;
  // A no-op interferes with nothing, barriers included: replicas may execute it on either side of
  // one, so it is left out of the digest compared there (it changed nothing).
  if (!isNoop(x)) s.logDigest = (s.logDigest + (s.instanceDigest >>> 0)) >>> 0;
  x.status = Status.Executed;
  s.waitsFor.delete(x.key);
  advanceExecuted(s, q);
  s.pendingSince.delete(x.key);
  noteExecuted(s, x.key);
  s.executedSinceSnapshot++;
  if (x.value !== null) s.bytesSinceSnapshot += x.value.byteLength;
  s.stats.executed++;
  if (x.keys === null) onBarrierExecuted(s, x, ctx);
  else if (s.linearByBarrier.has(x.key) || x.key === s.sessionBarrier) requeueReads(s, x.key, ctx);
}

/** After executing: outcomes to clients, changes to subscribers, progress, reads, snapshots. */
export function afterExecute(s: EPaxosState, ctx: Ctx): void {
  const send = (to: ActorRef<any>, m: ClientReply): void => ctx.send(to, m);
  s.answers.flushResults(s.barriers + 1, send);
  if (s.changes !== null && s.changes.length > 0) {
    const m = { type: 'changes' as const, replica: s.index, changes: s.changes };
    for (const sub of s.subscribers) ctx.send(sub, m);
  }
  s.changes = null;
  if (s.progressWatchers.length > 0) {
    const p = { type: 'progress' as const, replica: s.index, appliedUpTo: s.exec.appliedUpTo, commands: s.exec.applied };
    for (const w of s.progressWatchers) ctx.send(w, p);
  }
  serveSessionReads(s, ctx);
  if (s.writing === null && s.restoring === null && snapshotDue(s)) startSnapshot(s, ctx);
}
