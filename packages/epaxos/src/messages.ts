/**
 * Messages of EPaxos between replicas (every replica is a command leader, an acceptor and a
 * learner; `from` is the sender's replica number). An instance is named by its leader `q` and
 * number `i`. Its value is the bytes of a batch of client requests (the slot format of @synod/smr),
 * or null: a no-op (`keys` empty: interferes with nothing) or a barrier (`keys` null: interferes
 * with every command). `keys` are the hashed keys its commands touch, null for every key.
 */
import type { ActorRef } from '@synod/actors';

/** What an instance holds, and its attributes: sequence number and dependencies (per replica, see attributes.ts). */
export interface Proposal {
  value: Uint8Array | null;
  keys: number[] | null;
  seq: number;
  deps: number[];
}

/** Phase 1: the leader (ballot 0) or a recovering replica (its ballot) proposes attributes. */
export interface MPreAccept extends Proposal {
  type: 'e-preaccept';
  from: number;
  ballot: number;
  q: number;
  i: number;
}
/** A pre-accept, with the attributes this replica adds; `changed` when it added any. */
export interface MPreAcceptOk {
  type: 'e-preaccept-ok';
  from: number;
  ballot: number;
  q: number;
  i: number;
  seq: number;
  deps: number[];
  changed: boolean;
}
/** Phase 2 (the slow path, and every recovery): accept these attributes in `ballot`. */
export interface MAccept extends Proposal {
  type: 'e-accept';
  from: number;
  ballot: number;
  q: number;
  i: number;
}
export interface MAcceptOk {
  type: 'e-accept-ok';
  from: number;
  ballot: number;
  q: number;
  i: number;
}
/**
 * Chosen: value and attributes are final. `withValue` false: the value is left out (null here),
 * for a replica that voted for this very proposal and holds it.
 */
export interface MCommit extends Proposal {
  type: 'e-commit';
  q: number;
  i: number;
  withValue: boolean;
}
/** A pre-accept, accept or prepare in `ballot` refused: this replica promised `promised`. */
export interface MNack {
  type: 'e-nack';
  from: number;
  ballot: number;
  q: number;
  i: number;
  promised: number;
}
/** Recovery (explicit prepare): promise `ballot` and say what you hold of the instance. */
export interface MPrepare {
  type: 'e-prepare';
  from: number;
  ballot: number;
  q: number;
  i: number;
}

/** What a replica holds of an instance: nothing, pre-accepted, accepted or committed. */
export const enum Held {
  Nothing = 0,
  PreAccepted = 1,
  Accepted = 2,
  Committed = 3,
}

export interface MPrepareOk extends Proposal {
  type: 'e-prepare-ok';
  from: number;
  ballot: number;
  q: number;
  i: number;
  held: Held;
  /** The ballot of the vote it holds (its pre-accept or accept). */
  vbal: number;
  /** Pre-accepted in the leader's ballot with the leader's attributes: a vote of a possible fast commit. */
  unchanged: boolean;
}

/** Asks for the commits of these instances (ids from instanceKey): one it needs was not committed in time. */
export interface MAsk {
  type: 'e-ask';
  from: number;
  ids: number[];
}
/** Instances a peer asked for that are already cut from the log here (every replica's snapshot covers them). */
export interface MCut {
  type: 'e-cut';
  from: number;
  ids: number[];
}

/**
 * How far a replica has executed (per leader, the prefix of its instances) and what its durable
 * snapshot covers: heard every `frontierMs`, it also tells that the replica lives. `barriers` is
 * the number of barriers it executed.
 */
export interface MFrontier {
  type: 'e-frontier';
  from: number;
  executed: number[];
  snapshot: number[];
  barriers: number;
}

/** A replica's digests after executing barrier `barrier` (every replica has then executed the same instances). */
export interface MBarrierDigest {
  type: 'e-digest';
  from: number;
  barrier: number;
  log: number;
  state: number;
}

/** A snapshot offered to a peer that needs instances already cut from the log. */
export interface MSnapshotOffer {
  type: 'e-snapshot-offer';
  from: number;
  id: string;
  meta: Uint8Array;
  chunks: number;
  bytes: number;
}
export interface MSnapshotPull {
  type: 'e-snapshot-pull';
  from: number;
  id: string;
  chunk: number;
}
export interface MSnapshotChunk {
  type: 'e-snapshot-chunk';
  from: number;
  id: string;
  chunk: number;
  bytes: Uint8Array;
  missing: boolean;
}

export type PeerMsg =
  | MPreAccept
  | MPreAcceptOk
  | MAccept
  | MAcceptOk
  | MCommit
  | MNack
  | MPrepare
  | MPrepareOk
  | MAsk
  | MCut
  | MFrontier
  | MBarrierDigest
  | MSnapshotOffer
  | MSnapshotPull
  | MSnapshotChunk;

/** The peers, by replica number (this one included). */
export type Peers = ActorRef<PeerMsg>[];
