/**
 * The Multi-Paxos leader (one candidate per replica node).
 *
 * Election by ballot: a follower that has not heard a leader for a randomised election timeout
 * runs phase 1 with a higher ballot, once for every slot from the first it does not know to be
 * chosen. With a majority of promises it is the leader: it re-proposes, in its ballot, the
 * highest-numbered accepted value of every slot the promises report, and fills the gaps with
 * no-ops. Then phase 2 per slot: client commands are batched into slot values (bounded by count
 * and bytes, flushed every turn) and up to `window` slots are in flight at once (pipelining).
 * A slot accepted by a majority is chosen; the chosen prefix goes to the replicas.
 *
 * Heartbeats keep followers from campaigning, renew the leader's lease (acceptors promise no one
 * else meanwhile), and confirm leadership for linearizable reads (a quorum round after the read
 * arrived, then the read is served at the commit index of that moment).
 *
 * Pure: it touches the world only through `ctx`.
 */
import { IntMap, defineActor, type ActorContext, type ActorRef, type ReplyToken } from '@synod/actors';
import { ZERO_BALLOT, ballot as makeBallot, proposerOf, roundOf, type Ballot } from '../ballot.js';
import { assert } from '../assert.js';
import { BatchEncoder } from './batch-encoding.js';

/** Encodes batches as they are filled (one per thread; a flush runs to its end within one turn). */
const batchEncoder = new BatchEncoder();
import type {
  Batch, Command, MAccept, MAccepted, MApplied, MDecide, MEntries, MFetch, MHeartbeat, MHeartbeatAck, MPrepare, MPromise, MRead, MReadResult,
  MRedirect, MReject, MRequest, MResult, MTruncate, MultiAcceptorMsg, SlotValue,
} from './messages.js';

/** Bounds and timing of a leader. Every one is named and has a default. */
export interface LeaderOptions {
  /** Slots in phase 2 at once (pipelining). Default 64. */
  window: number;
  /** Commands per slot at most. Default 1024. */
  maxBatchCommands: number;
  /** Bytes of commands per slot: a batch closes once it holds this much (encoded; estimated when not encoding). Default 1 MiB. */
  maxBatchBytes: number;
  /**
   * Bytes of slot values in flight (proposed, not yet committed) at most: with large commands the
   * window is bounded by bytes before slots (every slot goes to every acceptor). Default 8 MiB.
   */
  maxInflightBytes: number;
  /** Commands waiting for room in the window; beyond, clients are told to retry. Default 100000. */
  maxPendingCommands: number;
  /**
   * Flow control: commands proposed but not yet applied by a majority of the replicas (as they
   * report). Past it the leader proposes no more until they catch up, so a backlog of decided
   * slots cannot build up in front of slow replicas (and delay everything queued behind it,
   * heartbeats included). Default 65536.
   */
  maxApplyLag: number;
  /** Reads waiting for a leadership confirmation. Default 10000. */
  maxPendingReads: number;
  /** How often the leader sends heartbeats. Default 50. */
  heartbeatMs: number;
  /** A follower campaigns after this long without a leader (randomised up to 2x). Default 500. */
  electionTimeoutMs: number;
  /** Lease length promised by acceptors (must match theirs; shorter than the election timeout). Default 400. */
  leaseMs: number;
  /** Largest relative clock rate difference between nodes the lease allows for. Default 0.1. */
  maxClockDrift: number;
  /**
   * A slot not chosen in time is sent again to the acceptors that did not answer. The wait is
   * the measured accept round trip plus four times its deviation (as TCP does), at least this
   * long; each further attempt waits twice as long, up to `maxRetransmitMs`. Messages between live
   * actors are not lost, so a retransmission only helps after a crash: under load, a fixed short
   * wait would flood slow acceptors with copies of every slot in flight. Default 30.
   */
  retransmitMs: number;
  /**
   * The longest wait between two sends of a slot. The doubling keeps a slow (not lost) acceptor
   * from being flooded with copies of every slot in flight, which would slow it further. Default 1000.
   */
  maxRetransmitMs: number;
  /** How often deadlines are checked. Default 10. */
  tickMs: number;
  /** Rounds reserved per durable write of the ballot counter. Default 1024. */
  roundReserve: number;
  /** A replica not heard from for this long does not hold back log truncation. Default 5000. */
  replicaTimeoutMs: number;
  /** The node that campaigns first at a cold start (no need to wait an election timeout); -1: none. Default 0. */
  preferredLeader: number;
  /** Chosen slots kept for replicas that missed them (beyond, they install a peer's snapshot). Default 65536. */
  maxRetainedSlots: number;
  /**
   * Encode each batch as bytes once (for replicas in other threads: every send is then a byte
   * copy). Off for embedded clusters, where nothing is copied. Default true.
   */
  encodeBatches: boolean;
}

