/**
 * The Multi-Paxos replica: applies chosen slots strictly in order to its copy of the state
 * machine (the executor of @synod/smr: exactly once per session command, in each session's order,
 * and never taken down by what the machine throws), answers the clients of its node's leader,
 * serves reads at the consistency asked for, and keeps the log short with snapshots.
 *
 * Its parts: catch-up (`replica-catchup.ts`: slots it missed, from peers or the leader),
 * snapshots (`replica-snapshots.ts`: written and restored in chunks over many turns, and sent to
 * peers in chunks), digests (`replica-digests.ts`: replicas compare what they applied at the same
 * index), and the guard (`replica-guard.ts`: after a restart, a slot whose apply kills the
 * replica is found and the replica stops there instead of dying forever).
 *
 * Pure: it touches the world only through `ctx`.
 */
import { defineActor, sameRef, type ActorRef } from '@synod/actors';
import { IntMap } from '@synod/actors/internals';
import { ClientAnswers, Executor, Outcome, stateMachineByKey, type ClientReply, type MClientReads, type MClientRoutesLost, type ResultSink } from '@synod/smr';
import { assert } from '../assert.js';
import type { MApplied, SlotValue } from './messages.js';
import { checkNodeIndex, replicaOptions } from './options.js';
import { fetch, onFetch } from './replica-catchup.js';
import { checkpoint, onDigest } from './replica-digests.js';
import { afterGuardedApply, applyGuarded, guardFromRecovered, guarding, halt, learnGuardLimit } from './replica-guard.js';
import {
  SNAPSHOT_ID,
  type Ctx,
  type MChanges,
  type MDivergence,
  type MProgress,
  type MSubscriptionRefused,
  type ReplicaArgs,
  type ReplicaMsg,
  type ReplicaState,
} from './replica-state.js';
import { onSnapshotChunk, onSnapshotOffer, onSnapshotPull, restoreOwn, restoreStep, snapshotDue, snapshotStep, startSnapshot } from './replica-snapshots.js';

export { defaultReplicaOptions, type ReplicaOptions } from './options.js';
export type {
  AppliedChange,
  MChanges,
  MDivergence,
  MProgress,
  MSubscriptionRefused,
  ReplicaArgs,
  ReplicaMsg,
  ReplicaState,
} from './replica-state.js';

/** Commands applied since the last report that make a report due (about a full slot's worth). */
const REPORT_EVERY_COMMANDS = 1024;

