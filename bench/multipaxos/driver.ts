/**
 * The load generator of the protocol cells: an actor with the production client (`ClientCore`)
 * that keeps `outstanding` map commands in flight (spread over sessions of at most 1024 each),
 * starting the next as each is answered, for `warmupMs` then `measureMs`. It runs on the leader's
 * node and skips what the public API adds per operation (a promise, an encode): the cells it
 * drives measure the protocol and the data plane; the `api.*` cells measure what users get.
 */
import { defineActor, type ActorRef, type ReplyToken } from '@synod/actors';
import { ClientCore, type ClientReply, type ClusterAddress, type Completion } from '@synod/smr';
import { mapMachine } from '@synod/replicated';

export interface MpRun {
  type: 'run';
  cluster: ClusterAddress;
  outstanding: number;
  /** Bytes of each command's value. */
  valueBytes: number;
  warmupMs: number;
  measureMs: number;
  /**
   * About this many commands per request at most (the client's `maxRequestBytes` is set from the
   * commands' size): a request is never split into slots, so this bounds how many commands one
   * slot takes from one request. Default: the client's default (1 MiB of commands).
   */
  commandsPerRequest?: number;
  /**
   * Put before each of the 1024 keys (default none): drivers run side by side with different
   * prefixes touch different keys, so their commands never interfere (EPaxos's 0 % conflict).
   */
  keyPrefix?: string;
  /** How many keys the driver's commands cycle through (default 1024, fewer for large values). */
  keyCount?: number;
  /**
   * Percent of commands (0 to 100, default 0) that write the one key {@link HOT_KEY}, shared by
   * every driver whatever its `keyPrefix`; the others write the driver's own keys. As in the
   * EPaxos paper's evaluation (its client sends x % of commands to one shared key): with one
   * driver per command leader, x % of commands interfere with every other leader's hot ones.
   * Spread evenly, exactly x of every 100 commands issued: the i-th is hot when ⌊(i+1)·x/100⌋ > ⌊i·x/100⌋.
   */
  conflictPercent?: number;
  /**
   * Open every session with one command, answered, before the load starts (default false). A
   * session's first command creates it, which a leaderless protocol orders against every other
   * command (EPaxos makes it interfere with every key): without this, each run would start with
   * one such instance per session on every command leader, a transient that has nothing to do
   * with the steady load measured.
   */
  openSessionsFirst?: boolean;
}

/** The key every driver's conflicting commands write (see `MpRun.conflictPercent`). */
export const HOT_KEY = 'hot';

export interface MpResult {
  commands: number;
  ms: number;
  failed: number;
  latencyUsP50: number;
}

interface State {
  client: ClientCore | null;
  sessions: number[];
  commands: Uint8Array[];
  /** The command of the shared key, and the percent of commands that are it. */
  hotCommand: Uint8Array | null;
  conflictPercent: number;
  next: number;
  replyTo: ReplyToken | undefined;
  started: number;
  measuring: boolean;
  t0: number;
  counted: number;
  failed: number;
  deadline: number;
  /** Latencies of a sample of commands (every 64th), us. */
  samples: number[];
  /** Commands of the initial load not issued yet (see ISSUE_PER_TURN). */
  toIssue: number;
}

type Msg = MpRun | ClientReply | { type: 'tick' } | { type: 'phase' } | { type: 'load' } | { type: 'issue-more' };

const SESSION_WINDOW = 1024;
/**
 * Commands issued per turn when the load starts: the rest in the next turns. Issuing 65,536 in one
 * turn took 150-450 ms on a loaded machine, on the leader's worker, which then sent no heartbeat.
 */
const ISSUE_PER_TURN = 4096;

