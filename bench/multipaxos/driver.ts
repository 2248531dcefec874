/**
 * The load generator of the Multi-Paxos benchmark: lives on the leader's node and keeps
 * `outstanding` commands in the log at once, sent in requests of `chunk` commands (no reply per
 * command: progress comes from the local replica), for `warmupMs` then `measureMs`. Requests
 * lost with a leader change (the old leader drops what it had not proposed) are sent again when
 * progress stalls for `STALL_MS`.
 */
import { defineActor, sameRef, type ActorRef, type ReplyToken } from '@synod/actors';
import type { Command, LeaderMsg, MProgress, MRedirect, ReplicaMsg } from '@synod/paxos';

export interface MpRun {
  type: 'run';
  leader: ActorRef<LeaderMsg>;
  replica: ActorRef<ReplicaMsg>;
  outstanding: number;
  chunk: number;
  /** Bytes of each command's value. */
  valueBytes: number;
  warmupMs: number;
  measureMs: number;
}

export interface MpResult { commands: number; ms: number }

/** No progress for this long with the window full: what was outstanding is taken as lost. */
const STALL_MS = 250;

interface State {
  run: MpRun | null;
  token: ReplyToken | undefined;
  watching: boolean;
  sent: number;
  base: number;
  applied: number;
  started: number;
  t0: number;
  counted0: number;
  measuring: boolean;
  value: string;
  session: string;
  seq: number;
  /** `applied` at the last stall check. */
  checked: number;
}

export const MpDriver = defineActor<State, MpRun | MProgress | MRedirect | { type: 'stall-check' }>({
  module: import.meta.url,
  init: (_a, ctx) => ({ run: null, token: undefined, watching: false, sent: 0, base: -1, applied: 0, started: 0, t0: 0, counted0: 0, measuring: false, value: '', session: `driver-${ctx.self.id}`, seq: 0, checked: -1 }),
  receive(s, msg, ctx) {
    if (msg.type === 'run') {
      s.run = msg;
      s.token = ctx.replyToken();
      s.started = ctx.now();
      s.measuring = false;
      s.value = 'x'.repeat(msg.valueBytes);
      s.base = -1;
      s.sent = 0;
      if (!s.watching) { s.watching = true; ctx.send(msg.replica, { type: 'watch-progress', to: ctx.self }); }
      fill(s, ctx);
      ctx.setTimer('stall', STALL_MS, { type: 'stall-check' });
      return;
    }
    const run = s.run;
    if (!run) return;
    if (msg.type === 'stall-check') {
      if (s.applied === s.checked) {
        s.sent = s.base < 0 ? 0 : s.applied - s.base;
        fill(s, ctx);
      }
      s.checked = s.applied;
      ctx.setTimer('stall', STALL_MS, { type: 'stall-check' });
      return;
    }
    if (msg.type === 'redirect') {
      // Leadership moved: what was sent to the old leader is lost; go on with the new one. Every
      // request sent meanwhile is redirected too: refill once per new leader, not per redirect
      // (that would multiply), and leave the rest to the stall check.
      if (msg.leader && !sameRef(msg.leader, run.leader)) {
        run.leader = msg.leader;
        s.sent = s.base < 0 ? 0 : s.applied - s.base;
        fill(s, ctx);
      }
      return;
    }
    if (s.base < 0) s.base = msg.commands;
    s.applied = msg.commands;
    const now = ctx.now();
    const done = s.applied - s.base;
    if (!s.measuring && now - s.started >= run.warmupMs) {
      s.measuring = true;
      s.t0 = now;
      s.counted0 = done;
    } else if (s.measuring && now - s.t0 >= run.measureMs) {
      ctx.respond(s.token!, { commands: done - s.counted0, ms: now - s.t0 } satisfies MpResult);
      // Done watching: the replica would otherwise keep reporting to this driver once it is stopped.
      ctx.send(run.replica, { type: 'unwatch-progress', to: ctx.self });
      s.watching = false;
      s.run = null;
      ctx.cancelTimer('stall');
      return;
    }
    fill(s, ctx);
  },
});

function fill(s: State, ctx: { send(to: ActorRef<any>, m: unknown): void }): void {
  const run = s.run!;
  const done = s.base < 0 ? 0 : s.applied - s.base;
  while (s.sent - done < run.outstanding) {
    const commands: Command[] = [];
    for (let i = 0; i < run.chunk; i++) {
      const seq = ++s.seq;
      commands.push({ client: s.session, seq, op: { op: 'set', key: `k${seq & 1023}`, value: s.value } });
    }
    s.sent += run.chunk;
    ctx.send(run.leader, { type: 'request', commands, silent: true });
  }
}