export const Replica = defineActor<ReplicaState, ReplicaMsg, ReplicaArgs, unknown>({
  module: import.meta.url,
  label: 'Replica',
  storage: 'shared',

  init(args, ctx) {
    checkNodeIndex(args?.index, 'replica');
    const opts = replicaOptions(args.options, `replica ${args.index}: options`);
    const machine = stateMachineByKey(args.machine);
    const s: ReplicaState = {
      role: 'replica',
      index: args.index,
      machine,
      opts,
      replicas: args.replicas ?? [],
      leaders: args.leaders ?? [],
      exec: new Executor(machine.core, { maxSessions: opts.maxSessions, sessionWindow: opts.sessionWindow, maxStateBytes: opts.maxStateBytes }),
      answers: new ClientAnswers({ maxRoutes: opts.maxSessions, maxWaitingReads: opts.maxWaitingReads, readTimeoutMs: opts.readTimeoutMs }),
      ahead: new IntMap(),
      log: new IntMap(),
      snapshot: null,
      writing: null,
      wholeSnapshotNext: false,
      restoring: null,
      bytesSinceSnapshot: 0,
      slotsSinceSnapshot: 0,
      knownUpTo: 0,
      fetchAt: 0,
      nextPeer: args.index + 1,
      leaderIndex: -1,
      subscribers: [],
      progressWatchers: [],
      divergenceWatchers: [],
      changes: null,
      sink: null as unknown as ResultSink,
      commandsRead: 0,
      applyQueued: false,
      reportedUpTo: -1,
      reportedCommands: 0,
      checkpoints: new IntMap(),
      peerDigests: [],
      diverged: new Set(),
      guard: null,
      guardEnded: false,
      halted: null,
      incarnationStart: ctx.now(),
    };
    s.sink = sinkOf(s);
    const c = ctx as Ctx;
    const entries = ctx.recoveredEntries();
    // Anything recovered means this is a restart: apply under guards until past the point it died at.
    s.guard = guardFromRecovered(entries);
    const restarted = entries.has('started');
    if (!restarted) ctx.persistEntry('started', true);
    // The routes to clients went with the old incarnation (see MClientRoutesLost).
    const leader = s.leaders[args.index];
    if (restarted && leader !== undefined) ctx.send(leader, { type: 'client-routes-lost', replica: args.index } satisfies MClientRoutesLost);
    restoreOwn(s, c);
    for (const to of args.subscribers ?? []) subscribe(s, s.subscribers, to, 'subscribers', c);
    for (const to of args.progressWatchers ?? []) subscribe(s, s.progressWatchers, to, 'progress watchers', c);
    for (const to of args.divergenceWatchers ?? []) if (!s.divergenceWatchers.some((r) => sameRef(r, to))) s.divergenceWatchers.push(to);
    ctx.setTimer('tick', opts.tickMs, { type: 'tick' });
    return s;
  },

  inspect: (s) => ({
    role: s.role,
    index: s.index,
    machine: s.machine.key,
    appliedUpTo: s.exec.appliedUpTo,
    knownUpTo: s.knownUpTo,
    digest: s.exec.digest,
    sessions: s.exec.sessions.size,
    stateBytes: s.exec.stateBytes,
    ahead: s.ahead.size,
    log: s.log.size,
    snapshotAt: s.snapshot?.index ?? 0,
    snapshotBytes: s.snapshot?.bytes ?? 0,
    writingSnapshot: s.writing?.index ?? null,
    restoring: s.restoring ? { from: s.restoring.from, next: s.restoring.next, chunks: s.restoring.chunks } : null,
    reads: s.answers.waitingReads,
    routes: s.answers.routeCount,
    halted: s.halted,
    guarded: s.guard !== null,
  }),

  receive(s, msg, ctx) {
    const c = ctx as Ctx;
    switch (msg.type) {
      case 'm-decide':
      case 'm-entries':
        onDecide(s, msg.firstSlot, msg.values, c);
        break;
      case 'm-fetch':
        onFetch(s, msg, c);
        break;
      case 'm-heartbeat':
        // The leader's commit point: slots below it are chosen; fetch those we miss.
        s.leaderIndex = msg.leader;
        if (msg.commitUpTo > s.knownUpTo) s.knownUpTo = msg.commitUpTo;
        learnGuardLimit(s);
        if (s.exec.appliedUpTo < s.knownUpTo && !s.ahead.has(s.exec.appliedUpTo)) fetch(s, c, false);
        break;
      case 'client-reads':
        onReads(s, msg, c);
        break;
      case 'client-route':
        s.answers.route(msg.client, msg.to);
        break;
      case 'client-routes-clear':
        s.answers.clearRoutes();
        break;
      case 'm-snapshot-offer':
        onSnapshotOffer(s, msg, c);
        break;
      case 'm-snapshot-pull':
        onSnapshotPull(s, msg, c);
        break;
      case 'm-snapshot-chunk':
        if (onSnapshotChunk(s, msg, c)) afterRestore(s, c);
        break;
      case 'snapshot-step':
        snapshotStep(s, c);
        break;
      case 'snapshot-now':
        if (s.writing === null && s.restoring === null && s.slotsSinceSnapshot > 0) startSnapshot(s, c);
        break;
      case 'restore-step':
        if (restoreStep(s, c)) afterRestore(s, c);
        break;
      case 'apply-guarded':
        applyGuarded(s);
        applyReady(s, c);
        break;
      case 'apply-more':
        s.applyQueued = false;
        applyReady(s, c);
        if (s.exec.appliedUpTo < s.knownUpTo && !s.ahead.has(s.exec.appliedUpTo)) fetch(s, c, false);
        break;
      case 'm-digest':
        onDigest(s, msg, c);
        break;
      case 'subscribe':
        subscribe(s, s.subscribers, msg.to, 'subscribers', c);
        break;
      case 'watch-progress':
        subscribe(s, s.progressWatchers, msg.to, 'progress watchers', c);
        break;
      case 'watch-divergence':
        if (!s.divergenceWatchers.some((r) => sameRef(r, msg.to))) s.divergenceWatchers.push(msg.to);
        break;
      // Watchers that are done say so: a stopped one would otherwise get (dead) messages forever
      // and count against maxSubscribers.
      case 'unsubscribe':
        s.subscribers = s.subscribers.filter((r) => !sameRef(r, msg.to));
        break;
      case 'unwatch-progress':
        s.progressWatchers = s.progressWatchers.filter((r) => !sameRef(r, msg.to));
        break;
      case 'tick':
        onTick(s, c);
        break;
      case 'configure':
        if (msg.replicas) s.replicas = msg.replicas;
        if (msg.leaders) s.leaders = msg.leaders;
        break;
    }
  },
});

/**
 * Adds a subscriber (or progress watcher) once. Past `maxSubscribers` it is refused: it is told
 * so, and nothing else changes.
 */
