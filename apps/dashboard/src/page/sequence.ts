/**
 * The sequence diagram: one lifeline per actor (and one for the client, the application's
 * calls), one row per message in send order, an arrow from sender to receiver. The server
 * sends every message of a short window once a second; this draws the latest one.
 */
import { clock, svg } from './dom.js';
import type { ClusterView, MessageWindowView, TracedMessageView } from './protocol.js';

/** Rows drawn at most (the caption says how many there were). */
export const MAX_ROWS = 160;
/** Narrowest lifeline spacing, px: below it the diagram scrolls sideways. */
const MIN_COL_WIDTH = 58;
const ROW_HEIGHT = 17;
const LEFT = 70;
const HEAD = 38;

/** Colour (a CSS custom property) of a message type (Multi-Paxos's, and Raft's alike: elections, replication). */
function colorOf(m: TracedMessageView): string {
  const t = m.type;
  if (t === 'm-prepare' || t === 'm-promise' || t.startsWith('r-vote')) return 'var(--phase1)';
  if (t === 'm-accept' || t === 'm-accepted' || t.startsWith('r-append')) return 'var(--phase2)';
  if (t === 'm-reject') return 'var(--down)';
  if (isHeartbeat(m)) return 'var(--heartbeat)';
  if (m.from === 'client' || m.to === 'client' || t.startsWith('client-')) return 'var(--client)';
  return 'var(--decide)';
}

export function isHeartbeat(m: TracedMessageView): boolean {
  return m.type.startsWith('m-heartbeat') || m.type.startsWith('r-heartbeat');
}

/** `map-acceptor-3` → `acceptor 3`; other names as they are. */
function shortName(name: string): [string, string] {
  const m = /-(acceptor|leader|raft|replica)-(\d+)$/.exec(name);
  return m ? [m[1]!, `node ${m[2]}`] : [name, ''];
}

export function drawSequence(container: HTMLElement, caption: HTMLElement, view: ClusterView | null, w: MessageWindowView, showHeartbeats: boolean): void {
  const lifelines = ['client'];
  for (const n of view?.nodes ?? []) for (const a of n.actors) lifelines.push(a.name);
  for (const m of w.messages) for (const who of [m.from, m.to]) if (!lifelines.includes(who)) lifelines.push(who);
  const column = new Map(lifelines.map((name, i) => [name, i]));
  const all = showHeartbeats ? w.messages : w.messages.filter((m) => !isHeartbeat(m));
  const rows = all.slice(0, MAX_ROWS);
  // Fit the lifelines to the box when they can be read at that width.
  const COL_WIDTH = Math.max(MIN_COL_WIDTH, Math.floor((container.clientWidth - LEFT - 4) / lifelines.length));
  const width = LEFT + lifelines.length * COL_WIDTH;
  const height = HEAD + Math.max(1, rows.length) * ROW_HEIGHT + 10;
  const cx = (name: string) => LEFT + column.get(name)! * COL_WIDTH + COL_WIDTH / 2;

  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `sequence diagram of ${rows.length} messages` });
  const defs = svg('defs');
  // One arrowhead marker per colour in use.
  const colors = [...new Set(rows.map(colorOf))];
  colors.forEach((c, i) => {
    defs.append(
      svg(
        'marker',
        { id: `arrow-${i}`, viewBox: '0 0 8 8', refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
        svg('path', { d: 'M0,0 L8,4 L0,8 z', fill: c }),
      ),
    );
  });
  root.append(defs);
  lifelines.forEach((name, i) => {
    const x = LEFT + i * COL_WIDTH + COL_WIDTH / 2;
    const [a, b] = shortName(name);
    root.append(svg('text', { x, y: 14, 'text-anchor': 'middle', class: 'head' }, a));
    if (b) root.append(svg('text', { x, y: 27, 'text-anchor': 'middle', fill: 'var(--muted)' }, b));
    root.append(svg('line', { x1: x, y1: HEAD - 4, x2: x, y2: height, class: 'lifeline' }));
  });
  rows.forEach((m, i) => {
    const y = HEAD + i * ROW_HEIGHT + ROW_HEIGHT / 2 + 2;
    const color = colorOf(m);
    const marker = `url(#arrow-${colors.indexOf(color)})`;
    const g = svg('g', { class: 'msg', 'data-type': m.type });
    g.append(svg('text', { x: 4, y: y + 4, fill: 'var(--muted)' }, `+${(m.atMs - w.startMs).toFixed(2)} ms`));
    const x1 = cx(m.from);
    const x2 = cx(m.to);
    if (x1 === x2) {
      g.append(svg('path', { d: `M${x1},${y - 5} h14 v10 h-12`, fill: 'none', stroke: color, 'marker-end': marker }));
    } else {
      g.append(svg('line', { x1, y1: y, x2: x2 + (x2 > x1 ? -2 : 2), y2: y, stroke: color, 'marker-end': marker }));
    }
    const label = `${m.type}${m.kind === 'reply' ? ' ↩' : m.kind === 'ask' ? ' ?' : ''}`;
    g.append(svg('text', { x: (x1 + x2) / 2, y: y - 3, 'text-anchor': 'middle', 'paint-order': 'stroke', stroke: '#fff', 'stroke-width': 3 }, label));
    const title = svg('title');
    title.textContent = `${m.from} → ${m.to}: ${m.type} (${m.kind}), sent ${(m.atMs - w.startMs).toFixed(3)} ms into the window`;
    g.append(title);
    root.append(g);
  });
  container.replaceChildren(root);
  const hidden = w.messages.length - all.length;
  caption.textContent =
    `every message sent in the ${w.windowMs} ms from ${clock(w.startMs)}: ${w.messages.length}` +
    (rows.length < all.length ? `, first ${rows.length} drawn` : '') +
    (hidden > 0 ? `, ${hidden} heartbeats hidden` : '') +
    (w.omitted > 0 ? `; ${w.omitted} more beyond the per-worker bound, not recorded` : '');
}
