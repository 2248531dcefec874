/**
 * Replicas compare notes at barriers: there every replica has executed the same instances (in
 * orders that agree on every interfering pair), so the sum of their instances' digests (their
 * key and their commands' outcomes; a sum, since the order of instances that do not interfere
 * differs) and the state's digest (when the machine keeps one) must agree. A mismatch means the
 * state machine is not deterministic; divergence watchers hear which two replicas disagree, once
 * per pair, with the barriers between which it began.
 *
 * Pure: it touches the world only through `ctx`.
 */
import type { MDivergence } from '@synod/paxos';
import type { MBarrierDigest } from './messages.js';
import type { Ctx, EPaxosState } from './state.js';

/** Checkpoints kept for comparison, and peers' digests waiting for this replica to get there. */
const KEEP = 64;

function stateDigest(s: EPaxosState): number {
  const d = s.machine.core.digest;
  if (d === undefined) return 0;
  try {
    return d(s.exec.state) >>> 0;
  } catch {
    return 0;
  }
}

/** At a barrier: remember our digests, tell the peers, compare with what they told us. */
export function checkpoint(s: EPaxosState, ctx: Ctx): void {
  const b = s.barriers;
  const mine: [number, number] = [s.logDigest, stateDigest(s)];
  s.checkpoints.set(b, mine);
  if (s.checkpoints.size > KEEP) s.checkpoints.delete(b - KEEP);
  const m: MBarrierDigest = { type: 'e-digest', from: s.index, barrier: b, log: mine[0], state: mine[1] };
  for (let r = 0; r < s.n; r++) if (r !== s.index && s.peers[r]) ctx.send(s.peers[r]!, m);
  const waiting = s.peerDigests;
  s.peerDigests = [];
  for (const d of waiting) {
    if (d.barrier === b) compare(s, d, mine, ctx);
    else if (d.barrier > b) s.peerDigests.push(d);
  }
}

export function onDigest(s: EPaxosState, m: MBarrierDigest, ctx: Ctx): void {
  const mine = s.checkpoints.get(m.barrier);
  if (mine !== undefined) return compare(s, m, mine, ctx);
  if (m.barrier > s.barriers && s.restoring === null) {
    s.peerDigests.push(m);
    if (s.peerDigests.length > KEEP) s.peerDigests.shift();
  }
}

const agreedAt = new WeakMap<EPaxosState, Map<number, number>>();

function compare(s: EPaxosState, m: { from: number; barrier: number; log: number; state: number }, mine: [number, number], ctx: Ctx): void {
  let agreed = agreedAt.get(s);
  if (agreed === undefined) {
    agreed = new Map();
    agreedAt.set(s, agreed);
  }
  const stateDiffers = m.state !== 0 && mine[1] !== 0 && m.state !== mine[1];
  if (m.log === mine[0] && !stateDiffers) {
    agreed.set(m.from, m.barrier);
    return;
  }
  if (s.diverged.has(m.from)) return;
  s.diverged.add(m.from);
  const from = agreed.get(m.from) ?? 0;
  const what = m.log !== mine[0] ? 'the commands they executed had different outcomes' : 'their states differ';
  const detail =
    `replicas ${s.index} and ${m.from} executed the same instances up to barrier ${from} alike, and differently by barrier ${m.barrier}: ${what}. ` +
    'The state machine is not deterministic (time, randomness, iteration order of something unordered, or state outside the machine).';
  ctx.log.error(detail);
  const d: MDivergence = { type: 'divergence', replica: s.index, peer: m.from, from, to: m.barrier, detail, halted: false };
  for (const w of s.divergenceWatchers) ctx.send(w, d);
}