function subscribe<T>(s: ReplicaState, list: ActorRef<T>[], to: ActorRef<T>, what: string, ctx: Ctx): void {
  if (list.some((r) => sameRef(r, to))) return;
  if (list.length >= s.opts.maxSubscribers) {
    const reason = `replica ${s.index} already has ${s.opts.maxSubscribers} ${what} (maxSubscribers); unsubscribe one first`;
    ctx.log.warn(reason);
    ctx.send(to as ActorRef<unknown>, { type: 'subscription-refused', replica: s.index, reason } satisfies MSubscriptionRefused);
    return;
  }
  list.push(to);
}

/** Chosen slots arrive (from the leader, or a peer): keep them, apply what is next in order. */
export function onDecide(s: ReplicaState, first: number, values: SlotValue[], ctx: Ctx): void {
  const end = first + values.length;
  if (end > s.knownUpTo) s.knownUpTo = end;
  learnGuardLimit(s);
  const applied = s.exec.appliedUpTo;
  for (let i = 0; i < values.length; i++) {
    const slot = first + i;
    if (slot >= applied && !s.ahead.has(slot)) s.ahead.set(slot, values[i]!);
  }
  applyReady(s, ctx);
  if (s.exec.appliedUpTo < s.knownUpTo && !s.ahead.has(s.exec.appliedUpTo)) fetch(s, ctx, false);
}

/**
 * Applies the slots that are next in order, up to `maxApplyCommandsPerTurn` commands (whole
 * slots), then answers, reports and serves reads; what is left is applied in the next turns.
 */
export function applyReady(s: ReplicaState, ctx: Ctx): void {
  if (s.restoring !== null || s.halted !== null) return;
  const start = s.exec.appliedUpTo;
  const until = s.commandsRead + s.opts.maxApplyCommandsPerTurn;
  for (;;) {
    const slot = s.exec.appliedUpTo;
    if (!s.ahead.has(slot)) break;
    // After a restart, up to the commit point it heard first: one guarded range at a time.
    if (guarding(s)) break;
    if (s.commandsRead >= until) {
      // This turn's share is done: the rest in the next turn, after whatever else waits here.
      if (!s.applyQueued) {
        s.applyQueued = true;
        ctx.send(ctx.self, { type: 'apply-more' });
      }
      break;
    }
    applyOne(s, slot, ctx);
  }
  afterGuardedApply(s, ctx);
  afterApply(s, start, ctx);
}

/** Applies slot `slot` (next in order, in `ahead`). */
export function applyOne(s: ReplicaState, slot: number, ctx: Ctx): void {
  const value = s.ahead.get(slot)!;
  s.ahead.delete(slot);
  if (s.changes === null && s.subscribers.length > 0) s.changes = [];
  s.exec.applySlot(value, s.sink);
  assert(s.exec.appliedUpTo === slot + 1, () => `replica ${s.index}: applied point ${s.exec.appliedUpTo} after slot ${slot}`);
  s.log.set(slot, value);
  s.slotsSinceSnapshot++;
  if (value !== null) s.bytesSinceSnapshot += value.byteLength;
  if (s.exec.appliedUpTo % s.opts.digestEverySlots === 0) checkpoint(s, ctx);
  if (s.writing === null && snapshotDue(s)) startSnapshot(s, ctx);
}

/** Where the executor's outcomes go: to the clients this replica answers, and to change subscribers. */
function sinkOf(s: ReplicaState): ResultSink {
  return {
    result(client, sessionNo, seq, outcome, bytes, command, applied, index) {
      s.commandsRead++;
      s.answers.result(client, sessionNo, seq, outcome, bytes, command, applied, index);
      if (applied && s.changes !== null) {
        // A copy: the command lies in the slot's bytes.
        s.changes.push({ slot: index - 1, client, sessionNo, seq, ok: outcome === Outcome.Ok, command: command.copyCommand(), result: bytes });
      }
    },
  };
}

/** After applying from `start`: answers, reports, changes, progress, reads. */
export function afterApply(s: ReplicaState, start: number, ctx: Ctx): void {
  const applied = s.exec.appliedUpTo;
  const send = (to: ActorRef<any>, m: ClientReply): void => ctx.send(to, m);
  s.answers.flushResults(applied, send);
  if (applied === start) return;
  // Every `reportEverySlots` slots, or sooner once as many commands as a full slot were applied
  // since the last report (flow control counts commands: large slots must not wait for 16).
  if (applied - s.reportedUpTo >= s.opts.reportEverySlots || s.exec.applied - s.reportedCommands >= REPORT_EVERY_COMMANDS) reportApplied(s, ctx);
  if (s.changes !== null && s.changes.length > 0) {
    const m: MChanges = { type: 'changes', replica: s.index, changes: s.changes };
    for (const sub of s.subscribers) ctx.send(sub, m);
  }
  s.changes = null;
  if (s.progressWatchers.length > 0) {
    const p: MProgress = { type: 'progress', replica: s.index, appliedUpTo: applied, commands: s.exec.applied };
    for (const w of s.progressWatchers) ctx.send(w, p);
  }
  s.answers.serve(applied, ctx.now(), (q) => s.exec.query(q), send);
}

