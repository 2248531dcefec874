/**
 * Binary wire forms of EPaxos's messages. Values travel as the bytes of the batch the leader
 * concatenated from its clients' requests (received as views into the message, not copies).
 */
import { defineCodecs, type MessageCodec } from '@synod/actors';
import { type WireReader, type WireWriter } from '@synod/actors/internals';
import type {
  MAccept,
  MAcceptOk,
  MAsk,
  MBarrierDigest,
  MCommit,
  MCut,
  MFrontier,
  MNack,
  MPreAccept,
  MPreAcceptOk,
  MPrepare,
  MPrepareOk,
  MSnapshotChunk,
  MSnapshotOffer,
  MSnapshotPull,
  Proposal,
} from './messages.js';

function numbers(w: WireWriter, v: readonly number[]): void {
  w.uvar(v.length);
  for (const x of v) w.uvar(x);
}

function readNumbers(r: WireReader): number[] {
  const n = r.uvar();
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = r.uvar();
  return out;
}

function writeProposal(w: WireWriter, p: Proposal): void {
  if (p.value === null) w.u8(0);
  else {
    w.u8(1);
    w.bytes(p.value);
  }
  if (p.keys === null) w.u8(0);
  else {
    w.u8(1);
    w.uvar(p.keys.length);
    for (const k of p.keys) w.u32(k);
  }
  w.uvar(p.seq);
  numbers(w, p.deps);
}

function readProposal(r: WireReader): Proposal {
  const value = r.u8() === 0 ? null : r.bytesView();
  let keys: number[] | null = null;
  if (r.u8() === 1) {
    const n = r.uvar();
    keys = new Array<number>(n);
    for (let i = 0; i < n; i++) keys[i] = r.u32();
  }
  return { value, keys, seq: r.uvar(), deps: readNumbers(r) };
}

function head(w: WireWriter, m: { from: number; ballot: number; q: number; i: number }): void {
  w.u8(m.from);
  w.uvar(m.ballot);
  w.u8(m.q);
  w.uvar(m.i);
}

function readHead(r: WireReader): { from: number; ballot: number; q: number; i: number } {
  return { from: r.u8(), ballot: r.uvar(), q: r.u8(), i: r.uvar() };
}

const preaccept: MessageCodec<MPreAccept> = {
  type: 'e-preaccept',
  encode: (m, w) => {
    head(w, m);
    writeProposal(w, m);
  },
  decode: (r) => ({ type: 'e-preaccept', ...readHead(r), ...readProposal(r) }),
};

const preacceptOk: MessageCodec<MPreAcceptOk> = {
  type: 'e-preaccept-ok',
  encode: (m, w) => {
    head(w, m);
    w.bool(m.changed);
    w.uvar(m.seq);
    numbers(w, m.deps);
  },
  decode: (r) => ({ type: 'e-preaccept-ok', ...readHead(r), changed: r.bool(), seq: r.uvar(), deps: readNumbers(r) }),
};

const accept: MessageCodec<MAccept> = {
  type: 'e-accept',
  encode: (m, w) => {
    head(w, m);
    writeProposal(w, m);
  },
  decode: (r) => ({ type: 'e-accept', ...readHead(r), ...readProposal(r) }),
};

const acceptOk: MessageCodec<MAcceptOk> = {
  type: 'e-accept-ok',
  encode: (m, w) => {
    head(w, m);
  },
  decode: (r) => ({ type: 'e-accept-ok', ...readHead(r) }),
};

const commit: MessageCodec<MCommit> = {
  type: 'e-commit',
  encode: (m, w) => {
    w.u8(m.q);
    w.uvar(m.i);
    w.bool(m.withValue);
    writeProposal(w, m.withValue ? m : { ...m, value: null });
  },
  decode: (r) => ({ type: 'e-commit', q: r.u8(), i: r.uvar(), withValue: r.bool(), ...readProposal(r) }),
};

const nack: MessageCodec<MNack> = {
  type: 'e-nack',
  encode: (m, w) => {
    head(w, m);
    w.uvar(m.promised);
  },
  decode: (r) => ({ type: 'e-nack', ...readHead(r), promised: r.uvar() }),
};

