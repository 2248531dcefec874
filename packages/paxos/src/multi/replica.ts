/**
 * The Multi-Paxos replica: applies chosen slots strictly in order to its copy of the state
 * machine, exactly once per client command (sessions), answers the clients of its node's leader,
 * serves reads at the consistency asked for, fetches slots it missed from peers, and takes
 * snapshots so acceptors and replicas can cut the log (a replica far behind installs a peer's
 * snapshot).
 *
 * Pure: it touches the world only through `ctx`.
 */
import { IntMap, defineActor, hashString, sameRef, type ActorContext, type ActorRef, type ReplyToken } from '@synod/actors';
import { assert } from '../assert.js';
import { valueKey } from '../value.js';
import type {
  Command, MApplied, MDecide, MEntries, MFetch, MHeartbeat, MRead, MReadResult, MRedirect, MResult, MSnapshot, ReplicaSnapshot, SlotValue,
} from './messages.js';
import { stateMachineByKey, type StateMachine } from './state-machine.js';
import { batchOf } from './batch-encoding.js';
import { checkNodeIndex, replicaOptions, type ReplicaOptions } from './options.js';

export { defaultReplicaOptions, type ReplicaOptions } from './options.js';

export interface ReplicaArgs {
  index: number;
  /** `module#name` of the state machine (see defineStateMachine). */
  machine: string;
  /** Every replica, by node number (for catch-up). */
  replicas?: ActorRef<ReplicaMsg>[];
  /** Every leader, by node number (reads that need one, and truncation reports). */
  leaders?: ActorRef<any>[];
  options?: Partial<ReplicaOptions>;
  /**
   * Change subscribers and progress watchers a restart starts with: whoever supervises the
   * replica keeps them here (with `Supervisor.setChildArgs`) so watchers survive its restarts.
   */
  subscribers?: ActorRef<MChanges>[];
  progressWatchers?: ActorRef<MProgress>[];
}

/** One applied command, as change subscribers see it. */
export interface AppliedCommand { slot: number; client: string; seq: number; op: unknown; ok: boolean; result: unknown }
export interface MChanges { type: 'changes'; replica: number; changes: AppliedCommand[] }
/** How far a replica has applied (to `watch-progress` subscribers): cheaper than every change. */
export interface MProgress { type: 'progress'; replica: number; appliedUpTo: number; commands: number }
/**
 * To a subscriber (or progress watcher) the replica did not take: it already has
 * `maxSubscribers`. Nothing else comes to it.
 */
export interface MSubscriptionRefused { type: 'subscription-refused'; replica: number; reason: string }

export type ReplicaMsg =
  | MDecide | MFetch | MEntries | MSnapshot | MRead | MHeartbeat
  | { type: 'subscribe'; to: ActorRef<MChanges> } | { type: 'unsubscribe'; to: ActorRef<MChanges> }
  | { type: 'watch-progress'; to: ActorRef<MProgress> } | { type: 'unwatch-progress'; to: ActorRef<MProgress> } | { type: 'tick' }
  | { type: 'configure'; replicas?: ActorRef<ReplicaMsg>[]; leaders?: ActorRef<any>[] };

/**
 * What a replica remembers of a client session: the outcomes of its last `sessionWindow` applied
 * commands, in a ring (commands usually arrive in order, so a new one is found new at once).
 */
class Session {
  /** Commands at or below are forgotten (outside the window). */
  floor = 0;
  /** The highest command number applied. */
  top = 0;
  private readonly seqs: number[] = [];
  private readonly oks: boolean[] = [];
  private readonly results: unknown[] = [];
  private next = 0;
  constructor(private readonly window: number) {}

  /** The outcome of an applied command still in the window. */
  find(seq: number): { ok: boolean; result: unknown } | undefined {
    if (seq > this.top || seq <= this.floor) return undefined;
    for (let i = 0; i < this.seqs.length; i++) if (this.seqs[i] === seq) return { ok: this.oks[i]!, result: this.results[i] };
    return undefined;
  }

