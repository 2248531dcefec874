/**
 * The client protocol: the messages between a client (`client.ts`) and the nodes of a replicated
 * state machine, the same for every replication protocol. Commands travel as the request bytes
 * that will sit in the log (log-format.ts); their outcomes come back to the client's address in
 * one message per client per batch of applied slots; reads likewise. Correlation is by
 * (session, sequence number) and by read id: nothing transport-level is stored anywhere.
 */
import { defineCodecs, type ActorRef, type MessageCodec } from '@synod/actors';
import { WireWriter } from '@synod/actors/internals';
import { ByteReader } from './byte-reader.js';
import type { Outcome } from './outcome.js';

export type ReadConsistency = 'linearizable' | 'lease' | 'session' | 'eventual';
export const readConsistencies: readonly ReadConsistency[] = ['linearizable', 'lease', 'session', 'eventual'];

/** A client's commands, as one request of the log (`commands` of them). */
export interface MClientRequest {
  type: 'client-request';
  from: ActorRef<ClientReply>;
  client: string;
  commands: number;
  bytes: Uint8Array;
}

/**
 * A client's reads: `bytes` is `uvar n | (uvar id, uvar length, query)*`. Served once the replica
 * has applied `afterIndex`. The leader hands confirmed linearizable and lease reads to its node's
 * replica as `session` reads at its commit index.
 */
export interface MClientReads {
  type: 'client-reads';
  from: ActorRef<ClientReply>;
  client: string;
  consistency: ReadConsistency;
  afterIndex: number;
  bytes: Uint8Array;
}

/**
 * Not the leader, or too busy: try `leader` (or anyone, when null), after a pause when `busy`.
 * `reads` tells whether it answers reads or commands: the client sends those again.
 */
export interface MClientRedirect {
  type: 'client-redirect';
  leader: ActorRef<any> | null;
  reason: string;
  busy: boolean;
  reads: boolean;
}

/**
 * Outcomes of commands of one client, from a replica that has applied up to `index`: `bytes` is
 * `uvar n | (uvar sessionNo, uvar seq, u8 outcome, uvar slotIndex, uvar length, result)*`, where a
 * command's `slotIndex` is its slot + 1 (the log index its session has seen once it is answered).
 */
export interface MClientResults {
  type: 'client-results';
  index: number;
  bytes: Uint8Array;
}

/** Answers to reads: `uvar n | (uvar id, u8 status, uvar length, answer or error)*` (see ReadStatus). */
export interface MClientReadResults {
  type: 'client-read-results';
  index: number;
  bytes: Uint8Array;
}

/** A leader tells its node's replica where a client's outcomes go (null: nowhere any more). Never in the log. */
export interface MClientRoute {
  type: 'client-route';
  client: string;
  to: ActorRef<ClientReply> | null;
}

/**
 * A replica that restarted tells its node's leader that the routes it was told (`client-route`)
 * are gone: the leader forgets them too and tells it again at each client's next request.
 * Without it the leader believed its replica knew every route, and that replica, the one that
 * answers clients, answered none of them again: a crash of the replica on the leader's node
 * stopped every client until the leader moved.
 */
export interface MClientRoutesLost {
  type: 'client-routes-lost';
  replica: number;
}

/** What a client receives. */
export type ClientReply = MClientRedirect | MClientResults | MClientReadResults;

/** What a read's answer says. */
export const enum ReadStatus {
  Ok = 0,
  /** The query failed in the state machine (the same everywhere: not retried). */
  Failed = 1,
  /** This node could not serve it now (behind, too many waiting): try again, maybe elsewhere. */
  Unavailable = 2,
}

/** Writes the outcomes of one client's commands (a replica keeps one per client per batch). */
export class ResultsWriter {
  readonly w = new WireWriter(256);
  count = 0;
  add(sessionNo: number, seq: number, outcome: Outcome, index: number, bytes: Uint8Array): void {
    const w = this.w;
    w.uvar(sessionNo);
    w.uvar(seq);
    w.u8(outcome);
    w.uvar(index);
    w.bytes(bytes);
    this.count++;
  }
  /** The message bytes (a fresh array), and starts over. */
  finish(): Uint8Array {
    return prefixCount(this.w, this.count, () => {
      this.count = 0;
    });
  }
}

