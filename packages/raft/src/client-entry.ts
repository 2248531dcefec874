/**
 * Where clients meet a RaftNode. It takes the very messages a Multi-Paxos leader takes, so a
 * client (and later `ReplicatedStateMachine`) does not know which protocol it talks to:
 *
 *  - `request`: commands wait here, are batched into log entries (bounded by count and bytes)
 *    while the pipeline has room, and are answered by the replica of this node once applied
 *    (each command carries its reply token and this node's number as `origin`);
 *  - `read`: linearizable reads are confirmed by a heartbeat round that a majority answers after
 *    the read arrived (ReadIndex, dissertation §6.4), lease reads by the leader's lease, both
 *    once an entry of the leader's term is committed; then they go to this node's replica as
 *    session reads at the read index. Session and eventual reads go straight to the replica;
 *  - not the leader: `redirect`, naming the leader when known.
 *
 * Kept in one module, apart from the protocol, so the client protocol can change here alone.
 */
import type { ActorRef, ReplyToken } from '@synod/actors';
import { BatchEncoder, type Batch, type Command, type MRead, type MReadResult, type MRedirect, type MRequest, type MResult, type SlotValue } from '@synod/paxos';
import { applyLag } from './apply.js';
import { NONE, committedInCurrentTerm, type RaftCtx, type RaftNodeState } from './state.js';

/** Encodes batches as they are filled (one per thread; a flush runs to its end within one turn). */
const batchEncoder = new BatchEncoder();

interface PendingRead {
  query: unknown;
  token: ReplyToken;
  id: number | undefined;
  /** Confirmed by a majority's answers to this heartbeat round. */
  round: number;
  /** Served on the lease, without a round. */
  lease: boolean;
  /** The read index: the commit index when it arrived (-1: fixed when the term's first entry commits). */
  index: number;
}

export interface ClientEntryState {
  /** Commands waiting for room in the pipeline (from `pendingHead` on). */
  pending: Command[];
  pendingHead: number;
  /** A `flush` to self is queued: the commands of this turn are batched after it. */
  flushQueued: boolean;
  reads: PendingRead[];
  /** A heartbeat round for the reads of this turn is queued. */
  readRoundQueued: boolean;
}

export function newClientEntryState(): ClientEntryState {
  return { pending: [], pendingHead: 0, flushQueued: false, reads: [], readRoundQueued: false };
}

/** The leader's ref, for redirects (null: unknown, or this node). */
export function leaderRef(s: RaftNodeState): ActorRef<any> | null {
  return s.leader !== NONE && s.leader !== s.index ? s.nodes[s.leader] ?? null : null;
}

function redirect(leader: ActorRef<any> | null, reason: string, id?: number): MRedirect {
  return id === undefined ? { type: 'redirect', leader, reason } : { type: 'redirect', leader, reason, id };
}

/** Client commands: kept for the next batch, or redirected when this node does not lead. */
export function onRequest(s: RaftNodeState, m: MRequest, ctx: RaftCtx): void {
  const c = s.client;
  if (s.status !== 'leader') {
    // Even a silent client is told where the leader is.
    const token = ctx.replyToken();
    s.stats.redirects++;
    const reason = s.status === 'follower' ? 'not the leader' : 'an election is running';
    const answer = redirect(leaderRef(s), reason, m.commands.length === 1 ? m.commands[0]!.seq : undefined);
    let tokenUsed = false;
    for (const cmd of m.commands) {
      const r = cmd.reply ?? (m.commands.length === 1 ? token : undefined);
      if (r) ctx.respond(r, answer);
      if (r === token) tokenUsed = true;
    }
    if (token && !tokenUsed) ctx.respond(token, answer);
    return;
  }
  const token = m.silent ? undefined : ctx.replyToken();
  const room = s.opts.maxPendingCommands - (c.pending.length - c.pendingHead);
  for (let i = 0; i < m.commands.length; i++) {
    const cmd = m.commands[i]!;
    const reply = cmd.reply ?? (m.commands.length === 1 ? token : undefined);
    if (i >= room) {
      if (reply) ctx.respond(reply, { type: 'result', client: cmd.client, seq: cmd.seq, ok: false, error: `the leader has ${s.opts.maxPendingCommands} commands waiting (maxPendingCommands); retry later`, index: -1 } satisfies MResult);
      continue;
    }
    c.pending.push({ client: cmd.client, seq: cmd.seq, op: cmd.op, reply, origin: s.index });
  }
  // Batch what arrives in this turn: flush after the messages already queued.
  if (!c.flushQueued) {
    c.flushQueued = true;
    ctx.send(ctx.self, { type: 'flush' });
  }
}