export const defaultLeaderOptions: LeaderOptions = {
  window: 64,
  maxBatchCommands: 1024,
  maxBatchBytes: 1 << 20,
  maxInflightBytes: 8 << 20,
  maxPendingCommands: 100_000,
  maxApplyLag: 65_536,
  maxPendingReads: 10_000,
  heartbeatMs: 50,
  electionTimeoutMs: 500,
  leaseMs: 400,
  maxClockDrift: 0.1,
  retransmitMs: 30,
  maxRetransmitMs: 1_000,
  tickMs: 10,
  roundReserve: 1024,
  replicaTimeoutMs: 5_000,
  preferredLeader: 0,
  maxRetainedSlots: 65_536,
  encodeBatches: true,
};

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

export type LeaderMsg =
  | MRequest | MRead | MPromise | MAccepted | MReject | MHeartbeat | MHeartbeatAck | MApplied | MFetch
  | { type: 'tick' } | { type: 'flush' } | { type: 'read-round' }
  | { type: 'configure'; replicas?: ActorRef<any>[]; leaders?: ActorRef<LeaderMsg>[]; options?: Partial<LeaderOptions> };

/** A slot in phase 2. */
interface InFlight { value: SlotValue; bytes: number; mask: number; count: number; sentAt: number; resent: boolean; retransmitAt: number; retransmitDelay: number; chosen: boolean }

interface PendingRead { query: unknown; token: ReplyToken; round: number; index: number; lease: boolean; id: number | undefined }

export interface LeaderState {
  role: 'leader';
  index: number;
  id: number;
  acceptors: ActorRef<MultiAcceptorMsg>[];
  replicas: ActorRef<any>[];
  leaders: ActorRef<LeaderMsg>[];
  majority: number;
  opts: LeaderOptions;
  status: 'follower' | 'candidate' | 'leader';
  /** Our ballot as candidate or leader. */
  ballot: Ballot;
  /** The highest ballot seen anywhere (ours start above it). */
  seen: Ballot;
  reservedRound: number;
  /** The leader we follow and when we last heard it. */
  leaderIndex: number;
  lastHeard: number;
  electionDeadline: number;
  // --- phase 1 (as candidate)
  promised: number;
  promises: number;
  phase1From: number;
  recovered: IntMap<{ ballot: Ballot; value: SlotValue }>;
  maxTruncated: number;
  // --- phase 2 (as leader)
  /** Slots below are chosen (and sent to replicas). */
  commitUpTo: number;
  nextSlot: number;
  inflight: IntMap<InFlight>;
  /** Slots re-proposed after phase 1 must all be chosen before reads are served. */
  readyAt: number;
  pending: Command[];
  pendingHead: number;
  flushQueued: boolean;
  // --- heartbeats, lease and reads
  round: number;
  roundSentAt: number;
  roundAcks: number;
  roundMask: number;
  confirmedRound: number;
  leaseUntil: number;
  lastHeartbeat: number;
  reads: PendingRead[];
  /** A heartbeat round for the reads of this turn is queued. */
  readRoundQueued: boolean;
  /** Chosen values kept for replicas that missed them (from `decidedFrom` up to the commit point). */
  decided: IntMap<SlotValue>;
  decidedFrom: number;
  // --- truncation
  replicaSnapshots: Map<number, { at: number; applied: number; heard: number }>;
  /** The slot a majority of the replicas heard from lately has applied up to (Infinity: too few heard). */
  quorumApplied: number;
  /** Commands this leader proposed in its reigns, in all. */
  proposedCommands: number;
  /** `proposedCommands` after each slot proposed in this reign, for slots not yet applied by a majority. */
  commandsThrough: IntMap<number>;
  /** `proposedCommands` when this reign began. */
  reignBase: number;
  /** The lowest slot `commandsThrough` may hold. */
  commandsFrom: number;
  truncatedBelow: number;
  /** Bytes of the slot values in `inflight`. */
  inflightBytes: number;
  /** The accept round trip, smoothed, and its mean deviation (ms): sets the retransmission wait. */
  rtt: { smoothed: number; deviation: number; samples: number };
  stats: { elections: number; chosen: number; batches: number; commands: number; redirects: number };
}

