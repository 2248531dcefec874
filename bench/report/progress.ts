/**
 * The progress display of `pnpm bench`: one line per step as it starts and ends, the suites'
 * `run K/N:` lines, and on a terminal a status line kept at the bottom (step, run, time against
 * the step's budget, total time), redrawn every second. Without a terminal (CI, a pipe) it prints
 * plain lines only.
 */
import { formatClock } from './format.js';

/** How often the status line is redrawn on a terminal. */
const REDRAW_MS = 1_000;
/** Lines wider than the terminal are cut to this many columns when it does not say its width. */
const DEFAULT_COLUMNS = 100;
/** A reported width below this is taken as unknown. */
const MIN_COLUMNS = 20;

export interface ProgressSink {
  write(text: string): void;
  /** A terminal: redraw a status line in place. */
  readonly isTTY: boolean;
  readonly columns?: number;
}

export class Progress {
  private readonly started = performance.now();
  private step: { label: string; index: number; total: number; budgetS: number; started: number; run: string } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly sink: ProgressSink) {}

  /** Prints a line (above the status line on a terminal). */
  line(text: string): void {
    if (this.sink.isTTY) this.sink.write(`\r\x1b[K${this.cut(text)}\n${this.status()}`);
    else this.sink.write(`${text}\n`);
  }

  /** A step (a suite, the scaling step) begins. */
  begin(label: string, index: number, total: number, budgetS: number): void {
    this.step = { label, index, total, budgetS, started: performance.now(), run: '' };
    this.line(`[${index}/${total}] ${label} (budget ${formatClock(budgetS)})`);
    if (this.sink.isTTY && !this.timer) {
      this.timer = setInterval(() => this.sink.write(`\r\x1b[K${this.status()}`), REDRAW_MS);
      this.timer.unref();
    }
  }

  /** A line the running suite printed: `run K/N: …` lines are shown, others only logged. */
  suiteOutput(text: string): void {
    const m = /^run (\d+\/\d+)\b/.exec(text);
    if (m && this.step) {
      this.step.run = `run ${m[1]}`;
      this.line(`    ${this.step.label} ${text}`);
    }
  }

  /** Sets the status's detail without printing a line (e.g. `1 core, run 2/5`). */
  detail(text: string): void {
    if (this.step) this.step.run = text;
  }

  /** The step ended: prints its outcome. */
  end(outcome: string): void {
    if (!this.step) return;
    const s = (performance.now() - this.step.started) / 1000;
    const label = this.step.label;
    this.step = undefined;
    this.line(`    ${label}: ${outcome} (${formatClock(s)})`);
  }

  /** Stops redrawing and clears the status line. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.sink.isTTY) this.sink.write('\r\x1b[K');
  }

  /** Seconds since the display was made. */
  elapsedS(): number {
    return (performance.now() - this.started) / 1000;
  }

  private status(): string {
    const total = formatClock(this.elapsedS());
    if (!this.step) return this.cut(`total ${total}`);
    const s = this.step;
    const t = formatClock((performance.now() - s.started) / 1000);
    return this.cut(`[${s.index}/${s.total}] ${s.label}${s.run ? `  ${s.run}` : ''}  ${t} of ${formatClock(s.budgetS)}  · total ${total}`);
  }

  private cut(text: string): string {
    // A terminal may report 0 columns (e.g. a pty nobody sized); then assume a common width.
    const reported = this.sink.columns ?? 0;
    const cols = (reported >= MIN_COLUMNS ? reported : DEFAULT_COLUMNS) - 1;
    return this.sink.isTTY && text.length > cols ? `${text.slice(0, cols - 1)}…` : text;
  }
}
