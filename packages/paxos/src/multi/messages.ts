/**
 * Messages of Multi-Paxos: a leader runs phase 1 once for every slot from an index on, then
 * phase 2 per slot (many slots in flight, many client commands per slot, several slots per
 * message); replicas apply the chosen slots in order.
 */
import type { Ballot } from '../ballot.js';

/**
 * A slot's value: the bytes of a batch of client requests, as the leader concatenated them (see
 * the log format of @synod/smr), or null, a no-op that fills a gap. Acceptors never look inside.
 */
export type SlotValue = Uint8Array | null;

// ------------------------------------------------------------------ leader ↔ acceptors

/** Phase 1a, once for all slots from `fromSlot` on. */
export interface MPrepare {
  type: 'm-prepare';
  ballot: Ballot;
  fromSlot: number;
}
/** One accepted slot reported in a promise. */
export type AcceptedEntry = [slot: number, ballot: Ballot, value: SlotValue];
/** Phase 1b: the promise, and every slot accepted from `fromSlot` on (they may be chosen). */
export interface MPromise {
  type: 'm-promise';
  ballot: Ballot;
  acceptor: number;
  accepted: AcceptedEntry[];
  truncatedBelow: number;
}
/**
 * Phase 2a for consecutive slots from `firstSlot` (one value each: the protocol per slot is
 * unchanged, one message carries several, as a raft append carries several entries);
 * `commitUpTo` tells which slots below are chosen (piggybacked).
 */
export interface MAccept {
  type: 'm-accept';
  ballot: Ballot;
  firstSlot: number;
  values: SlotValue[];
  commitUpTo: number;
}
/** Phase 2b for `count` consecutive slots from `firstSlot`, all accepted in `ballot`. */
export interface MAccepted {
  type: 'm-accepted';
  ballot: Ballot;
  firstSlot: number;
  count: number;
  acceptor: number;
}
/** A prepare or accept below the promise; `promised` lets the sender catch up at once. */
export interface MReject {
  type: 'm-reject';
  ballot: Ballot;
  acceptor: number;
  promised: Ballot;
}
/** The leader's heartbeat: keeps followers from starting an election, extends its lease, confirms reads. */
export interface MHeartbeat {
  type: 'm-heartbeat';
  ballot: Ballot;
  leader: number;
  commitUpTo: number;
  round: number;
}
/**
 * A candidate tells the other leaders that it campaigns with `ballot`: they hold off their own
 * campaigns for an election timeout (as a Raft vote resets the voter's timer), so followers whose
 * timeouts run out close together do not take turns deposing each other.
 */
export interface MCampaign {
  type: 'm-campaign';
  ballot: Ballot;
  leader: number;
}
export interface MHeartbeatAck {
  type: 'm-heartbeat-ack';
  ballot: Ballot;
  acceptor: number;
  round: number;
}
/** Acceptors may drop slots below `below`: every replica has a snapshot covering them. */
export interface MTruncate {
  type: 'm-truncate';
  below: number;
}
/**
 * To a leader that proposed a slot this acceptor already dropped: every slot below `below` is
 * chosen and in every live replica's snapshot, so the leader need not (and cannot) get it chosen again.
 */
export interface MTruncated {
  type: 'm-truncated';
  acceptor: number;
  below: number;
}

export type MultiAcceptorMsg = MPrepare | MAccept | MHeartbeat | MTruncate;

// ------------------------------------------------------------------ leader ↔ replicas

/** Chosen slots, contiguous from `firstSlot`. */
export interface MDecide {
  type: 'm-decide';
  firstSlot: number;
  values: SlotValue[];
}
/** A replica tells the leader how far it has applied (for truncation) and asks for what it misses. */
export interface MApplied {
  type: 'm-applied';
  replica: number;
  appliedUpTo: number;
  snapshotAt: number;
}

// ------------------------------------------------------------------ clients
// Clients speak the client protocol of @synod/smr (client-request, client-reads, and the answers).

// ------------------------------------------------------------------ replica ↔ replica

export interface MFetch {
  type: 'm-fetch';
  fromSlot: number;
  toSlot: number;
  replica: number;
}
export interface MEntries {
  type: 'm-entries';
  firstSlot: number;
  values: SlotValue[];
}
/**
 * A replica far behind (its peers cut their logs past it) is offered a snapshot: its header
 * (index, digest, sessions) and how many chunks follow. The receiver pulls them one by one
 * (`m-snapshot-pull`), so a snapshot of any size crosses in bounded messages, with one chunk in
 * flight per transfer.
 */
export interface MSnapshotOffer {
  type: 'm-snapshot-offer';
  replica: number;
  id: string;
  header: Uint8Array;
  chunks: number;
  bytes: number;
}
/** Asks a peer for chunk `chunk` of snapshot `id`. */
export interface MSnapshotPull {
  type: 'm-snapshot-pull';
  replica: number;
  id: string;
  chunk: number;
}
/** One chunk of a snapshot (empty and `missing` when the peer no longer has that snapshot). */
export interface MSnapshotChunk {
  type: 'm-snapshot-chunk';
  replica: number;
  id: string;
  chunk: number;
  bytes: Uint8Array;
  missing: boolean;
}

/** A replica's digest of everything it applied up to `index` (and of its state, when the machine keeps one): peers compare. */
export interface MDigest {
  type: 'm-digest';
  replica: number;
  index: number;
  log: number;
  state: number;
}