/** Writes answers to reads. */
export class ReadResultsWriter {
  readonly w = new WireWriter(256);
  count = 0;
  add(id: number, status: ReadStatus, bytes: Uint8Array): void {
    this.w.uvar(id);
    this.w.u8(status);
    this.w.bytes(bytes);
    this.count++;
  }
  finish(): Uint8Array {
    return prefixCount(this.w, this.count, () => {
      this.count = 0;
    });
  }
}

/** Writes a client's reads. */
export class ReadsWriter {
  readonly w = new WireWriter(256);
  count = 0;
  add(id: number, query: Uint8Array): void {
    this.w.uvar(id);
    this.w.bytes(query);
    this.count++;
  }
  finish(): Uint8Array {
    return prefixCount(this.w, this.count, () => {
      this.count = 0;
    });
  }
}

function prefixCount(w: WireWriter, count: number, reset: () => void): Uint8Array {
  const head = new WireWriter(10);
  head.uvar(count);
  const out = new Uint8Array(head.pos + w.pos);
  out.set(head.buf.subarray(0, head.pos), 0);
  out.set(w.buf.subarray(0, w.pos), head.pos);
  w.pos = 0;
  reset();
  return out;
}

/** Reads `uvar n` then calls `each` n times with the reader positioned at an entry. */
export function forEachEntry(bytes: Uint8Array, each: (r: ByteReader) => void): void {
  const r = new ByteReader().reset(bytes);
  const n = r.uvar();
  for (let i = 0; i < n; i++) each(r);
  if (!r.done) throw new RangeError('corrupt client message: bytes after its last entry');
}

const consistencyCode: Record<ReadConsistency, number> = { linearizable: 0, lease: 1, session: 2, eventual: 3 };

const request: MessageCodec<MClientRequest> = {
  type: 'client-request',
  encode: (m, w) => {
    w.ref(m.from);
    w.string(m.client);
    w.uvar(m.commands);
    w.bytes(m.bytes);
  },
  decode: (r) => ({ type: 'client-request', from: r.ref(), client: r.string(), commands: r.uvar(), bytes: r.bytesView() }),
};

const reads: MessageCodec<MClientReads> = {
  type: 'client-reads',
  encode: (m, w) => {
    w.ref(m.from);
    w.string(m.client);
    w.u8(consistencyCode[m.consistency]);
    w.uvar(m.afterIndex);
    w.bytes(m.bytes);
  },
  decode: (r) => ({
    type: 'client-reads',
    from: r.ref(),
    client: r.string(),
    consistency: readConsistencies[r.u8()]!,
    afterIndex: r.uvar(),
    bytes: r.bytesView(),
  }),
};

const redirect: MessageCodec<MClientRedirect> = {
  type: 'client-redirect',
  encode: (m, w) => {
    w.u8((m.leader ? 1 : 0) | (m.busy ? 2 : 0) | (m.reads ? 4 : 0));
    if (m.leader) w.ref(m.leader);
    w.string(m.reason);
  },
  decode: (r) => {
    const flags = r.u8();
    const leader = flags & 1 ? r.ref() : null;
    return { type: 'client-redirect', leader, reason: r.string(), busy: (flags & 2) !== 0, reads: (flags & 4) !== 0 };
  },
};

const results: MessageCodec<MClientResults> = {
  type: 'client-results',
  encode: (m, w) => {
    w.uvar(m.index);
    w.bytes(m.bytes);
  },
  decode: (r) => ({ type: 'client-results', index: r.uvar(), bytes: r.bytesView() }),
};

const readResults: MessageCodec<MClientReadResults> = {
  type: 'client-read-results',
  encode: (m, w) => {
    w.uvar(m.index);
    w.bytes(m.bytes);
  },
  decode: (r) => ({ type: 'client-read-results', index: r.uvar(), bytes: r.bytesView() }),
};

/** Binary wire forms of the client protocol (register with the system: `codecs: [clientCodecs, …]`). */
export const clientCodecs = defineCodecs(import.meta.url, [request, reads, redirect, results, readResults]);