type Ctx = ActorContext<LeaderMsg, { reservedRound: number }>;

export const Leader = defineActor<LeaderState, LeaderMsg, LeaderArgs, { reservedRound: number }>({
  module: import.meta.url,
  label: 'Leader',
  storage: 'shared',

  init(args, ctx, recovered) {
    const opts = { ...defaultLeaderOptions, ...args.options };
    const now = ctx.now();
    const s: LeaderState = {
      role: 'leader',
      index: args.index,
      id: args.index + 1,
      acceptors: args.acceptors,
      replicas: args.replicas ?? [],
      leaders: args.leaders ?? [],
      majority: Math.floor(args.acceptors.length / 2) + 1,
      opts,
      status: 'follower',
      ballot: ZERO_BALLOT,
      seen: recovered ? makeBallot(recovered.reservedRound + 1, args.index + 1) : ZERO_BALLOT,
      reservedRound: recovered?.reservedRound ?? 0,
      leaderIndex: -1,
      lastHeard: now,
      electionDeadline: !recovered && args.index === opts.preferredLeader ? now : now + electionTimeout(opts, ctx),
      promised: 0,
      promises: 0,
      phase1From: 0,
      recovered: new IntMap(),
      maxTruncated: 0,
      commitUpTo: 0,
      nextSlot: 0,
      inflight: new IntMap(),
      readyAt: Infinity,
      pending: [],
      pendingHead: 0,
      flushQueued: false,
      round: 0,
      roundSentAt: 0,
      roundAcks: 0,
      roundMask: 0,
      confirmedRound: 0,
      leaseUntil: 0,
      lastHeartbeat: -Infinity,
      reads: [],
      readRoundQueued: false,
      decided: new IntMap(),
      decidedFrom: 0,
      replicaSnapshots: new Map(),
      quorumApplied: Number.POSITIVE_INFINITY,
      proposedCommands: 0,
      commandsThrough: new IntMap(),
      reignBase: 0,
      commandsFrom: 0,
      truncatedBelow: 0,
      inflightBytes: 0,
      rtt: { smoothed: 0, deviation: 0, samples: 0 },
      stats: { elections: 0, chosen: 0, batches: 0, commands: 0, redirects: 0 },
    };
    ctx.setTimer('tick', opts.tickMs, { type: 'tick' });
    return s;
  },

  inspect: (s) => ({
    ...s, recovered: s.recovered.toMap(), inflight: s.inflight.toMap(), pending: s.pending.length - s.pendingHead, reads: s.reads.length,
    commandsThrough: s.commandsThrough.size, applyLag: applyLag(s),
  }),

  receive(s, msg, ctx) {
    const c = ctx as Ctx;
    switch (msg.type) {
      case 'request': onRequest(s, msg, c); break;
      case 'read': onRead(s, msg, c); break;
      case 'm-promise': onPromise(s, msg, c); break;
      case 'm-accepted': onAccepted(s, msg, c); break;
      case 'm-reject': onReject(s, msg, c); break;
      case 'm-heartbeat': onHeartbeat(s, msg, c); break;
      case 'm-heartbeat-ack': onHeartbeatAck(s, msg, c); break;
      case 'm-applied': onApplied(s, msg, c); break;
      case 'm-fetch': onFetch(s, msg, c); break;
      case 'flush': s.flushQueued = false; flush(s, c); break;
      case 'read-round':
        s.readRoundQueued = false;
        if (s.status === 'leader') heartbeat(s, c);
        break;
      case 'tick': onTick(s, c); break;
      case 'configure':
        if (msg.replicas) s.replicas = msg.replicas;
        if (msg.leaders) s.leaders = msg.leaders;
        // Batch and window limits may change at run time (benchmarks, tuning); timing stays.
        if (msg.options) s.opts = { ...s.opts, ...msg.options };
        break;
    }
  },
});

