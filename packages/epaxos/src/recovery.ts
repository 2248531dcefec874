/**
 * Recovery (explicit prepare, paper §4.5): a replica that needs an instance its leader did not
 * finish (the leader crashed, or is cut off) takes it over with a ballot of its own, learns what a
 * quorum holds, and finishes it with what may already have been chosen, or with a no-op.
 *
 * The prepare waits for `recovery` replies from replicas other than the instance's leader (see
 * quorums.ts), then, by the first rule that applies:
 *   1. someone committed it: commit that;
 *   2. someone accepted it: accept the proposal of the highest ballot voted in (its `vbal`: the
 *      ballot of the vote, not of the last promise; Sutra's correction);
 *   3. at least `fastEvidence` (and at least one) replies pre-accepted it in the leader's ballot
 *      with the leader's attributes unchanged: the fast path may have committed them, so accept
 *      exactly those;
 *   4. someone pre-accepted it: pre-accept it again in this ballot (replicas add what interferes
 *      now), then accept the union;
 *   5. nobody holds it: accept a no-op.
 * Rule 3 is safe when no fast commit happened too: those replicas and the leader are a majority,
 * which meets the quorum that decided any other interfering command, so a dependency of one on the
 * other is never lost. Rules 4 and 5 never see a possible fast commit (rule 3 would), so no
 * ballot-0 vote they overwrite mattered.
 *
 * When to recover: an instance that execution needs and that stays uncommitted (first its commit
 * is asked of the peers), or one this replica holds uncommitted for long, after a randomised
 * timeout, one coordination per instance at a time.
 *
 * Pure: it touches the world only through `ctx`.
 */
import { leaderOf, recoveryBallot, roundOfBallot } from './ids.js';
import { Status, type Instance } from './instance.js';
import { Held, type MAsk, type MPrepare, type MPrepareOk, type Proposal } from './messages.js';
import { commit, copyProposal, newCoordination, startAccept, startPreAccept } from './coordinate.js';
import { ROUND_KEY, save } from './store.js';
import type { Coordination, Ctx, EPaxosState } from './state.js';

/** Takes instance `key` over with a new ballot (unless this replica coordinates it already). */
export function startRecovery(s: EPaxosState, key: number, ctx: Ctx): void {
  if (s.coordinating.has(key)) return;
  const have = s.instances.get(key);
  if (have !== undefined && have.status >= Status.Committed) return;
  s.stats.recovered++;
  const round = Math.max(s.round, have !== undefined ? roundOfBallot(have.bal) : 0) + 1;
  if (round > s.reservedRound) {
    s.reservedRound = round + s.eopts.roundReserve;
    ctx.persistEntry(ROUND_KEY, s.reservedRound);
  }
  s.round = round;
  const ballot = recoveryBallot(round, s.index);
  const x: Instance =
    have !== undefined
      ? { ...have, bal: ballot }
      : { key, status: Status.None, bal: ballot, vbal: 0, value: null, keys: [], seq: 0, deps: new Array(s.n).fill(0), unchanged: false };
  save(s, x, ctx);
  const c = newCoordination(key, ballot, 'prepare', noop(s.n), ctx.now(), s.eopts.retransmitMs);
  s.coordinating.set(key, c);
  if (s.eopts.unsafeRecoveryWithoutQuorum) {
    // The control of the campaign: decide from this replica's own record alone. NOT EPaxos.
    if (x.status === Status.None) commit(s, key, noop(s.n), ctx);
    else commit(s, key, { value: x.value, keys: x.keys, seq: x.seq, deps: x.deps }, ctx);
    return;
  }
  onPrepareOk(s, replyOf(s, x, ballot), ctx);
  if (!s.coordinating.has(key)) return;
  const m: MPrepare = { type: 'e-prepare', from: s.index, ballot, q: leaderOf(key), i: Math.floor(key / 32) };
  for (let r = 0; r < s.n; r++) if (r !== s.index && s.peers[r]) ctx.send(s.peers[r]!, m);
}

export function sendPrepareAgain(s: EPaxosState, c: Coordination, ctx: Ctx): void {
  const m: MPrepare = { type: 'e-prepare', from: s.index, ballot: c.ballot, q: leaderOf(c.key), i: Math.floor(c.key / 32) };
  for (let r = 0; r < s.n; r++) if (r !== s.index && !(c.answered & (1 << r)) && s.peers[r]) ctx.send(s.peers[r]!, m);
}

function replyOf(s: EPaxosState, x: Instance, ballot: number): MPrepareOk {
  const held =
    x.status >= Status.Committed
      ? Held.Committed
      : x.status === Status.Accepted
        ? Held.Accepted
        : x.status === Status.PreAccepted
          ? Held.PreAccepted
          : Held.Nothing;
  return {
    type: 'e-prepare-ok',
    from: s.index,
    ballot,
    q: leaderOf(x.key),
    i: Math.floor(x.key / 32),
    held,
    vbal: x.vbal,
    unchanged: x.unchanged,
    value: x.value,
    keys: x.keys,
    seq: x.seq,
    deps: x.deps,
  };
}

