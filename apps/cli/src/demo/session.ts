/**
 * A running demo: the cluster, its workload, the observer and the fault injector, started and
 * stopped together. `synod demo` runs one for a while and summarises it; `synod dashboard`
 * keeps one running behind the web page.
 */
import { randomBytes } from 'node:crypto';
import { check, replicatedMapModel, type CheckResult } from '@synod/checker';
import type { ReplicaStateView } from '@synod/dashboard/protocol';
import { FaultInjector } from './chaos.js';
import { DemoCluster } from './cluster.js';
import { Metrics } from './metrics.js';
import { ClusterObserver, PROJECTIONS } from './observer.js';
import type { DemoOptions } from './options.js';
import { Workload } from './workload.js';

/** How long `settle` waits for every replica to apply the same slots, ms. */
export const SETTLE_TIMEOUT_MS = 5_000;
/** How often `settle` looks, ms. */
export const SETTLE_POLL_MS = 100;

export class DemoSession {
  readonly metrics: Metrics;
  readonly observer: ClusterObserver;
  readonly workload: Workload;
  readonly faults: FaultInjector | null;
  readonly startedAt = Date.now();
  private stopped = false;
  private closed = false;

  private constructor(
    readonly cluster: DemoCluster,
    readonly options: DemoOptions,
  ) {
    this.metrics = new Metrics(options.bucketMs, options.keepBuckets, options.latencySamplesPerBucket);
    this.observer = new ClusterObserver(cluster, options.inspectEveryMs);
    // A run id in key names: a kept storage folder can be reused by a later run, whose history
    // then starts from absent keys as the checker's model assumes.
    const keyPrefix = `${randomBytes(3).toString('hex')}/`;
    this.workload = new Workload(cluster.map, this.metrics, { clients: options.clients, keys: options.keys, keyPrefix, maxRecorded: options.maxRecorded });
    this.faults = options.faults ? new FaultInjector(cluster, this.observer, options.faultEveryMs) : null;
  }

  /** Starts the cluster, the observer and the workload (not the faults: see {@link startFaults}). */
  static async start(options: DemoOptions): Promise<DemoSession> {
    const cluster = await DemoCluster.start(options);
    const s = new DemoSession(cluster, options);
    s.observer.start();
    s.workload.start();
    return s;
  }

  startFaults(): void {
    this.faults?.start();
  }

  /** Stops faults and the workload; resolves when every operation in flight has ended. */
  async stopWorkload(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.faults?.stop();
    await this.workload.stop();
  }

  /**
   * Waits (at most {@link SETTLE_TIMEOUT_MS}) until every replica has applied the same slots,
   * and returns what each applied: replicas that were down catch up from their peers.
   */
  async settle(): Promise<{ appliedUpTo: number[]; converged: boolean }> {
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    const sys = this.cluster.system;
    for (;;) {
      const applied = await Promise.all(
        Array.from({ length: this.cluster.replicas }, async (_, i) => {
          try {
            const snap = await sys.inspect(this.cluster.actor(i, 'replica').ref, { project: PROJECTIONS.replica });
            return (snap.state as ReplicaStateView).appliedUpTo;
          } catch {
            return -1;
          }
        }),
      );
      const converged = applied.every((a) => a >= 0 && a === applied[0]);
      if (converged || Date.now() > deadline) return { appliedUpTo: applied, converged };
      await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
    }
  }

  /** Checks the recorded history for linearizability (bounded by `checkTimeLimitMs`). */
  check(timeLimitMs: number): CheckResult {
    return check(this.workload.recorder.history(), replicatedMapModel, { timeLimitMs });
  }

  /** Stops everything and removes the temporary storage folder. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stopWorkload();
    this.observer.stop();
    await this.cluster.shutdown();
  }
}