/** Whether the leader may append another entry now (pipeline depth, uncommitted bytes, replicas' lag, no transfer). */
function hasRoom(s: RaftNodeState): boolean {
  const o = s.opts;
  return s.status === 'leader' && s.transferee === NONE
    && s.log.lastIndex - s.commitIndex < o.window
    && s.uncommittedBytes < o.maxUncommittedBytes
    && applyLag(s) < o.maxApplyLag;
}

/**
 * Fills entries with batches of waiting commands while the pipeline has room; `append` puts one
 * in the log (value, number of commands, bytes). Returns how many entries were appended.
 */
export function flushCommands(s: RaftNodeState, append: (value: SlotValue, commands: number, bytes: number) => void): number {
  const c = s.client;
  const o = s.opts;
  let appended = 0;
  while (c.pendingHead < c.pending.length && hasRoom(s)) {
    let value: SlotValue;
    let count: number;
    let bytes: number;
    if (o.encodeBatches) {
      // Encoded as it is filled: the byte bound is the batch's real size.
      while (c.pendingHead < c.pending.length && batchEncoder.count < o.maxBatchCommands && batchEncoder.bytes < o.maxBatchBytes) {
        batchEncoder.add(c.pending[c.pendingHead]!);
        c.pending[c.pendingHead++] = undefined as never;
      }
      count = batchEncoder.count;
      value = batchEncoder.finish();
      bytes = value.byteLength;
    } else {
      const commands: Command[] = [];
      bytes = 0;
      while (c.pendingHead < c.pending.length && commands.length < o.maxBatchCommands) {
        const cmd = c.pending[c.pendingHead]!;
        const size = approxSize(cmd.op);
        if (commands.length > 0 && bytes + size > o.maxBatchBytes) break;
        commands.push(cmd);
        bytes += size;
        c.pending[c.pendingHead++] = undefined as never;
      }
      count = commands.length;
      value = { commands } satisfies Batch;
    }
    append(value, count, bytes);
    appended++;
  }
  if (c.pendingHead === c.pending.length) {
    c.pending = [];
    c.pendingHead = 0;
  } else if (c.pendingHead > 4096 && c.pendingHead * 2 > c.pending.length) {
    c.pending = c.pending.slice(c.pendingHead);
    c.pendingHead = 0;
  }
  return appended;
}

/** A cheap upper-bound estimate of a command's size in bytes, for batch limits. */
export function approxSize(v: unknown, depth = 0): number {
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

/** A slot value's size as the batch bounds count it. */
export function valueBytes(value: SlotValue): number {
  if (value === null) return 0;
  if (value instanceof Uint8Array) return value.byteLength;
  let n = 0;
  for (const c of value.commands) n += approxSize(c.op);
  return n;
}

/**
 * A read. Linearizable and lease reads need the leader; session and eventual reads are the
 * replica's (it waits for the session's index itself).
 */
export function onRead(s: RaftNodeState, m: MRead, ctx: RaftCtx): void {
  const token = m.replyTo ?? ctx.replyToken();
  if (!token) return;
  const replica = s.replicas[s.index];
  if ((m.consistency === 'session' || m.consistency === 'eventual') && replica) {
    ctx.send(replica, { ...m, replyTo: token } satisfies MRead);
    return;
  }
  if (s.status !== 'leader') {
    s.stats.redirects++;
    ctx.respond(token, redirect(leaderRef(s), 'not the leader', m.id));
    return;
  }
  const c = s.client;
  if (c.reads.length >= s.opts.maxPendingReads) {
    ctx.respond(token, { type: 'read-result', ok: false, error: `the leader has ${s.opts.maxPendingReads} reads waiting (maxPendingReads); retry later`, index: -1, id: m.id } satisfies MReadResult);
    return;
  }
  const lease = m.consistency === 'lease' && leaseValid(s, ctx.now());
  c.reads.push({ query: m.query, token, id: m.id, round: s.round + 1, lease, index: committedInCurrentTerm(s) ? s.commitIndex : -1 });
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
      const index = r.index < 0 ? s.commitIndex : r.index;
      ctx.send(replica, { type: 'read', query: r.query, consistency: 'session', afterIndex: index, replyTo: r.token, id: r.id } satisfies MRead);
    } else {
      keep.push(r);
    }
  }
  c.reads = keep;
}

/** Leadership lost: what waits here goes back to its clients, who retry with the new leader. */
export function leadershipLost(s: RaftNodeState, ctx: RaftCtx): void {
  const c = s.client;
  const leader = leaderRef(s);
  for (let i = c.pendingHead; i < c.pending.length; i++) {
    const cmd = c.pending[i]!;
    if (cmd.reply) ctx.respond(cmd.reply, redirect(leader, 'leadership moved', cmd.seq));
  }
  c.pending = [];
  c.pendingHead = 0;
  for (const r of c.reads) ctx.respond(r.token, redirect(leader, 'leadership moved', r.id));
  c.reads = [];
  c.readRoundQueued = false;
}
