/**
 * A cluster of member processes (`synod node`) as the dashboard sees it: this process connects as
 * a client of the cluster, asks every member's status actor for its status (one ask outstanding
 * per member, each with a timeout; a member that does not answer is shown down), and turns the
 * answers into the page's picture. Partition and heal become fault commands to the members'
 * status actors, which carry them out only when started with `--allow-remote-faults`. A member
 * is a process of its own, perhaps on another machine: the page cannot kill it.
 *
 * With `load`, it also runs the demo's client workload against the cluster through an ordinary
 * client (`ReplicatedMap.connect`), and charts its throughput and latency.
 */
import { randomBytes } from 'node:crypto';
import type { ActorRef, ActorSystem, DeadLetter, NetPeer, NetTlsOptions } from '@synod/actors';
import type { ActionResult, ClusterEvent, ClusterView, DashboardSource, SourceListener } from '@synod/dashboard';
import {
  ReplicatedMap,
  checkMembers,
  connectCluster,
  mapMachine,
  type FaultCommandResult,
  type MemberStatus,
  type MemberStatusMsg,
  type NetworkLimits,
} from '@synod/replicated';
import { Metrics } from '../demo/metrics.js';
import { Workload } from '../demo/workload.js';
import { ballotText, isolatedFrom, leaderOf, memberNodeView, messageRate, restartsOf, type MemberRecord } from './member-views.js';

/** Options of a {@link NetworkDashboardSource}. */
export interface NetworkSourceOptions {
  /** Every member, `"N@host:port"` (N = 1..n) or `{ node, host, port }`. */
  members: (NetPeer | string)[];
  clusterId: string;
  /** Mutual TLS with a client certificate of the cluster CA, or `'insecure'` (closed test networks). */
  tls: NetTlsOptions | 'insecure';
  /** Prefix of the cluster's actor names (as given to `synod node --name`). Default `map`. */
  name?: string;
  /** The cluster's protocol (as given to `synod node --protocol`). Default `multipaxos`. */
  protocol?: string;
  /** How often every member's status is asked for. Default 500. */
  pollEveryMs?: number;
  /** A status ask not answered in this long counts as the member being down. Default 1500. */
  statusTimeoutMs?: number;
  /** A fault command (partition, heal) not answered in this long fails. Default 3000. */
  commandTimeoutMs?: number;
  /** How long connecting may take before giving up. Default 10000. */
  connectTimeoutMs?: number;
  /** Run a client workload from this process: this many sessions over this many keys. Default none. */
  load?: { clients: number; keys: number } | null;
  network?: NetworkLimits;
}

/** Chart points (one per second), as the in-process dashboard. */
export const NET_CHART_SECONDS = 60;
/** The workload's throughput buckets: length, kept, latency samples per bucket. */
const METRICS = { bucketMs: 250, keepBuckets: 480, samplesPerBucket: 256 } as const;

export class NetworkDashboardSource implements DashboardSource {
  private readonly listeners = new Set<SourceListener>();
  private readonly peers: NetPeer[];
  private readonly records: MemberRecord[];
  /** Whether a status ask to member i is outstanding (at most one each). */
  private readonly asking: boolean[];
  private readonly o: Required<Omit<NetworkSourceOptions, 'load' | 'network'>> & Pick<NetworkSourceOptions, 'load' | 'network'>;
  private system: ActorSystem | null = null;
  private statusRefs: ActorRef<MemberStatusMsg>[] = [];
  private timer: NodeJS.Timeout | null = null;
  private map: ReplicatedMap<string> | null = null;
  private workload: Workload | null = null;
  private readonly metrics = new Metrics(METRICS.bucketMs, METRICS.keepBuckets, METRICS.samplesPerBucket);
  private leader: { index: number; ballot: number } | null = null;
  private leaderChanges = 0;
  private readonly deadLetters = { total: 0, byReason: {} as Record<string, number> };
  private stopped = false;
  private readonly onDeadLetter = (d: DeadLetter) => {
    this.deadLetters.total++;
    this.deadLetters.byReason[d.reason] = (this.deadLetters.byReason[d.reason] ?? 0) + 1;
  };

  constructor(options: NetworkSourceOptions) {
    this.peers = checkMembers(options.members);
    this.o = {
      name: 'map',
      protocol: 'multipaxos',
      pollEveryMs: 500,
      statusTimeoutMs: 1_500,
      commandTimeoutMs: 3_000,
      connectTimeoutMs: 10_000,
      ...options,
    };
    for (const k of ['pollEveryMs', 'statusTimeoutMs', 'commandTimeoutMs', 'connectTimeoutMs'] as const) {
      const v = this.o[k];
      if (!(Number.isInteger(v) && v > 0)) throw new RangeError(`${k} must be a positive whole number of ms, got ${String(v)}`);
    }
    this.records = this.peers.map((peer) => ({ peer, status: null, answered: false, problem: null, rates: { leader: 0, replica: 0 } }));
    this.asking = this.peers.map(() => false);
  }

