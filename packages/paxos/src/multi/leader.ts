/**
 * The Multi-Paxos leader (one candidate per replica node): the actor that composes its parts
 * and dispatches its messages.
 *
 * Election by ballot (`election.ts`): a follower that has not heard a leader for a randomised
 * election timeout runs phase 1 with a higher ballot, once for every slot. With a phase-1 quorum of
 * promises (`q1`, a majority by default) it is the leader: it re-proposes, in its ballot, the highest-numbered accepted value
 * of every slot the promises report, and fills the gaps with no-ops. Then phase 2 per slot
 * (`pipeline.ts`): client commands are batched into slot values (`batching.ts`) and up to
 * `window` slots are in flight at once. A slot accepted by a phase-2 quorum (`q2`, a majority by
 * default; q1 + q2 must exceed the acceptors: Flexible Paxos) is chosen; the chosen
 * prefix goes to the replicas, and the leader keeps it for replicas that missed it
 * (`retention.ts`), as long as their reports allow (`flow-control.ts`).
 *
 * Heartbeats (`heartbeats.ts`) keep followers from campaigning, renew the leader's lease
 * (acceptors promise no one else meanwhile), and confirm leadership for linearizable reads
 * (`reads.ts`: a quorum round after the read arrived, then the read is served at the commit
 * index of that moment). Every count of acceptors is a `QuorumTally` (`../quorum.ts`); the
 * options and their rules are in `options.ts`.
 *
 * Pure: it touches the world only through `ctx`.
 */
import { defineActor, type ActorContext, type ActorRef } from '@synod/actors';
import type { MClientReads, MClientRequest, MClientRoutesLost } from '@synod/smr';
import { majorityOf } from '../quorum.js';
import { flush, newBatching, onRequest, pendingCount, returnPending, slotBytes, type BatchingState } from './batching.js';
import {
  abandonCampaign,
  follow,
  highestRecovered,
  newElection,
  onCampaign,
  onElectionTick,
  onPromise,
  stepDown as leaveOffice,
  takeOffice,
  type ElectionState,
  type LeaderDurable,
} from './election.js';
import { applyLag, newFlowControl, onApplied as heardReplica, startReign as startFlowReign, type FlowControlState } from './flow-control.js';
import { dropLease, heartbeatDue, newHeartbeats, onHeartbeatAck, sendHeartbeat, type HeartbeatState } from './heartbeats.js';
import type {
  MAccepted,
  MApplied,
  MCampaign,
  MDecide,
  MFetch,
  MHeartbeat,
  MHeartbeatAck,
  MPromise,
  MReject,
  MTruncated,
  MultiAcceptorMsg,
} from './messages.js';
import { checkLeaderArgs, checkLeaderTuning, leaderOptions, leaderQuorums, type LeaderOptions, type LeaderQuorums, type LeaderTuning } from './options.js';
import {
  abandon,
  learnCommit,
  newPipeline,
  onAccepted,
  propose,
  retransmit,
  sendAccepts,
  skipTruncated,
  startReign as startPipelineReign,
  takeChosen,
  type PipelineState,
} from './pipeline.js';
import { newReads, onRead, returnReads, serveReads, type ReadsState } from './reads.js';
import { askSnapshots, forgetBelow, keep, newRetention, onFetch, startReign as startRetentionReign, truncate, type RetentionState } from './retention.js';

export { defaultLeaderOptions, type LeaderOptions, type LeaderTuning } from './options.js';
export type { LeaderDurable, LeaderStatus } from './election.js';

export interface LeaderArgs {
  /** This node's number, 0..n-1; its ballots use proposer id index + 1. */
  index: number;
  acceptors: ActorRef<MultiAcceptorMsg>[];
  /** Replicas, by node number (the one at `index` is on this node). */
  replicas: ActorRef<any>[];
  /** The other nodes' leaders, by node number (this one included). */
  leaders: ActorRef<LeaderMsg>[];
  options?: Partial<LeaderOptions>;
}

/**
 * Wiring given after spawn, and run-time tuning: only the bounds of {@link LeaderTuning};
 * timing is fixed when the cluster starts. Answered with {@link MConfigured} when asked.
 */
export interface MConfigure {
  type: 'configure';
  replicas?: ActorRef<any>[];
  leaders?: ActorRef<LeaderMsg>[];
  options?: Partial<LeaderTuning>;
}
/** The answer to `configure`: `ok` false (with why) when it was refused, and then nothing changed. */
export interface MConfigured {
  type: 'configured';
  ok: boolean;
  error?: string;
}

