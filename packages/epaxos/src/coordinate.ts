/**
 * Running the phases of an instance: what its command leader does (ballot 0: pre-accept, then
 * the fast or the slow path) and what a replica recovering it does after its prepare (its ballot:
 * pre-accept again or accept, then commit). Paper, Figure 2 and §4.5.
 *
 * Pre-accept: the coordinator sends the command and its attributes; each replica adds what it
 * holds that interferes and answers. The leader commits at once (fast path) when `fast − 1`
 * replicas answered with nothing added: the attributes it proposed are then held unchanged by a
 * fast quorum. With a classic quorum of answers and no fast quorum possible (or not within
 * `fastPathWaitMs`), it takes the union of the answers to an Accept round (slow path), and
 * commits once a classic quorum accepted. A recovering replica never takes the fast path: its
 * pre-accept always goes on to Accept.
 *
 * Every vote is persisted before the message that carries it leaves (persist before send); a
 * coordinator counts its own vote only once its replica's promise allows it.
 *
 * Pure: it touches the world only through `ctx`.
 */
import { assert } from './assert.js';
import { formatInstance, leaderOf } from './ids.js';
import { Status, sameProposal, type Instance } from './instance.js';
import type { MAccept, MAcceptOk, MCommit, MNack, MPreAccept, MPreAcceptOk, Proposal } from './messages.js';
import { onCommitted } from './execution.js';
import { sendPrepareAgain } from './recovery.js';
import { isCut, save } from './store.js';
import { queueFlush } from './leading.js';
import type { Coordination, Ctx, EPaxosState } from './state.js';

export function newCoordination(
  key: number,
  ballot: number,
  phase: Coordination['phase'],
  proposal: Proposal,
  now: number,
  retransmitMs: number,
): Coordination {
  return {
    key,
    ballot,
    phase,
    proposal,
    merged: copyProposal(proposal),
    answered: 0,
    answers: 0,
    unchanged: 0,
    majorityAt: -1,
    prepared: [],
    sentAt: now,
    waitMs: retransmitMs,
    startedAt: now,
  };
}

export function copyProposal(p: Proposal): Proposal {
  return { value: p.value, keys: p.keys, seq: p.seq, deps: [...p.deps] };
}

/** Counts replica `from` once; true when it is new. */
function count(c: Coordination, from: number): boolean {
  const bit = 1 << from;
  if (c.answered & bit) return false;
  c.answered |= bit;
  c.answers++;
  return true;
}

function sendToOthers(s: EPaxosState, c: Coordination, ctx: Ctx, message: (to: number) => unknown): void {
  for (let r = 0; r < s.n; r++) {
    if (r === s.index || c.answered & (1 << r)) continue;
    const to = s.peers[r];
    if (to) ctx.send(to, message(r) as never);
  }
}

// ------------------------------------------------------------------ pre-accept

/**
 * Starts (or restarts) the pre-accept phase of `c`: the coordinator's own vote first (it adds what
 * it holds, like any replica), then the message to every other replica.
 */
export function startPreAccept(s: EPaxosState, c: Coordination, ctx: Ctx): void {
  c.phase = 'preaccept';
  c.answered = 0;
  c.answers = 0;
  c.unchanged = 0;
  c.majorityAt = -1;
  const own = s.instances.get(c.key);
  if (own !== undefined && own.bal > c.ballot) return abandon(s, c);
  if (c.ballot === 0) {
    // The leader's own attributes are the proposal itself (computed from what it holds).
    c.merged = copyProposal(c.proposal);
  } else {
    const local = s.conflicts.attributes(c.proposal.keys, c.key);
    c.merged = copyProposal(c.proposal);
    mergeAttrs(c.merged, local.seq, local.deps);
  }
  const x: Instance = {
    key: c.key,
    status: Status.PreAccepted,
    bal: c.ballot,
    vbal: c.ballot,
    value: c.proposal.value,
    keys: c.proposal.keys,
    seq: c.merged.seq,
    deps: [...c.merged.deps],
    unchanged: c.ballot === 0,
  };
  save(s, x, ctx);
  count(c, s.index);
  sendPreAccept(s, c, ctx);
  decidePreAccept(s, c, ctx);
}

