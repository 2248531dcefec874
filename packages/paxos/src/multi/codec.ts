/**
 * Binary wire forms of Multi-Paxos's messages. Slot values travel as the bytes the leader
 * concatenated from its clients' requests.
 */
import { defineCodecs, type MessageCodec } from '@synod/actors';
import { type WireReader, type WireWriter } from '@synod/actors/internals';
import type {
  MAccept,
  MAccepted,
  MApplied,
  MDecide,
  MDigest,
  MEntries,
  MFetch,
  MCampaign,
  MHeartbeat,
  MHeartbeatAck,
  MPrepare,
  MPromise,
  MReject,
  MSnapshotChunk,
  MSnapshotOffer,
  MSnapshotPull,
  MTruncate,
  MTruncated,
  SlotValue,
} from './messages.js';
import type { MProgress } from './replica-state.js';

function writeSlotValue(w: WireWriter, v: SlotValue): void {
  if (v === null) {
    w.u8(0);
    return;
  }
  w.u8(1);
  w.bytes(v);
}

function readSlotValue(r: WireReader): SlotValue {
  // A view into the received message, not a copy: the batch is read once (replica) or kept
  // until truncation (acceptor), and copying every batch per destination cost more than the rest.
  return r.u8() === 0 ? null : r.bytesView();
}

const prepare: MessageCodec<MPrepare> = {
  type: 'm-prepare',
  encode: (m, w) => {
    w.f64(m.ballot);
    w.f64(m.fromSlot);
  },
  decode: (r) => ({ type: 'm-prepare', ballot: r.f64(), fromSlot: r.f64() }),
};

const promise: MessageCodec<MPromise> = {
  type: 'm-promise',
  encode: (m, w) => {
    w.f64(m.ballot);
    w.u8(m.acceptor);
    w.f64(m.truncatedBelow);
    w.uvar(m.accepted.length);
    for (const [slot, b, v] of m.accepted) {
      w.f64(slot);
      w.f64(b);
      writeSlotValue(w, v);
    }
  },
  decode: (r) => {
    const ballot = r.f64(),
      acceptor = r.u8(),
      truncatedBelow = r.f64();
    const n = r.uvar();
    const accepted: MPromise['accepted'] = [];
    for (let i = 0; i < n; i++) accepted.push([r.f64(), r.f64(), readSlotValue(r)]);
    return { type: 'm-promise', ballot, acceptor, accepted, truncatedBelow };
  },
};

const accept: MessageCodec<MAccept> = {
  type: 'm-accept',
  encode: (m, w) => {
    w.f64(m.ballot);
    w.f64(m.firstSlot);
    w.f64(m.commitUpTo);
    w.uvar(m.values.length);
    for (const v of m.values) writeSlotValue(w, v);
  },
  decode: (r) => {
    const ballot = r.f64(),
      firstSlot = r.f64(),
      commitUpTo = r.f64();
    const n = r.uvar();
    const values: SlotValue[] = [];
    for (let i = 0; i < n; i++) values.push(readSlotValue(r));
    return { type: 'm-accept', ballot, firstSlot, values, commitUpTo };
  },
};

const accepted: MessageCodec<MAccepted> = {
  type: 'm-accepted',
  encode: (m, w) => {
    w.f64(m.ballot);
    w.f64(m.firstSlot);
    w.uvar(m.count);
    w.u8(m.acceptor);
  },
  decode: (r) => ({ type: 'm-accepted', ballot: r.f64(), firstSlot: r.f64(), count: r.uvar(), acceptor: r.u8() }),
};

const reject: MessageCodec<MReject> = {
  type: 'm-reject',
  encode: (m, w) => {
    w.f64(m.ballot);
    w.u8(m.acceptor);
    w.f64(m.promised);
  },
  decode: (r) => ({ type: 'm-reject', ballot: r.f64(), acceptor: r.u8(), promised: r.f64() }),
};

const heartbeat: MessageCodec<MHeartbeat> = {
  type: 'm-heartbeat',
  encode: (m, w) => {
    w.f64(m.ballot);
    w.u8(m.leader);
    w.f64(m.commitUpTo);
    w.f64(m.round);
  },
  decode: (r) => ({ type: 'm-heartbeat', ballot: r.f64(), leader: r.u8(), commitUpTo: r.f64(), round: r.f64() }),
};

const campaign: MessageCodec<MCampaign> = {
  type: 'm-campaign',
  encode: (m, w) => {
    w.f64(m.ballot);
    w.u8(m.leader);
  },
  decode: (r) => ({ type: 'm-campaign', ballot: r.f64(), leader: r.u8() }),
};