export type LeaderMsg =
  | MClientRequest
  | MClientReads
  | MClientRoutesLost
  | MTruncated
  | MPromise
  | MAccepted
  | MReject
  | MHeartbeat
  | MHeartbeatAck
  | MCampaign
  | MApplied
  | MFetch
  | { type: 'tick' }
  | { type: 'flush' }
  | { type: 'read-round' }
  | MConfigure;

export interface LeaderState {
  role: 'leader';
  /** This node's number; its ballots carry proposer id `id` = index + 1. */
  index: number;
  id: number;
  acceptors: ActorRef<MultiAcceptorMsg>[];
  replicas: ActorRef<any>[];
  leaders: ActorRef<LeaderMsg>[];
  /** Replicas whose reports flow control waits for: a majority of them. */
  majority: number;
  /** Acceptors in a phase-1 quorum, a phase-2 quorum, and a confirming heartbeat round (options q1, q2). */
  quorums: LeaderQuorums;
  /** Phase 2 (what the pipeline counts): `quorums.q2`. */
  q2: number;
  opts: LeaderOptions;
  /** Phase 1: status, ballots, the campaign. */
  election: ElectionState;
  /** Phase 2: slots in flight, the commit point, retransmission. */
  pipeline: PipelineState;
  /** Client commands waiting to be batched into slots. */
  batching: BatchingState;
  /** Heartbeat rounds: confirmations and the lease. */
  heartbeats: HeartbeatState;
  /** Linearizable and lease reads waiting for a confirmation. */
  reads: ReadsState;
  /** Chosen slots kept for catch-up, and truncation. */
  retention: RetentionState;
  /** The replicas' reports: apply lag and truncation point. */
  flow: FlowControlState;
  /**
   * Chosen slots not yet sent to the other nodes' replicas: they leave with the next accepts (one
   * frame per node carries both, as etcd's raft carries its commit index on the next append), at the
   * next tick, or once `window` slots wait. This node's replica gets them at once (it answers clients).
   */
  deferredDecide: MDecide | null;
  stats: { elections: number; chosen: number; batches: number; commands: number; redirects: number };
}

type Ctx = ActorContext<LeaderMsg, LeaderDurable>;

export const Leader = defineActor<LeaderState, LeaderMsg, LeaderArgs, LeaderDurable>({
  module: import.meta.url,
  label: 'Leader',
  storage: 'shared',

  init(args, ctx, recovered) {
    checkLeaderArgs(args, `leader ${String(args?.index)}`);
    const opts = leaderOptions(args.options, `leader ${args.index}: options`);
    const majority = majorityOf(args.acceptors.length);
    const quorums = leaderQuorums(opts, args.acceptors.length, `leader ${args.index}: options`);
    const s: LeaderState = {
      role: 'leader',
      index: args.index,
      id: args.index + 1,
      acceptors: args.acceptors,
      replicas: args.replicas ?? [],
      leaders: args.leaders ?? [],
      majority,
      quorums,
      q2: quorums.q2,
      opts,
      election: newElection(args.index, quorums.q1, opts, recovered, ctx),
      pipeline: newPipeline(),
      batching: newBatching(),
      heartbeats: newHeartbeats(quorums.confirm),
      reads: newReads(),
      retention: newRetention(),
      flow: newFlowControl(),
      deferredDecide: null,
      stats: { elections: 0, chosen: 0, batches: 0, commands: 0, redirects: 0 },
    };
    ctx.setTimer('tick', opts.tickMs, { type: 'tick' });
    return s;
  },

  inspect: (s) => ({
    role: s.role,
    index: s.index,
    status: s.election.status,
    ballot: s.election.ballot,
    leaderIndex: s.election.leaderIndex,
    commitUpTo: s.pipeline.commitUpTo,
    nextSlot: s.pipeline.nextSlot,
    readyAt: s.pipeline.readyAt,
    inflight: s.pipeline.inflight.size,
    inflightBytes: s.pipeline.inflightBytes,
    rtt: { ...s.pipeline.rtt },
    pending: pendingCount(s.batching),
    reads: s.reads.waiting.length,
    leaseUntil: s.heartbeats.leaseUntil,
    confirmedRound: s.heartbeats.confirmedRound,
    decidedFrom: s.retention.decidedFrom,
    truncatedBelow: s.retention.truncatedBelow,
    quorumApplied: s.flow.quorumApplied,
    applyLag: applyLag(s.flow),
    reservedRound: s.election.reservedRound,
    quorums: s.quorums,
    opts: s.opts,
    stats: s.stats,
  }),

  receive(s, msg, ctx) {
    const c = ctx as Ctx;
    switch (msg.type) {
      case 'client-request':
        onRequest(s, msg, c);
        break;
      case 'client-reads':
        onRead(s, msg, c);
        break;
      case 'client-routes-lost':
        // This node's replica restarted: every client's route goes to it again (MClientRoutesLost).
        if (msg.replica === s.index) s.batching.routes.clear();
        break;
      case 'm-promise':
        if (onPromise(s.election, msg)) becomeLeader(s, c);
        break;
      case 'm-accepted':
        if (onAccepted(s, msg, c)) commit(s, c);
        break;
      case 'm-reject':
        onReject(s, msg, c);
        break;
      case 'm-truncated':
        onTruncated(s, msg, c);
        break;
      case 'm-heartbeat':
        onHeartbeat(s, msg, c);
        break;
      case 'm-heartbeat-ack':
        if (onHeartbeatAck(s, msg)) serveReads(s, c);
        break;
      case 'm-campaign':
        onCampaign(s, msg, c);
        break;
      case 'm-applied':
        onApplied(s, msg, c);
        break;
      case 'm-fetch':
        if (s.election.status === 'leader') onFetch(s.retention, msg, s.pipeline.commitUpTo, c);
        break;
      case 'flush':
        s.batching.flushQueued = false;
        flushWithDecides(s, c);
        break;
      case 'read-round':
        s.reads.roundQueued = false;
        if (s.election.status === 'leader') sendHeartbeat(s, c);
        sendDeferredDecide(s, c);
        break;
      case 'tick':
        onTick(s, c);
        break;
      case 'configure':
        configure(s, msg, c);
        break;
    }
  },
});