  record(seq: number, ok: boolean, result: unknown): void {
    const i = this.next;
    if (this.seqs.length === this.window) {
      // The oldest leaves the window: everything up to it is forgotten.
      if (this.seqs[i]! > this.floor) this.floor = this.seqs[i]!;
    }
    this.seqs[i] = seq;
    this.oks[i] = ok;
    this.results[i] = result;
    this.next = (i + 1) % this.window;
    if (seq > this.top) this.top = seq;
  }

  /** Oldest first, for snapshots. */
  entries(): [number, boolean, unknown][] {
    const out: [number, boolean, unknown][] = [];
    const n = this.seqs.length;
    const start = n === this.window ? this.next : 0;
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n;
      out.push([this.seqs[i]!, this.oks[i]!, this.results[i]]);
    }
    return out;
  }
}
interface WaitingRead { afterIndex: number; query: unknown; token: ReplyToken; deadline: number; id: number | undefined }

export interface ReplicaState {
  role: 'replica';
  index: number;
  machine: StateMachine;
  opts: ReplicaOptions;
  replicas: ActorRef<ReplicaMsg>[];
  leaders: ActorRef<any>[];
  /** The state machine's state after every slot below `appliedUpTo`. */
  state: unknown;
  appliedUpTo: number;
  sessions: Map<string, Session>;
  /** The session of the last command applied (already last in the LRU order). */
  lastClient: string;
  /** Chosen slots received ahead of `appliedUpTo`. */
  ahead: IntMap<SlotValue>;
  /** Applied slots since the last snapshot (served to peers that catch up). */
  log: IntMap<SlotValue>;
  snapshot: ReplicaSnapshot | null;
  /** Highest slot known to be chosen (from decides), to know what is missing. */
  knownUpTo: number;
  fetchAt: number;
  nextPeer: number;
  /** The leader we last heard from (its heartbeats), asked for missed slots in turn with peers. */
  leaderIndex: number;
  reads: WaitingRead[];
  subscribers: ActorRef<MChanges>[];
  /** Told how far this replica has applied, after every batch of slots it applies. */
  progressWatchers: ActorRef<MProgress>[];
  /** Commands applied since start (statistics, progress). */
  appliedCommands: number;
  /** The applied point last reported to the leaders. */
  reportedUpTo: number;
  /** Bytes of the encoded slots applied since the last snapshot (see `snapshotEveryBytes`). */
  bytesSinceSnapshot: number;
  /** Running hash of the applied log, and its value at each slot since the snapshot (with `digest`). */
  digest: number;
  digests: IntMap<number>;
  incarnationStart: number;
}

type Ctx = ActorContext<ReplicaMsg, ReplicaSnapshot>;

