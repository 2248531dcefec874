/**
 * The dashboard page: listens to the server's event stream and keeps the node cards, the
 * charts, the sequence diagram and the event log up to date; the buttons post actions.
 */
import { drawChart } from './charts.js';
import { byId, clock, el, num } from './dom.js';
import { NodeCards } from './nodes.js';
import type { ActionResult, ClusterEvent, ClusterView, MessageWindowView } from './protocol.js';
import { drawSequence } from './sequence.js';

/** Events kept in the log. */
const MAX_EVENTS = 300;

let latest: ClusterView | null = null;
let lastWindow: MessageWindowView | null = null;

const cards = new NodeCards(byId('nodes'), {
  kill: (index) => {
    void act('/api/kill', { index });
  },
  partition: (index) => {
    void act('/api/partition', { index });
  },
});
byId('heal').addEventListener('click', () => {
  void act('/api/heal', {});
});

const pause = byId<HTMLInputElement>('sequence-pause');
const heartbeats = byId<HTMLInputElement>('sequence-heartbeats');
heartbeats.addEventListener('change', () => {
  if (lastWindow) drawSequence(byId('sequence'), byId('sequence-caption'), latest, lastWindow, heartbeats.checked);
});

/** Posts an action and shows its answer under the cards. */
async function act(path: string, body: unknown): Promise<void> {
  const out = byId('action-result');
  try {
    const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const r = (await res.json()) as ActionResult;
    out.textContent = r.message;
    out.dataset.ok = String(r.ok);
  } catch (e) {
    out.textContent = `the dashboard server did not answer: ${(e as Error).message}`;
    out.dataset.ok = 'false';
  }
}

function onCluster(v: ClusterView): void {
  latest = v;
  byId('title').textContent = v.title;
  if (v.captions) {
    byId('nodes-heading').textContent = v.captions.nodes;
    byId('nodes-note').textContent = `(${v.captions.nodesNote})`;
    if (lastWindow === null) byId('sequence-caption').textContent = v.captions.messages;
  }
  const last = v.rates[v.rates.length - 1];
  const rate = last ? last.writesPerSecond : 0;
  const rateEl = byId('rate-now');
  rateEl.textContent = num(rate);
  rateEl.dataset.value = String(rate);
  byId('committed').textContent = num(v.totals.writes);
  const leader = v.leader === null ? null : v.nodes.find((n) => n.index === v.leader);
  byId('leader').textContent = v.leader === null ? 'none' : (leader?.label ?? `node ${v.leader}`);
  byId('leader-changes').textContent = num(v.leaderChanges);
  const restarts = byId('restarts');
  restarts.textContent = num(v.restarts);
  restarts.dataset.value = String(v.restarts);
  const dead = byId('dead-letters');
  dead.textContent = num(v.deadLetters.total);
  dead.title = Object.entries(v.deadLetters.byReason)
    .map(([r, c]) => `${r}: ${c}`)
    .join('\n');
  cards.update(v);
  drawChart(
    byId<HTMLCanvasElement>('chart-rate'),
    [
      { color: '--writes', values: v.rates.map((p) => p.writesPerSecond) },
      { color: '--reads', values: v.rates.map((p) => p.readsPerSecond) },
    ],
    'per s',
    v.rates.length,
  );
  drawChart(
    byId<HTMLCanvasElement>('chart-latency'),
    [
      { color: '--p50', values: v.rates.map((p) => p.p50Ms) },
      { color: '--p99', values: v.rates.map((p) => p.p99Ms) },
    ],
    'ms',
    v.rates.length,
  );
}

function onEvent(e: ClusterEvent): void {
  const list = byId('events');
  list.prepend(
    el(
      'li',
      { 'data-kind': e.kind, ...(e.index !== undefined ? { 'data-index': e.index } : {}) },
      el('time', { datetime: new Date(e.atMs).toISOString() }, clock(e.atMs).slice(0, 8)),
      el('span', {}, e.text),
    ),
  );
  while (list.children.length > MAX_EVENTS) list.lastElementChild!.remove();
}

function onMessages(w: MessageWindowView): void {
  if (pause.checked) return;
  lastWindow = w;
  drawSequence(byId('sequence'), byId('sequence-caption'), latest, w, heartbeats.checked);
}

function connect(): void {
  const state = byId('connection');
  const source = new EventSource('/events');
  source.addEventListener('open', () => {
    state.textContent = 'live';
    state.dataset.state = 'live';
  });
  source.addEventListener('error', () => {
    state.textContent = 'reconnecting…';
    state.dataset.state = 'lost';
  });
  source.addEventListener('cluster', (m) => onCluster(JSON.parse((m as MessageEvent<string>).data) as ClusterView));
  source.addEventListener('event', (m) => onEvent(JSON.parse((m as MessageEvent<string>).data) as ClusterEvent));
  source.addEventListener('messages', (m) => onMessages(JSON.parse((m as MessageEvent<string>).data) as MessageWindowView));
}

connect();
