// examples/src/abd/codecs.ts
import { defineCodecs, type MessageCodec } from '@synod/actors';
import { type WireReader, type WireWriter } from '@synod/actors/internals';
import type { ClientMsg, ReplicaMsg, Tag } from './messages.js';

type Get = Extract<ReplicaMsg, { type: 'abd-get' }>;
type Put = Extract<ReplicaMsg, { type: 'abd-put' }>;
type Got = Extract<ClientMsg, { type: 'abd-got' }>;
type PutOk = Extract<ClientMsg, { type: 'abd-put-ok' }>;

const tag = (w: WireWriter, t: Tag) => { w.uvar(t.ts); w.uvar(t.writer); };
const readTag = (r: WireReader): Tag => ({ ts: r.uvar(), writer: r.uvar() });
const value = (w: WireWriter, v: string | null) => { w.bool(v !== null); if (v !== null) w.string(v); };
const readValue = (r: WireReader): string | null => (r.bool() ? r.string() : null);

const get: MessageCodec<Get> = {
  type: 'abd-get',
  encode: (m, w) => { w.uvar(m.op); w.ref(m.from); },
  decode: (r) => ({ type: 'abd-get', op: r.uvar(), from: r.ref() }),
};
const put: MessageCodec<Put> = {
  type: 'abd-put',
  encode: (m, w) => { w.uvar(m.op); tag(w, m.tag); value(w, m.value); w.ref(m.from); },
  decode: (r) => ({ type: 'abd-put', op: r.uvar(), tag: readTag(r), value: readValue(r), from: r.ref() }),
};
const got: MessageCodec<Got> = {
  type: 'abd-got',
  encode: (m, w) => { w.uvar(m.op); w.uvar(m.replica); tag(w, m.tag); value(w, m.value); },
  decode: (r) => ({ type: 'abd-got', op: r.uvar(), replica: r.uvar(), tag: readTag(r), value: readValue(r) }),
};
const putOk: MessageCodec<PutOk> = {
  type: 'abd-put-ok',
  encode: (m, w) => { w.uvar(m.op); w.uvar(m.replica); },
  decode: (r) => ({ type: 'abd-put-ok', op: r.uvar(), replica: r.uvar() }),
};

/** Register with the system: `ActorSystem.start({ codecs: [abdCodecs] })`. */
export const abdCodecs = defineCodecs(import.meta.url, [get, put, got, putOk]);
