/**
 * What a Multi-Paxos replica holds, and the messages it takes: shared by the modules that make
 * up the replica (replica.ts composes them).
 */
import type { ActorContext, ActorRef } from '@synod/actors';
import type { IntMap } from '@synod/actors/internals';
import type { ClientAnswers, ClientReply, Executor, MClientReads, MClientRoute, ResultSink, SnapshotSink, SnapshotSource, StateMachine } from '@synod/smr';
import type { MDecide, MDigest, MEntries, MFetch, MHeartbeat, MSnapshotChunk, MSnapshotOffer, MSnapshotPull, SlotValue } from './messages.js';
import type { ReplicaOptions } from './options.js';

/** One applied command, as change subscribers see it: the bytes the replicas applied, and what came of them. */
export interface AppliedChange {
  slot: number;
  client: string;
  sessionNo: number;
  seq: number;
  /** Applied and did not fail. */
  ok: boolean;
  command: Uint8Array;
  /** The result, or the error text (UTF-8) when not `ok`. */
  result: Uint8Array;
}
export interface MChanges {
  type: 'changes';
  replica: number;
  changes: AppliedChange[];
}
/** How far a replica has applied (to `watch-progress` subscribers): cheaper than every change. */
export interface MProgress {
  type: 'progress';
  replica: number;
  appliedUpTo: number;
  commands: number;
}
/**
 * To a subscriber (or progress watcher) the replica did not take: it already has
 * `maxSubscribers`. Nothing else comes to it.
 */
export interface MSubscriptionRefused {
  type: 'subscription-refused';
  replica: number;
  reason: string;
}
/**
 * To divergence watchers: replica `replica` and its peer `peer` applied the same log up to
 * `from` with the same digests, and different ones at `to` (a non-deterministic state machine);
 * or, with `halted`, this replica stopped applying at slot `to` (see `detail`).
 */
export interface MDivergence {
  type: 'divergence';
  replica: number;
  peer: number;
  from: number;
  to: number;
  detail: string;
  halted: boolean;
}

export type ReplicaMsg =
  | MDecide
  | MFetch
  | MEntries
  | MHeartbeat
  | MClientReads
  | MClientRoute
  | { type: 'client-routes-clear' }
  | MSnapshotOffer
  | MSnapshotPull
  | MSnapshotChunk
  | MDigest
  | { type: 'subscribe'; to: ActorRef<MChanges> }
  | { type: 'unsubscribe'; to: ActorRef<MChanges> }
  | { type: 'watch-progress'; to: ActorRef<MProgress> }
  | { type: 'unwatch-progress'; to: ActorRef<MProgress> }
  | { type: 'watch-divergence'; to: ActorRef<MDivergence> }
  | { type: 'tick' }
  | { type: 'snapshot-step' }
  | { type: 'restore-step' }
  | { type: 'apply-guarded' }
  /** Slots are ready past what the last turn applied (`maxApplyCommandsPerTurn`): apply on. */
  | { type: 'apply-more' }
  /** An operator's (or a benchmark's): take a snapshot now, if anything was applied since the last. */
  | { type: 'snapshot-now' }
  | { type: 'configure'; replicas?: ActorRef<ReplicaMsg>[]; leaders?: ActorRef<any>[] };

export interface ReplicaArgs {
  index: number;
  /** `module#name` of the state machine (see defineStateMachine). */
  machine: string;
  /** Every replica, by node number (for catch-up). */
  replicas?: ActorRef<ReplicaMsg>[];
  /** Every leader, by node number (reads that need one, and truncation reports). */
  leaders?: ActorRef<any>[];
  options?: Partial<ReplicaOptions>;
  /**
   * Change subscribers, progress and divergence watchers a restart starts with: whoever
   * supervises the replica keeps them here (with `Supervisor.setChildArgs`) so they survive its restarts.
   */
  subscribers?: ActorRef<MChanges>[];
  progressWatchers?: ActorRef<MProgress>[];
  divergenceWatchers?: ActorRef<MDivergence>[];
}

/**
 * The latest snapshot of this replica (durable in `ctx.snapshots`), for restarts and peers: its
 * chunks are those of its parts in order, a whole snapshot and the snapshots of changes since.
 */
export interface SnapshotInfo {
  /** Where it stands (its last part's), and that part's header. */
  index: number;
  header: Uint8Array;
  /** Of all its parts. */
  chunks: number;
  bytes: number;
  parts: SnapshotPart[];
}

/** One snapshot in `ctx.snapshots`: `SNAPSHOT_ID` for a whole one, `partId(k)` for the k-th of changes on top of it. */
export interface SnapshotPart {
  id: string;
  index: number;
  chunks: number;
  bytes: number;
}

