/**
 * Where clients meet a RaftNode. It speaks the client protocol of `@synod/smr`, as a Multi-Paxos
 * leader does, so a client (`ClientCore`, and `ReplicatedStateMachine` over it) does not know
 * which protocol it talks to:
 *
 *  - `client-request`: a client's request (the bytes its client wrote, as they will sit in the
 *    log) waits here and is batched with others into one entry (bounded by commands and bytes)
 *    while the pipeline has room. The leader concatenates whole requests with `SlotBuilder` and
 *    never reads them. It tells its node's replica where each client's outcomes go
 *    (`client-route`: never in the log); that replica answers once the entry is applied;
 *  - `client-reads`: linearizable reads are confirmed by a heartbeat round that a majority
 *    answers after the reads arrived (ReadIndex, dissertation §6.4), lease reads by the leader's
 *    lease, both once an entry of the leader's term is committed; then they go to this node's
 *    replica as session reads at the read index, and it answers the client. Session and eventual
 *    reads go straight to the replica;
 *  - not the leader: requests get a `client-redirect` naming the leader when known, so the
 *    client sends its next ones there; linearizable and lease reads are forwarded to the leader
 *    this node knows (`r-forward`, as etcd forwards ReadIndex requests), whose replica answers
 *    the client: one hop inside the cluster instead of a round trip through the client (a forward
 *    that finds no leader is redirected). A leader that steps down hands back what waited here
 *    the same way, and its replica forgets its routes (`client-routes-clear`): the next leader's
 *    replica answers.
 *
 * Pure: it touches the world only through `ctx`.
 */
import { sameRef, type ActorRef } from '@synod/actors';
import type { SlotValue } from '@synod/paxos';
import { SlotBuilder, type ClientReply, type MClientReads, type MClientRedirect, type MClientRequest, type MClientRoute } from '@synod/smr';
import { applyLag } from './apply.js';
import type { RForward } from './messages.js';
import { NONE, committedInCurrentTerm, type RaftCtx, type RaftNodeState } from './state.js';

/** Builds entry values (one per thread; a flush runs to its end within one turn). */
const builder = new SlotBuilder();

/** Routes remembered; the least recently seen client is forgotten beyond (its replica keeps as many). */
const MAX_ROUTES = 100_000;

interface Waiting {
  bytes: Uint8Array;
  commands: number;
  from: ActorRef<ClientReply>;
}

interface PendingRead {
  m: MClientReads;
  /** Confirmed by a majority's answers to this heartbeat round. */
  round: number;
  /** Served on the lease, without a round. */
  lease: boolean;
  /** The read index: the commit index when it arrived (-1: fixed when the term's first entry commits). */
  index: number;
}

export interface ClientEntryState {
  /** Requests waiting for room in the pipeline (from `pendingHead` on). */
  pending: Waiting[];
  pendingHead: number;
  /** Commands in the waiting requests. */
  pendingCommands: number;
  /** A `flush` to self is queued: the requests of this turn are batched after it. */
  flushQueued: boolean;
  /** Read messages waiting for a confirmation (or for the term's first commit). */
  reads: PendingRead[];
  /** A heartbeat round for the reads of this turn is queued. */
  readRoundQueued: boolean;
  /** Where each client's outcomes go, as told to this node's replica (bounded like its routes). */
  routes: Map<string, ActorRef<ClientReply>>;
}

export function newClientEntryState(): ClientEntryState {
  return { pending: [], pendingHead: 0, pendingCommands: 0, flushQueued: false, reads: [], readRoundQueued: false, routes: new Map() };
}

/** Commands waiting at this node. */
export function pendingCommands(s: RaftNodeState): number {
  return s.client.pendingCommands;
}

/** The leader's ref, for redirects (null: unknown, or this node). */
export function leaderRef(s: RaftNodeState): ActorRef<any> | null {
  return s.leader !== NONE && s.leader !== s.index ? (s.nodes[s.leader] ?? null) : null;
}

function redirect(leader: ActorRef<any> | null, reason: string, reads: boolean, busy = false): MClientRedirect {
  return { type: 'client-redirect', leader, reason, busy, reads };
}

function notLeaderReason(s: RaftNodeState): string {
  return s.status === 'follower' ? 'not the leader' : 'an election is running';
}

