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
  /** Broadcast groups: one list for a set of destinations (by the identity of their array). */
  private readonly groups: { to: readonly ActorRef<any>[]; list: SynodMessage[] }[] = [];
  private groupsUsed = 0;

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

  /**
   * Sends `msg` to every actor of `to` (a stable array: the same array each time, e.g. the
   * acceptors). Their batches are one and the same message, so a transport encodes it once for
   * all of them.
   */
  sendAll(ctx: ActorContext<any, any>, to: readonly ActorRef<any>[], msg: SynodMessage): void {
    if (this.maxBatchMessages === 1) {
      for (let i = 0; i < to.length; i++) ctx.send(to[i]!, msg);
      return;
    }
    let g = 0;
    for (; g < this.groupsUsed; g++) if (this.groups[g]!.to === to) break;
    if (g === this.groupsUsed) {
      if (g === this.groups.length) this.groups.push({ to, list: [] });
      else this.groups[g]!.to = to;
      this.groupsUsed++;
    }
    const group = this.groups[g]!;
    group.list.push(msg);
    if (group.list.length >= this.maxBatchMessages) this.emitGroup(ctx, group);
  }

  /** Sends everything waiting: one message, or one batch, per destination. Call at the end of every turn. */
  flush(ctx: ActorContext<any, any>): void {
    for (let g = 0; g < this.groupsUsed; g++) this.emitGroup(ctx, this.groups[g]!);
    this.groupsUsed = 0;
    for (let i = 0; i < this.used; i++) this.emit(ctx, i);
    this.used = 0;
  }

  private emitGroup(ctx: ActorContext<any, any>, group: { to: readonly ActorRef<any>[]; list: SynodMessage[] }): void {
    const list = group.list;
    if (list.length === 0) return;
    const msg: SynodMessage = list.length === 1 ? list[0]! : { type: 'batch', msgs: list };
    if (list.length === 1) list.length = 0;
    else group.list = [];
    const to = group.to;
    for (let i = 0; i < to.length; i++) ctx.send(to[i]!, msg);
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
