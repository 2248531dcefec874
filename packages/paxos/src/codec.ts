/**
 * Binary wire forms of the Synod's hot messages. Between workers these travel as bytes in one
 * batch buffer instead of by structured clone; a message whose value has no exact binary form
 * (see `isWireValue`) still travels by structured clone.
 */
import { defineCodecs, type MessageCodec } from '@synod/actors';
import type { Accept, Accepted, Decided, Prepare, PromiseMsg, Reject } from './messages.js';
import { isWireValue, readValue, writeValue } from './value.js';

const prepare: MessageCodec<Prepare> = {
  type: 'prepare',
  encode: (m, w) => { w.f64(m.instance); w.f64(m.ballot); },
  decode: (r) => ({ type: 'prepare', instance: r.f64(), ballot: r.f64() }),
};

const promise: MessageCodec<PromiseMsg> = {
  type: 'promise',
  canEncode: (m) => isWireValue(m.acceptedValue),
  encode: (m, w) => { w.f64(m.instance); w.f64(m.ballot); w.u8(m.acceptor); w.f64(m.acceptedBallot); writeValue(w, m.acceptedValue); },
  decode: (r) => ({ type: 'promise', instance: r.f64(), ballot: r.f64(), acceptor: r.u8(), acceptedBallot: r.f64(), acceptedValue: readValue(r) }),
};

const accept: MessageCodec<Accept> = {
  type: 'accept',
  canEncode: (m) => isWireValue(m.value),
  encode: (m, w) => { w.f64(m.instance); w.f64(m.ballot); writeValue(w, m.value); },
  decode: (r) => ({ type: 'accept', instance: r.f64(), ballot: r.f64(), value: readValue(r) }),
};

const accepted: MessageCodec<Accepted> = {
  type: 'accepted',
  canEncode: (m) => isWireValue(m.value),
  encode: (m, w) => { w.f64(m.instance); w.f64(m.ballot); w.u8(m.acceptor); writeValue(w, m.value); },
  decode: (r) => ({ type: 'accepted', instance: r.f64(), ballot: r.f64(), acceptor: r.u8(), value: readValue(r) }),
};

const reject: MessageCodec<Reject> = {
  type: 'reject',
  encode: (m, w) => { w.f64(m.instance); w.f64(m.ballot); w.u8(m.acceptor); w.f64(m.promised); },
  decode: (r) => ({ type: 'reject', instance: r.f64(), ballot: r.f64(), acceptor: r.u8(), promised: r.f64() }),
};

const decided: MessageCodec<Decided> = {
  type: 'decided',
  canEncode: (m) => isWireValue(m.value),
  encode: (m, w) => { w.f64(m.instance); writeValue(w, m.value); },
  decode: (r) => ({ type: 'decided', instance: r.f64(), value: readValue(r) }),
};

/** Register with `ActorSystem.start({ codecs: [synodCodecs] })` (createSynod does it). */
export const synodCodecs = defineCodecs(import.meta.url, [prepare, promise, accept, accepted, reject, decided]);
