/**
 * The demo cluster as the dashboard sees it: the observer's picture and events, the workload's
 * rates, the actor system's message windows (merged across hosts, names resolved), and the
 * buttons (kill a worker, partition a replica node, heal).
 */
import type { TraceWindow } from '@synod/actors';
import type { ActionResult, ClusterView, DashboardSource, MessageWindowView, SourceListener, TracedMessageView } from '@synod/dashboard';
import type { DemoSession } from './session.js';

/** Message windows: how often one opens, how long it records, and the bound per host. */
export const TRACE = { periodMs: 1_000, windowMs: 5, maxPerWindow: 200 } as const;
/** A merged window is handed over this long after it closed (late hosts' windows arrive by then). */
export const TRACE_MERGE_DELAY_MS = 150;
/** Chart points (one per second). */
export const CHART_SECONDS = 60;

export class DemoDashboardSource implements DashboardSource {
  private readonly listeners = new Set<SourceListener>();
  private readonly pending = new Map<number, TraceWindow[]>();
  private readonly onWindow = (w: TraceWindow) => this.collect(w);
  private readonly onEvent = (e: Parameters<SourceListener['event']>[0]) => {
    for (const l of this.listeners) l.event(e);
  };

  constructor(
    private readonly session: DemoSession,
    private readonly title: string,
  ) {}

  /** Starts the message trace and event forwarding. */
  async start(): Promise<void> {
    this.session.observer.events.on('event', this.onEvent);
    this.session.cluster.system.events.on('messages', this.onWindow);
    await this.session.cluster.system.traceMessages(TRACE);
  }

  async stop(): Promise<void> {
    this.session.observer.events.off('event', this.onEvent);
    this.session.cluster.system.events.off('messages', this.onWindow);
    if (this.session.cluster.system.running) await this.session.cluster.system.traceMessages(null);
  }

  view(): ClusterView {
    const { observer, metrics } = this.session;
    return {
      atMs: Date.now(),
      title: this.title,
      nodes: observer.nodes(),
      leader: observer.leader?.index ?? null,
      leaderChanges: observer.leaderChanges,
      restarts: observer.restarts,
      deadLetters: { total: observer.deadLetters.total, byReason: { ...observer.deadLetters.byReason } },
      totals: { ...metrics.totals },
      rates: metrics.series(1_000, CHART_SECONDS),
    };
  }

  subscribe(listener: SourceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async kill(index: number): Promise<ActionResult> {
    const c = this.session.cluster;
    if (!this.valid(index)) return this.noSuchNode(index);
    try {
      this.session.observer.note('fault', `killing the worker of replica node ${index} (from the dashboard)`, index);
      await c.killWorker(index);
      return { ok: true, message: `killed the worker of replica node ${index}; supervision restarts its actors` };
    } catch (e) {
      return { ok: false, message: `could not kill replica node ${index}: ${(e as Error).message}` };
    }
  }

  async partition(index: number): Promise<ActionResult> {
    const c = this.session.cluster;
    if (!this.valid(index)) return this.noSuchNode(index);
    try {
      await c.isolate(index);
      const cut = c.isolated().length;
      const majority = Math.floor(c.replicas / 2) + 1;
      const warning =
        c.replicas - cut < majority ? `; only ${c.replicas - cut} of ${c.replicas} nodes can talk: no majority, nothing commits until you heal` : '';
      this.session.observer.note('partition', `replica node ${index} cut off from every other node${warning}`, index);
      return { ok: true, message: `replica node ${index} is partitioned${warning}` };
    } catch (e) {
      return { ok: false, message: `could not partition replica node ${index}: ${(e as Error).message}` };
    }
  }

  async heal(): Promise<ActionResult> {
    const c = this.session.cluster;
    const was = c.isolated();
    try {
      await c.heal();
      this.session.observer.note(
        'heal',
        was.length ? `healed: replica node${was.length > 1 ? 's' : ''} ${was.join(', ')} reconnected` : 'healed (no partition was in force)',
      );
      return { ok: true, message: was.length ? `reconnected replica node${was.length > 1 ? 's' : ''} ${was.join(', ')}` : 'no partition was in force' };
    } catch (e) {
      return { ok: false, message: `could not heal: ${(e as Error).message}` };
    }
  }

  private valid(index: number): boolean {
    return Number.isInteger(index) && index >= 0 && index < this.session.cluster.replicas;
  }

  private noSuchNode(index: number): ActionResult {
    return { ok: false, message: `there is no replica node ${index} (nodes 0..${this.session.cluster.replicas - 1})` };
  }

  /** Gathers the hosts' windows of one instant; hands the merged window over once all are in. */
  private collect(w: TraceWindow): void {
    let list = this.pending.get(w.startMs);
    if (!list) {
      list = [];
      this.pending.set(w.startMs, list);
      setTimeout(() => this.flush(w.startMs), Math.max(0, w.startMs + w.windowMs + TRACE_MERGE_DELAY_MS - Date.now())).unref();
    }
    list.push(w);
  }

  private flush(startMs: number): void {
    const list = this.pending.get(startMs);
    this.pending.delete(startMs);
    if (!list || list.length === 0 || this.listeners.size === 0) return;
    const names = this.names();
    const name = (a: readonly [number, number] | null) => (a === null ? 'client' : (names.get(`${a[0]}.${a[1]}`) ?? `#${a[0]}.${a[1]}`));
    const messages: TracedMessageView[] = [];
    let omitted = 0;
    for (const w of list) {
      omitted += w.omitted;
      for (const m of w.messages) messages.push({ atMs: m.atMs, from: name(m.from), to: name(m.to), type: m.type, kind: m.kind });
    }
    messages.sort((a, b) => a.atMs - b.atMs);
    const view: MessageWindowView = { startMs, windowMs: list[0]!.windowMs, messages, omitted };
    for (const l of this.listeners) l.messages(view);
  }

  /** `node.id` → actor name; the main thread's outside address (0.0) is the client. */
  private names(): Map<string, string> {
    const m = new Map<string, string>([['0.0', 'client']]);
    for (const ref of this.session.cluster.system.actors()) m.set(`${ref.node}.${ref.id}`, ref.node === 0 ? 'client' : ref.name);
    return m;
  }
}