  /** What the page's title says. */
  get title(): string {
    const n = this.peers.length;
    const load = this.o.load ? `${this.o.load.clients} client${this.o.load.clients === 1 ? '' : 's'} from this dashboard` : 'no load from this dashboard';
    return `${n} member process${n === 1 ? '' : 'es'} · ${this.o.protocol} · cluster ${JSON.stringify(this.o.clusterId)} · ${load}`;
  }

  /** Connects to the cluster, starts polling (and the workload, if asked). */
  async start(): Promise<void> {
    const common = {
      members: this.peers,
      clusterId: this.o.clusterId,
      tls: this.o.tls,
      name: this.o.name,
      protocol: this.o.protocol,
      connectTimeoutMs: this.o.connectTimeoutMs,
      ...(this.o.network ? { network: this.o.network } : {}),
    };
    const { system, statusRefs } = await connectCluster(common, mapMachine);
    this.system = system;
    this.statusRefs = statusRefs;
    system.events.on('dead-letter', this.onDeadLetter);
    if (this.o.load) {
      this.map = await ReplicatedMap.connect<string>(common);
      this.workload = new Workload(this.map, this.metrics, {
        clients: this.o.load.clients,
        keys: this.o.load.keys,
        keyPrefix: `${randomBytes(3).toString('hex')}/`,
        maxRecorded: 0,
      });
      this.workload.start();
    }
    this.poll();
    this.timer = setInterval(() => this.poll(), this.o.pollEveryMs);
  }

  /** Stops polling and the workload, and disconnects. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.workload?.stop();
    await this.map?.shutdown();
    this.system?.events.off('dead-letter', this.onDeadLetter);
    await this.system?.shutdown();
  }

  /** Asks every member not already being asked for its status. */
  private poll(): void {
    const system = this.system;
    if (!system || this.stopped) return;
    const connected = new Set(system.net!.stats().connected);
    this.statusRefs.forEach((ref, i) => {
      if (this.asking[i]) return;
      // Messages to a member without a connection wait for it: asks would pile up while it is away.
      const away = this.notConnected(i, connected);
      if (away !== null) {
        this.unanswered(i, away);
        return;
      }
      this.asking[i] = true;
      system
        .ask(ref, { type: 'status' }, { timeoutMs: this.o.statusTimeoutMs })
        .then(
          (answer) => {
            if (answer?.type === 'member-status') this.answered(i, answer);
            else this.unanswered(i, answer?.type === 'error' ? answer.message : 'an answer that is no status');
          },
          (e: unknown) => this.unanswered(i, (e as Error)?.message ?? String(e)),
        )
        .finally(() => {
          this.asking[i] = false;
        });
    });
  }

  /** Why member `i` has no connection from this client now, or null when it has one. */
  private notConnected(i: number, connected: Set<number>): string | null {
    const p = this.peers[i]!;
    if (connected.has(p.node)) return null;
    const refused = this.system?.net?.lastRefusal.get(p.node);
    return `no connection to ${p.host}:${p.port}${refused ? ` (refused: ${refused})` : ''}`;
  }

  private answered(i: number, status: MemberStatus): void {
    if (this.stopped) return;
    const r = this.records[i]!;
    const before = r.status;
    if (!r.answered) this.emit({ kind: 'member-up', index: i, text: `member ${r.peer.node} (${r.peer.host}:${r.peer.port}) answers` });
    if (before && restartsOf(status) > restartsOf(before)) {
      this.emit({ kind: 'restarted', index: i, text: `an actor of member ${r.peer.node} restarted (supervision, in its process)` });
    }
    r.rates = { leader: messageRate(before, status, 'leader'), replica: messageRate(before, status, 'replica') };
    r.status = status;
    r.answered = true;
    r.problem = null;
    this.updateLeader();
  }

  private unanswered(i: number, why: string): void {
    if (this.stopped) return;
    const r = this.records[i]!;
    if (r.answered || r.problem === null) this.emit({ kind: 'member-down', index: i, text: `member ${r.peer.node} does not answer: ${why}` });
    r.answered = false;
    r.problem = why;
    this.updateLeader();
  }

  private updateLeader(): void {
    const now = leaderOf(this.records);
    const last = this.leader;
    if (now === null) return; // a moment without one (an election, a slow answer) is no change
    if (last?.index === now.index && last.ballot === now.ballot) return;
    if (last !== null) this.leaderChanges++;
    this.leader = now;
    this.emit({ kind: 'leader', index: now.index, text: `member ${this.peers[now.index]!.node} leads in ${ballotText(this.o.protocol, now.ballot)}` });
  }

