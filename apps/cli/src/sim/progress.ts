/**
 * The campaign's progress bar: redrawn in place on a terminal, a plain line now and then
 * otherwise (the campaign decides how often it reports).
 */
import type { CampaignProgress } from '@synod/actors/sim';

/** Width of the bar, characters. */
export const BAR_WIDTH = 30;

export class ProgressBar {
  private drawn = false;
  /** The counts of the last plain line written: the campaign's final report repeats the last one. */
  private lastLine = '';

  constructor(
    private readonly write: (s: string) => void,
    private readonly tty: boolean,
  ) {}

  readonly update = (p: CampaignProgress): void => {
    const done = p.total === 0 ? 1 : p.done / p.total;
    const filled = Math.round(done * BAR_WIDTH);
    const counts = `${p.done}/${p.total} seeds, ${p.failed} failed`;
    const line = `[${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}] ${counts}, ${p.seedsPerSecond.toFixed(1)} seeds/s`;
    if (this.tty) {
      this.write(`\r\x1b[2K${line}`);
    } else {
      // A pipe keeps every line: one that says nothing new (same counts) is left out.
      if (counts === this.lastLine) return;
      this.lastLine = counts;
      this.write(`${line}\n`);
    }
    this.drawn = true;
  };

  /** Ends the bar's line on a terminal. */
  end(): void {
    if (this.tty && this.drawn) this.write('\n');
    this.drawn = false;
  }
}
