/**
 * The EPaxos replica (Moraru, Andersen, Kaminsky, "There Is More Consensus in Egalitarian
 * Parliaments", SOSP 2013): one actor per node, every one of them a command leader for the
 * requests its clients send it, an acceptor for the others' instances, and an executor of every
 * committed instance. There is no distinguished leader: clients go to any replica.
 *
 * Its parts: command leading and batching (leading.ts), the phases it coordinates for its own
 * instances and for those it recovers (coordinate.ts), its answers to others' phases
 * (acceptor.ts), recovery by explicit prepare (recovery.ts), interference and attributes
 * (attributes.ts, interference.ts), execution of the dependency graph by strongly connected
 * components into the executor of @synod/smr (execution.ts), reads without a leader (reads.ts),
 * snapshots (snapshots.ts), digests at barriers (digests.ts) and what replicas tell each other
 * to cut their logs and catch up (frontier.ts). The quorums and why they are safe: quorums.ts.
 *
 * It takes the replica arguments and messages every protocol's replica takes (`ReplicaArgs` of
 * @synod/paxos: state machine, replica options, watchers) plus `n` and its own options, and
 * speaks the client protocol of @synod/smr.
 *
 * Pure: it touches the world only through `ctx`.
 */
import { defineActor, sameRef, type ActorRef } from '@synod/actors';
import { IntMap } from '@synod/actors/internals';
import { replicaOptions, type MSubscriptionRefused, type ReplicaArgs } from '@synod/paxos';
import { ClientAnswers, Executor, stateMachineByKey } from '@synod/smr';
import { onAccept, onAsk, onPreAccept, onPrepare } from './acceptor.js';
import { assert } from './assert.js';
import { Conflicts } from './attributes.js';
import { onAcceptOk, onCommit, onCoordinationTick, onNack, onPreAcceptOk } from './coordinate.js';
import { onDigest } from './digests.js';
import { executeAll, sinkOf } from './execution.js';
import { onFrontier, onFrontierTick } from './frontier.js';
import { MAX_REPLICAS, numberOf, leaderOf, roundOfBallot } from './ids.js';
import { Status, fromRecord, type InstanceRecord } from './instance.js';
import { flush, onRequest } from './leading.js';
import { epaxosOptions, type EPaxosOptions } from './options.js';
import { quorumsOf } from './quorums.js';
import { expireReads, onReads } from './reads.js';
import { onPrepareOk, onRecoveryTick } from './recovery.js';
import { onSnapshotChunk, onSnapshotOffer, onSnapshotPull, onSnapshotTick, restoreOwn, restoreStep, snapshotStep } from './snapshots.js';
import { CUT_KEY, OWN_KEY, ROUND_KEY } from './store.js';
import { JOURNAL_SIZE, type Ctx, type EPaxosMsg, type EPaxosState } from './state.js';

export interface EPaxosArgs extends ReplicaArgs {
  /** Replicas in the cluster. */
  n: number;
  epaxos?: Partial<EPaxosOptions>;
}

