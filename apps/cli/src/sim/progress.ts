/**
 * The campaign's progress bar: redrawn in place on a terminal, a plain line now and then
 * otherwise (the campaign decides how often it reports).
 */
import type { CampaignProgress } from '@synod/actors/sim';

/** Width of the bar, characters. */
export const BAR_WIDTH = 30;

export class ProgressBar {
  private drawn = false;

  constructor(private readonly write: (s: string) => void, private readonly tty: boolean) {}

  readonly update = (p: CampaignProgress): void => {
    const done = p.total === 0 ? 1 : p.done / p.total;
    const filled = Math.round(done * BAR_WIDTH);
    const line = `[${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}] ${p.done}/${p.total} seeds, ${p.failed} failed, ${p.seedsPerSecond.toFixed(1)} seeds/s`;
    this.write(this.tty ? `\r\x1b[2K${line}` : `${line}\n`);
    this.drawn = true;
  };

  /** Ends the bar's line on a terminal. */
  end(): void {
    if (this.tty && this.drawn) this.write('\n');
    this.drawn = false;
  }
}
