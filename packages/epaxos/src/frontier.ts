/**
 * What replicas tell each other every `frontierMs`: how far they executed (per leader, the prefix
 * of its instances), what their durable snapshot covers, and, by the message itself, that they
 * live. From it a replica
 *  - cuts its log: instances every live replica's snapshot covers are forgotten (a replica not
 *    heard from for `replicaTimeoutMs` does not hold it back; back, it installs a peer's snapshot);
 *  - catches up: instances a peer executed that it does not hold committed are needed, asked of
 *    the peers, and, if nobody has them committed, recovered.
 *
 * Pure: it touches the world only through `ctx`.
 */
import { Status } from './instance.js';
import type { MFrontier } from './messages.js';
import { cutLog } from './store.js';
import type { Ctx, EPaxosState } from './state.js';

export function onFrontier(s: EPaxosState, m: MFrontier, ctx: Ctx): void {
  if (m.from < 0 || m.from >= s.n || m.executed.length !== s.n || m.snapshot.length !== s.n) return;
  s.heardAt[m.from] = ctx.now();
  s.peerExecuted[m.from] = m.executed;
  s.peerSnapshot[m.from] = m.snapshot;
}

export function onFrontierTick(s: EPaxosState, ctx: Ctx): void {
  const now = ctx.now();
  if (now - s.frontierAt < s.eopts.frontierMs) return;
  s.frontierAt = now;
  const own = s.snapshot?.executed ?? new Array(s.n).fill(0);
  const m: MFrontier = { type: 'e-frontier', from: s.index, executed: [...s.executedUpTo], snapshot: [...own], barriers: s.barriers };
  for (let r = 0; r < s.n; r++) if (r !== s.index && s.peers[r]) ctx.send(s.peers[r]!, m);
  if (s.restoring !== null) return;
  // Cut what every live replica's snapshot covers.
  const young = now - s.incarnationStart < s.eopts.replicaTimeoutMs;
  const stable = [...own];
  for (let r = 0; r < s.n; r++) {
    if (r === s.index) continue;
    const live = young || now - s.heardAt[r]! < s.eopts.replicaTimeoutMs;
    if (!live) continue;
    const theirs = s.peerSnapshot[r]!;
    for (let q = 0; q < s.n; q++) if (theirs[q]! < stable[q]!) stable[q] = theirs[q]!;
  }
  cutLog(s, stable, ctx);
  // Catch up with what live peers executed.
  let budget = s.eopts.maxFetchInstances;
  for (let r = 0; r < s.n && budget > 0; r++) {
    if (r === s.index || now - s.heardAt[r]! >= s.eopts.replicaTimeoutMs) continue;
    const theirs = s.peerExecuted[r]!;
    for (let q = 0; q < s.n && budget > 0; q++) {
      for (let i = Math.max(s.executedUpTo[q]!, s.cut[q]!) + 1; i <= theirs[q]! && budget > 0; i++) {
        const key = i * 32 + q;
        const x = s.instances.get(key);
        if ((x !== undefined && x.status >= Status.Committed) || s.extraExecuted.has(key)) continue;
        if (!s.needed.has(key)) s.needed.set(key, now);
        budget--;
      }
    }
  }
}
