/**
 * Binary wire forms of Raft's messages (register with the actor system: `codecs: [raftCodecs]`;
 * `ReplicatedStateMachine` does it for `protocol: 'raft'`). Entry values travel as the bytes the
 * leader concatenated from its clients' requests; a follower keeps a view into the received
 * message, not a copy (the log holds it until compaction, as a Multi-Paxos acceptor does).
 */
import { defineCodecs, type MessageCodec } from '@synod/actors';
import { type WireReader, type WireWriter } from '@synod/actors/internals';
import type { SlotValue } from '@synod/paxos';
import { clientCodecs, type MClientReads, type MClientRequest } from '@synod/smr';
import type {
  Entry,
  RAppend,
  RAppendResp,
  RCommit,
  RForward,
  RHeartbeat,
  RHeartbeatResp,
  RSnapshot,
  RTimeoutNow,
  RTransfer,
  RVote,
  RVoteResp,
} from './messages.js';

function writeValue(w: WireWriter, v: SlotValue): void {
  if (v === null) {
    w.u8(0);
    return;
  }
  w.u8(1);
  w.bytes(v);
}

function readValue(r: WireReader): SlotValue {
  return r.u8() === 0 ? null : r.bytesView();
}

const vote: MessageCodec<RVote> = {
  type: 'r-vote',
  encode: (m, w) => {
    w.f64(m.term);
    w.u8(m.from);
    w.f64(m.lastIndex);
    w.f64(m.lastTerm);
    w.u8((m.pre ? 1 : 0) | (m.transfer ? 2 : 0));
  },
  decode: (r) => {
    const term = r.f64(),
      from = r.u8(),
      lastIndex = r.f64(),
      lastTerm = r.f64(),
      flags = r.u8();
    return { type: 'r-vote', term, from, lastIndex, lastTerm, pre: (flags & 1) !== 0, transfer: (flags & 2) !== 0 };
  },
};

const voteResp: MessageCodec<RVoteResp> = {
  type: 'r-vote-resp',
  encode: (m, w) => {
    w.f64(m.term);
    w.u8(m.from);
    w.u8((m.granted ? 1 : 0) | (m.pre ? 2 : 0));
  },
  decode: (r) => {
    const term = r.f64(),
      from = r.u8(),
      flags = r.u8();
    return { type: 'r-vote-resp', term, from, granted: (flags & 1) !== 0, pre: (flags & 2) !== 0 };
  },
};

const append: MessageCodec<RAppend> = {
  type: 'r-append',
  encode: (m, w) => {
    w.f64(m.term);
    w.u8(m.from);
    w.f64(m.prevIndex);
    w.f64(m.prevTerm);
    w.f64(m.commit);
    w.uvar(m.entries.length);
    for (const e of m.entries) {
      w.f64(e.term);
      writeValue(w, e.value);
    }
  },
  decode: (r) => {
    const term = r.f64(),
      from = r.u8(),
      prevIndex = r.f64(),
      prevTerm = r.f64(),
      commit = r.f64();
    const n = r.uvar();
    const entries: Entry[] = [];
    for (let i = 0; i < n; i++) {
      const t = r.f64();
      const value = readValue(r);
      entries.push({ term: t, value, bytes: value?.byteLength ?? 0 });
    }
    return { type: 'r-append', term, from, prevIndex, prevTerm, entries, commit };
  },
};

const appendResp: MessageCodec<RAppendResp> = {
  type: 'r-append-resp',
  encode: (m, w) => {
    w.f64(m.term);
    w.u8(m.from);
    w.f64(m.index);
    w.bool(m.reject);
    w.f64(m.hintIndex);
    w.f64(m.hintTerm);
  },
  decode: (r) => ({ type: 'r-append-resp', term: r.f64(), from: r.u8(), index: r.f64(), reject: r.bool(), hintIndex: r.f64(), hintTerm: r.f64() }),
};

const heartbeat: MessageCodec<RHeartbeat> = {
  type: 'r-heartbeat',
  encode: (m, w) => {
    w.f64(m.term);
    w.u8(m.from);
    w.f64(m.commit);
    w.f64(m.round);
  },
  decode: (r) => ({ type: 'r-heartbeat', term: r.f64(), from: r.u8(), commit: r.f64(), round: r.f64() }),
};

const heartbeatResp: MessageCodec<RHeartbeatResp> = {
  type: 'r-heartbeat-resp',
  encode: (m, w) => {
    w.f64(m.term);
    w.u8(m.from);
    w.f64(m.round);
  },
  decode: (r) => ({ type: 'r-heartbeat-resp', term: r.f64(), from: r.u8(), round: r.f64() }),
};

const commit: MessageCodec<RCommit> = {
  type: 'r-commit',
  encode: (m, w) => {
    w.f64(m.term);
    w.u8(m.from);
    w.f64(m.commit);
    w.f64(m.commitTerm);
  },
  decode: (r) => ({ type: 'r-commit', term: r.f64(), from: r.u8(), commit: r.f64(), commitTerm: r.f64() }),
};

const timeoutNow: MessageCodec<RTimeoutNow> = {
  type: 'r-timeout-now',
  encode: (m, w) => {
    w.f64(m.term);
    w.u8(m.from);
  },
  decode: (r) => ({ type: 'r-timeout-now', term: r.f64(), from: r.u8() }),
};

const snapshot: MessageCodec<RSnapshot> = {
  type: 'r-snapshot',
  encode: (m, w) => {
    w.f64(m.term);
    w.u8(m.from);
    w.f64(m.index);
    w.f64(m.lastTerm);
  },
  decode: (r) => ({ type: 'r-snapshot', term: r.f64(), from: r.u8(), index: r.f64(), lastTerm: r.f64() }),
};

const transfer: MessageCodec<RTransfer> = {
  type: 'r-transfer',
  encode: (m, w) => {
    w.f64(m.to);
  },
  decode: (r) => ({ type: 'r-transfer', to: r.f64() }),
};

/** The client protocol's own wire forms, for the message a forward carries. */
const requestCodec = clientCodecs.codecs.find((c) => c.type === 'client-request') as MessageCodec<MClientRequest>;
const readsCodec = clientCodecs.codecs.find((c) => c.type === 'client-reads') as MessageCodec<MClientReads>;

const forward: MessageCodec<RForward> = {
  type: 'r-forward',
  encode: (m, w) => {
    w.u8(m.from);
    if (m.message.type === 'client-request') {
      w.u8(0);
      requestCodec.encode(m.message, w);
    } else {
      w.u8(1);
      readsCodec.encode(m.message, w);
    }
  },
  decode: (r) => {
    const from = r.u8();
    const message = r.u8() === 0 ? requestCodec.decode(r) : readsCodec.decode(r);
    return { type: 'r-forward', from, message };
  },
};

/** Register with `ActorSystem.start({ codecs: [raftCodecs] })` (ReplicatedStateMachine does it for Raft). */
export const raftCodecs = defineCodecs(import.meta.url, [
  vote,
  voteResp,
  append,
  appendResp,
  heartbeat,
  heartbeatResp,
  commit,
  timeoutNow,
  snapshot,
  transfer,
  forward,
]);