const prepare: MessageCodec<MPrepare> = {
  type: 'e-prepare',
  encode: (m, w) => {
    head(w, m);
  },
  decode: (r) => ({ type: 'e-prepare', ...readHead(r) }),
};

const prepareOk: MessageCodec<MPrepareOk> = {
  type: 'e-prepare-ok',
  encode: (m, w) => {
    head(w, m);
    w.u8(m.held);
    w.uvar(m.vbal);
    w.bool(m.unchanged);
    writeProposal(w, m);
  },
  decode: (r) => ({ type: 'e-prepare-ok', ...readHead(r), held: r.u8(), vbal: r.uvar(), unchanged: r.bool(), ...readProposal(r) }),
};

const ask: MessageCodec<MAsk> = {
  type: 'e-ask',
  encode: (m, w) => {
    w.u8(m.from);
    numbers(w, m.ids);
  },
  decode: (r) => ({ type: 'e-ask', from: r.u8(), ids: readNumbers(r) }),
};

const cut: MessageCodec<MCut> = {
  type: 'e-cut',
  encode: (m, w) => {
    w.u8(m.from);
    numbers(w, m.ids);
  },
  decode: (r) => ({ type: 'e-cut', from: r.u8(), ids: readNumbers(r) }),
};

const frontier: MessageCodec<MFrontier> = {
  type: 'e-frontier',
  encode: (m, w) => {
    w.u8(m.from);
    numbers(w, m.executed);
    numbers(w, m.snapshot);
    w.uvar(m.barriers);
  },
  decode: (r) => ({ type: 'e-frontier', from: r.u8(), executed: readNumbers(r), snapshot: readNumbers(r), barriers: r.uvar() }),
};

const digest: MessageCodec<MBarrierDigest> = {
  type: 'e-digest',
  encode: (m, w) => {
    w.u8(m.from);
    w.uvar(m.barrier);
    w.u32(m.log >>> 0);
    w.u32(m.state >>> 0);
  },
  decode: (r) => ({ type: 'e-digest', from: r.u8(), barrier: r.uvar(), log: r.u32(), state: r.u32() }),
};

const snapshotOffer: MessageCodec<MSnapshotOffer> = {
  type: 'e-snapshot-offer',
  encode: (m, w) => {
    w.u8(m.from);
    w.string(m.id);
    w.bytes(m.meta);
    w.uvar(m.chunks);
    w.uvar(m.bytes);
  },
  decode: (r) => ({ type: 'e-snapshot-offer', from: r.u8(), id: r.string(), meta: r.bytes(), chunks: r.uvar(), bytes: r.uvar() }),
};

const snapshotPull: MessageCodec<MSnapshotPull> = {
  type: 'e-snapshot-pull',
  encode: (m, w) => {
    w.u8(m.from);
    w.string(m.id);
    w.uvar(m.chunk);
  },
  decode: (r) => ({ type: 'e-snapshot-pull', from: r.u8(), id: r.string(), chunk: r.uvar() }),
};

const snapshotChunk: MessageCodec<MSnapshotChunk> = {
  type: 'e-snapshot-chunk',
  encode: (m, w) => {
    w.u8(m.from);
    w.string(m.id);
    w.uvar(m.chunk);
    w.bool(m.missing);
    w.bytes(m.bytes);
  },
  decode: (r) => ({ type: 'e-snapshot-chunk', from: r.u8(), id: r.string(), chunk: r.uvar(), missing: r.bool(), bytes: r.bytesView() }),
};

/** Register with `ActorSystem.start({ codecs: [epaxosCodecs] })` (ReplicatedStateMachine does it for `protocol: 'epaxos'`). */
export const epaxosCodecs = defineCodecs(import.meta.url, [
  preaccept,
  preacceptOk,
  accept,
  acceptOk,
  commit,
  nack,
  prepare,
  prepareOk,
  ask,
  cut,
  frontier,
  digest,
  snapshotOffer,
  snapshotPull,
  snapshotChunk,
]);