export function noop(n: number): Proposal {
  return { value: null, keys: [], seq: 0, deps: new Array(n).fill(0) };
}

export function onPrepareOk(s: EPaxosState, m: MPrepareOk, ctx: Ctx): void {
  const key = m.i * 32 + m.q;
  const c = s.coordinating.get(key);
  if (c === undefined || c.phase !== 'prepare' || c.ballot !== m.ballot) return;
  const bit = 1 << m.from;
  if (c.answered & bit) return;
  c.answered |= bit;
  c.answers++;
  c.prepared.push(m);
  if (m.held === Held.Committed) {
    commit(s, key, proposalOf(m), ctx);
    return;
  }
  const leader = leaderOf(key);
  const fromOthers = c.prepared.filter((r) => r.from !== leader).length;
  if (fromOthers >= s.quorums.recovery) decide(s, c, ctx);
}

function proposalOf(m: Proposal): Proposal {
  return { value: m.value, keys: m.keys, seq: m.seq, deps: [...m.deps] };
}

/** The rules of the module comment, over the replies gathered. */
function decide(s: EPaxosState, c: Coordination, ctx: Ctx): void {
  const leader = leaderOf(c.key);
  const replies = c.prepared;
  // 2. The highest ballot in which someone accepted.
  let best: MPrepareOk | null = null;
  for (const r of replies) if (r.held === Held.Accepted && (best === null || r.vbal > best.vbal)) best = r;
  if (best !== null) return startAccept(s, c, proposalOf(best), ctx);
  // 3. Evidence of a possible fast commit: unchanged pre-accepts in the leader's ballot.
  const unchanged = replies.filter((r) => r.from !== leader && r.held === Held.PreAccepted && r.vbal === 0 && r.unchanged);
  if (unchanged.length >= Math.max(1, s.quorums.fastEvidence)) return startAccept(s, c, proposalOf(unchanged[0]!), ctx);
  // 4. Someone holds the command: pre-accept it again, in this ballot.
  const held = replies.filter((r) => r.held === Held.PreAccepted);
  if (held.length > 0) {
    const p = proposalOf(held[0]!);
    for (const r of held) {
      if (r.seq > p.seq) p.seq = r.seq;
      for (let q = 0; q < s.n; q++) if (r.deps[q]! > p.deps[q]!) p.deps[q] = r.deps[q]!;
    }
    c.proposal = p;
    c.merged = copyProposal(p);
    return startPreAccept(s, c, ctx);
  }
  // 5. Nobody holds it: a no-op.
  s.stats.noops++;
  startAccept(s, c, noop(s.n), ctx);
}

/**
 * On ticks: instances execution needs are asked of the peers, then recovered; instances held
 * uncommitted for long are recovered; recoveries that made no progress for long give way.
 */
export function onRecoveryTick(s: EPaxosState, ctx: Ctx): void {
  const now = ctx.now();
  const o = s.eopts;
  const ask: number[] = [];
  const recover: number[] = [];
  s.needed.forEach((since, key) => {
    const x = s.instances.get(key);
    if (x !== undefined && x.status >= Status.Committed) return;
    const waited = now - since;
    if (waited >= o.askAfterMs && ask.length < o.maxFetchInstances) ask.push(key);
    if (waited >= o.recoveryTimeoutMs * (1 + jitter(s, key))) recover.push(key);
  });
  s.pendingSince.forEach((since, key) => {
    if (now - since >= 2 * o.recoveryTimeoutMs * (1 + jitter(s, key)) && !s.needed.has(key)) recover.push(key);
  });
  if (ask.length > 0 && now >= s.nextAsk) {
    s.nextAsk = now + o.askAfterMs;
    const m: MAsk = { type: 'e-ask', from: s.index, ids: ask };
    for (let r = 0; r < s.n; r++) if (r !== s.index && s.peers[r]) ctx.send(s.peers[r]!, m);
  }
  for (const key of recover) {
    const c = s.coordinating.get(key);
    if (c !== undefined) {
      // A recovery (or a leader's phase) stuck for long gives way: the next try takes a higher ballot.
      if (now - c.startedAt >= 4 * o.recoveryTimeoutMs) s.coordinating.delete(key);
      continue;
    }
    startRecovery(s, key, ctx);
    // Try again later, from now.
    if (s.needed.has(key)) s.needed.set(key, now);
    if (s.pendingSince.has(key)) s.pendingSince.set(key, now);
  }
}

/** A per-replica, per-instance spread in [0, 1) of the recovery timeout, so replicas do not all recover at once. */
function jitter(s: EPaxosState, key: number): number {
  const h = Math.imul(key ^ Math.imul(s.index + 1, 0x9e3779b1) ^ s.incarnationStart, 0x85ebca6b) >>> 0;
  return (h % 1000) / 1000;
}
