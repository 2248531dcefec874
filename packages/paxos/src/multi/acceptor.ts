/**
 * The Multi-Paxos acceptor: one promised ballot for every slot (phase 1 runs once for all slots
 * from an index on), and per slot the highest-numbered proposal it accepted. As in the Synod, it
 * promises only above its promise, accepts unless it promised higher, answers stale requests
 * with its promise, and persists before it answers.
 *
 * Leases: while it acknowledges the current leader's heartbeats, it promises no other proposer
 * for `leaseMs` after the last one (and for `leaseMs` after a restart, since it may have been in
 * a lease it forgot). That is what makes the leader's lease reads safe.
 *
 * Pure: it touches the world only through `ctx`.
 */
import { defineActor, type ActorContext } from '@synod/actors';
import { IntMap } from '@synod/actors/internals';
import { ZERO_BALLOT, formatBallot, proposerOf, type Ballot } from '../ballot.js';
import { assert } from '../assert.js';
import { checkAcceptorArgs, defaultLeaderOptions } from './options.js';
import type {
  AcceptedEntry,
  MAccept,
  MAccepted,
  MHeartbeat,
  MHeartbeatAck,
  MPrepare,
  MPromise,
  MReject,
  MTruncated,
  MultiAcceptorMsg,
  SlotValue,
} from './messages.js';

export interface SlotRecord {
  ballot: Ballot;
  value: SlotValue;
}

export interface MultiAcceptorArgs {
  /** Position in the leaders' acceptor lists (answers carry it). */
  index: number;
  /** How long an acknowledged heartbeat binds this acceptor to its leader (the leaders' `leaseMs`). 0: no leases. Default 400. */
  leaseMs?: number;
  /**
   * A broken acceptor for campaigns that must prove they catch bugs: it forgets what it promised
   * and accepted when it restarts. Never set it outside such a test.
   */
  forgetful?: boolean;
}

export interface MultiAcceptorState {
  role: 'multi-acceptor';
  index: number;
  leaseMs: number;
  promised: Ballot;
  accepted: IntMap<SlotRecord>;
  /** Slots below were truncated (a snapshot covers them at every live replica). */
  truncatedBelow: number;
  /** No other proposer is promised before this (local clock). */
  leaseUntil: number;
  /** Counts changes of `promised` and `accepted`: observers (invariant checks) skip an unchanged acceptor. */
  version: number;
}

const PROMISED_KEY = 'promised';
const TRUNCATED_KEY = 'truncatedBelow';
type Ctx = ActorContext<MultiAcceptorMsg, never>;

export const MultiAcceptor = defineActor<MultiAcceptorState, MultiAcceptorMsg, MultiAcceptorArgs, never>({
  module: import.meta.url,
  label: 'MultiAcceptor',
  storage: 'shared',

  init(args, ctx) {
    checkAcceptorArgs(args, `multi-acceptor ${String(args?.index)}`);
    const accepted = new IntMap<SlotRecord>();
    let promised = ZERO_BALLOT;
    let truncatedBelow = 0;
    for (const [key, value] of args.forgetful ? [] : ctx.recoveredEntries()) {
      if (key === PROMISED_KEY) promised = value as number;
      else if (key === TRUNCATED_KEY) truncatedBelow = value as number;
      else accepted.set(key as number, value as SlotRecord);
    }
    // Paired with the writes in `onPrepare`, `onAccept` and `onTruncate`: what was persisted
    // together comes back together, so the acceptor invariant holds of the recovered state.
    accepted.forEach((r, slot) => {
      assert(
        promised >= r.ballot,
        () => `multi-acceptor ${args.index}: recovered promise ${formatBallot(promised)} below the ballot ${formatBallot(r.ballot)} accepted for slot ${slot}`,
      );
      assert(slot >= truncatedBelow, () => `multi-acceptor ${args.index}: recovered slot ${slot} below its truncation point ${truncatedBelow}`);
    });
    const leaseMs = args.leaseMs ?? defaultLeaderOptions.leaseMs;
    // After a restart we may have been inside a lease we no longer remember: honour it anyway.
    const leaseUntil = promised !== ZERO_BALLOT ? ctx.now() + leaseMs : 0;
    return { role: 'multi-acceptor', index: args.index, leaseMs, promised, accepted, truncatedBelow, leaseUntil, version: 0 };
  },

  inspect: (s) => ({ ...s, accepted: s.accepted.toMap() }),

  receive(s, msg, ctx) {
    const c = ctx as Ctx;
    switch (msg.type) {
      case 'm-prepare':
        onPrepare(s, msg, c);
        break;
      case 'm-accept':
        onAccept(s, msg, c);
        break;
      case 'm-heartbeat':
        onHeartbeat(s, msg, c);
        break;
      case 'm-truncate':
        onTruncate(s, msg.below, c);
        break;
    }
  },
});

