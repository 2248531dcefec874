/**
 * Messages of Multi-Paxos: a leader runs phase 1 once for every slot from an index on, then
 * phase 2 per slot (many slots in flight, many client commands per slot); replicas apply the
 * chosen slots in order.
 */
import type { ActorRef, ReplyToken } from '@synod/actors';
import type { Ballot } from '../ballot.js';

/** One client command, as it travels through the log. */
export interface Command {
  /** The client session (exactly-once: a retried command is applied once). */
  client: string;
  /** The command's number within its session: 1, 2, 3... */
  seq: number;
  /** The command itself, for the state machine. */
  op: unknown;
  /** Where the result goes. */
  reply?: ReplyToken;
  /** The node whose leader took the command: its replica answers `reply`. */
  origin?: number;
}

/**
 * A slot's value: a batch of commands (as an object, or encoded as bytes by the leader when
 * `encodeBatches` is on), or a no-op that fills a gap.
 */
export interface Batch { commands: Command[] }
export type SlotValue = Batch | Uint8Array | null;

// ------------------------------------------------------------------ leader ↔ acceptors

/** Phase 1a, once for all slots from `fromSlot` on. */
export interface MPrepare { type: 'm-prepare'; ballot: Ballot; fromSlot: number }
/** One accepted slot reported in a promise. */
export type AcceptedEntry = [slot: number, ballot: Ballot, value: SlotValue];
/** Phase 1b: the promise, and every slot accepted from `fromSlot` on (they may be chosen). */
export interface MPromise { type: 'm-promise'; ballot: Ballot; acceptor: number; accepted: AcceptedEntry[]; truncatedBelow: number }
/** Phase 2a for one slot; `commitUpTo` tells which slots below are chosen (piggybacked). */
export interface MAccept { type: 'm-accept'; ballot: Ballot; slot: number; value: SlotValue; commitUpTo: number }
/** Phase 2b. */
export interface MAccepted { type: 'm-accepted'; ballot: Ballot; slot: number; acceptor: number }
/** A prepare or accept below the promise; `promised` lets the sender catch up at once. */
export interface MReject { type: 'm-reject'; ballot: Ballot; acceptor: number; promised: Ballot }
/** The leader's heartbeat: keeps followers from starting an election, extends its lease, confirms reads. */
export interface MHeartbeat { type: 'm-heartbeat'; ballot: Ballot; leader: number; commitUpTo: number; round: number }
export interface MHeartbeatAck { type: 'm-heartbeat-ack'; ballot: Ballot; acceptor: number; round: number }
/** Acceptors may drop slots below `below`: every replica has a snapshot covering them. */
export interface MTruncate { type: 'm-truncate'; below: number }

export type MultiAcceptorMsg = MPrepare | MAccept | MHeartbeat | MTruncate;

// ------------------------------------------------------------------ leader ↔ replicas

/** Chosen slots, contiguous from `firstSlot`. */
export interface MDecide { type: 'm-decide'; firstSlot: number; values: SlotValue[] }
/** A replica tells the leader how far it has applied (for truncation) and asks for what it misses. */
export interface MApplied { type: 'm-applied'; replica: number; appliedUpTo: number; snapshotAt: number }

// ------------------------------------------------------------------ clients

/**
 * Commands from a client; each answered on its own with {@link MResult} (to its `reply`, or to
 * the sender of a one-command request), unless `silent`: the client follows a replica instead.
 */
export interface MRequest { type: 'request'; commands: Command[]; silent?: boolean }
export interface MResult { type: 'result'; client: string; seq: number; ok: boolean; value?: unknown; error?: string; index: number }
/**
 * Not the leader: try `leader` (or anyone, when unknown). `id` echoes the request's (the seq of
 * its single command, or the read's id), for clients that correlate by message.
 */
export interface MRedirect { type: 'redirect'; leader: ActorRef<any> | null; reason: string; id?: number }

export type ReadConsistency = 'linearizable' | 'lease' | 'session' | 'eventual';
/** A read; `afterIndex` for session reads (the session's last write or read). */
export interface MRead { type: 'read'; query: unknown; consistency: ReadConsistency; afterIndex?: number; replyTo?: ReplyToken; id?: number }
/** `id` echoes the read's. */
export interface MReadResult { type: 'read-result'; ok: boolean; value?: unknown; error?: string; index: number; id?: number }

// ------------------------------------------------------------------ replica ↔ replica

export interface MFetch { type: 'm-fetch'; fromSlot: number; toSlot: number; replica: number }
export interface MEntries { type: 'm-entries'; firstSlot: number; values: SlotValue[] }
export interface MSnapshot { type: 'm-snapshot'; snapshot: ReplicaSnapshot }

/** Everything a replica needs to stand at `appliedUpTo` without the log before it. */
export interface ReplicaSnapshot {
  /** Slots below this are applied and folded into `state`. */
  appliedUpTo: number;
  state: unknown;
  /**
   * Per client session: commands at or below `floor` are forgotten; above it, the results of the
   * applied ones (a retried command gets its result again instead of running twice).
   */
  sessions: [client: string, floor: number, done: [seq: number, ok: boolean, result: unknown][]][];
}


