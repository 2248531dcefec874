/**
 * Watches the demo cluster: inspects every actor's state every `inspectEveryMs` (who leads, in
 * which ballot, what each acceptor promised and accepted, which slot each replica applied), and
 * listens to the actor system's events (crashes, restarts, worker exits, dead letters, per-actor
 * statistics). It turns them into a {@link ClusterView} and a stream of {@link ClusterEvent}s,
 * which the terminal view and the dashboard both show.
 *
 * Leader changes are counted from these inspections: a leader that came and went between two
 * of them is not seen (the figure is a lower bound, and says so in the summary).
 */
import { EventEmitter } from 'eventemitter3';
import type { ActorSnapshot, DeadLetter, InspectProjection, StatsReport } from '@synod/actors';
import type { AcceptorStateView, ActorView, ClusterEvent, LeaderStateView, NodeView, RaftStateView, ReplicaStateView } from '@synod/dashboard/protocol';
import { formatBallot } from '@synod/paxos';
import type { DemoCluster, Role } from './cluster.js';

/** The state of each role is summarised in its own worker (see projections.ts). */
const projectionsModule = new URL('./projections.js', import.meta.url).href;
export const PROJECTIONS: Record<Role, InspectProjection> = {
  acceptor: { module: projectionsModule, exportName: 'acceptorSummary' },
  leader: { module: projectionsModule, exportName: 'leaderSummary' },
  raft: { module: projectionsModule, exportName: 'raftSummary' },
  replica: { module: projectionsModule, exportName: 'replicaSummary' },
};

/** The role that leads, by protocol (its summary has `status` and `ballotValue`). */
const LEADING_ROLE: Record<DemoCluster['protocol'], Role> = { multipaxos: 'leader', raft: 'raft' };

/** How often dead letters are summed into one event, ms. */
export const DEAD_LETTER_REPORT_MS = 1_000;

export interface ObserverEvents {
  event: (e: ClusterEvent) => void;
}

interface ActorRecord {
  role: Role;
  snapshot: ActorSnapshot | null;
  /** Why the last inspection failed (the worker is down, restarting). */
  problem: string | null;
  messagesPerSecond: number;
}