/**
 * Elected: every slot a promise reported is re-proposed with its highest-numbered accepted value
 * (it may have been chosen), and every gap below the highest such slot gets a no-op.
 */
function becomeLeader(s: LeaderState, ctx: Ctx): void {
  const from = takeOffice(s, ctx.now());
  const top = highestRecovered(s.election, from);
  startPipelineReign(s.pipeline, from);
  startRetentionReign(s.retention, from);
  startFlowReign(s.flow, from);
  // Re-decide every untruncated slot: re-proposed in our ballot with its highest accepted value.
  for (let slot = from; slot <= top; slot++) {
    const r = s.election.recovered.get(slot);
    const value = r === undefined ? null : r.value;
    propose(s, slot, value, slotBytes(value), ctx);
  }
  sendAccepts(s, ctx);
  s.pipeline.nextSlot = Math.max(s.pipeline.nextSlot, top + 1);
  s.pipeline.readyAt = s.pipeline.nextSlot;
  s.election.recovered.clear();
  dropLease(s.heartbeats);
  s.reads.roundQueued = false;
  sendHeartbeat(s, ctx);
  flushWithDecides(s, ctx);
}

/** A higher ballot exists: follow its proposer; as leader, hand back everything waiting here. */
function stepDown(s: LeaderState, higher: number, ctx: Ctx): void {
  sendDeferredDecide(s, ctx);
  if (!leaveOffice(s, higher, ctx)) return;
  // Everything waiting here goes back to its clients: they retry with the new leader.
  const leader = s.leaders[s.election.leaderIndex] ?? null;
  returnPending(s, leader, ctx);
  returnReads(s.reads, leader, ctx);
  abandon(s.pipeline);
}

function onReject(s: LeaderState, m: MReject, ctx: Ctx): void {
  const e = s.election;
  if (m.promised > e.ballot && m.ballot === e.ballot) stepDown(s, m.promised, ctx);
  else if (m.promised > e.seen) e.seen = m.promised;
}

/**
 * An acceptor dropped slots we proposed (a truncation this reign had not heard of: the previous
 * leader's): they are chosen and in every live replica's snapshot, so the commit point moves past.
 */
function onTruncated(s: LeaderState, m: MTruncated, ctx: Ctx): void {
  if (s.election.status !== 'leader') return;
  if (!skipTruncated(s.pipeline, m.below)) return;
  forgetBelow(s.retention, m.below);
  commit(s, ctx);
  if (s.pipeline.commitUpTo >= s.pipeline.readyAt) serveReads(s, ctx);
  flushWithDecides(s, ctx);
}

/** Another node's leader (heartbeats go to acceptors, replicas and the other leaders). */
function onHeartbeat(s: LeaderState, m: MHeartbeat, ctx: Ctx): void {
  const e = s.election;
  if (e.status !== 'follower') {
    if (m.ballot > e.ballot) stepDown(s, m.ballot, ctx);
    else if (e.status === 'candidate' && e.promises.count === 0) abandonCampaign(e);
    else return;
  }
  if (follow(s, m, ctx)) learnCommit(s.pipeline, m.commitUpTo);
}

