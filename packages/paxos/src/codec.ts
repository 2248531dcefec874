/**
 * Binary wire forms of the Synod's hot messages. Between workers these travel as bytes in one
 * batch buffer instead of by structured clone; a message whose value has no exact binary form
 * (see `isWireValue`) still travels by structured clone.
 */
import { defineCodecs, type MessageCodec } from '@synod/actors';
import type { Accept, Accepted, Decided, Prepare, PromiseMsg, Reject, SynodBatch, SynodMessage } from './messages.js';
import { isWireValue, readValue, writeValue } from './value.js';

const prepare: MessageCodec<Prepare> = {
  type: 'prepare',
  encode: (m, w) => {
    w.f64(m.instance);
    w.f64(m.ballot);
  },
  decode: (r) => ({ type: 'prepare', instance: r.f64(), ballot: r.f64() }),
};

const promise: MessageCodec<PromiseMsg> = {
  type: 'promise',
  canEncode: (m) => isWireValue(m.acceptedValue),
  encode: (m, w) => {
    w.f64(m.instance);
    w.f64(m.ballot);
    w.u8(m.acceptor);
    w.f64(m.acceptedBallot);
    writeValue(w, m.acceptedValue);
  },
  decode: (r) => ({ type: 'promise', instance: r.f64(), ballot: r.f64(), acceptor: r.u8(), acceptedBallot: r.f64(), acceptedValue: readValue(r) }),
};

const accept: MessageCodec<Accept> = {
  type: 'accept',
  canEncode: (m) => isWireValue(m.value),
  encode: (m, w) => {
    w.f64(m.instance);
    w.f64(m.ballot);
    writeValue(w, m.value);
  },
  decode: (r) => ({ type: 'accept', instance: r.f64(), ballot: r.f64(), value: readValue(r) }),
};

const accepted: MessageCodec<Accepted> = {
  type: 'accepted',
  canEncode: (m) => isWireValue(m.value),
  encode: (m, w) => {
    w.f64(m.instance);
    w.f64(m.ballot);
    w.u8(m.acceptor);
    writeValue(w, m.value);
  },
  decode: (r) => ({ type: 'accepted', instance: r.f64(), ballot: r.f64(), acceptor: r.u8(), value: readValue(r) }),
};

const reject: MessageCodec<Reject> = {
  type: 'reject',
  encode: (m, w) => {
    w.f64(m.instance);
    w.f64(m.ballot);
    w.u8(m.acceptor);
    w.f64(m.promised);
  },
  decode: (r) => ({ type: 'reject', instance: r.f64(), ballot: r.f64(), acceptor: r.u8(), promised: r.f64() }),
};

const decided: MessageCodec<Decided> = {
  type: 'decided',
  canEncode: (m) => isWireValue(m.value),
  encode: (m, w) => {
    w.f64(m.instance);
    writeValue(w, m.value);
  },
  decode: (r) => ({ type: 'decided', instance: r.f64(), value: readValue(r) }),
};

/** Item kinds inside a batch: the hot messages compactly, anything else as `WireWriter.value`. */
const enum Item {
  Other = 0,
  Prepare = 1,
  Promise = 2,
  Accept = 3,
  Accepted = 4,
  Reject = 5,
  Decided = 6,
}

/**
 * A batch: its count, then each message as a kind byte and its fields. Values go through
 * `WireWriter.value`, which keeps any plain data exact, so a batch never needs structured clone.
 */
const batch: MessageCodec<SynodBatch> = {
  type: 'batch',
  encode: (m, w) => {
    const msgs = m.msgs;
    w.uvar(msgs.length);
    for (let i = 0; i < msgs.length; i++) {
      const x = msgs[i]!;
      switch (x.type) {
        case 'prepare':
          w.u8(Item.Prepare);
          w.f64(x.instance);
          w.f64(x.ballot);
          break;
        case 'promise':
          w.u8(Item.Promise);
          w.f64(x.instance);
          w.f64(x.ballot);
          w.u8(x.acceptor);
          w.f64(x.acceptedBallot);
          w.value(x.acceptedValue);
          break;
        case 'accept':
          w.u8(Item.Accept);
          w.f64(x.instance);
          w.f64(x.ballot);
          w.value(x.value);
          break;
        case 'accepted':
          w.u8(Item.Accepted);
          w.f64(x.instance);
          w.f64(x.ballot);
          w.u8(x.acceptor);
          w.value(x.value);
          break;
        case 'reject':
          w.u8(Item.Reject);
          w.f64(x.instance);
          w.f64(x.ballot);
          w.u8(x.acceptor);
          w.f64(x.promised);
          break;
        case 'decided':
          w.u8(Item.Decided);
          w.f64(x.instance);
          w.value(x.value);
          break;
        default:
          w.u8(Item.Other);
          w.value(x);
      }
    }
  },
  decode: (r) => {
    const n = r.uvar();
    const msgs: SynodMessage[] = new Array(n);
    for (let i = 0; i < n; i++) {
      switch (r.u8() as Item) {
        case Item.Prepare:
          msgs[i] = { type: 'prepare', instance: r.f64(), ballot: r.f64() };
          break;
        case Item.Promise:
          msgs[i] = { type: 'promise', instance: r.f64(), ballot: r.f64(), acceptor: r.u8(), acceptedBallot: r.f64(), acceptedValue: r.value() };
          break;
        case Item.Accept:
          msgs[i] = { type: 'accept', instance: r.f64(), ballot: r.f64(), value: r.value() };
          break;
        case Item.Accepted:
          msgs[i] = { type: 'accepted', instance: r.f64(), ballot: r.f64(), acceptor: r.u8(), value: r.value() };
          break;
        case Item.Reject:
          msgs[i] = { type: 'reject', instance: r.f64(), ballot: r.f64(), acceptor: r.u8(), promised: r.f64() };
          break;
        case Item.Decided:
          msgs[i] = { type: 'decided', instance: r.f64(), value: r.value() };
          break;
        case Item.Other:
          msgs[i] = r.value() as SynodMessage;
          break;
        default:
          throw new RangeError('corrupt Synod batch item');
      }
    }
    return { type: 'batch', msgs };
  },
};

/** Register with `ActorSystem.start({ codecs: [synodCodecs] })` (createSynod does it). */
export const synodCodecs = defineCodecs(import.meta.url, [prepare, promise, accept, accepted, reject, decided, batch]);
