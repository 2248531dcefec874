// examples/src/abd/client.ts
import { defineActor, type ActorContext, type ActorRef } from '@synod/actors';
import type { Operation, RegisterInput } from '@synod/checker';
import { ZERO, newer, type ClientMsg, type ReplicaMsg, type Tag } from './messages.js';

export interface ClientArgs {
  /** This client's id (a writer id in tags). */
  id: number;
  replicas: ActorRef<ReplicaMsg>[];
  /** Operations to run, one after another (-1: until stopped). */
  ops: number;
  /** Reads write back what they return (ABD). false: the control that must fail (a regular register, not an atomic one). */
  writeBack: boolean;
  /** A phase unanswered by some replicas is sent to them again after this long. */
  retryMs: number;
  /** An operation that takes longer ends: a write as "unknown" (it may take effect), a read as failed. */
  opTimeoutMs: number;
  /** Keep the history of operations (for the checker). */
  record: boolean;
}

interface Current {
  op: number;
  input: RegisterInput;
  phase: 'get' | 'put';
  /** Replicas that answered this phase (bit per replica). */
  answered: number;
  count: number;
  best: { tag: Tag; value: string | null };
  /** What the put phase writes. */
  put: { tag: Tag; value: string | null } | null;
  call: number;
  sentAt: number;
}

export interface ClientState {
  args: ClientArgs;
  majority: number;
  current: Current | null;
  nextOp: number;
  done: number;
  history: Operation<RegisterInput, string | null>[];
  latencies: number[];
}

export type ClientIn = ClientMsg | { type: 'tick' } | { type: 'stats' };

type Ctx = ActorContext<ClientIn, ClientState>;

/**
 * An ABD client runs one operation at a time, in two phases to a majority of the replicas:
 *   write(v): get the highest tag from a majority, then put v with a higher tag (ts + 1, own id);
 *   read():   get the highest (tag, value) from a majority, then put it back (write-back), so that
 *             no later read can return an older value; return the value.
 * Two majorities always share a replica: that is the whole proof.
 */
export const AbdClient = defineActor<ClientState, ClientIn, ClientArgs>({
  module: import.meta.url,
  label: 'AbdClient',
  init(args, ctx) {
    ctx.setTimer('tick', 1, { type: 'tick' });
    return { args, majority: Math.floor(args.replicas.length / 2) + 1, current: null, nextOp: 1, done: 0, history: [], latencies: [] };
  },
  receive(s, m, ctx) {
    switch (m.type) {
      case 'tick':
        ctx.setTimer('tick', s.args.retryMs, { type: 'tick' });
        if (s.current === null) start(s, ctx);
        else if (ctx.now() - s.current.call >= s.args.opTimeoutMs) finish(s, s.current.input.f === 'write' ? 'unknown' : 'fail', null, ctx);
        else if (ctx.now() - s.current.sentAt >= s.args.retryMs) send(s, s.current, ctx);
        break;
      case 'abd-got': onGot(s, m, ctx); break;
      case 'abd-put-ok': onPutOk(s, m, ctx); break;
      case 'stats': ctx.reply({ done: s.done, latencies: s.latencies.splice(0) }); break;
    }
  },
});

function start(s: ClientState, ctx: Ctx): void {
  if (s.args.ops >= 0 && s.done >= s.args.ops) return;
  const input: RegisterInput = ctx.random() < 0.5 ? { f: 'read' } : { f: 'write', value: `${s.args.id}.${s.nextOp}` };
  s.current = { op: s.nextOp++, input, phase: 'get', answered: 0, count: 0, best: { tag: ZERO, value: null }, put: null, call: ctx.now(), sentAt: 0 };
  send(s, s.current, ctx);
}

/** Sends the current phase to every replica that has not answered it. */
function send(s: ClientState, c: Current, ctx: Ctx): void {
  c.sentAt = ctx.now();
  s.args.replicas.forEach((r, i) => {
    if (c.answered & (1 << i)) return;
    if (c.phase === 'get') ctx.send(r, { type: 'abd-get', op: c.op, from: ctx.self as ActorRef<ClientMsg> });
    else ctx.send(r, { type: 'abd-put', op: c.op, tag: c.put!.tag, value: c.put!.value, from: ctx.self as ActorRef<ClientMsg> });
  });
}

function onGot(s: ClientState, m: Extract<ClientMsg, { type: 'abd-got' }>, ctx: Ctx): void {
  const c = s.current;
  if (c === null || c.op !== m.op || c.phase !== 'get' || c.answered & (1 << m.replica)) return;
  c.answered |= 1 << m.replica;
  if (newer(m.tag, c.best.tag)) c.best = { tag: m.tag, value: m.value };
  if (++c.count < s.majority) return;
  if (c.input.f === 'write') {
    c.put = { tag: { ts: c.best.tag.ts + 1, writer: s.args.id }, value: c.input.value as string };
  } else if (s.args.writeBack) {
    c.put = c.best;
  } else {
    finish(s, 'ok', c.best.value, ctx); // the control: no write-back
    return;
  }
  c.phase = 'put';
  c.answered = 0;
  c.count = 0;
  send(s, c, ctx);
}

function onPutOk(s: ClientState, m: Extract<ClientMsg, { type: 'abd-put-ok' }>, ctx: Ctx): void {
  const c = s.current;
  if (c === null || c.op !== m.op || c.phase !== 'put' || c.answered & (1 << m.replica)) return;
  c.answered |= 1 << m.replica;
  if (++c.count >= s.majority) finish(s, 'ok', c.input.f === 'read' ? c.put!.value : null, ctx);
}

function finish(s: ClientState, outcome: 'ok' | 'fail' | 'unknown', output: string | null, ctx: Ctx): void {
  const c = s.current!;
  s.current = null;
  s.done++;
  const now = ctx.now();
  if (outcome === 'ok') s.latencies.push(now - c.call);
  if (s.args.record) {
    s.history.push({
      id: s.history.length, process: s.args.id, input: c.input, outcome, call: c.call,
      ret: outcome === 'unknown' ? Infinity : now, ...(outcome === 'ok' ? { output } : {}),
    });
  }
  start(s, ctx);
}