function electionTimeout(o: LeaderOptions, ctx: { random(): number }): number {
  return o.electionTimeoutMs * (1 + ctx.random());
}

// ------------------------------------------------------------------ election (phase 1)

function campaign(s: LeaderState, ctx: Ctx): void {
  const round = Math.max(roundOf(s.seen), roundOf(s.ballot)) + 1;
  if (round > s.reservedRound) {
    s.reservedRound = round + s.opts.roundReserve;
    ctx.persist({ reservedRound: s.reservedRound });
  }
  s.status = 'candidate';
  s.stats.elections++;
  s.ballot = makeBallot(round, s.id);
  s.seen = s.ballot;
  s.promised = 0;
  s.promises = 0;
  s.recovered.clear();
  s.maxTruncated = 0;
  // From the acceptors' truncation point: a replica may still miss any untruncated slot, and the
  // new leader must be able to give it (it re-decides them all).
  s.phase1From = 0;
  s.electionDeadline = ctx.now() + electionTimeout(s.opts, ctx);
  const m: MPrepare = { type: 'm-prepare', ballot: s.ballot, fromSlot: s.phase1From };
  for (const a of s.acceptors) ctx.send(a, m);
}

function onPromise(s: LeaderState, m: MPromise, ctx: Ctx): void {
  if (s.status !== 'candidate' || m.ballot !== s.ballot) return;
  const bit = 1 << m.acceptor;
  if (s.promised & bit) return;
  s.promised |= bit;
  s.promises++;
  if (m.truncatedBelow > s.maxTruncated) s.maxTruncated = m.truncatedBelow;
  for (const [slot, b, value] of m.accepted) {
    const have = s.recovered.get(slot);
    if (have === undefined || b > have.ballot) s.recovered.set(slot, { ballot: b, value });
  }
  if (s.promises >= s.majority) becomeLeader(s, ctx);
}

/**
 * Elected: every slot a promise reported is re-proposed with its highest-numbered accepted value
 * (it may have been chosen), and every gap below the highest such slot gets a no-op.
 */
function becomeLeader(s: LeaderState, ctx: Ctx): void {
  assert(s.ballot > ZERO_BALLOT && proposerOf(s.ballot) === s.id, 'leader: elected without a ballot of its own');
  s.status = 'leader';
  s.leaderIndex = s.index;
  s.lastHeard = ctx.now();
  // Slots below every acceptor's truncation point are chosen and in some replica's snapshot.
  const from = Math.max(s.phase1From, s.maxTruncated);
  s.commitUpTo = from;
  s.decided.clear();
  s.decidedFrom = from;
  let top = from - 1;
  for (const slot of s.recovered.keysArray()) if (slot > top) top = slot;
  s.inflight.clear();
  s.inflightBytes = 0;
  s.commandsThrough.clear();
  s.reignBase = s.proposedCommands;
  s.commandsFrom = from;
  s.nextSlot = from;
  // Re-decide every untruncated slot: re-proposed in our ballot with its highest accepted value.
  for (let slot = from; slot <= top; slot++) {
    const r = s.recovered.get(slot);
    const value = r === undefined ? null : r.value;
    propose(s, slot, value, slotBytes(value), ctx);
  }
  s.nextSlot = Math.max(s.nextSlot, top + 1);
  s.readyAt = s.nextSlot;
  s.recovered.clear();
  s.leaseUntil = 0;
  s.readRoundQueued = false;
  heartbeat(s, ctx);
  flush(s, ctx);
}

function stepDown(s: LeaderState, higher: Ballot, ctx: Ctx): void {
  if (higher > s.seen) s.seen = higher;
  if (s.status === 'follower') return;
  const wasLeader = s.status === 'leader';
  s.status = 'follower';
  s.leaderIndex = proposerOf(higher) - 1;
  s.lastHeard = ctx.now();
  s.electionDeadline = ctx.now() + electionTimeout(s.opts, ctx);
  if (!wasLeader) return;
  // Everything waiting here goes back to its clients: they retry with the new leader.
  const leader = s.leaders[s.leaderIndex] ?? null;
  for (let i = s.pendingHead; i < s.pending.length; i++) {
    const c = s.pending[i]!;
    if (c.reply) ctx.respond(c.reply, redirect(leader, 'leadership moved'));
  }
  s.pending = [];
  s.pendingHead = 0;
  for (const r of s.reads) ctx.respond(r.token, redirect(leader, 'leadership moved', r.id));
  s.reads = [];
  s.inflight.clear();
  s.inflightBytes = 0;
}

