/**
 * Replicas compare notes: every `digestEverySlots` slots each one sends its peers the running
 * digest of what it applied (commands and their outcomes) and, when the machine keeps one, the
 * digest of its state. A peer that has reached the same index compares; a mismatch means the
 * state machine is not deterministic, and the divergence watchers hear which two replicas
 * disagree and between which indexes (once per pair). Models: CockroachDB's replica consistency
 * checks, TigerBeetle's state checksums.
 *
 * Pure: it touches the world only through `ctx`.
 */
import type { MDigest } from './messages.js';
import type { Ctx, MDivergence, ReplicaState } from './replica-state.js';

/** Checkpoints and peers' digests kept for comparison, at most. */
const KEEP = 64;

/** The state's digest, when the machine keeps one (0 otherwise: not compared). */
function stateDigest(s: ReplicaState): number {
  const d = s.machine.core.digest;
  if (d === undefined) return 0;
  try {
    return d(s.exec.state) >>> 0;
  } catch {
    return 0;
  }
}

/** At a checkpoint index: remember our digests, tell the peers, compare with what they told us. */
export function checkpoint(s: ReplicaState, ctx: Ctx): void {
  const index = s.exec.appliedUpTo;
  const mine: [number, number] = [s.exec.digest, stateDigest(s)];
  s.checkpoints.set(index, mine);
  while (s.checkpoints.size > KEEP) s.checkpoints.delete(s.checkpoints.keysArray()[0]!);
  const m: MDigest = { type: 'm-digest', replica: s.index, index, log: mine[0], state: mine[1] };
  for (let i = 0; i < s.replicas.length; i++) if (i !== s.index) ctx.send(s.replicas[i]!, m);
  const waiting = s.peerDigests;
  s.peerDigests = [];
  for (const d of waiting) {
    if (d.index === index) compare(s, d, mine, ctx);
    else if (d.index > index) s.peerDigests.push(d);
  }
}

/** A peer's digests: compared now if we have passed that index, kept until we reach it otherwise. */
export function onDigest(s: ReplicaState, m: MDigest, ctx: Ctx): void {
  const mine = s.checkpoints.get(m.index);
  if (mine !== undefined) {
    compare(s, m, mine, ctx);
    return;
  }
  if (m.index > s.exec.appliedUpTo && s.restoring === null) {
    s.peerDigests.push(m);
    if (s.peerDigests.length > KEEP) s.peerDigests.shift();
  }
}

/** Last index each peer was seen to agree at (for the range a divergence reports). */
const agreedAt = new WeakMap<ReplicaState, Map<number, number>>();

function compare(s: ReplicaState, m: MDigest, mine: [number, number], ctx: Ctx): void {
  let agreed = agreedAt.get(s);
  if (agreed === undefined) {
    agreed = new Map();
    agreedAt.set(s, agreed);
  }
  const stateDiffers = m.state !== 0 && mine[1] !== 0 && m.state !== mine[1];
  if (m.log === mine[0] && !stateDiffers) {
    agreed.set(m.replica, m.index);
    return;
  }
  if (s.diverged.has(m.replica)) return;
  s.diverged.add(m.replica);
  const from = agreed.get(m.replica) ?? 0;
  const what = m.log !== mine[0] ? 'the commands they applied had different outcomes' : 'their states differ';
  const detail =
    `replicas ${s.index} and ${m.replica} applied the same log up to slot ${from} alike, and differently by slot ${m.index}: ${what}. ` +
    'The state machine is not deterministic (time, randomness, iteration order of something unordered, or state outside the machine).';
  ctx.log.error(detail);
  const d: MDivergence = { type: 'divergence', replica: s.index, peer: m.replica, from, to: m.index, detail, halted: false };
  for (const w of s.divergenceWatchers) ctx.send(w, d);
}