export const Replica = defineActor<ReplicaState, ReplicaMsg, ReplicaArgs, ReplicaSnapshot>({
  module: import.meta.url,
  label: 'Replica',
  storage: 'shared',

  init(args, ctx, recovered) {
    checkNodeIndex(args?.index, 'replica');
    const opts = replicaOptions(args.options, `replica ${args.index}: options`);
    const machine = stateMachineByKey(args.machine);
    const s: ReplicaState = {
      role: 'replica',
      index: args.index,
      machine,
      opts,
      replicas: args.replicas ?? [],
      leaders: args.leaders ?? [],
      state: machine.initial(),
      appliedUpTo: 0,
      sessions: new Map(),
      lastClient: '',
      ahead: new IntMap(),
      log: new IntMap(),
      snapshot: null,
      knownUpTo: 0,
      fetchAt: 0,
      nextPeer: args.index + 1,
      leaderIndex: -1,
      reads: [],
      subscribers: [],
      progressWatchers: [],
      appliedCommands: 0,
      reportedUpTo: -1,
      bytesSinceSnapshot: 0,
      digest: 0,
      digests: new IntMap(),
      incarnationStart: ctx.now(),
    };
    if (recovered) {
      // Paired with `takeSnapshot`: what was persisted is a snapshot of a point already applied.
      assert(Number.isSafeInteger(recovered.appliedUpTo) && recovered.appliedUpTo >= 0 && Array.isArray(recovered.sessions),
        `replica ${args.index}: recovered a malformed snapshot (appliedUpTo ${String(recovered.appliedUpTo)})`);
      install(s, recovered);
      assert(s.appliedUpTo === recovered.appliedUpTo && s.snapshot === recovered, `replica ${args.index}: recovery did not stand at its snapshot`);
    }
    for (const to of args.subscribers ?? []) subscribe(s, s.subscribers, to, 'subscribers', ctx as Ctx);
    for (const to of args.progressWatchers ?? []) subscribe(s, s.progressWatchers, to, 'progress watchers', ctx as Ctx);
    ctx.setTimer('tick', opts.tickMs, { type: 'tick' });
    return s;
  },

  inspect: (s) => ({
    role: s.role, index: s.index, machine: s.machine.key, appliedUpTo: s.appliedUpTo, knownUpTo: s.knownUpTo, state: s.state,
    sessions: s.sessions.size, ahead: s.ahead.size, log: s.log.size, snapshotAt: s.snapshot?.appliedUpTo ?? 0, reads: s.reads.length,
    digest: s.digest,
  }),

  receive(s, msg, ctx) {
    const c = ctx as Ctx;
    switch (msg.type) {
      case 'm-decide': onDecide(s, msg.firstSlot, msg.values, c); break;
      case 'm-entries': onDecide(s, msg.firstSlot, msg.values, c); break;
      case 'm-snapshot': onSnapshot(s, msg.snapshot, c); break;
      case 'm-fetch': onFetch(s, msg, c); break;
      case 'm-heartbeat':
        // The leader's commit point: slots below it are chosen; fetch those we miss.
        s.leaderIndex = msg.leader;
        if (msg.commitUpTo > s.knownUpTo) s.knownUpTo = msg.commitUpTo;
        if (s.appliedUpTo < s.knownUpTo && !s.ahead.has(s.appliedUpTo)) fetch(s, c, false);
        break;
      case 'read': onRead(s, msg, c); break;
      case 'subscribe': subscribe(s, s.subscribers, msg.to, 'subscribers', c); break;
      case 'watch-progress': subscribe(s, s.progressWatchers, msg.to, 'progress watchers', c); break;
      // Watchers that are done say so: a stopped one would otherwise get (dead) messages forever
      // and count against maxSubscribers.
      case 'unsubscribe': s.subscribers = s.subscribers.filter((r) => !sameRef(r, msg.to)); break;
      case 'unwatch-progress': s.progressWatchers = s.progressWatchers.filter((r) => !sameRef(r, msg.to)); break;
      case 'tick': onTick(s, c); break;
      case 'configure':
        if (msg.replicas) s.replicas = msg.replicas;
        if (msg.leaders) s.leaders = msg.leaders;
        break;
    }
  },
});

/**
 * Adds a subscriber (or progress watcher) once. Past `maxSubscribers` it is refused: it is told
 * so, and nothing else changes.
 */
function subscribe<T>(s: ReplicaState, list: ActorRef<T>[], to: ActorRef<T>, what: string, ctx: Ctx): void {
  if (list.some((r) => sameRef(r, to))) return;
  if (list.length >= s.opts.maxSubscribers) {
    const reason = `replica ${s.index} already has ${s.opts.maxSubscribers} ${what} (maxSubscribers); unsubscribe one first`;
    ctx.log.warn(reason);
    ctx.send(to as ActorRef<unknown>, { type: 'subscription-refused', replica: s.index, reason } satisfies MSubscriptionRefused);
    return;
  }
  list.push(to);
}

/** Puts a snapshot in place of the state (at restart, or from a peer when far behind). */
function install(s: ReplicaState, snap: ReplicaSnapshot): void {
  // The applied point only moves forward (a restart begins at 0, then at its snapshot).
  assert(snap.appliedUpTo >= s.appliedUpTo, `replica ${s.index}: a snapshot at ${snap.appliedUpTo} would take it back from ${s.appliedUpTo}`);
  const copy = structuredClone(snap.state);
  s.state = s.machine.restore ? s.machine.restore(copy) : copy;
  s.appliedUpTo = snap.appliedUpTo;
  s.sessions = new Map(snap.sessions.map(([client, floor, done]) => {
    const session = new Session(s.opts.sessionWindow);
    for (const [seq, ok, result] of done) session.record(seq, ok, result);
    if (floor > session.floor) session.floor = floor;
    return [client, session];
  }));
  s.lastClient = '';
  s.snapshot = snap;
  s.log.clear();
  for (const k of s.ahead.keysArray()) if (k < s.appliedUpTo) s.ahead.delete(k);
  if (s.knownUpTo < s.appliedUpTo) s.knownUpTo = s.appliedUpTo;
  s.digest = snapDigest(snap);
  s.digests.clear();
}

