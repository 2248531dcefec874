/**
 * One card per replica node: its worker, its actors with their protocol state, and the
 * buttons. Cards are built once and updated in place, so a button is never replaced under the
 * pointer while it is being clicked.
 */
import { el, num } from './dom.js';
import type { ActorView, ClusterView, NodeView, ProcessView } from './protocol.js';

export interface NodeActions {
  kill(index: number): void;
  partition(index: number): void;
}

interface Card {
  root: HTMLElement;
  badge: HTMLElement;
  sub: HTMLElement;
  actors: Map<string, { row: HTMLElement; state: HTMLElement; rate: HTMLElement }>;
  partition: HTMLButtonElement;
  /** A member process: its own address, no kill button. */
  process: boolean;
}

export class NodeCards {
  private readonly cards = new Map<number, Card>();

  constructor(
    private readonly container: HTMLElement,
    private readonly actions: NodeActions,
  ) {}

  update(view: ClusterView): void {
    for (const node of view.nodes) {
      const card = this.cards.get(node.index) ?? this.create(node);
      this.fill(card, node, view.leader === node.index, (i) => view.nodes.find((n) => n.index === i)?.label?.toLowerCase() ?? `node ${i}`);
    }
  }

  private create(node: NodeView): Card {
    const badge = el('span', { class: 'badge' });
    const sub = el('div', { class: 'node-sub' });
    const kill = el(
      'button',
      { type: 'button', class: 'danger', 'data-action': 'kill', title: 'End this worker thread abruptly; supervision restarts its actors' },
      'Kill worker',
    );
    const partition = el(
      'button',
      { type: 'button', 'data-action': 'partition', title: 'Cut this node off from every other node (clients included)' },
      'Partition',
    );
    // A member in another process (maybe on another machine) is not the page's to kill.
    if (node.process) {
      kill.hidden = true;
      partition.title =
        'Cut this member off from the other members (its own transport drops their traffic; clients still reach it). Needs synod node --allow-remote-faults';
    }
    kill.addEventListener('click', () => this.actions.kill(node.index));
    partition.addEventListener('click', () => this.actions.partition(node.index));
    const actors = new Map<string, { row: HTMLElement; state: HTMLElement; rate: HTMLElement }>();
    const rows = node.actors.map((a) => {
      const state = el('span', { class: 'state' });
      const rate = el('span', { class: 'rate' });
      const row = el('div', { class: 'actor', 'data-role': a.role }, el('span', { class: 'role' }, a.role), state, rate);
      actors.set(a.role, { row, state, rate });
      return row;
    });
    const root = el(
      'article',
      { class: 'node', 'data-index': node.index },
      el('div', { class: 'node-head' }, el('strong', {}, node.label ?? `Replica node ${node.index}`), badge),
      sub,
      ...rows,
      el('div', { class: 'node-actions' }, kill, partition),
    );
    this.container.append(root);
    const card: Card = { root, badge, sub, actors, partition, process: node.process !== undefined };
    this.cards.set(node.index, card);
    return card;
  }

  private fill(card: Card, node: NodeView, leads: boolean, nameOf: (index: number) => string): void {
    const r = card.root;
    r.dataset.up = String(node.up);
    r.dataset.isolated = String(node.isolated);
    r.dataset.leader = String(leads);
    r.dataset.restarts = String(node.restarts);
    const [text, cls] = !node.up ? ['down', 'down'] : node.isolated ? ['partitioned', 'isolated'] : leads ? ['★ leader', 'leader'] : ['up', ''];
    card.badge.textContent = text;
    card.badge.className = `badge ${cls}`;
    const restarts = `${node.restarts} actor restart${node.restarts === 1 ? '' : 's'}`;
    card.sub.textContent = node.process ? `${processLine(node.process)} · ${restarts}` : `worker #${node.worker} · ${restarts}`;
    card.partition.disabled = node.isolated || (node.process !== undefined && !node.process.remoteFaults);
    if (node.process) r.dataset.remoteFaults = String(node.process.remoteFaults);
    for (const a of node.actors) {
      const row = card.actors.get(a.role);
      if (!row) continue;
      row.row.dataset.status = a.status;
      row.state.textContent = describe(a, nameOf);
      row.rate.textContent = `${num(a.messagesPerSecond)} msg/s · mailbox ${a.mailbox}${a.incarnation > 0 ? ` · restart #${a.incarnation}` : ''}`;
    }
  }
}

/** A member process in a line: where it is, whom it is connected to, its traffic and faults. */
function processLine(p: ProcessView): string {
  if (p.problem !== null) return `${p.address} · ${p.problem}`;
  const peers = p.peers.length ? `peers ${p.peers.join(', ')}` : 'no peer connected';
  const clients = `${p.clients} client${p.clients === 1 ? '' : 's'}`;
  const faults = p.faults ? ` · faults: ${p.faults}` : '';
  const remote = p.remoteFaults ? '' : ' · partition not allowed (no --allow-remote-faults)';
  return `${p.address} · ${peers} · ${clients} · sent ${bytes(p.bytesSent)} received ${bytes(p.bytesReceived)}${faults}${remote}`;
}

/** Bytes in a unit people read. */
function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

/** "through #41" for slots below 42; "none" for none. */
function through(below: number): string {
  return below <= 0 ? 'none yet' : `through #${num(below - 1)}`;
}

/** An actor's Paxos state in a line. */
function describe(a: ActorView, nameOf: (index: number) => string): string {
  if (a.status !== 'running') return a.status === 'down' ? 'down: restart pending' : a.status;
  if (a.acceptor) {
    const s = a.acceptor;
    const last = s.highestSlot === null ? 'nothing accepted' : `${num(s.acceptedSlots)} slots accepted, last #${s.highestSlot} in ${s.highestBallot}`;
    return `promised ${s.promised} · ${last}`;
  }
  if (a.leader) {
    const s = a.leader;
    if (s.status === 'leader') return `LEADER in ${s.ballot} · chosen ${through(s.commitUpTo)} · ${s.inflight} in flight · ${s.pending} waiting`;
    if (s.status === 'candidate') return `candidate in ${s.ballot} (phase 1)`;
    return `follower${s.following !== null ? ` of ${nameOf(s.following)}` : ''} · knows chosen ${through(s.commitUpTo)}`;
  }
  if (a.raft) {
    const s = a.raft;
    const log = `log ${s.snapIndex > 0 ? `#${num(s.snapIndex + 1)}` : '#1'}..#${num(s.lastIndex)}`;
    if (s.status === 'leader') return `LEADER in term ${s.term} · committed ${num(s.commitIndex)} · ${log} · ${s.pending} waiting`;
    if (s.status !== 'follower') return `${s.status} in term ${s.term}`;
    return `follower in term ${s.term}${s.leader !== null ? ` of ${nameOf(s.leader)}` : ''} · committed ${num(s.commitIndex)} · ${log}`;
  }
  if (a.replica) {
    const s = a.replica;
    const keys = s.keys !== undefined ? ` · ${s.keys} keys` : '';
    const digest = s.digest !== undefined ? ` · digest ${(s.digest >>> 0).toString(16).padStart(8, '0')}` : '';
    return `applied ${through(s.appliedUpTo)}${s.knownUpTo > s.appliedUpTo ? ` (chosen ${through(s.knownUpTo)})` : ''}${keys}${digest}`;
  }
  return a.status;
}
