/**
 * The end of a demo run: the figures (as one JSON object for `--json`) and their text form.
 */
import type { CheckResult } from '@synod/checker';
import type { DemoSession } from './session.js';
import { plural } from './view.js';

/** What `synod demo --json` prints as its last line. */
export interface DemoSummary {
  durationS: number;
  /** The replication protocol. */
  protocol: string;
  replicas: number;
  storage: string;
  clients: number;
  /** Write commands (set, compare-and-set, delete) acknowledged as applied. */
  committed: number;
  commandsPerSecond: number;
  reads: number;
  /** Operations that certainly did not take effect (no leader in time). */
  failed: number;
  /** Operations whose effect is unknown (a timeout during a leader change). */
  unknown: number;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  /** Actor restarts done by supervision. */
  restarts: number;
  workersKilled: number;
  actorsCrashed: number;
  /** Leader changes seen by inspection (a lower bound). */
  leaderChanges: number;
  /** Slots each replica had applied when the run ended. */
  appliedUpTo: number[];
  replicasConverged: boolean;
  linearizable: boolean;
  verdict: CheckResult['verdict'];
  /** Why the verdict is unknown, or what is not linearizable. */
  verdictReason?: string;
  operationsChecked: number;
  /** The history was recorded up to its bound; later operations ran unrecorded. */
  historyTruncated: boolean;
  keys: number;
  checkMs: number;
  dir: string;
  dirKept: boolean;
}

export function summarize(s: DemoSession, elapsedMs: number, settled: { appliedUpTo: number[]; converged: boolean }, result: CheckResult): DemoSummary {
  const t = s.metrics.totals;
  // Every bucket of the run, the one in progress included.
  const lat = s.metrics.over(elapsedMs + s.metrics.bucketMs * 2, Date.now() + s.metrics.bucketMs);
  const reason =
    result.verdict === 'not-linearizable'
      ? `key ${String(result.explanation?.key ?? '?')}: no order of the operations explains what the clients saw`
      : result.reason;
  return {
    durationS: round(elapsedMs / 1000, 1),
    protocol: s.options.protocol,
    replicas: s.cluster.replicas,
    storage: s.options.storage,
    clients: s.options.clients,
    committed: t.writes,
    commandsPerSecond: round(t.writes / Math.max(0.001, elapsedMs / 1000), 1),
    reads: t.reads,
    failed: t.failed,
    unknown: t.unknown,
    latencyP50Ms: lat.p50Ms === null ? null : round(lat.p50Ms, 1),
    latencyP99Ms: lat.p99Ms === null ? null : round(lat.p99Ms, 1),
    restarts: s.observer.restarts,
    workersKilled: s.faults?.done.killed ?? 0,
    actorsCrashed: s.faults?.done.crashed ?? 0,
    leaderChanges: s.observer.leaderChanges,
    appliedUpTo: settled.appliedUpTo,
    replicasConverged: settled.converged,
    linearizable: result.verdict === 'linearizable',
    verdict: result.verdict,
    ...(reason ? { verdictReason: reason } : {}),
    operationsChecked: result.operations,
    historyTruncated: s.workload.truncated,
    keys: result.partitions.length,
    checkMs: Math.round(result.elapsedMs),
    dir: s.cluster.dir,
    dirKept: !s.cluster.temporary,
  };
}

const VERDICT = { linearizable: 'linearizable', 'not-linearizable': 'NOT LINEARIZABLE', unknown: 'unknown (a bound was reached before an answer)' } as const;

/** The summary as text. */
export function formatSummary(d: DemoSummary): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = [
    `Summary of ${d.durationS} s with ${plural(d.replicas, 'replica')} on ${d.protocol} (${d.storage} storage), ${plural(d.clients, 'client')}`,
    `  commands committed  ${n(d.committed)} (${d.commandsPerSecond}/s); reads ${n(d.reads)}; ` +
      `failed ${n(d.failed)} (not applied); unknown outcome ${n(d.unknown)}`,
    `  latency             p50 ${d.latencyP50Ms ?? '–'} ms, p99 ${d.latencyP99Ms ?? '–'} ms`,
    `  faults              ${plural(d.workersKilled, 'worker')} killed, ${plural(d.actorsCrashed, 'actor')} crashed; ${plural(d.restarts, 'actor restart')} by supervision`,
    `  leader changes      ${d.leaderChanges} (seen by inspecting the leaders; a quicker one can go unseen)`,
    `  replicas            ${d.replicasConverged ? `all applied the same ${n(d.appliedUpTo[0] ?? 0)} slots` : `applied ${d.appliedUpTo.map((a) => (a < 0 ? 'unreachable' : n(a))).join(', ')} slots (not caught up yet)`}`,
    `  linearizability     ${VERDICT[d.verdict]}: ${n(d.operationsChecked)} operations on ${d.keys} keys checked in ${d.checkMs} ms` +
      (d.historyTruncated ? " (the first ones: the recorder's bound was reached, later operations ran unrecorded)" : '') +
      (d.verdictReason ? `\n                      ${d.verdictReason}` : ''),
    `  storage             ${d.dir} (${d.dirKept ? 'kept' : 'removed'})`,
  ];
  return lines.join('\n') + '\n';
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