function redirect(leader: ActorRef<any> | null, reason: string, id?: number): MRedirect {
  return id === undefined ? { type: 'redirect', leader, reason } : { type: 'redirect', leader, reason, id };
}

function onReject(s: LeaderState, m: MReject, ctx: Ctx): void {
  if (m.promised > s.ballot && m.ballot === s.ballot) stepDown(s, m.promised, ctx);
  else if (m.promised > s.seen) s.seen = m.promised;
}

function onHeartbeat(s: LeaderState, m: MHeartbeat, ctx: Ctx): void {
  // Another node's leader (heartbeats go to acceptors and to the other leaders).
  if (m.ballot < s.ballot && s.status !== 'follower') return;
  if (m.ballot > s.ballot && s.status !== 'follower') stepDown(s, m.ballot, ctx);
  if (m.ballot > s.seen) s.seen = m.ballot;
  if (s.status === 'follower') {
    s.leaderIndex = m.leader;
    s.lastHeard = ctx.now();
    s.electionDeadline = ctx.now() + electionTimeout(s.opts, ctx);
    if (m.commitUpTo > s.commitUpTo) s.commitUpTo = m.commitUpTo;
  }
}

// ------------------------------------------------------------------ clients

function onRequest(s: LeaderState, m: MRequest, ctx: Ctx): void {
  if (s.status !== 'leader') {
    // Even a silent client is told where the leader is.
    const token = ctx.replyToken();
    s.stats.redirects++;
    const leader = s.leaderIndex >= 0 && s.leaderIndex !== s.index ? s.leaders[s.leaderIndex] ?? null : null;
    const answer = redirect(leader, s.status === 'candidate' ? 'an election is running' : 'not the leader', m.commands.length === 1 ? m.commands[0]!.seq : undefined);
    let tokenUsed = false;
    for (const c of m.commands) {
      const r = c.reply ?? (m.commands.length === 1 ? token : undefined);
      if (r) ctx.respond(r, answer);
      if (r === token) tokenUsed = true;
    }
    if (token && !tokenUsed) ctx.respond(token, answer);
    return;
  }
  const token = m.silent ? undefined : ctx.replyToken();
  const room = s.opts.maxPendingCommands - (s.pending.length - s.pendingHead);
  for (let i = 0; i < m.commands.length; i++) {
    const c = m.commands[i]!;
    const reply = c.reply ?? (m.commands.length === 1 ? token : undefined);
    if (i >= room) {
      if (reply) ctx.respond(reply, { type: 'result', client: c.client, seq: c.seq, ok: false, error: `the leader has ${s.opts.maxPendingCommands} commands waiting (maxPendingCommands); retry later`, index: -1 } satisfies MResult);
      continue;
    }
    s.pending.push({ client: c.client, seq: c.seq, op: c.op, reply, origin: s.index });
  }
  // Batch what arrives in this turn: flush after the messages already queued.
  if (!s.flushQueued) {
    s.flushQueued = true;
    ctx.send(ctx.self, { type: 'flush' });
  }
}

/** Fills slots with batches of waiting commands while the window has room. */
function flush(s: LeaderState, ctx: Ctx): void {
  if (s.status !== 'leader') return;
  const o = s.opts;
  while (s.pendingHead < s.pending.length && s.inflight.size < o.window && s.inflightBytes < o.maxInflightBytes && applyLag(s) < o.maxApplyLag) {
    let value: SlotValue;
    let count: number;
    let bytes: number;
    if (o.encodeBatches) {
      // Encoded as it is filled: the byte bound is the batch's real size.
      while (s.pendingHead < s.pending.length && batchEncoder.count < o.maxBatchCommands && batchEncoder.bytes < o.maxBatchBytes) {
        batchEncoder.add(s.pending[s.pendingHead]!);
        s.pending[s.pendingHead++] = undefined as never;
      }
      count = batchEncoder.count;
      value = batchEncoder.finish();
      bytes = value.byteLength;
    } else {
      const commands: Command[] = [];
      bytes = 0;
      while (s.pendingHead < s.pending.length && commands.length < o.maxBatchCommands) {
        const c = s.pending[s.pendingHead]!;
        const size = approxSize(c.op);
        if (commands.length > 0 && bytes + size > o.maxBatchBytes) break;
        commands.push(c);
        bytes += size;
        s.pending[s.pendingHead++] = undefined as never;
      }
      count = commands.length;
      value = { commands } satisfies Batch;
    }
    s.stats.batches++;
    s.stats.commands += count;
    s.proposedCommands += count;
    s.commandsThrough.set(s.nextSlot, s.proposedCommands);
    propose(s, s.nextSlot++, value, bytes, ctx);
  }
  if (s.pendingHead === s.pending.length) {
    s.pending = [];
    s.pendingHead = 0;
  } else if (s.pendingHead > 4096 && s.pendingHead * 2 > s.pending.length) {
    s.pending = s.pending.slice(s.pendingHead);
    s.pendingHead = 0;
  }
}

