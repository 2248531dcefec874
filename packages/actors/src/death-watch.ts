/**
 * Death watch (OTP monitors, Akka's `watch`): who watches whom, kept by the runtime that owns the
 * directory (the main thread, or the simulator), so a watch works across workers. When an actor
 * ends for good each of its watchers is told once, with a `terminated` message; a watcher's own
 * end (or restart) drops its watches.
 */
import type { Terminated, TerminationReason } from './context.js';
import { assert } from './errors.js';
import { refKey, type ActorRef } from './ref.js';

/** Watches one actor may hold at once; more are refused (and logged). */
export const maxWatchesPerActor = 65_536;

export class DeathWatch {
  /** Watched actor (ref key) → its watchers (ref key → ref). */
  private readonly watchers = new Map<number, Map<number, ActorRef<any>>>();
  /** Watcher (ref key) → the ref keys it watches. */
  private readonly watching = new Map<number, Set<number>>();

  constructor(
    /** Sends a notice to a watcher. */
    private readonly notify: (watcher: ActorRef<any>, notice: Terminated) => void,
    /** A watch past `maxWatchesPerActor`. */
    private readonly refused: (watcher: ActorRef<any>, why: string) => void,
  ) {}

  /** Watches held now (statistics and tests). */
  get size(): number {
    let n = 0;
    for (const w of this.watchers.values()) n += w.size;
    return n;
  }

  /** `watcher` watches `target`; `alive` says whether `target` is a live actor now. */
  watch(watcher: ActorRef<any>, target: ActorRef<any>, alive: boolean): void {
    if (!alive) {
      this.notify(watcher, { type: 'terminated', ref: target, reason: 'not-found', detail: 'it had ended, or never existed, when it was watched' });
      return;
    }
    const wk = refKey(watcher.node, watcher.id);
    const tk = refKey(target.node, target.id);
    let mine = this.watching.get(wk);
    if (mine?.has(tk)) return;
    if (mine !== undefined && mine.size >= maxWatchesPerActor) {
      this.refused(watcher, `"${watcher.name}" already watches ${maxWatchesPerActor} actors (maxWatchesPerActor): the watch of "${target.name}" is refused`);
      return;
    }
    if (mine === undefined) this.watching.set(wk, (mine = new Set()));
    mine.add(tk);
    let theirs = this.watchers.get(tk);
    if (theirs === undefined) this.watchers.set(tk, (theirs = new Map()));
    theirs.set(wk, watcher);
  }

  unwatch(watcher: ActorRef<any>, target: ActorRef<any>): void {
    const wk = refKey(watcher.node, watcher.id);
    const tk = refKey(target.node, target.id);
    const mine = this.watching.get(wk);
    if (mine === undefined || !mine.delete(tk)) return;
    if (mine.size === 0) this.watching.delete(wk);
    const theirs = this.watchers.get(tk);
    assert(theirs !== undefined && theirs.delete(wk), 'a death watch is held by its watcher but not listed under its target');
    if (theirs.size === 0) this.watchers.delete(tk);
  }

  /** `target` ended for good: tells each of its watchers, once. */
  ended(target: ActorRef<any>, reason: TerminationReason, detail?: string): void {
    const tk = refKey(target.node, target.id);
    const theirs = this.watchers.get(tk);
    if (theirs !== undefined) {
      this.watchers.delete(tk);
      for (const [wk, watcher] of theirs) {
        const mine = this.watching.get(wk);
        mine?.delete(tk);
        if (mine?.size === 0) this.watching.delete(wk);
        const notice: Terminated = detail === undefined ? { type: 'terminated', ref: target, reason } : { type: 'terminated', ref: target, reason, detail };
        this.notify(watcher, notice);
      }
    }
    this.dropWatcher(target);
  }

  /** Every watch held by an actor of `node` (its worker died: its actors' incarnations ended). */
  dropNode(node: number): void {
    for (const [wk, mine] of [...this.watching]) {
      if (Math.floor(wk / 0x1_0000_0000) !== node) continue;
      this.watching.delete(wk);
      for (const tk of mine) {
        const theirs = this.watchers.get(tk);
        theirs?.delete(wk);
        if (theirs?.size === 0) this.watchers.delete(tk);
      }
    }
  }

  /** `watcher`'s incarnation ended (a crash, a restart, a stop): its watches go with it. */
  dropWatcher(watcher: { node: number; id: number }): void {
    const wk = refKey(watcher.node, watcher.id);
    const mine = this.watching.get(wk);
    if (mine === undefined) return;
    this.watching.delete(wk);
    for (const tk of mine) {
      const theirs = this.watchers.get(tk);
      theirs?.delete(wk);
      if (theirs?.size === 0) this.watchers.delete(tk);
    }
  }
}