/** Chosen slots arrive (from the leader, or a peer): keep them, apply what is next in order. */
function onDecide(s: ReplicaState, first: number, values: SlotValue[], ctx: Ctx): void {
  const end = first + values.length;
  if (end > s.knownUpTo) s.knownUpTo = end;
  for (let i = 0; i < values.length; i++) {
    const slot = first + i;
    if (slot >= s.appliedUpTo && !s.ahead.has(slot)) s.ahead.set(slot, values[i]!);
  }
  applyReady(s, ctx);
  if (s.appliedUpTo < s.knownUpTo && !s.ahead.has(s.appliedUpTo)) fetch(s, ctx, false);
}

function applyReady(s: ReplicaState, ctx: Ctx): void {
  const start = s.appliedUpTo;
  const changes: AppliedCommand[] | null = s.subscribers.length > 0 ? [] : null;
  for (;;) {
    const slot = s.appliedUpTo;
    if (!s.ahead.has(slot)) break;
    const value = s.ahead.get(slot)!;
    s.ahead.delete(slot);
    const batch = batchOf(value);
    if (batch !== null) {
      for (const c of batch.commands) applyCommand(s, slot, c, changes, ctx);
      s.appliedCommands += batch.commands.length;
    }
    s.log.set(slot, value);
    if (value instanceof Uint8Array) s.bytesSinceSnapshot += value.byteLength;
    if (s.opts.digest) {
      s.digest = hashString(valueKey(batch === null ? null : batch.commands.map((c) => [c.client, c.seq, c.op])), s.digest);
      s.digests.set(slot + 1, s.digest);
    }
    s.appliedUpTo = slot + 1;
    if (s.appliedUpTo - (s.snapshot?.appliedUpTo ?? 0) >= s.opts.snapshotEvery || s.bytesSinceSnapshot >= s.opts.snapshotEveryBytes) takeSnapshot(s, ctx);
  }
  if (s.appliedUpTo === start) return;
  if (s.appliedUpTo - s.reportedUpTo >= s.opts.reportEverySlots) reportApplied(s, ctx);
  if (changes && changes.length > 0) {
    const m: MChanges = { type: 'changes', replica: s.index, changes };
    for (const sub of s.subscribers) ctx.send(sub, m);
  }
  if (s.progressWatchers.length > 0) {
    const p: MProgress = { type: 'progress', replica: s.index, appliedUpTo: s.appliedUpTo, commands: s.appliedCommands };
    for (const w of s.progressWatchers) ctx.send(w, p);
  }
  serveReads(s, ctx);
}

/** Applies one command once: a command already applied for its session gets its result again. */
function applyCommand(s: ReplicaState, slot: number, c: Command, changes: AppliedCommand[] | null, ctx: Ctx): void {
  let session = s.sessions.get(c.client);
  let ok: boolean;
  let result: unknown;
  const seen = session?.find(c.seq);
  if (seen !== undefined) {
    ({ ok, result } = seen);
  } else if (session !== undefined && c.seq <= session.floor) {
    ok = false;
    result = `command ${c.seq} of session ${c.client} is older than its session window (${s.opts.sessionWindow}): it was applied or superseded long ago`;
  } else {
    try {
      const out = s.machine.apply(s.state, c.op);
      s.state = out.state;
      result = out.result;
      ok = true;
    } catch (e) {
      ok = false;
      result = e instanceof Error ? e.message : String(e);
    }
    if (session === undefined) {
      session = new Session(s.opts.sessionWindow);
      s.sessions.set(c.client, session);
      if (s.sessions.size > s.opts.maxSessions) evictSession(s);
    } else if (s.lastClient !== c.client) {
      // Most recently used last: Map order is the LRU order for eviction.
      s.sessions.delete(c.client);
      s.sessions.set(c.client, session);
    }
    s.lastClient = c.client;
    session.record(c.seq, ok, result);
    changes?.push({ slot, client: c.client, seq: c.seq, op: c.op, ok, result });
  }
  // The command carries the reply token of the client that asked the leader on this node.
  if (c.reply && c.origin === s.index) {
    const r: MResult = ok
      ? { type: 'result', client: c.client, seq: c.seq, ok: true, value: result, index: slot + 1 }
      : { type: 'result', client: c.client, seq: c.seq, ok: false, error: String(result), index: slot + 1 };
    ctx.respond(c.reply, r);
  }
}