/** A cheap upper-bound estimate of a command's size in bytes, for batch limits. */
function approxSize(v: unknown, depth = 0): number {
  switch (typeof v) {
    case 'string': return 2 + v.length;
    case 'number': return 8;
    case 'boolean': return 1;
    case 'object': {
      if (v === null || depth > 4) return 8;
      if (v instanceof Uint8Array) return v.length + 4;
      let n = 8;
      if (Array.isArray(v)) for (const x of v) n += approxSize(x, depth + 1);
      else for (const k in v as Record<string, unknown>) n += k.length + approxSize((v as Record<string, unknown>)[k], depth + 1);
      return n;
    }
    default: return 8;
  }
}

// ------------------------------------------------------------------ phase 2

/** A slot value's size as the batch bounds count it (`maxBatchBytes`, `maxInflightBytes`). */
function slotBytes(value: SlotValue): number {
  if (value === null) return 0;
  if (value instanceof Uint8Array) return value.byteLength;
  let n = 0;
  for (const c of value.commands) n += approxSize(c.op);
  return n;
}

/** Phase 2 for one slot; `bytes` is the value's size (see `slotBytes`), known to the caller that built it. */
function propose(s: LeaderState, slot: number, value: SlotValue, bytes: number, ctx: Ctx): void {
  const now = ctx.now();
  const wait = retransmitWait(s);
  s.inflightBytes += bytes;
  s.inflight.set(slot, { value, bytes, mask: 0, count: 0, sentAt: now, resent: false, retransmitAt: now + wait, retransmitDelay: wait, chosen: false });
  const m: MAccept = { type: 'm-accept', ballot: s.ballot, slot, value, commitUpTo: s.commitUpTo };
  for (const a of s.acceptors) ctx.send(a, m);
}

/** How long a slot waits for its acceptors before it is sent again (see `retransmitMs`). */
function retransmitWait(s: LeaderState): number {
  const o = s.opts;
  if (s.rtt.samples === 0) return o.retransmitMs;
  return Math.min(o.maxRetransmitMs, Math.max(o.retransmitMs, s.rtt.smoothed + 4 * s.rtt.deviation));
}

function sampleRoundTrip(s: LeaderState, ms: number): void {
  const r = s.rtt;
  if (r.samples++ === 0) {
    r.smoothed = ms;
    r.deviation = ms / 2;
  } else {
    r.deviation = 0.75 * r.deviation + 0.25 * Math.abs(r.smoothed - ms);
    r.smoothed = 0.875 * r.smoothed + 0.125 * ms;
  }
}

function onAccepted(s: LeaderState, m: MAccepted, ctx: Ctx): void {
  if (s.status !== 'leader' || m.ballot !== s.ballot) return;
  const f = s.inflight.get(m.slot);
  if (f === undefined || f.chosen) return;
  const bit = 1 << m.acceptor;
  if (f.mask & bit) return;
  f.mask |= bit;
  // Only first sends are timed: the answer to a resent slot may answer either copy (Karn).
  if (!f.resent) sampleRoundTrip(s, ctx.now() - f.sentAt);
  if (++f.count < s.majority) return;
  f.chosen = true;
  s.stats.chosen++;
  if (m.slot === s.commitUpTo) advanceCommit(s, ctx);
}