/**
 * Not the leader: forwards reads to the leader when one is known and they were not forwarded
 * already; else (and for requests: the client then sends its next ones to the leader, and they
 * reach it in one hop) tells the client where to go.
 */
function notLeader(s: RaftNodeState, m: MClientRequest | MClientReads, forwarded: boolean, ctx: RaftCtx): void {
  const leader = leaderRef(s);
  if (leader !== null && !forwarded && m.type === 'client-reads') {
    s.stats.forwarded++;
    ctx.send(leader, { type: 'r-forward', from: s.index, message: m } satisfies RForward);
    return;
  }
  s.stats.redirects++;
  ctx.send(m.from, redirect(leader, notLeaderReason(s), m.type === 'client-reads'));
}

/** A follower forwarded a client's reads (to us, as it thinks we lead). */
export function onForward(s: RaftNodeState, m: RForward, ctx: RaftCtx): void {
  if (m.message.type === 'client-request') onRequest(s, m.message, ctx, true);
  else onReads(s, m.message, ctx, true);
}

/** A client's request: kept for the next entry, or handed on when this node does not lead. */
export function onRequest(s: RaftNodeState, m: MClientRequest, ctx: RaftCtx, forwarded = false): void {
  const c = s.client;
  if (s.status !== 'leader') {
    notLeader(s, m, forwarded, ctx);
    return;
  }
  if (c.pendingCommands + m.commands > s.opts.maxPendingCommands && c.pendingCommands > 0) {
    ctx.send(
      m.from,
      redirect(ctx.self, `the leader has ${c.pendingCommands} commands waiting (maxPendingCommands ${s.opts.maxPendingCommands}); retry later`, false, true),
    );
    return;
  }
  const known = c.routes.get(m.client);
  if (known === undefined || !sameRef(known, m.from)) {
    c.routes.delete(m.client);
    c.routes.set(m.client, m.from);
    if (c.routes.size > MAX_ROUTES) c.routes.delete(c.routes.keys().next().value!);
    const local = s.replicas[s.index];
    if (local) ctx.send(local, { type: 'client-route', client: m.client, to: m.from } satisfies MClientRoute);
  }
  c.pending.push({ bytes: m.bytes, commands: m.commands, from: m.from });
  c.pendingCommands += m.commands;
  // Batch what arrives in this turn: flush after the messages already queued.
  queueFlush(s, ctx);
}

/** A `flush` to self, once per turn: requests, and commit news for followers, go out after the messages already queued. */
export function queueFlush(s: RaftNodeState, ctx: RaftCtx): void {
  if (s.client.flushQueued) return;
  s.client.flushQueued = true;
  ctx.send(ctx.self, { type: 'flush' });
}

/** Whether the leader may append another entry now (pipeline depth, uncommitted bytes, replicas' lag, no transfer). */
function hasRoom(s: RaftNodeState): boolean {
  const o = s.opts;
  return (
    s.status === 'leader' &&
    s.transferee === NONE &&
    s.log.lastIndex - s.commitIndex < o.window &&
    s.uncommittedBytes < o.maxUncommittedBytes &&
    applyLag(s) < o.maxApplyLag
  );
}

/**
 * Fills entries with waiting requests while the pipeline has room; `append` puts one in the log
 * (value, number of commands, bytes). Returns how many entries were appended.
 */
export function flushCommands(s: RaftNodeState, append: (value: SlotValue, commands: number, bytes: number) => void): number {
  const c = s.client;
  const o = s.opts;
  let appended = 0;
  while (c.pendingHead < c.pending.length && hasRoom(s)) {
    // A request larger than the batch bounds makes an entry of its own.
    while (c.pendingHead < c.pending.length) {
      const w = c.pending[c.pendingHead]!;
      if (builder.count > 0 && (builder.commands + w.commands > o.maxBatchCommands || builder.bytes + w.bytes.length > o.maxBatchBytes)) break;
      builder.add(w.bytes, w.commands);
      c.pendingCommands -= w.commands;
      c.pending[c.pendingHead++] = undefined as never;
    }
    const count = builder.commands;
    const value = builder.finish();
    append(value, count, value.byteLength);
    appended++;
  }
  // Emptied and compacted in place, never replaced: a fresh `[]` starts as an array of small
  // integers, and a push optimized for one deopts when a request goes in (seen in the one-client
  // path right after a burst, which then ran unoptimized until V8 optimized it again).
  if (c.pendingHead === c.pending.length) {
    c.pending.length = 0;
    c.pendingHead = 0;
  } else if (c.pendingHead > 4096 && c.pendingHead * 2 > c.pending.length) {
    c.pending.copyWithin(0, c.pendingHead);
    c.pending.length -= c.pendingHead;
    c.pendingHead = 0;
  }
  return appended;
}