/** A restored snapshot is in place: apply what waited, tell the leaders. */
function afterRestore(s: ReplicaState, ctx: Ctx): void {
  for (const k of s.ahead.keysArray()) if (k < s.exec.appliedUpTo) s.ahead.delete(k);
  if (s.knownUpTo < s.exec.appliedUpTo) s.knownUpTo = s.exec.appliedUpTo;
  reportApplied(s, ctx);
  applyReady(s, ctx);
}

/** Tells the leaders how far this replica applied, and its snapshot point (what they may truncate). */
export function reportApplied(s: ReplicaState, ctx: Ctx): void {
  s.reportedUpTo = s.exec.appliedUpTo;
  s.reportedCommands = s.exec.applied;
  const m: MApplied = { type: 'm-applied', replica: s.index, appliedUpTo: s.exec.appliedUpTo, snapshotAt: s.snapshot?.index ?? 0 };
  for (const l of s.leaders) ctx.send(l, m);
}

/**
 * Session and eventual reads are served here; linearizable and lease reads belong to the
 * leader, which confirms its leadership first and then hands them here as session reads at its
 * commit index.
 */
function onReads(s: ReplicaState, m: MClientReads, ctx: Ctx): void {
  const send = (to: ActorRef<any>, r: ClientReply): void => ctx.send(to, r);
  if (m.consistency === 'linearizable' || m.consistency === 'lease') {
    const leader = s.leaders[s.leaderIndex >= 0 ? s.leaderIndex : s.index] ?? null;
    send(m.from, { type: 'client-redirect', leader, reason: `${m.consistency} reads go to the leader`, busy: false, reads: true });
    return;
  }
  if (s.halted !== null || s.restoring !== null) {
    const why = s.halted !== null ? s.halted.detail : `replica ${s.index} is installing a snapshot`;
    s.answers.unavailable(m, m.from, s.exec.appliedUpTo, why, send);
    return;
  }
  s.answers.reads(m, m.from, s.exec.appliedUpTo, ctx.now(), (q) => s.exec.query(q), send);
  if (m.afterIndex > s.knownUpTo && m.consistency === 'session') {
    s.knownUpTo = m.afterIndex;
    fetch(s, ctx, false);
  }
}

function onTick(s: ReplicaState, ctx: Ctx): void {
  ctx.setTimer('tick', s.opts.tickMs, { type: 'tick' });
  const now = ctx.now();
  s.answers.serve(
    s.exec.appliedUpTo,
    now,
    (q) => s.exec.query(q),
    (to, m) => ctx.send(to, m),
  );
  if (s.restoring !== null && s.restoring.from >= 0 && now - s.restoring.askedAt >= s.opts.fetchRetryMs * 4) {
    // The chunk asked for did not come (the peer died, or the message was lost): ask again.
    const r = s.restoring;
    r.askedAt = now;
    ctx.send(s.replicas[r.from]!, { type: 'm-snapshot-pull', replica: s.index, id: r.id, chunk: r.next });
  }
  if (s.halted !== null) return;
  // Slots left for later turns: an `apply-more` dropped by a full mailbox must not leave them waiting for the next decide.
  if (s.restoring === null && s.ahead.has(s.exec.appliedUpTo)) {
    s.applyQueued = false;
    applyReady(s, ctx);
  }
  // Behind what we know is chosen, or waiting for reads: ask a peer (unless the next slot is here, waiting for its turn).
  if (s.restoring === null && s.exec.appliedUpTo < s.knownUpTo && !s.ahead.has(s.exec.appliedUpTo)) fetch(s, ctx, false);
  if (s.exec.appliedUpTo !== s.reportedUpTo) reportApplied(s, ctx);
  // While its own snapshot is restored (over many turns and ticks at a restart) the applied point
  // is still 0: it reaches the snapshot when the last chunk is in.
  const restoringOwn = s.restoring !== null && s.restoring.from === -1;
  assert(restoringOwn || s.exec.appliedUpTo >= (s.snapshot?.index ?? 0), () => `replica ${s.index}: applied point fell below its own snapshot`);
}

export { halt, SNAPSHOT_ID };
export type { MDivergence as ReplicaDivergence };