function sendPreAccept(s: EPaxosState, c: Coordination, ctx: Ctx): void {
  const p = c.proposal;
  const m: MPreAccept = {
    type: 'e-preaccept',
    from: s.index,
    ballot: c.ballot,
    q: leaderOf(c.key),
    i: Math.floor(c.key / 32),
    value: p.value,
    keys: p.keys,
    seq: p.seq,
    deps: p.deps,
  };
  sendToOthers(s, c, ctx, () => m);
}

export function onPreAcceptOk(s: EPaxosState, m: MPreAcceptOk, ctx: Ctx): void {
  const c = s.coordinating.get(m.i * 32 + m.q);
  if (c === undefined || c.phase !== 'preaccept' || c.ballot !== m.ballot || !count(c, m.from)) return;
  if (!m.changed) c.unchanged++;
  mergeAttrs(c.merged, m.seq, m.deps);
  decidePreAccept(s, c, ctx);
}

/** Fast path, slow path, or wait for more answers. */
function decidePreAccept(s: EPaxosState, c: Coordination, ctx: Ctx): void {
  const q = s.quorums;
  if (c.ballot === 0 && c.unchanged >= q.fast - 1) {
    s.stats.fast++;
    commit(s, c.key, c.proposal, ctx, c.answered);
    return;
  }
  if (c.answers < q.classic) return;
  if (c.majorityAt < 0) c.majorityAt = ctx.now();
  if (c.ballot === 0) {
    const silent = s.n - c.answers;
    const fastStillPossible = c.unchanged + silent >= q.fast - 1;
    if (fastStillPossible && ctx.now() - c.majorityAt < s.eopts.fastPathWaitMs) return;
    s.stats.slow++;
  }
  startAccept(s, c, c.merged, ctx);
}

function mergeAttrs(p: Proposal, seq: number, deps: readonly number[]): void {
  if (seq > p.seq) p.seq = seq;
  for (let q = 0; q < p.deps.length; q++) if (deps[q]! > p.deps[q]!) p.deps[q] = deps[q]!;
}

// ------------------------------------------------------------------ accept

/** Phase 2: accept `proposal` in the coordination's ballot; the coordinator votes first. */
export function startAccept(s: EPaxosState, c: Coordination, proposal: Proposal, ctx: Ctx): void {
  const own = s.instances.get(c.key);
  if (own !== undefined && own.bal > c.ballot) return abandon(s, c);
  if (own !== undefined && own.status >= Status.Committed) return abandon(s, c);
  c.phase = 'accept';
  c.merged = copyProposal(proposal);
  c.answered = 0;
  c.answers = 0;
  c.sentAt = ctx.now();
  c.waitMs = s.eopts.retransmitMs;
  const x: Instance = {
    key: c.key,
    status: Status.Accepted,
    bal: c.ballot,
    vbal: c.ballot,
    value: proposal.value,
    keys: proposal.keys,
    seq: proposal.seq,
    deps: [...proposal.deps],
    unchanged: false,
  };
  save(s, x, ctx);
  count(c, s.index);
  sendAccept(s, c, ctx);
  if (c.answers >= s.quorums.classic) commit(s, c.key, c.merged, ctx, c.answered);
}

function sendAccept(s: EPaxosState, c: Coordination, ctx: Ctx): void {
  const p = c.merged;
  const m: MAccept = {
    type: 'e-accept',
    from: s.index,
    ballot: c.ballot,
    q: leaderOf(c.key),
    i: Math.floor(c.key / 32),
    value: p.value,
    keys: p.keys,
    seq: p.seq,
    deps: p.deps,
  };
  sendToOthers(s, c, ctx, () => m);
}

export function onAcceptOk(s: EPaxosState, m: MAcceptOk, ctx: Ctx): void {
  const c = s.coordinating.get(m.i * 32 + m.q);
  if (c === undefined || c.phase !== 'accept' || c.ballot !== m.ballot || !count(c, m.from)) return;
  if (c.answers >= s.quorums.classic) commit(s, c.key, c.merged, ctx, c.answered);
}

// ------------------------------------------------------------------ commit

/**
 * Chosen: committed here, told to every other replica, and handed to execution. `holders`: the
 * replicas (a bit each) that voted for this very proposal in the phase that chose it; they hold
 * its value, which their commit leaves out.
 */
