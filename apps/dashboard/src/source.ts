/**
 * What the dashboard shows and acts on. The server knows nothing of Paxos or actor systems: a
 * source gives it the current picture, pushes events and message windows, and carries out the
 * buttons. `synod dashboard` adapts its demo cluster to this.
 */
import type { ActionResult, ClusterEvent, ClusterView, MessageWindowView } from './page/protocol.js';

export interface SourceListener {
  event(e: ClusterEvent): void;
  messages(w: MessageWindowView): void;
}

export interface DashboardSource {
  /** The picture now (called every `pushEveryMs` while a page is open). */
  view(): ClusterView;
  /** Starts pushing events and message windows to `listener`; returns how to stop. */
  subscribe(listener: SourceListener): () => void;
  /** Ends the worker thread of replica node `index` abruptly. */
  kill(index: number): Promise<ActionResult>;
  /** Cuts replica node `index` off from every other node. */
  partition(index: number): Promise<ActionResult>;
  /** Ends every partition. */
  heal(): Promise<ActionResult>;
}