/** The least recently used session goes (every replica evicts the same one: same applied order). */
function evictSession(s: ReplicaState): void {
  const oldest = s.sessions.keys().next().value;
  if (oldest !== undefined) s.sessions.delete(oldest);
}

function takeSnapshot(s: ReplicaState, ctx: Ctx): void {
  const state = s.machine.snapshot ? s.machine.snapshot(s.state) : structuredClone(s.state);
  const snap: ReplicaSnapshot = {
    appliedUpTo: s.appliedUpTo,
    state,
    sessions: [...s.sessions].map(([client, v]) => [client, v.floor, v.entries()]),
  };
  if (s.opts.digest) (snap as ReplicaSnapshot & { digest?: number }).digest = s.digest;
  // Paired with the checks on recovery in `init`: snapshots stand at applied points and only move forward.
  assert(snap.appliedUpTo >= (s.snapshot?.appliedUpTo ?? 0), `replica ${s.index}: a snapshot at ${snap.appliedUpTo} behind the previous one`);
  s.snapshot = snap;
  s.log.clear();
  s.bytesSinceSnapshot = 0;
  s.digests.clear();
  ctx.persist(snap);
  reportApplied(s, ctx);
}

/** Tells the leaders how far this replica applied, and its snapshot point (what they may truncate). */
function reportApplied(s: ReplicaState, ctx: Ctx): void {
  s.reportedUpTo = s.appliedUpTo;
  const m: MApplied = { type: 'm-applied', replica: s.index, appliedUpTo: s.appliedUpTo, snapshotAt: s.snapshot?.appliedUpTo ?? 0 };
  for (const l of s.leaders) ctx.send(l, m);
}

function snapDigest(snap: ReplicaSnapshot): number {
  return (snap as ReplicaSnapshot & { digest?: number }).digest ?? 0;
}

// ------------------------------------------------------------------ catch-up

function fetch(s: ReplicaState, ctx: Ctx, force: boolean): void {
  const now = ctx.now();
  if (!force && now < s.fetchAt) return;
  s.fetchAt = now + s.opts.fetchRetryMs;
  const m: MFetch = { type: 'm-fetch', fromSlot: s.appliedUpTo, toSlot: s.knownUpTo, replica: s.index };
  // Every other attempt asks the leader (it keeps chosen slots no replica may have); the others
  // ask the peers in turn (they may have a snapshot, and spare the leader).
  const askLeader = s.nextPeer % 2 === 0 && s.leaderIndex >= 0 && s.leaders[s.leaderIndex] !== undefined;
  s.nextPeer++;
  if (askLeader) {
    ctx.send(s.leaders[s.leaderIndex]!, m);
    return;
  }
  const peers = s.replicas.length;
  if (peers < 2) return;
  let i = s.nextPeer % peers;
  if (i === s.index) i = ++s.nextPeer % peers;
  ctx.send(s.replicas[i]!, m);
}

/** A peer asks for slots: from our log if we still have them, else our snapshot (then the log). */
function onFetch(s: ReplicaState, m: MFetch, ctx: Ctx): void {
  const snapAt = s.snapshot?.appliedUpTo ?? 0;
  if (m.fromSlot < snapAt && s.snapshot) {
    ctx.reply({ type: 'm-snapshot', snapshot: s.snapshot } satisfies MSnapshot);
  }
  const from = Math.max(m.fromSlot, snapAt);
  const to = Math.min(s.appliedUpTo, from + s.opts.maxFetchSlots);
  if (to <= from) return;
  const values: SlotValue[] = [];
  for (let slot = from; slot < to; slot++) {
    const v = s.log.get(slot);
    if (v === undefined && !s.log.has(slot)) break;
    values.push(v as SlotValue);
  }
  if (values.length) ctx.reply({ type: 'm-entries', firstSlot: from, values } satisfies MEntries);
}