export const MpDriver = defineActor<State, Msg>({
  module: import.meta.url,
  init: () => ({
    client: null,
    sessions: [],
    commands: [],
    hotCommand: null,
    conflictPercent: 0,
    next: 0,
    replyTo: undefined,
    started: 0,
    measuring: false,
    t0: 0,
    counted: 0,
    failed: 0,
    deadline: 0,
    samples: [],
    toIssue: 0,
  }),
  receive(s, msg, ctx) {
    const io = { send: (to: ActorRef<any>, m: unknown) => ctx.send(to, m), now: () => ctx.now(), sharedBytes: (n: number) => ctx.sharedBytes(n) };
    switch (msg.type) {
      case 'run': {
        const sessionCount = Math.ceil(msg.outstanding / SESSION_WINDOW);
        const value = 'x'.repeat(msg.valueBytes);
        // 1024 keys, or fewer for large values: the map's state (and the driver's encoded commands)
        // stay within 64 MiB, so a size cell measures the write path, not a state of gigabytes.
        const keys = msg.keyCount ?? Math.min(1024, Math.max(16, Math.floor((64 << 20) / Math.max(1, msg.valueBytes))));
        const x = msg.conflictPercent ?? 0;
        if (!(x >= 0 && x <= 100)) throw new Error(`conflictPercent must be between 0 and 100, got ${x}`);
        s.conflictPercent = x;
        s.hotCommand = mapMachine.client.encodeCommand({ op: 'set', key: HOT_KEY, value }, msg.valueBytes + 1024);
        s.commands = Array.from({ length: keys }, (_, i) =>
          mapMachine.client.encodeCommand({ op: 'set', key: `${msg.keyPrefix ?? ''}k${i}`, value }, msg.valueBytes + 1024),
        );
        // A command takes its bytes and about 5 more in a request (session, sequence number, length).
        const perCommand = Math.max(...s.commands.map((c) => c.byteLength)) + 5;
        s.client = new ClientCore(`driver-${ctx.self.id}-${Math.floor(ctx.random() * 1e9)}`, msg.cluster, ctx.self as ActorRef<ClientReply>, {
          maxInflightPerSession: SESSION_WINDOW,
          attemptTimeoutMs: 2000,
          maxQueued: msg.outstanding * 2,
          ...(msg.commandsPerRequest !== undefined ? { maxRequestBytes: Math.max(1, msg.commandsPerRequest * perCommand - 5) } : {}),
        });
        s.sessions = Array.from({ length: sessionCount }, () => s.client!.openSession());
        s.replyTo = ctx.replyToken();
        (s as State & { run?: MpRun }).run = msg;
        ctx.setTimer('tick', 20, { type: 'tick' });
        if (msg.openSessionsFirst) {
          const client = s.client;
          let opening = s.sessions.length;
          const deadline = ctx.now() + 30_000;
          for (const session of s.sessions)
            client.execute(session, s.commands[0]!, deadline, () => {
              if (--opening === 0 && s.client === client) ctx.send(ctx.self, { type: 'load' });
            });
        } else startLoad(s, msg, ctx.now(), ctx);
        break;
      }
      case 'load':
        if (s.client) startLoad(s, (s as State & { run?: MpRun }).run!, ctx.now(), ctx);
        break;
      case 'issue-more':
        if (s.client) issueSome(s, ctx);
        break;
      case 'phase': {
        const run = (s as State & { run?: MpRun }).run!;
        if (!s.measuring) {
          s.measuring = true;
          s.t0 = ctx.now();
          s.counted = 0;
          s.samples = [];
          ctx.setTimer('phase', run.measureMs, { type: 'phase' });
        } else {
          const ms = ctx.now() - s.t0;
          const sorted = s.samples.sort((a, b) => a - b);
          if (s.replyTo)
            ctx.respond(s.replyTo, { commands: s.counted, ms, failed: s.failed, latencyUsP50: sorted[Math.floor(sorted.length / 2)] ?? 0 } satisfies MpResult);
          const client = s.client;
          s.client = null; // first: closing answers what is outstanding, and nothing is issued again
          client?.close('the run is over');
          ctx.cancelTimer('tick');
        }
        break;
      }
      case 'tick':
        if (!s.client) break;
        ctx.setTimer('tick', 20, { type: 'tick' });
        s.client.tick(ctx.now());
        break;
      default:
        s.client?.receive(msg, ctx.now());
    }
    if (s.client?.wantsFlush) s.client.flush(io);
  },
});

/** The load: `outstanding` commands in flight from now, a warm-up, then the counted run. */
function startLoad(s: State, msg: MpRun, now: number, ctx: LoadCtx): void {
  s.started = now;
  s.measuring = false;
  s.counted = 0;
  s.failed = 0;
  s.samples = [];
  s.deadline = s.started + msg.warmupMs + msg.measureMs + 30_000;
  s.toIssue = msg.outstanding;
  issueSome(s, ctx);
  ctx.setTimer('phase', msg.warmupMs, { type: 'phase' });
}

type LoadCtx = { setTimer(name: string, ms: number, m: Msg): void; send(to: ActorRef<any>, m: Msg): void; readonly self: ActorRef<any> };

/** Issues up to ISSUE_PER_TURN of the initial load; the rest in the next turn. */
function issueSome(s: State, ctx: LoadCtx): void {
  const n = Math.min(s.toIssue, ISSUE_PER_TURN);
  s.toIssue -= n;
  for (let i = 0; i < n; i++) issue(s);
  if (s.toIssue > 0) ctx.send(ctx.self, { type: 'issue-more' });
}

function issue(s: State): void {
  const client = s.client!;
  const i = s.next++;
  const session = s.sessions[i % s.sessions.length]!;
  const sample = (i & 63) === 0;
  const t0 = sample ? performance.now() : 0;
  const x = s.conflictPercent;
  const hot = x > 0 && Math.floor(((i + 1) * x) / 100) > Math.floor((i * x) / 100);
  client.execute(session, hot ? s.hotCommand! : s.commands[i % s.commands.length]!, s.deadline, (c: Completion) => {
    if (c.kind !== 'ok') s.failed++;
    else if (s.measuring) {
      s.counted++;
      if (sample) s.samples.push((performance.now() - t0) * 1000);
    }
    if (s.client === client) issue(s);
  });
}