function reject(s: MultiAcceptorState, ballot: Ballot, ctx: Ctx): void {
  const r: MReject = { type: 'm-reject', ballot, acceptor: s.index, promised: s.promised };
  ctx.reply(r);
}

/** Phase 1b, for every slot from `fromSlot` on. */
function onPrepare(s: MultiAcceptorState, m: MPrepare, ctx: Ctx): void {
  if (m.ballot < s.promised) return reject(s, m.ballot, ctx);
  if (m.ballot > s.promised) {
    // A lease binds us to the current leader: another proposer waits until it runs out.
    const sameLeader = proposerOf(m.ballot) === proposerOf(s.promised);
    if (!sameLeader && ctx.now() < s.leaseUntil) return reject(s, m.ballot, ctx);
    s.promised = m.ballot;
    s.version++;
    ctx.persistEntry(PROMISED_KEY, m.ballot);
  }
  const from = Math.max(m.fromSlot, s.truncatedBelow);
  const accepted: AcceptedEntry[] = [];
  s.accepted.forEach((r, slot) => {
    if (slot >= from) accepted.push([slot, r.ballot, r.value]);
  });
  accepted.sort((a, b) => a[0] - b[0]);
  const p: MPromise = { type: 'm-promise', ballot: m.ballot, acceptor: s.index, accepted, truncatedBelow: s.truncatedBelow };
  ctx.reply(p);
}

/** Phase 2b for each slot of the message (one promise check for all: they share a ballot). */
function onAccept(s: MultiAcceptorState, m: MAccept, ctx: Ctx): void {
  if (m.ballot < s.promised) return reject(s, m.ballot, ctx);
  const end = m.firstSlot + m.values.length;
  if (m.firstSlot < s.truncatedBelow) {
    // Long chosen and truncated: say so, or a new leader re-proposing them would wait forever.
    ctx.reply({ type: 'm-truncated', acceptor: s.index, below: s.truncatedBelow } satisfies MTruncated);
    if (end <= s.truncatedBelow) return;
  }
  if (m.ballot > s.promised) {
    s.promised = m.ballot;
    ctx.persistEntry(PROMISED_KEY, m.ballot);
  }
  const first = Math.max(m.firstSlot, s.truncatedBelow);
  for (let slot = first; slot < end; slot++) {
    const r = s.accepted.get(slot);
    if (r === undefined || r.ballot !== m.ballot) {
      const rec: SlotRecord = { ballot: m.ballot, value: m.values[slot - m.firstSlot] as SlotValue };
      s.version++;
      s.accepted.set(slot, rec);
      ctx.persistEntry(slot, rec);
    }
  }
  // Every record written above carries m.ballot, and the promise is at least that now.
  assert(s.promised >= m.ballot, 'multi-acceptor: promised ballot fell below an accepted ballot');
  const a: MAccepted = { type: 'm-accepted', ballot: m.ballot, firstSlot: first, count: end - first, acceptor: s.index };
  ctx.reply(a);
}

/** The leader's heartbeat: renews its lease here, and confirms it is still the leader (reads). */
function onHeartbeat(s: MultiAcceptorState, m: MHeartbeat, ctx: Ctx): void {
  if (m.ballot < s.promised) return reject(s, m.ballot, ctx);
  if (m.ballot > s.promised) return; // a ballot we never promised: ignore (only prepare raises a promise)
  if (s.leaseMs > 0) s.leaseUntil = ctx.now() + s.leaseMs;
  const ack: MHeartbeatAck = { type: 'm-heartbeat-ack', ballot: m.ballot, acceptor: s.index, round: m.round };
  ctx.reply(ack);
}

function onTruncate(s: MultiAcceptorState, below: number, ctx: Ctx): void {
  if (below <= s.truncatedBelow) return;
  for (const slot of s.accepted.keysArray()) {
    if (slot < below) {
      s.accepted.delete(slot);
      ctx.persistEntry(slot, undefined);
    }
  }
  s.truncatedBelow = below;
  s.version++;
  ctx.persistEntry(TRUNCATED_KEY, below);
}