  view(): ClusterView {
    const now = leaderOf(this.records);
    const nodes = this.records.map((r, i) => memberNodeView(i, r, this.peers.length, this.o.protocol));
    return {
      atMs: Date.now(),
      title: this.title,
      nodes,
      leader: now?.index ?? null,
      leaderChanges: this.leaderChanges,
      restarts: nodes.reduce((sum, n) => sum + n.restarts, 0),
      deadLetters: { total: this.deadLetters.total, byReason: { ...this.deadLetters.byReason } },
      totals: { ...this.metrics.totals },
      rates: this.o.load ? this.metrics.series(1_000, NET_CHART_SECONDS) : [],
      captions: {
        nodes: 'Member processes and their actors',
        nodesNote: `each member's status read over the network every ${this.o.pollEveryMs} ms${this.o.protocol === 'multipaxos' ? '; a ballot (r.p) is round r of proposer p, member p' : ''}`,
        messages: 'not traced for member processes: each traces only its own threads (the cards show their traffic)',
      },
    };
  }

  subscribe(listener: SourceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async kill(index: number): Promise<ActionResult> {
    if (!this.valid(index)) return this.noSuchMember(index);
    const p = this.peers[index]!;
    return {
      ok: false,
      message: `member ${p.node} is a process of its own (${p.host}:${p.port}): the dashboard cannot kill it; stop it where it runs (SIGTERM stops it cleanly, SIGKILL as a crash)`,
    };
  }

  async partition(index: number): Promise<ActionResult> {
    if (!this.valid(index)) return this.noSuchMember(index);
    const me = this.peers[index]!;
    const others = this.peers.filter((p) => p.node !== me.node).map((p) => p.node);
    const r = await this.command(index, { type: 'partition', nodes: others });
    if (!r.ok) return { ok: false, message: `could not partition member ${me.node}: ${r.message}` };
    const cut = this.records.filter((x, i) => i === index || (x.answered && x.status !== null && isolatedFrom(x.status, this.peers.length))).length;
    const n = this.peers.length;
    const majority = Math.floor(n / 2) + 1;
    const warning = n - cut < majority ? `; only ${n - cut} of ${n} members can talk: no majority, nothing commits until you heal` : '';
    this.emit({ kind: 'partition', index, text: `member ${me.node} cut off from members ${others.join(', ')} (clients still reach it)${warning}` });
    return { ok: true, message: `member ${me.node} is partitioned from the other members${warning}` };
  }

  async heal(): Promise<ActionResult> {
    const results = await Promise.all(this.peers.map((_, i) => this.command(i, { type: 'heal' })));
    const healed: number[] = [];
    const problems: string[] = [];
    results.forEach((r, i) => {
      const node = this.peers[i]!.node;
      if (r.ok) healed.push(node);
      // A member that takes no fault commands has none injected from here: nothing to heal there.
      else if (r.faults && r.faults.blockedOut.length === 0 && r.faults.blockedIn.length === 0 && r.faults.dropRate === 0 && r.faults.delayMs === 0) return;
      else problems.push(r.message);
    });
    const text = healed.length ? `healed member${healed.length > 1 ? 's' : ''} ${healed.join(', ')}: every injected fault ended` : 'no member took the heal';
    this.emit({ kind: 'heal', text: problems.length ? `${text}; ${problems.join('; ')}` : text });
    return problems.length ? { ok: false, message: `${text}; but: ${problems.join('; ')}` } : { ok: true, message: text };
  }

  /** Sends a fault command to member `index`'s status actor and waits for its answer. */
  private async command(
    index: number,
    cmd: { type: 'partition'; nodes: number[] } | { type: 'heal' },
  ): Promise<{ ok: boolean; message: string; faults: FaultCommandResult['faults'] | null }> {
    const system = this.system;
    const node = this.peers[index]!.node;
    if (!system || this.stopped) return { ok: false, message: 'the dashboard is not connected', faults: null };
    // Not sent to a member without a connection: it would wait for one and take effect later, unseen.
    const away = this.notConnected(index, new Set(system.net!.stats().connected));
    if (away !== null) return { ok: false, message: `member ${node}: ${away}`, faults: null };
    try {
      const r = await system.ask(this.statusRefs[index]!, cmd, { timeoutMs: this.o.commandTimeoutMs });
      if (r?.type === 'fault-result') return { ok: r.ok, message: r.message, faults: r.faults };
      return { ok: false, message: r?.type === 'error' ? r.message : `member ${node} answered something else`, faults: null };
    } catch (e) {
      return { ok: false, message: `member ${node} did not answer: ${(e as Error)?.message ?? String(e)}`, faults: null };
    }
  }

  private valid(index: number): boolean {
    return Number.isInteger(index) && index >= 0 && index < this.peers.length;
  }

  private noSuchMember(index: number): ActionResult {
    return { ok: false, message: `there is no replica node ${index} (nodes 0..${this.peers.length - 1}, members 1..${this.peers.length})` };
  }

  private emit(e: Omit<ClusterEvent, 'atMs'>): void {
    const event: ClusterEvent = { atMs: Date.now(), ...e };
    for (const l of this.listeners) l.event(event);
  }
}