/** Moves the commit point over every chosen slot in order and sends them to the replicas. */
function advanceCommit(s: LeaderState, ctx: Ctx): void {
  const first = s.commitUpTo;
  const values: SlotValue[] = [];
  for (;;) {
    const f = s.inflight.get(s.commitUpTo);
    if (f === undefined || !f.chosen) break;
    values.push(f.value);
    s.decided.set(s.commitUpTo, f.value);
    s.inflightBytes -= f.bytes;
    s.inflight.delete(s.commitUpTo);
    s.commitUpTo++;
  }
  // Bounded: a replica that needs older slots installs a peer's snapshot.
  while (s.commitUpTo - s.decidedFrom > s.opts.maxRetainedSlots) s.decided.delete(s.decidedFrom++);
  if (values.length === 0) return;
  const d: MDecide = { type: 'm-decide', firstSlot: first, values };
  for (const r of s.replicas) ctx.send(r, d);
  if (s.commitUpTo >= s.readyAt) serveReads(s, ctx);
  flush(s, ctx);
}

// ------------------------------------------------------------------ heartbeats, lease, reads

function heartbeat(s: LeaderState, ctx: Ctx): void {
  const now = ctx.now();
  s.lastHeartbeat = now;
  s.round++;
  s.roundSentAt = now;
  s.roundAcks = 0;
  s.roundMask = 0;
  const m: MHeartbeat = { type: 'm-heartbeat', ballot: s.ballot, leader: s.index, commitUpTo: s.commitUpTo, round: s.round };
  for (const a of s.acceptors) ctx.send(a, m);
  for (let i = 0; i < s.leaders.length; i++) if (i !== s.index) ctx.send(s.leaders[i]!, m);
  // Replicas learn the commit point too: one that missed the last decides knows to fetch them.
  for (const r of s.replicas) ctx.send(r, m);
}

function onHeartbeatAck(s: LeaderState, m: MHeartbeatAck, ctx: Ctx): void {
  if (s.status !== 'leader' || m.ballot !== s.ballot || m.round !== s.round) return;
  const bit = 1 << m.acceptor;
  if (s.roundMask & bit) return;
  s.roundMask |= bit;
  if (++s.roundAcks !== s.majority) return;
  // A quorum still follows us as of this round's send time: leadership confirmed, lease renewed.
  s.confirmedRound = s.round;
  s.leaseUntil = s.roundSentAt + s.opts.leaseMs * (1 - s.opts.maxClockDrift);
  serveReads(s, ctx);
}

function onRead(s: LeaderState, m: MRead, ctx: Ctx): void {
  const token = m.replyTo ?? ctx.replyToken();
  if (!token) return;
  if (s.status !== 'leader') {
    const leader = s.leaderIndex >= 0 && s.leaderIndex !== s.index ? s.leaders[s.leaderIndex] ?? null : null;
    ctx.respond(token, redirect(leader, 'not the leader', m.id));
    return;
  }
  if (s.reads.length >= s.opts.maxPendingReads) {
    ctx.respond(token, { type: 'read-result', ok: false, error: `the leader has ${s.opts.maxPendingReads} reads waiting (maxPendingReads); retry later`, index: -1, id: m.id } satisfies MReadResult);
    return;
  }
  const lease = m.consistency === 'lease' && ctx.now() < s.leaseUntil;
  // Confirmed by a heartbeat round sent after the read arrived (or by the lease). The reads of
  // one turn share a round: it is sent after the messages already queued.
  s.reads.push({ query: m.query, token, round: s.round + 1, index: s.commitUpTo, lease, id: m.id });
  if (lease) serveReads(s, ctx);
  else if (!s.readRoundQueued) {
    s.readRoundQueued = true;
    ctx.send(ctx.self, { type: 'read-round' });
  }
}

/** Hands confirmed reads to this node's replica, to answer once it has applied their index. */
function serveReads(s: LeaderState, ctx: Ctx): void {
  if (s.reads.length === 0 || s.commitUpTo < s.readyAt) return;
  const local = s.replicas[s.index];
  if (!local) return;
  const keep: PendingRead[] = [];
  for (const r of s.reads) {
    if (r.lease || s.confirmedRound >= r.round) {
      ctx.send(local, { type: 'read', query: r.query, consistency: 'session', afterIndex: Math.max(r.index, s.readyAt), replyTo: r.token, id: r.id } satisfies MRead);
    } else {
      keep.push(r);
    }
  }
  s.reads = keep;
}

