/**
 * The demo's fault injector: every `everyMs`, one replica node is hit, never so many at once
 * that the rest would not form a majority. Two ways, so both paths of supervision are seen:
 * most often its worker thread is ended abruptly (`killWorker`: every actor on it crashes and
 * restarts from its durable state), otherwise one of its actors throws (`crash`: that actor
 * alone restarts). Half the time it aims at the current leader, so leader changes happen.
 */
import type { DemoCluster } from './cluster.js';
import type { ClusterObserver } from './observer.js';
import { tolerableFailures } from './options.js';

/** Share of faults that kill a whole worker (the rest crash one actor). */
export const KILL_SHARE = 2 / 3;
/** Share of faults aimed at the leader's node. */
export const LEADER_SHARE = 1 / 2;

export class FaultInjector {
  /** Faults done so far, by kind. */
  readonly done = { killed: 0, crashed: 0, skipped: 0 };
  private timer: NodeJS.Timeout | null = null;
  private rng = (Date.now() ^ 0x5bd1e995) >>> 0 || 1;
  private busy = false;

  constructor(
    private readonly cluster: DemoCluster,
    private readonly observer: ClusterObserver,
    private readonly everyMs: number,
  ) {}

  /** Whether faults are possible at all (a single replica, or two, tolerate none). */
  get possible(): boolean {
    return tolerableFailures(this.cluster.replicas) > 0;
  }

  start(): void {
    if (!this.possible || this.timer) return;
    this.timer = setInterval(() => {
      void this.strike();
    }, this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One fault, if a node can be spared now. */
  async strike(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const n = this.cluster.replicas;
      const isolated = new Set(this.cluster.isolated());
      const down = Array.from({ length: n }, (_, i) => i).filter((i) => !this.observer.isUp(i) || isolated.has(i));
      if (down.length + 1 > tolerableFailures(n)) {
        this.done.skipped++;
        this.observer.note('fault', `no fault this time: ${down.length} node${down.length === 1 ? ' is' : 's are'} still down and a majority must stay up`);
        return;
      }
      const candidates = Array.from({ length: n }, (_, i) => i).filter((i) => !down.includes(i));
      const leader = this.observer.leader?.index;
      const target =
        leader !== undefined && candidates.includes(leader) && this.random() < LEADER_SHARE
          ? leader
          : candidates[Math.floor(this.random() * candidates.length)]!;
      const role = target === leader ? "the leader's node" : 'a follower';
      if (this.random() < KILL_SHARE) {
        this.observer.note('fault', `killing the worker of replica node ${target} (${role})`, target);
        await this.cluster.killWorker(target);
        this.done.killed++;
      } else {
        const roles = this.cluster.roles;
        const r = roles[Math.floor(this.random() * roles.length)]!;
        this.observer.note('fault', `crashing the ${r} of replica node ${target} (${role}) with a thrown error`, target);
        await this.cluster.crashActor(target, r, 'crash injected by synod demo');
        this.done.crashed++;
      }
    } catch (e) {
      // The target went away meanwhile (a restart in progress): nothing to undo.
      this.observer.note('error', `fault injection failed: ${(e as Error).message}`);
    } finally {
      this.busy = false;
    }
  }

  private random(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng / 2 ** 32;
  }
}