export const EPaxosReplica = defineActor<EPaxosState, EPaxosMsg, EPaxosArgs, unknown>({
  module: import.meta.url,
  label: 'EPaxosReplica',
  storage: 'shared',

  init(args, ctx) {
    if (!(Number.isInteger(args?.n) && args.n >= 1 && args.n <= MAX_REPLICAS)) {
      throw new RangeError(`epaxos replica: n must be an integer in 1..${MAX_REPLICAS}, got ${String(args?.n)}`);
    }
    if (!(Number.isInteger(args.index) && args.index >= 0 && args.index < args.n)) {
      throw new RangeError(`epaxos replica: index must be an integer in 0..${args.n - 1}, got ${String(args.index)}`);
    }
    const n = args.n;
    const opts = replicaOptions(args.options, `epaxos replica ${args.index}: options`);
    const eopts = epaxosOptions(args.epaxos, `epaxos replica ${args.index}: epaxos options`);
    const machine = stateMachineByKey(args.machine);
    const zeros = (): number[] => new Array(n).fill(0);
    const s: EPaxosState = {
      role: 'epaxos-replica',
      index: args.index,
      n,
      machine,
      opts,
      eopts,
      quorums: quorumsOf(n),
      peers: (args.replicas ?? []) as unknown as EPaxosState['peers'],
      instances: new IntMap(),
      conflicts: new Conflicts(n),
      next: 1,
      round: 0,
      reservedRound: 0,
      cut: zeros(),
      coordinating: new IntMap(),
      ownInFlight: 0,
      pendingSince: new IntMap(),
      pending: [],
      pendingHead: 0,
      pendingCommands: 0,
      flushQueued: false,
      barrierWanted: false,
      sinceBarrier: 0,
      exec: new Executor(machine.core, {
        maxSessions: opts.maxSessions,
        sessionWindow: opts.sessionWindow,
        maxStateBytes: opts.maxStateBytes,
        evictFirstCreated: true,
        quotaCheck: 'external',
      }),
      answers: new ClientAnswers({ maxRoutes: opts.maxSessions, maxWaitingReads: opts.maxWaitingReads, readTimeoutMs: opts.readTimeoutMs }),
      sink: null as never,
      executedUpTo: zeros(),
      extraExecuted: new Set(),
      blocked: new IntMap(),
      waitsFor: new IntMap(),
      needed: new IntMap(),
      barriers: 0,
      logDigest: 0,
      appliedBytes: 0,
      answering: false,
      instanceDigest: 0,
      linearQueue: [],
      linearByBarrier: new IntMap(),
      linearWaiting: 0,
      sessionBarrier: 0,
      snapshot: null,
      writing: null,
      restoring: null,
      executedSinceSnapshot: 0,
      bytesSinceSnapshot: 0,
      heardAt: new Array(n).fill(-Infinity),
      peerExecuted: Array.from({ length: n }, zeros),
      peerSnapshot: Array.from({ length: n }, zeros),
      frontierAt: -Infinity,
      nextAsk: 0,
      subscribers: [],
      progressWatchers: [],
      divergenceWatchers: [],
      changes: null,
      checkpoints: new IntMap(),
      peerDigests: [],
      diverged: new Set(),
      journal: eopts.keepJournal ? { changed: [], changedCount: 0, executed: [], epochs: [], executedCount: 0, installs: 0 } : null,
      incarnationStart: ctx.now(),
      stats: { led: 0, fast: 0, slow: 0, recovered: 0, noops: 0, barriers: 0, executed: 0, redirects: 0 },
    };
    s.sink = sinkOf(s);
    recover(s, ctx as Ctx);
    for (const to of args.subscribers ?? []) subscribe(s, s.subscribers, to, 'subscribers', ctx as Ctx);
    for (const to of args.progressWatchers ?? []) subscribe(s, s.progressWatchers, to, 'progress watchers', ctx as Ctx);
    for (const to of args.divergenceWatchers ?? []) if (!s.divergenceWatchers.some((r) => sameRef(r, to))) s.divergenceWatchers.push(to);
    ctx.setTimer('tick', eopts.tickMs, { type: 'tick' });
    return s;
  },

  inspect: (s) => ({
    role: s.role,
    index: s.index,
    n: s.n,
    machine: s.machine.key,
    quorums: s.quorums,
    next: s.next,
    round: s.round,
    instances: s.instances.size,
    coordinating: s.coordinating.size,
    ownInFlight: s.ownInFlight,
    pending: s.pendingCommands,
    executedUpTo: [...s.executedUpTo],
    cut: [...s.cut],
    needed: s.needed.size,
    blocked: s.blocked.size,
    barriers: s.barriers,
    appliedUpTo: s.exec.appliedUpTo,
    digest: s.logDigest,
    sessions: s.exec.sessions.size,
    stateBytes: s.exec.stateBytes,
    overQuota: s.exec.overQuota,
    snapshot: s.snapshot?.executed ?? null,
    restoring: s.restoring !== null,
    reads: s.answers.waitingReads + s.linearWaiting + s.linearQueue.length,
    keys: s.conflicts.keyCount,
    stats: { ...s.stats },
  }),

  receive(s, msg, ctx) {
    const c = ctx as Ctx;
    switch (msg.type) {
      case 'e-preaccept':
        seeBallot(s, msg.ballot);
        onPreAccept(s, msg, c);
        break;
      case 'e-preaccept-ok':
        onPreAcceptOk(s, msg, c);
        break;
      case 'e-accept':
        seeBallot(s, msg.ballot);
        onAccept(s, msg, c);
        break;
      case 'e-accept-ok':
        onAcceptOk(s, msg, c);
        break;
      case 'e-commit':
        onCommit(s, msg, c);
        break;
      case 'e-nack':
        onNack(s, msg, c);
        break;
      case 'e-prepare':
        seeBallot(s, msg.ballot);
        onPrepare(s, msg, c);
        break;
      case 'e-prepare-ok':
        onPrepareOk(s, msg, c);
        break;
      case 'e-ask':
        onAsk(s, msg, c);
        break;
      case 'e-cut':
        for (const key of msg.ids) s.coordinating.delete(key);
        break;
      case 'e-frontier':
        onFrontier(s, msg, c);
        break;
      case 'e-digest':
        onDigest(s, msg, c);
        break;
      case 'e-snapshot-offer':
        onSnapshotOffer(s, msg, c);
        break;
      case 'e-snapshot-pull':
        onSnapshotPull(s, msg, c);
        break;
      case 'e-snapshot-chunk':
        onSnapshotChunk(s, msg, c);
        break;
      case 'client-request':
        onRequest(s, msg, c);
        break;
      case 'client-reads':
        onReads(s, msg, c);
        break;
      case 'flush':
        flush(s, c);
        break;
      case 'snapshot-step':
        snapshotStep(s, c);
        break;
      case 'restore-step':
        restoreStep(s, c);
        break;
      case 'tick':
        onTick(s, c);
        break;
      case 'configure':
        if (msg.replicas) s.peers = msg.replicas as EPaxosState['peers'];
        break;
      case 'subscribe':
        subscribe(s, s.subscribers, msg.to, 'subscribers', c);
        break;
      case 'unsubscribe':
        s.subscribers = s.subscribers.filter((r) => !sameRef(r, msg.to));
        break;
      case 'watch-progress':
        subscribe(s, s.progressWatchers, msg.to, 'progress watchers', c);
        break;
      case 'unwatch-progress':
        s.progressWatchers = s.progressWatchers.filter((r) => !sameRef(r, msg.to));
        break;
      case 'watch-divergence':
        if (!s.divergenceWatchers.some((r) => sameRef(r, msg.to))) s.divergenceWatchers.push(msg.to);
        break;
    }
  },
});