function onSnapshot(s: ReplicaState, snap: ReplicaSnapshot, ctx: Ctx): void {
  if (snap.appliedUpTo <= s.appliedUpTo) return;
  install(s, snap);
  ctx.persist(snap);
  applyReady(s, ctx);
  serveReads(s, ctx);
}

// ------------------------------------------------------------------ reads

/**
 * Session and eventual reads are served here; linearizable and lease reads belong to the
 * leader, which confirms its leadership first and then hands them here as session reads at its
 * commit index.
 */
function onRead(s: ReplicaState, m: MRead, ctx: Ctx): void {
  const token = m.replyTo ?? ctx.replyToken();
  if (!token) return;
  if (m.consistency === 'linearizable' || m.consistency === 'lease') {
    const r: MRedirect = { type: 'redirect', leader: s.leaders[s.index] ?? null, reason: `${m.consistency} reads go to the leader`, id: m.id };
    ctx.respond(token, r);
    return;
  }
  if (s.machine.validateQuery) {
    try { s.machine.validateQuery(m.query); } catch (e) {
      ctx.respond(token, { type: 'read-result', ok: false, error: e instanceof Error ? e.message : String(e), index: s.appliedUpTo, id: m.id } satisfies MReadResult);
      return;
    }
  }
  const after = m.consistency === 'eventual' ? 0 : m.afterIndex ?? 0;
  if (s.appliedUpTo >= after) {
    answer(s, m.query, token, m.id, ctx);
    return;
  }
  if (s.reads.length >= s.opts.maxWaitingReads) {
    ctx.respond(token, { type: 'read-result', ok: false, error: `replica ${s.index} has ${s.opts.maxWaitingReads} reads waiting (maxWaitingReads)`, index: s.appliedUpTo, id: m.id } satisfies MReadResult);
    return;
  }
  s.reads.push({ afterIndex: after, query: m.query, token, deadline: ctx.now() + s.opts.readTimeoutMs, id: m.id });
  if (after > s.knownUpTo) s.knownUpTo = after;
  fetch(s, ctx, false);
}

function answer(s: ReplicaState, query: unknown, token: ReplyToken, id: number | undefined, ctx: Ctx): void {
  let r: MReadResult;
  try {
    r = { type: 'read-result', ok: true, value: s.machine.query(s.state, query), index: s.appliedUpTo, id };
  } catch (e) {
    r = { type: 'read-result', ok: false, error: e instanceof Error ? e.message : String(e), index: s.appliedUpTo, id };
  }
  ctx.respond(token, r);
}

function serveReads(s: ReplicaState, ctx: Ctx): void {
  if (s.reads.length === 0) return;
  const keep: WaitingRead[] = [];
  for (const r of s.reads) {
    if (s.appliedUpTo >= r.afterIndex) answer(s, r.query, r.token, r.id, ctx);
    else keep.push(r);
  }
  s.reads = keep;
}

function onTick(s: ReplicaState, ctx: Ctx): void {
  ctx.setTimer('tick', s.opts.tickMs, { type: 'tick' });
  const now = ctx.now();
  if (s.reads.length > 0) {
    const keep: WaitingRead[] = [];
    for (const r of s.reads) {
      if (now < r.deadline) { keep.push(r); continue; }
      ctx.respond(r.token, { type: 'read-result', ok: false, error: `replica ${s.index} did not reach index ${r.afterIndex} within ${s.opts.readTimeoutMs} ms (readTimeoutMs); it is at ${s.appliedUpTo}`, index: s.appliedUpTo, id: r.id } satisfies MReadResult);
    }
    s.reads = keep;
  }
  // Behind what we know is chosen, or waiting for reads: ask a peer.
  if (s.appliedUpTo < s.knownUpTo) fetch(s, ctx, false);
  if (s.appliedUpTo !== s.reportedUpTo) reportApplied(s, ctx);
  assert(s.appliedUpTo >= (s.snapshot?.appliedUpTo ?? 0), 'replica: applied fell below its own snapshot');
}
