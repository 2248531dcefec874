/**
 * What an EPaxos replica holds, shared by the modules that make it up (replica.ts composes them):
 * its instances and the interference index (the protocol), what it coordinates (its own instances
 * and those it recovers), and what it executes (the smr executor, the dependency graph, reads,
 * snapshots, and what it knows of its peers).
 */
import type { ActorContext, ActorRef } from '@synod/actors';
import type { IntMap } from '@synod/actors/internals';
import type { MChanges, MDivergence, MProgress, ReplicaOptions } from '@synod/paxos';
import type { ClientAnswers, ClientReply, Executor, MClientReads, MClientRequest, ResultSink, SnapshotSink, SnapshotSource, StateMachine } from '@synod/smr';
import type { Conflicts } from './attributes.js';
import type { Instance } from './instance.js';
import type { MPrepareOk, PeerMsg, Proposal } from './messages.js';
import type { EPaxosOptions } from './options.js';
import type { Quorums } from './quorums.js';

/** A phase this replica runs for an instance: as its leader (ballot 0) or as a recoverer (a higher ballot). */
export interface Coordination {
  key: number;
  ballot: number;
  phase: 'preaccept' | 'accept' | 'prepare';
  /** Pre-accept: the attributes proposed (for the leader: A0, which a fast path commits). */
  proposal: Proposal;
  /** Pre-accept: the attributes merged from every reply (the slow path's). Accept: what is being accepted. */
  merged: Proposal;
  /** Replicas that answered this phase (bit per replica). */
  answered: number;
  answers: number;
  /** Pre-accept: replies that added nothing. */
  unchanged: number;
  /** Pre-accept: when the replies (with the coordinator) first made a classic quorum. */
  majorityAt: number;
  /** Prepare: the replies, by replica. */
  prepared: MPrepareOk[];
  /** When the phase was last sent, and the wait before sending it again (doubling). */
  sentAt: number;
  waitMs: number;
  startedAt: number;
}

/** A client request waiting for an instance. */
export interface Waiting {
  bytes: Uint8Array;
  commands: number;
}

/** Linearizable reads waiting for their barrier to be executed here. */
export interface LinearReads {
  reads: MClientReads[];
  deadline: number;
}

export interface SnapshotInfo {
  id: string;
  meta: Uint8Array;
  chunks: number;
  bytes: number;
  executed: number[];
}
export interface SnapshotWriting {
  meta: Uint8Array;
  source: SnapshotSource;
  chunks: number;
  bytes: number;
  executed: number[];
}
export interface Restoring {
  /** The peer it comes from, or -1 for this replica's own snapshot. */
  from: number;
  id: string;
  meta: Uint8Array;
  chunks: number;
  bytes: number;
  next: number;
  sink: SnapshotSink<unknown>;
  askedAt: number;
}

/** For simulations: what changed, in order, so invariants look at each change once. */
export interface Journal {
  /** Instance keys whose record changed, and instance keys in execution order (ring buffers). */
  changed: number[];
  changedCount: number;
  executed: number[];
  /** Barriers executed before each instance of `executed`. */
  epochs: number[];
  executedCount: number;
  /** Snapshots installed in this incarnation (execution starts over from a new point). */
  installs: number;
}

export const JOURNAL_SIZE = 1 << 14;

export interface EPaxosState {
  role: 'epaxos-replica';
  index: number;
  n: number;
  machine: StateMachine;
  opts: ReplicaOptions;
  eopts: EPaxosOptions;
  quorums: Quorums;
  /** Every replica by number (this one included). */
  peers: ActorRef<PeerMsg>[];

  // ---------------------------------------------------------------- the protocol
  instances: IntMap<Instance>;
  conflicts: Conflicts;
  /** The next instance number of this replica's own row. */
  next: number;
  /** Recovery rounds: the highest used or seen, and the highest reserved durably. */
  round: number;
  reservedRound: number;
  /** Per leader, instances at or below are cut from the log here (in every live replica's snapshot). Durable. */
  cut: number[];
  /** Phases this replica runs, by instance key. */
  coordinating: IntMap<Coordination>;
  /** Own instances being decided (the window counts them). */
  ownInFlight: number;
  /** Instances held but not committed, and since when (recovered after a while). */
  pendingSince: IntMap<number>;