/** A snapshot being written over several turns. */
export interface SnapshotWriting {
  /** Its id in `ctx.snapshots`, and whether it holds changes only (a part on top of `snapshot`'s). */
  id: string;
  changes: boolean;
  index: number;
  header: Uint8Array;
  source: SnapshotSource;
  chunks: number;
  bytes: number;
}

/** A snapshot being put in place: from this replica's own store (at a restart) or pulled from a peer. */
export interface Restoring {
  /** The peer it comes from, or -1 for this replica's own snapshot. */
  from: number;
  id: string;
  header: Uint8Array;
  chunks: number;
  bytes: number;
  next: number;
  sink: SnapshotSink<unknown>;
  /** When the chunk asked for last was asked (pulls from a peer). */
  askedAt: number;
}

/** After a restart: slots are applied under a durable guard, so a slot that kills the replica is found. */
export interface Guard {
  /** Apply under guards up to this slot (see `learnGuardLimit`); -1 until a commit point is heard. */
  until: number;
  /** The range whose apply was under way when this replica died, and how often it died there. */
  suspect: { from: number; to: number; deaths: number } | null;
  /** The range being applied now; `durable` once its guard is (then it may be applied). */
  current: { from: number; to: number; attempts: number; durable: boolean } | null;
}

export interface ReplicaState {
  role: 'replica';
  index: number;
  machine: StateMachine;
  opts: ReplicaOptions;
  replicas: ActorRef<ReplicaMsg>[];
  leaders: ActorRef<any>[];
  /** The state machine, its sessions and the running digest; `exec.appliedUpTo` is this replica's applied point. */
  exec: Executor<unknown>;
  answers: ClientAnswers;
  /** Chosen slots received ahead of the applied point. */
  ahead: IntMap<SlotValue>;
  /** Applied slots since the last snapshot (served to peers that catch up). */
  log: IntMap<SlotValue>;
  snapshot: SnapshotInfo | null;
  writing: SnapshotWriting | null;
  /**
   * A snapshot was begun and not finished since the last one: what changed since that one is no
   * longer known to the machine (taking a snapshot starts over), so the next must be whole.
   */
  wholeSnapshotNext: boolean;
  restoring: Restoring | null;
  /** Bytes and slots applied since the last snapshot began. */
  bytesSinceSnapshot: number;
  slotsSinceSnapshot: number;
  /** Highest slot known to be chosen (from decides), to know what is missing. */
  knownUpTo: number;
  fetchAt: number;
  nextPeer: number;
  /** The leader we last heard from (its heartbeats), asked for missed slots in turn with peers. */
  leaderIndex: number;
  subscribers: ActorRef<MChanges>[];
  progressWatchers: ActorRef<MProgress>[];
  divergenceWatchers: ActorRef<MDivergence>[];
  /** Changes of the slots applied in this turn (for subscribers), or null without subscribers. */
  changes: AppliedChange[] | null;
  /** Where the executor's outcomes go (answers, changes). */
  sink: ResultSink;
  /** Commands read from applied slots (every outcome, duplicates too): what `maxApplyCommandsPerTurn` counts. */
  commandsRead: number;
  /** An `apply-more` is on its way to this replica (one at a time). */
  applyQueued: boolean;
  /** The applied point last reported to the leaders, and the commands applied then. */
  reportedUpTo: number;
  reportedCommands: number;
  /** Digests of this replica at recent checkpoints (every `digestEverySlots`), and peers' not yet compared. */
  checkpoints: IntMap<[log: number, state: number]>;
  peerDigests: MDigest[];
  /** Peers found to disagree (reported once each). */
  diverged: Set<number>;
  guard: Guard | null;
  /** The guard ended in this turn: its entry is removed. */
  guardEnded: boolean;
  /** This replica stopped applying: at which slot, and why. */
  halted: { slot: number; detail: string } | null;
  incarnationStart: number;
}

export type Ctx = ActorContext<ReplicaMsg, unknown>;

/** The id of a replica's whole snapshot in `ctx.snapshots` (one; a new one replaces it when finished). */
export const SNAPSHOT_ID = 'state';

/** The id of the k-th (from 1) snapshot of changes on top of the whole one. */
export function partId(k: number): string {
  return `${SNAPSHOT_ID}+${k}`;
}

/** Whether `id` is one `partId` gives. */
export function isPartId(id: string): boolean {
  return id.startsWith(`${SNAPSHOT_ID}+`);
}

export type { ClientReply };