/** Moves the commit point over every chosen slot in order and sends them to the replicas. */
function commit(s: LeaderState, ctx: Ctx): void {
  const { first, values } = takeChosen(s.pipeline);
  keep(s.retention, first, values, s.opts.maxRetainedSlots, s.opts.maxRetainedBytes);
  if (values.length === 0) return;
  askSnapshots(s.retention, s.opts.maxAcceptorBytes, ctx.now(), s.opts.maxRetransmitMs, s.replicas, ctx);
  const d: MDecide = { type: 'm-decide', firstSlot: first, values };
  const local = s.replicas[s.index];
  if (local !== undefined) ctx.send(local, d);
  deferDecide(s, d, ctx);
  if (s.pipeline.commitUpTo >= s.pipeline.readyAt) serveReads(s, ctx);
  flushWithDecides(s, ctx);
}

/** Holds a decision for the other nodes' replicas (see `LeaderState.deferredDecide`). */
function deferDecide(s: LeaderState, d: MDecide, ctx: Ctx): void {
  const held = s.deferredDecide;
  if (held !== null && held.firstSlot + held.values.length === d.firstSlot) {
    for (const v of d.values) held.values.push(v);
  } else {
    sendDeferredDecide(s, ctx);
    s.deferredDecide = { type: 'm-decide', firstSlot: d.firstSlot, values: d.values.slice() };
  }
  if (s.deferredDecide!.values.length >= s.opts.window) sendDeferredDecide(s, ctx);
}

/** Sends the held decisions to the other nodes' replicas. */
function sendDeferredDecide(s: LeaderState, ctx: Ctx): void {
  const d = s.deferredDecide;
  if (d === null) return;
  s.deferredDecide = null;
  for (let i = 0; i < s.replicas.length; i++) if (i !== s.index) ctx.send(s.replicas[i]!, d);
}

/** Proposes what waits; held decisions ride with the accepts when some left. */
function flushWithDecides(s: LeaderState, ctx: Ctx): void {
  const before = s.pipeline.nextSlot;
  flush(s, ctx);
  if (s.pipeline.nextSlot !== before) sendDeferredDecide(s, ctx);
}

/** A replica's report: room for proposals once a majority caught up; truncation once all live ones snapshotted. */
function onApplied(s: LeaderState, m: MApplied, ctx: Ctx): void {
  const r = heardReplica(s.flow, m, ctx.now(), s.majority, s.opts.replicaTimeoutMs);
  if (s.election.status !== 'leader') return;
  const keptBefore = s.retention.keptBytesTotal;
  if (r.snapshotsCover !== null) truncate(s.retention, r.snapshotsCover, s.pipeline.commitUpTo, s.acceptors, ctx);
  // Room for more proposals: a majority applied more, or the acceptors keep less.
  if (r.advanced || s.retention.keptBytesTotal < keptBefore) flushWithDecides(s, ctx);
}

function onTick(s: LeaderState, ctx: Ctx): void {
  ctx.setTimer('tick', s.opts.tickMs, { type: 'tick' });
  sendDeferredDecide(s, ctx);
  if (s.election.status !== 'leader') {
    onElectionTick(s, ctx);
    return;
  }
  if (heartbeatDue(s, ctx.now())) sendHeartbeat(s, ctx);
  retransmit(s, ctx);
  askSnapshots(s.retention, s.opts.maxAcceptorBytes, ctx.now(), s.opts.maxRetransmitMs, s.replicas, ctx);
}

/**
 * Wiring and run-time tuning. Options outside {@link LeaderTuning}, or out of their bounds, are
 * refused whole: nothing changes, the asker is told why, and the refusal is logged.
 */
function configure(s: LeaderState, m: MConfigure, ctx: Ctx): void {
  let opts = s.opts;
  if (m.options !== undefined) {
    try {
      checkLeaderTuning(m.options, `leader ${s.index}: configure`);
      opts = leaderOptions({ ...s.opts, ...m.options }, `leader ${s.index}: configure`);
    } catch (e) {
      const error = (e as Error).message;
      ctx.log.warn(error);
      ctx.reply({ type: 'configured', ok: false, error } satisfies MConfigured);
      return;
    }
  }
  if (m.replicas) s.replicas = m.replicas;
  if (m.leaders) s.leaders = m.leaders;
  s.opts = opts;
  ctx.reply({ type: 'configured', ok: true } satisfies MConfigured);
}
