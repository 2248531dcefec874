/**
 * What an actor's cell needs of the host it runs on, apart from the host itself: the cell calls
 * its host through this, and the host (which makes cells) implements it. Generic in the cell type
 * so that this module, and the cell, never import the host.
 */
import type { Clock } from './clock.js';
import type { ActorDefinition, AskOptions, SpawnOptions } from './context.js';
import type { Kind } from './envelope.js';
import type { ActorRef } from './ref.js';

export interface CellHost<C> {
  readonly clock: Clock;
  /** Queues a message of the cell's turn (or sends it at once outside a turn). */
  sendFrom(cell: C, to: ActorRef<any>, msg: unknown, kind: Kind, corr: number): void;
  askFrom(cell: C, to: ActorRef<any>, msg: unknown, options?: AskOptions): Promise<unknown>;
  /** Effects made outside a turn (in a promise continuation) leave at once, like a turn of their own. */
  endOutsideTurn(cell: C): void;
  setTimer(cell: C, key: string, delayMs: number, msg: unknown): void;
  cancelTimer(cell: C, key: string): void;
  spawnChild(parent: C, def: ActorDefinition<any, any, any, any>, options: SpawnOptions<any>): ActorRef<any>;
  stopFromActor(cell: C, ref?: ActorRef<any>): void;
  /** Starts (`on`) or ends a death watch of `target` by the cell. */
  watch(cell: C, target: ActorRef<any>, on: boolean): void;
  /** Room for `n` bytes to fill and send (see `ActorContext.sharedBytes`). */
  sharedBytes(n: number): Uint8Array;
}