/** A replica asks for chosen slots it missed: give what we kept. */
function onFetch(s: LeaderState, m: MFetch, ctx: Ctx): void {
  if (s.status !== 'leader') return;
  const from = Math.max(m.fromSlot, s.decidedFrom);
  const to = Math.min(s.commitUpTo, m.fromSlot + 512, Math.max(m.toSlot, m.fromSlot + 1));
  const values: SlotValue[] = [];
  for (let slot = from; slot < to; slot++) {
    if (!s.decided.has(slot)) break;
    values.push(s.decided.get(slot) as SlotValue);
  }
  if (values.length) ctx.reply({ type: 'm-entries', firstSlot: from, values } satisfies MEntries);
}

// ------------------------------------------------------------------ truncation

/** Commands proposed in this reign that a majority of the replicas has not applied yet. */
function applyLag(s: LeaderState): number {
  const qa = s.quorumApplied;
  if (qa === Number.POSITIVE_INFINITY) return 0;
  return s.proposedCommands - (s.commandsThrough.get(qa - 1) ?? s.reignBase);
}

function onApplied(s: LeaderState, m: MApplied, ctx: Ctx): void {
  const now = ctx.now();
  s.replicaSnapshots.set(m.replica, { at: m.snapshotAt, applied: m.appliedUpTo, heard: now });
  const live = [...s.replicaSnapshots.values()].filter((r) => now - r.heard <= s.opts.replicaTimeoutMs);
  // Replicas not heard from lately do not hold the leader back (they may be down).
  if (live.length < s.majority) {
    s.quorumApplied = Number.POSITIVE_INFINITY;
  } else {
    const applied = live.map((r) => r.applied).sort((a, b) => b - a);
    const before = s.quorumApplied;
    s.quorumApplied = applied[s.majority - 1]!;
    // Forget the counts of slots a majority applied (the one just below stays: the lag is counted from it).
    const keepFrom = s.quorumApplied - 1;
    if (keepFrom - s.commandsFrom > s.commandsThrough.size) { s.commandsThrough.clear(); s.commandsFrom = keepFrom; }
    while (s.commandsFrom < keepFrom) s.commandsThrough.delete(s.commandsFrom++);
    if (s.status === 'leader' && s.quorumApplied > before) flush(s, ctx);
  }
  if (s.status !== 'leader') return;
  if (live.length < s.majority) return;
  const below = Math.min(...live.map((r) => r.at));
  if (below > s.truncatedBelow && below <= s.commitUpTo) {
    s.truncatedBelow = below;
    while (s.decidedFrom < below) s.decided.delete(s.decidedFrom++);
    const t: MTruncate = { type: 'm-truncate', below };
    for (const a of s.acceptors) ctx.send(a, t);
  }
}

// ------------------------------------------------------------------ time

function onTick(s: LeaderState, ctx: Ctx): void {
  ctx.setTimer('tick', s.opts.tickMs, { type: 'tick' });
  const now = ctx.now();
  if (s.status === 'leader') {
    if (now - s.lastHeartbeat >= s.opts.heartbeatMs) heartbeat(s, ctx);
    // Lost messages: send phase 2 again to the acceptors that have not answered.
    s.inflight.forEach((f, slot) => {
      if (f.chosen || now < f.retransmitAt) return;
      f.resent = true;
      f.retransmitDelay = Math.min(2 * f.retransmitDelay, s.opts.maxRetransmitMs);
      f.retransmitAt = now + f.retransmitDelay;
      const m: MAccept = { type: 'm-accept', ballot: s.ballot, slot, value: f.value, commitUpTo: s.commitUpTo };
      for (let i = 0; i < s.acceptors.length; i++) if (!(f.mask & (1 << i))) ctx.send(s.acceptors[i]!, m);
    });
    return;
  }
  if (now < s.electionDeadline) return;
  // No leader heard in time (or our campaign stalled): campaign with a higher ballot. The
  // preferred leader does not wait at a cold start only (no round ever reserved): restarted, it
  // follows whoever leads now rather than taking over again.
  if (s.status === 'candidate' || now - s.lastHeard >= s.opts.electionTimeoutMs || s.reservedRound === 0 && s.leaderIndex < 0 && s.index === s.opts.preferredLeader) campaign(s, ctx);
  else s.electionDeadline = now + electionTimeout(s.opts, ctx);
}