export class ClusterObserver {
  readonly events = new EventEmitter<ObserverEvents>();
  /** Actor restarts so far (all nodes). */
  restarts = 0;
  /** Worker threads that ended abruptly. */
  workerExits = 0;
  /** Leader changes seen by inspection (after the first leader). */
  leaderChanges = 0;
  /** The replica node leading at the last inspection, and its ballot. */
  leader: { index: number; ballot: number } | null = null;
  /** The last leader seen (a moment without one, during an election or a slow inspection, is no change). */
  private lastLeader: { index: number; ballot: number } | null = null;
  readonly deadLetters = { total: 0, byReason: {} as Record<string, number> };
  private pendingDead = { count: 0, byReason: {} as Record<string, number> };
  private readonly records: ActorRecord[][];
  private readonly restartsPerNode: number[];
  /** Actors crashed and not restarted yet, per node. */
  private readonly downActors: Set<string>[];
  private timer: NodeJS.Timeout | null = null;
  private deadTimer: NodeJS.Timeout | null = null;
  private polling = false;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly cluster: DemoCluster,
    private readonly inspectEveryMs: number,
  ) {
    const n = cluster.replicas;
    this.records = Array.from({ length: n }, () => cluster.roles.map((role) => ({ role, snapshot: null, problem: null, messagesPerSecond: 0 })));
    this.restartsPerNode = new Array<number>(n).fill(0);
    this.downActors = Array.from({ length: n }, () => new Set<string>());
  }

  /** Starts listening and inspecting. */
  start(): void {
    const sys = this.cluster.system;
    const on = <K extends 'actor:crashed' | 'actor:restarted' | 'worker:exited' | 'dead-letter' | 'stats'>(name: K, fn: (e: any) => void) => {
      sys.events.on(name, fn);
      this.unsubscribe.push(() => sys.events.off(name, fn));
    };
    on('worker:exited', (e: { node: number; reason: string }) => {
      const index = this.cluster.indexOfWorker(e.node);
      if (index < 0) return;
      this.workerExits++;
      this.emit({ kind: 'worker-exited', index, text: `worker of replica node ${index} ended (${e.reason})` });
    });
    on('actor:crashed', (e: { ref: { node: number; name: string }; error: { message: string }; during: string }) => {
      const index = this.cluster.indexOfWorker(e.ref.node);
      if (index < 0) return;
      this.downActors[index]!.add(e.ref.name);
      // A worker exit crashes all its actors at once: the exit event already says it.
      if (e.during !== 'worker') this.emit({ kind: 'crashed', index, text: `${e.ref.name} crashed: ${e.error.message}` });
    });
    on('actor:restarted', (e: { ref: { node: number; name: string }; attempt: number; delayMs: number }) => {
      const index = this.cluster.indexOfWorker(e.ref.node);
      if (index < 0) return;
      this.restarts++;
      this.restartsPerNode[index]!++;
      this.downActors[index]!.delete(e.ref.name);
      this.emit({ kind: 'restarted', index, text: `${e.ref.name} restarted (attempt ${e.attempt}, after ${Math.round(e.delayMs)} ms backoff)` });
    });
    on('dead-letter', (d: DeadLetter) => {
      this.deadLetters.total++;
      this.deadLetters.byReason[d.reason] = (this.deadLetters.byReason[d.reason] ?? 0) + 1;
      this.pendingDead.count++;
      this.pendingDead.byReason[d.reason] = (this.pendingDead.byReason[d.reason] ?? 0) + 1;
    });
    on('stats', (r: StatsReport) => {
      const index = this.cluster.indexOfWorker(r.node);
      if (index < 0) return;
      for (const a of r.actors) {
        const rec = this.records[index]!.find((x) => this.cluster.actor(index, x.role).ref.id === a.id);
        if (rec) rec.messagesPerSecond = a.messagesPerSecond;
      }
    });
    this.timer = setInterval(() => {
      void this.inspect();
    }, this.inspectEveryMs);
    this.deadTimer = setInterval(() => this.reportDeadLetters(), DEAD_LETTER_REPORT_MS);
    void this.inspect();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.deadTimer) clearInterval(this.deadTimer);
    this.timer = this.deadTimer = null;
    this.reportDeadLetters();
    for (const u of this.unsubscribe.splice(0)) u();
  }

  /** Records a fault or another happening of the caller's (the fault injector, the dashboard). */
  note(kind: ClusterEvent['kind'], text: string, index?: number): void {
    this.emit({ kind, text, ...(index !== undefined ? { index } : {}) });
  }

  /** Whether every actor of replica node `index` is running (as far as events tell). */
  isUp(index: number): boolean {
    return this.downActors[index]!.size === 0;
  }

  /** The nodes as last inspected. */
  nodes(): NodeView[] {
    const isolated = new Set(this.cluster.isolated());
    return this.records.map((recs, index) => ({
      index,
      worker: this.cluster.workerNode(index),
      up: this.isUp(index),
      isolated: isolated.has(index),
      restarts: this.restartsPerNode[index]!,
      actors: recs.map((r) => this.actorView(index, r)),
    }));
  }

  private actorView(index: number, r: ActorRecord): ActorView {
    const a = this.cluster.actor(index, r.role);
    const snap = r.snapshot;
    const down = this.downActors[index]!.has(a.ref.name);
    const view: ActorView = {
      role: r.role,
      name: a.ref.name,
      status: down ? 'down' : (snap?.status ?? (r.problem ? 'unreachable' : 'starting')),
      incarnation: snap?.incarnation ?? 0,
      mailbox: snap?.mailbox ?? 0,
      messagesPerSecond: r.messagesPerSecond,
    };
    if (!snap || down || snap.status !== 'running' || snap.state === undefined) return view;
    if (r.role === 'acceptor') view.acceptor = snap.state as AcceptorStateView;
    else if (r.role === 'leader') {
      const { ballotValue: _, ...leader } = snap.state as LeaderSummary;
      view.leader = leader;
    } else if (r.role === 'raft') {
      const { ballotValue: _, ...raft } = snap.state as RaftStateView & { ballotValue: number };
      view.raft = raft;
    } else view.replica = snap.state as ReplicaStateView;
    return view;
  }

  private async inspect(): Promise<void> {
    if (this.polling) return; // the previous round is still waiting for a slow worker
    this.polling = true;
    try {
      const sys = this.cluster.system;
      await Promise.all(
        this.records.flatMap((recs, index) =>
          recs.map(async (r) => {
            try {
              r.snapshot = await sys.inspect(this.cluster.actor(index, r.role).ref, { project: PROJECTIONS[r.role] });
              r.problem = null;
            } catch (e) {
              r.snapshot = null;
              r.problem = (e as Error).message;
            }
          }),
        ),
      );
      this.updateLeader();
    } finally {
      this.polling = false;
    }
  }

  private updateLeader(): void {
    let best: { index: number; ballot: number } | null = null;
    const leading = this.cluster.roles.indexOf(LEADING_ROLE[this.cluster.protocol]);
    this.records.forEach((recs, index) => {
      const snap = recs[leading]!.snapshot;
      const st = snap?.status === 'running' ? (snap.state as LeaderSummary | undefined) : undefined;
      if (st && st.status === 'leader' && this.isUp(index) && (best === null || st.ballotValue > best.ballot)) best = { index, ballot: st.ballotValue };
    });
    const now = best as { index: number; ballot: number } | null;
    this.leader = now;
    if (now === null) return;
    const last = this.lastLeader;
    if (last?.index === now.index && last.ballot === now.ballot) return;
    if (last !== null) this.leaderChanges++;
    this.lastLeader = now;
    const when = this.cluster.protocol === 'raft' ? `term ${now.ballot}` : `ballot ${formatBallot(now.ballot)}`;
    this.emit({ kind: 'leader', index: now.index, text: `replica node ${now.index} leads in ${when}` });
  }

  private reportDeadLetters(): void {
    const p = this.pendingDead;
    if (p.count === 0) return;
    const reasons = Object.entries(p.byReason)
      .sort((a, b) => b[1] - a[1])
      .map(([r, c]) => `${r} ${c}`)
      .join(', ');
    this.emit({ kind: 'dead-letters', text: `${p.count} dead letter${p.count === 1 ? '' : 's'} (${reasons})` });
    this.pendingDead = { count: 0, byReason: {} };
  }

  private emit(e: Omit<ClusterEvent, 'atMs'>): void {
    this.events.emit('event', { atMs: Date.now(), ...e });
  }
}

/** What `leaderSummary` returns. */
type LeaderSummary = LeaderStateView & { ballotValue: number };