const heartbeatAck: MessageCodec<MHeartbeatAck> = {
  type: 'm-heartbeat-ack',
  encode: (m, w) => {
    w.f64(m.ballot);
    w.u8(m.acceptor);
    w.f64(m.round);
  },
  decode: (r) => ({ type: 'm-heartbeat-ack', ballot: r.f64(), acceptor: r.u8(), round: r.f64() }),
};

function slotList<T extends MDecide | MEntries>(type: T['type']): MessageCodec<T> {
  return {
    type,
    encode: (m, w) => {
      w.f64(m.firstSlot);
      w.uvar(m.values.length);
      for (const v of m.values) writeSlotValue(w, v);
    },
    decode: (r) => {
      const firstSlot = r.f64();
      const n = r.uvar();
      const values: SlotValue[] = [];
      for (let i = 0; i < n; i++) values.push(readSlotValue(r));
      return { type, firstSlot, values } as T;
    },
  };
}

const truncate: MessageCodec<MTruncate> = {
  type: 'm-truncate',
  encode: (m, w) => {
    w.f64(m.below);
  },
  decode: (r) => ({ type: 'm-truncate', below: r.f64() }),
};

const truncated: MessageCodec<MTruncated> = {
  type: 'm-truncated',
  encode: (m, w) => {
    w.u8(m.acceptor);
    w.f64(m.below);
  },
  decode: (r) => ({ type: 'm-truncated', acceptor: r.u8(), below: r.f64() }),
};

const applied: MessageCodec<MApplied> = {
  type: 'm-applied',
  encode: (m, w) => {
    w.u8(m.replica);
    w.f64(m.appliedUpTo);
    w.f64(m.snapshotAt);
  },
  decode: (r) => ({ type: 'm-applied', replica: r.u8(), appliedUpTo: r.f64(), snapshotAt: r.f64() }),
};

const fetch: MessageCodec<MFetch> = {
  type: 'm-fetch',
  encode: (m, w) => {
    w.f64(m.fromSlot);
    w.f64(m.toSlot);
    w.u8(m.replica);
  },
  decode: (r) => ({ type: 'm-fetch', fromSlot: r.f64(), toSlot: r.f64(), replica: r.u8() }),
};

const progress: MessageCodec<MProgress> = {
  type: 'progress',
  encode: (m, w) => {
    w.u8(m.replica);
    w.f64(m.appliedUpTo);
    w.f64(m.commands);
  },
  decode: (r) => ({ type: 'progress', replica: r.u8(), appliedUpTo: r.f64(), commands: r.f64() }),
};

const snapshotOffer: MessageCodec<MSnapshotOffer> = {
  type: 'm-snapshot-offer',
  encode: (m, w) => {
    w.u8(m.replica);
    w.string(m.id);
    w.bytes(m.header);
    w.uvar(m.chunks);
    w.f64(m.bytes);
  },
  decode: (r) => ({ type: 'm-snapshot-offer', replica: r.u8(), id: r.string(), header: r.bytes(), chunks: r.uvar(), bytes: r.f64() }),
};

const snapshotPull: MessageCodec<MSnapshotPull> = {
  type: 'm-snapshot-pull',
  encode: (m, w) => {
    w.u8(m.replica);
    w.string(m.id);
    w.uvar(m.chunk);
  },
  decode: (r) => ({ type: 'm-snapshot-pull', replica: r.u8(), id: r.string(), chunk: r.uvar() }),
};

const snapshotChunk: MessageCodec<MSnapshotChunk> = {
  type: 'm-snapshot-chunk',
  encode: (m, w) => {
    w.u8(m.replica);
    w.string(m.id);
    w.uvar(m.chunk);
    w.bool(m.missing);
    w.bytes(m.bytes);
  },
  decode: (r) => ({ type: 'm-snapshot-chunk', replica: r.u8(), id: r.string(), chunk: r.uvar(), missing: r.bool(), bytes: r.bytesView() }),
};

const digest: MessageCodec<MDigest> = {
  type: 'm-digest',
  encode: (m, w) => {
    w.u8(m.replica);
    w.f64(m.index);
    w.u32(m.log);
    w.u32(m.state);
  },
  decode: (r) => ({ type: 'm-digest', replica: r.u8(), index: r.f64(), log: r.u32(), state: r.u32() }),
};

/** Register with `ActorSystem.start({ codecs: [multiPaxosCodecs] })` (ReplicatedStateMachine does it). */
export const multiPaxosCodecs = defineCodecs(import.meta.url, [
  prepare,
  promise,
  accept,
  accepted,
  reject,
  heartbeat,
  heartbeatAck,
  campaign,
  slotList<MDecide>('m-decide'),
  slotList<MEntries>('m-entries'),
  truncate,
  applied,
  fetch,
  progress,
  snapshotOffer,
  snapshotPull,
  snapshotChunk,
  digest,
  truncated,
]);