/** A ballot seen in a message: this replica's recovery ballots go above it. */
function seeBallot(s: EPaxosState, ballot: number): void {
  const r = roundOfBallot(ballot);
  if (r > s.round) s.round = r;
}

/** At a (re)start: the instances, the counters and the cut point persisted; the snapshot; what it can execute. */
function recover(s: EPaxosState, ctx: Ctx): void {
  const entries = ctx.recoveredEntries();
  let own = 0;
  const now = ctx.now();
  for (const [k, v] of entries) {
    if (k === OWN_KEY) own = Math.max(own, v as number);
    else if (k === ROUND_KEY) {
      s.reservedRound = v as number;
      s.round = v as number;
    } else if (k === CUT_KEY) s.cut = [...(v as number[])];
    else if (typeof k === 'number') {
      const x = fromRecord(k, v as InstanceRecord);
      s.instances.set(k, x);
      if (x.status !== Status.None) s.conflicts.add(x);
      if (x.status === Status.PreAccepted || x.status === Status.Accepted) s.pendingSince.set(k, now);
      if (leaderOf(k) === s.index) own = Math.max(own, numberOf(k));
    }
  }
  assert(s.cut.length === s.n, () => `epaxos replica ${s.index}: recovered a cut point for ${s.cut.length} replicas in a cluster of ${s.n}`);
  s.next = own + 1;
  // With a snapshot, execution waits until its state is back (restoreStep executes then).
  if (restoreOwn(s, ctx) === null) executeAll(s, ctx);
}

function subscribe<T>(s: EPaxosState, list: ActorRef<T>[], to: ActorRef<T>, what: string, ctx: Ctx): void {
  if (list.some((r) => sameRef(r, to))) return;
  if (list.length >= s.opts.maxSubscribers) {
    const reason = `epaxos replica ${s.index} already has ${s.opts.maxSubscribers} ${what} (maxSubscribers); unsubscribe one first`;
    ctx.log.warn(reason);
    ctx.send(to as ActorRef<unknown>, { type: 'subscription-refused', replica: s.index, reason } satisfies MSubscriptionRefused);
    return;
  }
  list.push(to);
}

function onTick(s: EPaxosState, ctx: Ctx): void {
  ctx.setTimer('tick', s.eopts.tickMs, { type: 'tick' });
  onCoordinationTick(s, ctx);
  onRecoveryTick(s, ctx);
  onFrontierTick(s, ctx);
  onSnapshotTick(s, ctx);
  expireReads(s, ctx);
  if (s.pendingHead < s.pending.length || s.barrierWanted) flush(s, ctx);
}

export { JOURNAL_SIZE };
