/**
 * What one turn of a Synod role sends, grouped by destination: the messages of many instances
 * for one actor leave as one {@link SynodBatch}, so a round costs a few messages per batch
 * rather than a dozen per instance. Each instance's protocol is unchanged: the receiver handles
 * a batch's messages one by one, in order, exactly as if they had come alone.
 *
 * Pure: it sends through `ctx`, at the end of the turn (`flush`), or early when a destination's
 * batch reaches `maxBatchMessages`.
 */
import type { ActorContext, ActorRef } from '@synod/actors';
import type { SynodBatch, SynodMessage } from './messages.js';

/** The largest batch by default. */
export const DEFAULT_MAX_BATCH_MESSAGES = 1024;

export class Outbox {
  private readonly dests: ActorRef<any>[] = [];
  private readonly lists: SynodMessage[][] = [];
  /** Destinations with messages waiting. */
  private used = 0;

  /** `maxBatchMessages` 1 sends every message on its own (no batching). */
  constructor(readonly maxBatchMessages: number = DEFAULT_MAX_BATCH_MESSAGES) {
    if (!(Number.isInteger(maxBatchMessages) && maxBatchMessages >= 1)) {
      throw new RangeError(`maxBatchMessages must be an integer >= 1, got ${String(maxBatchMessages)}`);
    }
  }

  send(ctx: ActorContext<any, any>, to: ActorRef<any>, msg: SynodMessage): void {
    if (this.maxBatchMessages === 1) {
      ctx.send(to, msg);
      return;
    }
    let i = 0;
    for (; i < this.used; i++) {
      const d = this.dests[i]!;
      if (d.id === to.id && d.node === to.node) break;
    }
    if (i === this.used) {
      this.dests[i] = to;
      this.lists[i] ??= [];
      this.used++;
    }
    const list = this.lists[i]!;
    list.push(msg);
    if (list.length >= this.maxBatchMessages) this.emit(ctx, i);
  }

  /** Sends everything waiting: one message, or one batch, per destination. Call at the end of every turn. */
  flush(ctx: ActorContext<any, any>): void {
    for (let i = 0; i < this.used; i++) this.emit(ctx, i);
    this.used = 0;
  }

  private emit(ctx: ActorContext<any, any>, i: number): void {
    const list = this.lists[i]!;
    if (list.length === 0) return;
    if (list.length === 1) {
      ctx.send(this.dests[i]!, list[0]!);
      list.length = 0;
      return;
    }
    // The array leaves with the message (embedded mode passes messages by reference): a new one takes its place.
    const batch: SynodBatch = { type: 'batch', msgs: list };
    this.lists[i] = [];
    ctx.send(this.dests[i]!, batch);
  }
}