export function commit(s: EPaxosState, key: number, p: Proposal, ctx: Ctx, holders = 0): void {
  s.coordinating.delete(key);
  if (!learnCommit(s, key, p, ctx)) return;
  const q = leaderOf(key);
  const i = Math.floor(key / 32);
  const full: MCommit = { type: 'e-commit', q, i, value: p.value, keys: p.keys, seq: p.seq, deps: p.deps, withValue: true };
  const bare: MCommit = { ...full, value: null, withValue: false };
  for (let r = 0; r < s.n; r++) if (r !== s.index && s.peers[r]) ctx.send(s.peers[r]!, holders & (1 << r) ? bare : full);
}

/** A commit, from this replica's coordination or from a peer. Returns false when it was already known. */
export function learnCommit(s: EPaxosState, key: number, p: Proposal, ctx: Ctx): boolean {
  // Executed here already (it came in a snapshot) and not held: nothing to learn, nothing to execute again.
  if (isCut(s, leaderOf(key), Math.floor(key / 32))) {
    s.coordinating.delete(key);
    s.needed.delete(key);
    return false;
  }
  const have = s.instances.get(key);
  if (have !== undefined && have.status >= Status.Committed) {
    assert(sameProposal(have, p), () => `epaxos replica ${s.index}: instance ${formatInstance(key)} committed twice with different commands or attributes`);
    return false;
  }
  if (leaderOf(key) === s.index && have !== undefined && have.status !== Status.None) s.ownInFlight = Math.max(0, s.ownInFlight - 1);
  const c = s.coordinating.get(key);
  if (c !== undefined) s.coordinating.delete(key);
  const x: Instance = {
    key,
    status: Status.Committed,
    bal: have?.bal ?? 0,
    vbal: have?.vbal ?? 0,
    value: p.value,
    keys: p.keys,
    seq: p.seq,
    deps: [...p.deps],
    unchanged: have?.unchanged ?? false,
  };
  save(s, x, ctx);
  if (leaderOf(key) === s.index && s.pendingHead < s.pending.length) queueFlush(s, ctx);
  onCommitted(s, key, ctx);
  return true;
}

export function onCommit(s: EPaxosState, m: MCommit, ctx: Ctx): void {
  const key = m.i * 32 + m.q;
  if (!m.withValue) {
    // Its coordinator counted this replica's vote for this proposal: the value is the one held.
    const x = s.instances.get(key);
    if (x === undefined || x.status === Status.None) return; // not held (any more): asked of the peers when needed
    learnCommit(s, key, { value: x.value, keys: m.keys, seq: m.seq, deps: m.deps }, ctx);
    return;
  }
  learnCommit(s, key, m, ctx);
}

// ------------------------------------------------------------------ refusals and time

/** A replica promised a higher ballot: someone else recovers this instance; this coordination ends. */
export function onNack(s: EPaxosState, m: MNack, ctx: Ctx): void {
  const key = m.i * 32 + m.q;
  const c = s.coordinating.get(key);
  if (m.promised > 0 && Math.floor(m.promised / 32) > s.round) s.round = Math.floor(m.promised / 32);
  if (c === undefined || c.ballot !== m.ballot) return;
  abandon(s, c);
  // Recovered later if nobody finishes it (its pending time starts over).
  if (s.pendingSince.has(key)) s.pendingSince.set(key, ctx.now());
}

function abandon(s: EPaxosState, c: Coordination): void {
  s.coordinating.delete(c.key);
}

/** On ticks: phases unanswered are sent again to the silent replicas; a leader waiting for its fast quorum stops waiting. */
export function onCoordinationTick(s: EPaxosState, ctx: Ctx): void {
  const now = ctx.now();
  const all: Coordination[] = [];
  s.coordinating.forEach((c) => all.push(c));
  for (const c of all) {
    if (s.coordinating.get(c.key) !== c) continue;
    if (c.phase === 'preaccept' && c.majorityAt >= 0 && now - c.majorityAt >= s.eopts.fastPathWaitMs) {
      decidePreAccept(s, c, ctx);
      if (!s.coordinating.has(c.key) || c.phase !== 'preaccept') continue;
    }
    if (now - c.sentAt < c.waitMs) continue;
    c.sentAt = now;
    c.waitMs = Math.min(c.waitMs * 2, s.eopts.maxRetransmitMs);
    if (c.phase === 'preaccept') sendPreAccept(s, c, ctx);
    else if (c.phase === 'accept') sendAccept(s, c, ctx);
    else sendPrepareAgain(s, c, ctx);
  }
}