/**
 * Reads. Linearizable and lease reads need the leader; session and eventual reads are the
 * replica's (it waits for the session's index itself).
 */
export function onReads(s: RaftNodeState, m: MClientReads, ctx: RaftCtx, forwarded = false): void {
  const replica = s.replicas[s.index];
  if (m.consistency === 'session' || m.consistency === 'eventual') {
    if (replica) ctx.send(replica, m);
    return;
  }
  if (s.status !== 'leader') {
    notLeader(s, m, forwarded, ctx);
    return;
  }
  const c = s.client;
  if (c.reads.length >= s.opts.maxPendingReads) {
    ctx.send(m.from, redirect(ctx.self, `the leader has ${s.opts.maxPendingReads} read messages waiting (maxPendingReads); retry later`, true, true));
    return;
  }
  const lease = m.consistency === 'lease' && leaseValid(s, ctx.now());
  c.reads.push({ m, round: s.round + 1, lease, index: committedInCurrentTerm(s) ? s.commitIndex : -1 });
  if (lease) serveReads(s, ctx);
  else if (!c.readRoundQueued) {
    // The reads of one turn share a round: it is sent after the messages already queued.
    c.readRoundQueued = true;
    ctx.send(ctx.self, { type: 'read-round' });
  }
}

/**
 * The lease: a majority answered a heartbeat round sent at some time t, and each of them
 * refuses to vote for another node for an election timeout after hearing it, so no other leader
 * exists before `leaseUntil` (the election timeout less the clock drift allowed).
 */
function leaseValid(s: RaftNodeState, now: number): boolean {
  return !s.leaseDisabled && now < s.leaseUntil;
}

/** Hands confirmed reads to this node's replica, to answer once it has applied their index. */
export function serveReads(s: RaftNodeState, ctx: RaftCtx): void {
  const c = s.client;
  if (c.reads.length === 0 || s.status !== 'leader' || !committedInCurrentTerm(s)) return;
  const replica = s.replicas[s.index];
  if (!replica) return;
  const keep: PendingRead[] = [];
  for (const r of c.reads) {
    if (r.lease || s.confirmedRound >= r.round) {
      // Raft index i is the replica's applied point i (entry i is slot i - 1).
      const index = r.index < 0 ? s.commitIndex : r.index;
      ctx.send(replica, { ...r.m, consistency: 'session', afterIndex: Math.max(index, r.m.afterIndex) } satisfies MClientReads);
    } else {
      keep.push(r);
    }
  }
  c.reads = keep;
}

/**
 * Leadership lost: what waits here goes back to its clients, who send it again to the new
 * leader; this node's replica stops answering clients (the next leader's does).
 */
export function leadershipLost(s: RaftNodeState, ctx: RaftCtx): void {
  const c = s.client;
  // Deposed by the campaign of a transfer we asked for: its target is the likely leader.
  const leader = leaderRef(s) ?? (s.transferee !== NONE && s.transferee !== s.index ? (s.nodes[s.transferee] ?? null) : null);
  const told = new Set<string>();
  for (let i = c.pendingHead; i < c.pending.length; i++) {
    const from = c.pending[i]!.from;
    const key = `${from.node}.${from.id}`;
    if (told.has(key)) continue;
    told.add(key);
    ctx.send(from, redirect(leader, 'leadership moved', false));
  }
  c.pending.length = 0;
  c.pendingHead = 0;
  c.pendingCommands = 0;
  told.clear();
  for (const r of c.reads) {
    const key = `${r.m.from.node}.${r.m.from.id}`;
    if (told.has(key)) continue;
    told.add(key);
    ctx.send(r.m.from, redirect(leader, 'leadership moved', true));
  }
  c.reads = [];
  c.readRoundQueued = false;
  if (c.routes.size > 0) {
    const local = s.replicas[s.index];
    if (local) ctx.send(local, { type: 'client-routes-clear' });
    c.routes.clear();
  }
}
