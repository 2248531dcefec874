/**
 * The demo's live terminal view. On a terminal it redraws a small panel in place; otherwise
 * (a pipe, a log file, CI) it prints a plain status line every few seconds and each fault and
 * leader change as it happens, so the output reads well as a log.
 */
import type { ClusterEvent } from '@synod/dashboard/protocol';
import type { FaultInjector } from './chaos.js';
import type { Metrics } from './metrics.js';
import type { ClusterObserver } from './observer.js';

/** Redraws per second on a terminal. */
export const TTY_REFRESH_MS = 250;
/** A status line this often when not on a terminal. */
export const PLAIN_STATUS_MS = 2_000;
/** Events kept on the panel. */
export const PANEL_EVENTS = 4;
/** Width of the progress bar, characters. */
export const BAR_WIDTH = 24;

export interface ViewSink {
  write(text: string): void;
  isTTY: boolean;
  /** The terminal's width: longer lines are cut, or wrapping would break the redraw. */
  columns?: number;
}

export interface ViewSources {
  header: string;
  durationMs: number;
  metrics: Metrics;
  observer: ClusterObserver;
  faults: FaultInjector | null;
}

export class TerminalView {
  private timer: NodeJS.Timeout | null = null;
  private drawn = 0;
  private readonly started = Date.now();
  private readonly recent: string[] = [];
  private readonly onEvent = (e: ClusterEvent) => this.event(e);

  constructor(
    private readonly out: ViewSink,
    private readonly src: ViewSources,
  ) {}

  start(): void {
    this.out.write(`${this.src.header}\n`);
    this.src.observer.events.on('event', this.onEvent);
    if (this.out.isTTY) {
      this.out.write('\x1b[?25l'); // hide the cursor while redrawing
      this.timer = setInterval(() => this.draw(), TTY_REFRESH_MS);
      this.draw();
    } else {
      this.timer = setInterval(() => this.out.write(`${this.statusLine()}\n`), PLAIN_STATUS_MS);
    }
  }

  /** Draws one last time and leaves the terminal as it was. */
  stop(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    this.src.observer.events.off('event', this.onEvent);
    if (this.out.isTTY) {
      this.draw();
      this.out.write('\x1b[?25h');
    } else {
      this.out.write(`${this.statusLine()}\n`);
    }
  }

  private elapsed(): number {
    return Math.min(Date.now() - this.started, this.src.durationMs);
  }

  private event(e: ClusterEvent): void {
    // Restarts and dead letters come in bursts; the panel's counters show them.
    if (e.kind !== 'fault' && e.kind !== 'leader' && e.kind !== 'error' && e.kind !== 'worker-exited') return;
    const line = `${seconds(e.atMs - this.started)}  ${e.text}`;
    if (this.out.isTTY) {
      this.recent.push(line);
      if (this.recent.length > PANEL_EVENTS) this.recent.shift();
    } else {
      this.out.write(`  ${line}\n`);
    }
  }

  private statusLine(): string {
    const { metrics, observer } = this.src;
    const r = metrics.over(1_000);
    const leader = observer.leader ? `leader ${observer.leader.index}` : 'no leader';
    return (
      `[${seconds(this.elapsed())}] ${Math.round(r.writesPerSecond)} commands/s, ${metrics.totals.writes} committed, ${leader}, ` +
      `${observer.restarts} restarts, ${observer.leaderChanges} leader changes`
    );
  }

  private draw(): void {
    const { metrics, observer, faults, durationMs } = this.src;
    const r = metrics.over(1_000);
    const t = metrics.totals;
    const done = this.elapsed() / durationMs;
    const filled = Math.round(done * BAR_WIDTH);
    const nodes = observer.nodes();
    const leader = observer.leader;
    const marks = nodes.map((n) => `${n.index}${!n.up ? '✗' : n.isolated ? '⊘' : leader?.index === n.index ? '★' : '●'}`).join(' ');
    const applied = nodes.map((n) => n.actors.find((a) => a.role === 'replica')?.replica?.appliedUpTo ?? '–').join(' ');
    const lines = [
      `  [${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}] ${seconds(this.elapsed())} of ${seconds(durationMs)}`,
      `  commands  ${pad(Math.round(r.writesPerSecond))}/s committed · ${Math.round(r.readsPerSecond)}/s reads · p50 ${ms(r.p50Ms)} · p99 ${ms(r.p99Ms)}`,
      `  totals    ${t.writes} committed · ${t.reads} reads · ${t.failed} failed · ${t.unknown} unknown outcome`,
      `  leader    ${leader ? `replica node ${leader.index}` : 'none right now'} · ${plural(observer.leaderChanges, 'leader change')}`,
      `  restarts  ${plural(observer.restarts, 'actor restart')}` +
        (faults ? ` · ${plural(faults.done.killed, 'worker')} killed · ${plural(faults.done.crashed, 'actor')} crashed` : ' · faults off'),
      `  nodes     ${marks}   (★ leader ● up ✗ down ⊘ isolated)`,
      `  applied   ${applied}   (slots applied per replica)`,
      ...this.recent.map((l) => `  ${l}`),
    ];
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    const width = Math.max(20, (this.out.columns ?? 200) - 1);
    for (const l of lines) text += `\x1b[2K${l.length > width ? `${l.slice(0, width - 1)}…` : l}\n`;
    // Fewer lines than last time: clear what is left below.
    for (let i = lines.length; i < this.drawn; i++) text += '\x1b[2K\n';
    if (this.drawn > lines.length) text += `\x1b[${this.drawn - lines.length}A`;
    this.drawn = lines.length;
    this.out.write(text);
  }
}

export function seconds(msValue: number): string {
  return `${(msValue / 1000).toFixed(1)} s`;
}

function ms(v: number | null): string {
  return v === null ? '–' : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
}

function pad(n: number): string {
  return String(n).padStart(4);
}

/** `1 worker`, `2 workers`. */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The dashboard's title for a demo cluster: `3 replicas · shared storage · 1 client · a fault every 3 s`. */
export function dashboardTitle(o: { protocol: string; replicas: number; storage: string; clients: number }, faultEveryMs: number | null): string {
  return (
    `${plural(o.replicas, 'replica')} · ${o.protocol} · ${o.storage} storage · ${plural(o.clients, 'client')}` +
    (faultEveryMs !== null ? ` · a fault every ${seconds(faultEveryMs)}` : '')
  );
}