  // ---------------------------------------------------------------- command leading
  pending: Waiting[];
  pendingHead: number;
  pendingCommands: number;
  flushQueued: boolean;
  /** A barrier is wanted (reads, quota and digest checkpoints) at the next flush. */
  barrierWanted: boolean;
  /** Instances led since the last barrier this replica proposed. */
  sinceBarrier: number;

  // ---------------------------------------------------------------- execution
  exec: Executor<unknown>;
  answers: ClientAnswers;
  sink: ResultSink;
  /** Per leader: every instance numbered up to it is executed here. */
  executedUpTo: number[];
  /** Instances beyond those prefixes that a snapshot put in place executed, and this replica does not hold. */
  extraExecuted: Set<number>;
  /** Instance key → instances whose execution waits for it to be committed. */
  blocked: IntMap<number[]>;
  /**
   * Committed instances a walk of the dependency graph found waiting (transitively) for an
   * instance not committed here, and that instance: the next walk that reaches one stops there
   * at once instead of walking what lies behind it again (a hint: ignored once the missing
   * instance is committed). Dropped when the instance is executed; at most one per instance held.
   */
  waitsFor: IntMap<number>;
  /** Instances execution needs that are not committed here, and since when (asked of peers, then recovered). */
  needed: IntMap<number>;
  /** Barriers executed: the session point ("what a session saw", see reads.ts). */
  barriers: number;
  /** Sum of the digests of every instance executed: the same on replicas that executed the same instances, in any order. */
  logDigest: number;
  /** Bytes of commands applied (the quota's measure when the machine has no `size`). */
  appliedBytes: number;
  /** The instance being executed: whether its outcomes go to clients (this replica led it). */
  answering: boolean;
  /** The digest of the instance being executed. */
  instanceDigest: number;

  // ---------------------------------------------------------------- reads
  /** Linearizable reads waiting for a barrier to be proposed. */
  linearQueue: MClientReads[];
  /** Barrier instance key → the linearizable reads answered when it is executed here. */
  linearByBarrier: IntMap<LinearReads>;
  linearWaiting: number;
  /** This replica's barrier proposed for session reads and not yet executed (0: none). */
  sessionBarrier: number;

  // ---------------------------------------------------------------- snapshots and peers
  snapshot: SnapshotInfo | null;
  writing: SnapshotWriting | null;
  restoring: Restoring | null;
  executedSinceSnapshot: number;
  bytesSinceSnapshot: number;
  /** What each peer told last: when, how far it executed, what its snapshot covers. */
  heardAt: number[];
  peerExecuted: number[][];
  peerSnapshot: number[][];
  frontierAt: number;
  nextAsk: number;

  // ---------------------------------------------------------------- watchers and digests
  subscribers: ActorRef<MChanges>[];
  progressWatchers: ActorRef<MProgress>[];
  divergenceWatchers: ActorRef<MDivergence>[];
  changes: MChanges['changes'] | null;
  /** Digests at recent barriers (log, state), and peers' not yet compared. */
  checkpoints: IntMap<[number, number]>;
  peerDigests: { from: number; barrier: number; log: number; state: number }[];
  diverged: Set<number>;

  journal: Journal | null;
  incarnationStart: number;
  stats: { led: number; fast: number; slow: number; recovered: number; noops: number; barriers: number; executed: number; redirects: number };
}

export type EPaxosMsg =
  | PeerMsg
  | MClientRequest
  | MClientReads
  | { type: 'configure'; replicas?: ActorRef<any>[]; leaders?: ActorRef<any>[] }
  | { type: 'subscribe'; to: ActorRef<MChanges> }
  | { type: 'unsubscribe'; to: ActorRef<MChanges> }
  | { type: 'watch-progress'; to: ActorRef<MProgress> }
  | { type: 'unwatch-progress'; to: ActorRef<MProgress> }
  | { type: 'watch-divergence'; to: ActorRef<MDivergence> }
  | { type: 'tick' }
  | { type: 'flush' }
  | { type: 'snapshot-step' }
  | { type: 'restore-step' };

export type Ctx = ActorContext<EPaxosMsg, unknown>;

export type { ClientReply };

/** The id of a replica's snapshot in `ctx.snapshots`. */
export const SNAPSHOT_ID = 'epaxos-state';
