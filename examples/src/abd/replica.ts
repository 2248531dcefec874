// examples/src/abd/replica.ts
import { defineActor } from '@synod/actors';
import { ZERO, newer, type ReplicaMsg, type Tag } from './messages.js';

export interface ReplicaState { index: number; tag: Tag; value: string | null }

/**
 * An ABD replica keeps one tagged value. It answers `get` with what it holds, and keeps a `put`
 * whose tag is newer. Its state is durable: `ctx.persist` before the acknowledgement, so a
 * replica never forgets a value it acknowledged (persist before send: the runtime holds the
 * messages of the turn until the state is durable).
 */
export const AbdReplica = defineActor<ReplicaState, ReplicaMsg, { index: number }, ReplicaState>({
  module: import.meta.url,
  label: 'AbdReplica',
  storage: 'file',
  init: (args, _ctx, recovered) => recovered ?? { index: args.index, tag: ZERO, value: null },
  receive(s, m, ctx) {
    if (m.type === 'abd-get') {
      ctx.send(m.from, { type: 'abd-got', op: m.op, replica: s.index, tag: s.tag, value: s.value });
      return;
    }
    if (newer(m.tag, s.tag)) {
      s.tag = m.tag;
      s.value = m.value;
      ctx.persist(s);
    }
    ctx.send(m.from, { type: 'abd-put-ok', op: m.op, replica: s.index });
  },
});
