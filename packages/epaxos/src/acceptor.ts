/**
 * A replica's answers to the phases others coordinate (paper, Figure 2 and §4.5): pre-accept
 * (add what it holds that interferes), accept, prepare (promise a ballot and say what it holds),
 * and asks for commits it has.
 *
 * A phase in a ballot lower than the one promised is refused with the promise (`e-nack`). A
 * repeated pre-accept in the ballot already voted gets the same answer as the first: a vote of a
 * possible fast commit must never change. Asked about an instance already committed, a replica
 * sends the commit instead; about one cut from its log, it says so (`e-cut`).
 *
 * Pure: it touches the world only through `ctx`.
 */
import { Status, sameDeps, type Instance } from './instance.js';
import { Held, type MAccept, type MAsk, type MCommit, type MCut, type MNack, type MPreAccept, type MPrepare, type MPrepareOk } from './messages.js';
import { offerSnapshot } from './snapshots.js';
import { isCut, save } from './store.js';
import type { Ctx, EPaxosState } from './state.js';

function reply(s: EPaxosState, to: number, m: unknown, ctx: Ctx): void {
  const ref = s.peers[to];
  if (ref) ctx.send(ref, m as never);
}

function commitOf(x: Instance): MCommit {
  return { type: 'e-commit', q: x.key % 32, i: Math.floor(x.key / 32), value: x.value, keys: x.keys, seq: x.seq, deps: x.deps, withValue: true };
}

function nack(s: EPaxosState, m: { from: number; ballot: number; q: number; i: number }, promised: number, ctx: Ctx): void {
  reply(s, m.from, { type: 'e-nack', from: s.index, ballot: m.ballot, q: m.q, i: m.i, promised } satisfies MNack, ctx);
}

function cut(s: EPaxosState, to: number, key: number, ctx: Ctx): void {
  reply(s, to, { type: 'e-cut', from: s.index, ids: [key] } satisfies MCut, ctx);
}

export function onPreAccept(s: EPaxosState, m: MPreAccept, ctx: Ctx): void {
  const key = m.i * 32 + m.q;
  if (isCut(s, m.q, m.i)) return cut(s, m.from, key, ctx);
  const x = s.instances.get(key);
  if (x !== undefined) {
    if (x.status >= Status.Committed) return reply(s, m.from, commitOf(x), ctx);
    if (m.ballot < x.bal) return nack(s, m, x.bal, ctx);
    if (x.status === Status.PreAccepted && x.vbal === m.ballot) {
      // A repeat: the same answer as the first.
      reply(s, m.from, { type: 'e-preaccept-ok', from: s.index, ballot: m.ballot, q: m.q, i: m.i, seq: x.seq, deps: x.deps, changed: !x.unchanged }, ctx);
      return;
    }
    // Accepted in this ballot already: its coordinator moved on; this pre-accept is stale.
    if (x.status === Status.Accepted && x.vbal >= m.ballot) return;
  }
  const local = s.conflicts.attributes(m.keys, key);
  let seq = m.seq;
  const deps = [...m.deps];
  if (local.seq > seq) seq = local.seq;
  for (let q = 0; q < s.n; q++) if (local.deps[q]! > deps[q]!) deps[q] = local.deps[q]!;
  const changed = seq !== m.seq || !sameDeps(deps, m.deps);
  const v: Instance = {
    key,
    status: Status.PreAccepted,
    bal: m.ballot,
    vbal: m.ballot,
    value: m.value,
    keys: m.keys,
    seq,
    deps,
    unchanged: m.ballot === 0 && !changed,
  };
  save(s, v, ctx);
  reply(s, m.from, { type: 'e-preaccept-ok', from: s.index, ballot: m.ballot, q: m.q, i: m.i, seq, deps, changed }, ctx);
}

export function onAccept(s: EPaxosState, m: MAccept, ctx: Ctx): void {
  const key = m.i * 32 + m.q;
  if (isCut(s, m.q, m.i)) return cut(s, m.from, key, ctx);
  const x = s.instances.get(key);
  if (x !== undefined) {
    if (x.status >= Status.Committed) return reply(s, m.from, commitOf(x), ctx);
    if (m.ballot < x.bal) return nack(s, m, x.bal, ctx);
  }
  const v: Instance = {
    key,
    status: Status.Accepted,
    bal: m.ballot,
    vbal: m.ballot,
    value: m.value,
    keys: m.keys,
    seq: m.seq,
    deps: [...m.deps],
    unchanged: false,
  };
  save(s, v, ctx);
  reply(s, m.from, { type: 'e-accept-ok', from: s.index, ballot: m.ballot, q: m.q, i: m.i }, ctx);
}

export function onPrepare(s: EPaxosState, m: MPrepare, ctx: Ctx): void {
  const key = m.i * 32 + m.q;
  if (isCut(s, m.q, m.i)) return cut(s, m.from, key, ctx);
  let x = s.instances.get(key);
  if (x !== undefined && x.status < Status.Committed) {
    if (m.ballot < x.bal) return nack(s, m, x.bal, ctx);
    if (m.ballot > x.bal) {
      x = { ...x, bal: m.ballot };
      save(s, x, ctx);
    }
  } else if (x === undefined) {
    x = { key, status: Status.None, bal: m.ballot, vbal: 0, value: null, keys: [], seq: 0, deps: new Array(s.n).fill(0), unchanged: false };
    save(s, x, ctx);
  }
  const held =
    x.status >= Status.Committed
      ? Held.Committed
      : x.status === Status.Accepted
        ? Held.Accepted
        : x.status === Status.PreAccepted
          ? Held.PreAccepted
          : Held.Nothing;
  const ok: MPrepareOk = {
    type: 'e-prepare-ok',
    from: s.index,
    ballot: m.ballot,
    q: m.q,
    i: m.i,
    held,
    vbal: x.vbal,
    unchanged: x.unchanged,
    value: x.value,
    keys: x.keys,
    seq: x.seq,
    deps: x.deps,
  };
  reply(s, m.from, ok, ctx);
}

/** A peer asks for commits it lacks: the ones held committed go back; for ones cut here, the snapshot is offered. */
export function onAsk(s: EPaxosState, m: MAsk, ctx: Ctx): void {
  let cutSeen = false;
  for (const key of m.ids) {
    const x = s.instances.get(key);
    if (x !== undefined && x.status >= Status.Committed) reply(s, m.from, commitOf(x), ctx);
    else if (x === undefined && isCut(s, key % 32, Math.floor(key / 32))) cutSeen = true;
  }
  if (cutSeen) offerSnapshot(s, m.from, ctx);
}
