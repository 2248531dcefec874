/**
 * The client: one protocol for every caller of a replicated state machine (the
 * `ReplicatedStateMachine` API, the simulation's clients, the benchmark's driver).
 *
 * Pure: no timers, clocks or threads. Its host calls `flush` when operations were added (the
 * operations of one tick leave together, one request per target), `receive` with every reply, and
 * `tick` now and then (resends, timeouts); it gets `send` and `now` as parameters.
 *
 * Commands are numbered per session (1, 2, 3…) and travel as request bytes (log-format.ts);
 * answers come back in batches and are matched by (session, number), reads by id. Per session at
 * most `maxInflightPerSession` commands are outstanding (counted from the oldest unanswered, so
 * the replicas' kept results stay bounded too); more wait in a bounded queue. A command is sent
 * again, to the leader guessed next, when it goes unanswered for `attemptTimeoutMs`, and again in
 * order with the rest of its session after a gap or a redirect, so a session's writes apply in
 * the order issued. One whose caller stopped waiting (timeout, abort) is still sent until it is
 * answered: it may take effect, but never after a later command of its session.
 */
import { type ActorRef } from '@synod/actors';
import { hashString } from '@synod/actors/internals';
import { ByteReader } from './byte-reader.js';
import { RequestWriter } from './log-format.js';
import { Outcome } from './outcome.js';
import {
  ReadStatus,
  ReadsWriter,
  forEachEntry,
  type ClientReply,
  type MClientReadResults,
  type MClientReads,
  type MClientRedirect,
  type MClientRequest,
  type MClientResults,
  type ReadConsistency,
} from './protocol.js';

/** Bounds and timing of a client. */
export interface ClientOptions {
  /** Commands of one session outstanding at once (counted from its oldest unanswered one). Default 1024. */
  maxInflightPerSession: number;
  /** Commands waiting for room, over all sessions; beyond, operations are refused at once. Default 100 000. */
  maxQueued: number;
  /** Reads outstanding at once; beyond, reads are refused at once. Default 100 000. */
  maxReads: number;
  /** Bytes of one request message (a bigger command travels alone). Default 1 MiB. */
  maxRequestBytes: number;
  /**
   * Commands in one request message: a leader puts whole requests in a slot, so this keeps
   * slots (and the turns that apply them) bounded when many commands wait at once. Default 256.
   */
  maxRequestCommands: number;
  /** An attempt unanswered for this long is sent again, to the next leader guessed. Default 1000. */
  attemptTimeoutMs: number;
  /** Pause before sending again after a busy or leaderless answer. Default 20. */
  retryDelayMs: number;
}

export const defaultClientOptions: ClientOptions = {
  maxInflightPerSession: 1024,
  maxQueued: 100_000,
  maxReads: 100_000,
  maxRequestBytes: 1 << 20,
  maxRequestCommands: 256,
  attemptTimeoutMs: 1000,
  retryDelayMs: 20,
};

/** How an operation ended, for the host to turn into a value or an error. */
export type Completion =
  | { kind: 'ok'; bytes: Uint8Array; index: number }
  /** The machine failed the command (applied, identically everywhere). */
  | { kind: 'failed'; message: string; index: number }
  | { kind: 'quota'; message: string; index: number }
  /** Deadline passed; `sent` tells whether it may have taken effect. */
  | { kind: 'timeout'; sent: boolean; detail: string }
  /** Not sent: the client is closed, or too much already waits. */
  | { kind: 'refused'; reason: 'closed' | 'overloaded'; message: string }
  /** The replicas forgot its session (or its result): it may have taken effect. */
  | { kind: 'unknown'; detail: string }
  | { kind: 'read-failed'; message: string };

/** Called once per operation. */
export type Done = (c: Completion) => void;

/** The host's side: how messages leave. */
export interface ClientIO {
  send(to: ActorRef<any>, message: MClientRequest | MClientReads): void;
  now(): number;
  /**
   * Room for a request of `n` bytes: a client actor passes its `ctx.sharedBytes`, so a request
   * with long commands is written once, into its thread's shared arena, and travels by reference
   * from there. Absent: requests are plain arrays, which the transport copies into an arena.
   */
  sharedBytes?(n: number): Uint8Array;
}

/** Where the client finds the cluster. */
export interface ClusterAddress {
  /** Where commands and linearizable or lease reads go, by node; one leads at a time (or any, for leaderless protocols). */
  leaders: ActorRef<any>[];
  /** Where session and eventual reads go, by node. */
  replicas: ActorRef<any>[];
  /**
   * Every node leads the commands it receives (EPaxos): the client starts at a node chosen by its
   * id, and its sessions spread over the nodes from there, instead of all going to node 0 (a
   * leader's usual place).
   */
  leaderless?: boolean;
}

/**
 * A session's commands in flight and waiting, kept in columns (parallel arrays), not an object
 * per command: with tens of thousands in flight, each command's object outlived several young
 * collections and was promoted, and collecting them was a quarter of the leader's node's time in
 * the protocol cells (whose load generator runs there).
 */
class ClientSession {
  nextSeq = 1;
  /** Every command up to here is answered. */
  ack = 0;
  /**
   * Unanswered or not yet acknowledged commands, in order: index `head + k` of each column is
   * command `ack + 1 + k` (see `seqAt`).
   */
  readonly opBytes: Uint8Array[] = [];
  readonly opDone: (Done | null)[] = [];
  readonly opDeadline: number[] = [];
  /** When last sent (-1: never). */
  readonly opSentAt: number[] = [];
  readonly opAnswered: boolean[] = [];
  head = 0;
  /** No unanswered command's deadline is before this: `tick` looks at each command only past it. */
  earliestDeadline = Number.POSITIVE_INFINITY;
  /** Operations waiting for room in the window, in columns too (`NOOP` done: dropped). */
  readonly queuedBytes: Uint8Array[] = [];
  readonly queuedDone: Done[] = [];
  readonly queuedDeadline: number[] = [];
  queuedHead = 0;
  /** The highest log index this session has seen (its writes' and its reads'). */
  lastIndex = 0;
  /** Send from this command again at the next flush (0: nothing to resend). */
  resendFrom = 0;
  /** Every command numbered below this was sent at least once (the rest wait for the next flush). */
  sentUpTo = 1;
  /** Not before this time (a busy or leaderless answer). */
  resendAt = 0;
  constructor(public no: number) {}
  /** One past the last index of the in-flight columns. */
  get end(): number {
    return this.opBytes.length;
  }
  get outstanding(): number {
    return this.opBytes.length - this.head;
  }
  get waiting(): number {
    return this.queuedBytes.length - this.queuedHead;
  }
  /** The command number at index `i` of the in-flight columns. */
  seqAt(i: number): number {
    return this.ack + 1 + (i - this.head);
  }
  push(bytes: Uint8Array, done: Done, deadline: number): void {
    this.opBytes.push(bytes);
    this.opDone.push(done);
    this.opDeadline.push(deadline);
    this.opSentAt.push(-1);
    this.opAnswered.push(false);
    if (deadline < this.earliestDeadline) this.earliestDeadline = deadline;
  }
  /** Marks index `i` answered and lets go of its bytes and callback; the callback, if still there. */
  take(i: number): Done | null {
    const done = this.opDone[i]!;
    this.opDone[i] = null;
    this.opAnswered[i] = true;
    this.opBytes[i] = EMPTY;
    return done;
  }
  /** Moves the acknowledged prefix over every answered command at the front. */
  advance(): void {
    const answered = this.opAnswered;
    const end = answered.length;
    while (this.head < end && answered[this.head]) {
      this.head++;
      this.ack++;
    }
    if (this.head === end) this.clearOps();
    else if (this.head > 1024 && this.head * 2 > end) {
      const h = this.head;
      this.opBytes.splice(0, h);
      this.opDone.splice(0, h);
      this.opDeadline.splice(0, h);
      this.opSentAt.splice(0, h);
      this.opAnswered.splice(0, h);
      this.head = 0;
    }
  }
  clearOps(): void {
    this.opBytes.length = 0;
    this.opDone.length = 0;
    this.opDeadline.length = 0;
    this.opSentAt.length = 0;
    this.opAnswered.length = 0;
    this.head = 0;
    this.earliestDeadline = Number.POSITIVE_INFINITY;
  }
  clearQueued(): void {
    this.queuedBytes.length = 0;
    this.queuedDone.length = 0;
    this.queuedDeadline.length = 0;
    this.queuedHead = 0;
  }
}

interface Read {
  id: number;
  session: ClientSession;
  query: Uint8Array;
  consistency: ReadConsistency;
  afterIndex: number;
  done: Done;
  deadline: number;
  sentAt: number;
  /** Replicas tried, for session and eventual reads (spread, and moved on when one cannot serve). */
  attempts: number;
}

export class ClientCore {
  readonly options: ClientOptions;
  /** Sessions by the number `openSession` returned, which callers keep. */
  private readonly sessions = new Map<number, ClientSession>();
  /** Sessions by the number the replicas know them by now (a forgotten session gets a new one). */
  private readonly byWire = new Map<number, ClientSession>();
  private nextSessionNo = 1;
  private leaderGuess = 0;
  private nextReplica = 0;
  /** Sessions with commands to send at the next flush. */
  private readonly dirty = new Set<ClientSession>();
  private readonly unsentReads: Read[] = [];
  private readonly reads = new Map<number, Read>();
  private nextReadId = 1;
  private queuedTotal = 0;
  private readonly writer = new RequestWriter();
  private readonly readsWriter = new ReadsWriter();
  private readonly reader = new ByteReader();
  private closed = false;
  /** When a message last came from the leader guessed (to tell a silent one from a slow one). */
  private heardAt = 0;
  /** Redirects followed at once since the last results (bounded: see onRedirect). */
  private redirectStreak = 0;

  constructor(
    readonly clientId: string,
    private cluster: ClusterAddress,
    readonly self: ActorRef<ClientReply>,
    options: Partial<ClientOptions> = {},
  ) {
    this.options = { ...defaultClientOptions, ...options };
    if (cluster.leaders.length === 0 || cluster.replicas.length === 0) throw new RangeError('a client needs at least one leader and one replica address');
    if (cluster.leaderless) this.leaderGuess = hashString(clientId) % cluster.leaders.length;
  }

  /** Opens a session (its own numbering and read-your-writes point). */
  openSession(): number {
    const no = this.nextSessionNo++;
    const s = new ClientSession(no);
    this.sessions.set(no, s);
    this.byWire.set(no, s);
    return no;
  }

  /** Closes a session once nothing of it is outstanding (its number is not reused). */
  closeSession(no: number): void {
    const s = this.sessions.get(no);
    if (s && s.outstanding === 0 && s.waiting === 0) {
      this.sessions.delete(no);
      this.byWire.delete(s.no);
    }
  }

  /** The highest log index a session has seen (what its `token` carries). */
  lastIndex(no: number): number {
    return this.sessionOf(no).lastIndex;
  }

  /** Raises a session's read-your-writes point (a causal token from elsewhere). */
  observe(no: number, index: number): void {
    const s = this.sessionOf(no);
    if (index > s.lastIndex) s.lastIndex = index;
  }

  /** The node guessed to lead now. */
  get leaderIndex(): number {
    return this.leaderGuess % this.cluster.leaders.length;
  }

  /** Where the cluster is (after a reconfiguration). */
  setCluster(cluster: ClusterAddress): void {
    this.cluster = cluster;
  }

  private sessionOf(no: number): ClientSession {
    const s = this.sessions.get(no);
    if (!s) throw new RangeError(`no open session ${no} in client ${this.clientId}`);
    return s;
  }

  /** Commands and reads outstanding or waiting, over all sessions. */
  get pending(): number {
    let n = this.reads.size;
    for (const s of this.sessions.values()) n += s.outstanding + s.waiting;
    return n;
  }

  // ---------------------------------------------------------------- operations

  /** Adds a command (its bytes as the machine's client encoded them); `done` is called once. */
  execute(sessionNo: number, bytes: Uint8Array, deadline: number, done: Done): void {
    if (this.closed) {
      done({ kind: 'refused', reason: 'closed', message: 'the client is closed' });
      return;
    }
    const s = this.sessionOf(sessionNo);
    if (s.waiting === 0 && this.hasRoom(s)) {
      this.admit(s, bytes, done, deadline);
      return;
    }
    if (this.queuedTotal >= this.options.maxQueued) {
      done({ kind: 'refused', reason: 'overloaded', message: `${this.queuedTotal} commands already wait for room (maxQueued); nothing was sent` });
      return;
    }
    s.queuedBytes.push(bytes);
    s.queuedDone.push(done);
    s.queuedDeadline.push(deadline);
    this.queuedTotal++;
  }

  private hasRoom(s: ClientSession): boolean {
    return s.nextSeq - s.ack <= this.options.maxInflightPerSession;
  }

  private admit(s: ClientSession, bytes: Uint8Array, done: Done, deadline: number): void {
    s.nextSeq++;
    s.push(bytes, done, deadline);
    this.dirty.add(s);
  }

  /** Adds a read; `afterIndex` raises the session's own point (a causal token). */
  read(sessionNo: number, query: Uint8Array, consistency: ReadConsistency, afterIndex: number, deadline: number, done: Done): void {
    if (this.closed) {
      done({ kind: 'refused', reason: 'closed', message: 'the client is closed' });
      return;
    }
    if (this.reads.size >= this.options.maxReads) {
      done({ kind: 'refused', reason: 'overloaded', message: `${this.reads.size} reads outstanding (maxReads)` });
      return;
    }
    const s = this.sessionOf(sessionNo);
    const r: Read = { id: this.nextReadId++, session: s, query, consistency, afterIndex, done, deadline, sentAt: -1, attempts: 0 };
    this.reads.set(r.id, r);
    this.unsentReads.push(r);
  }

  /** Whether `flush` has something to send. */
  get wantsFlush(): boolean {
    return this.dirty.size > 0 || this.unsentReads.length > 0;
  }

  // ---------------------------------------------------------------- sending

  /** Sends what was added or must go again: one request (or a few, by `maxRequestBytes`) per target. */
  flush(io: ClientIO): void {
    const now = io.now();
    if (this.dirty.size > 0) this.flushCommands(io, now);
    if (this.unsentReads.length > 0) this.flushReads(io, now);
  }

  /**
   * Where a session's commands and leader reads go: the leader guessed; in a leaderless cluster,
   * the sessions of one client spread over the nodes from there.
   */
  private targetOf(s: ClientSession): ActorRef<any> {
    const leaders = this.cluster.leaders;
    return this.cluster.leaderless ? leaders[(this.leaderGuess + s.no) % leaders.length]! : leaders[this.leaderIndex]!;
  }

  private flushCommands(io: ClientIO, now: number): void {
    const w = this.writer;
    if (!this.cluster.leaderless) {
      const target = this.cluster.leaders[this.leaderIndex]!;
      for (const s of this.dirty) {
        if (s.resendAt > now) continue;
        this.dirty.delete(s);
        this.writeSession(io, s, target, now);
      }
      if (w.count > 0) this.sendRequest(io, target);
      return;
    }
    // Leaderless: one request (or a few, by the bounds) per node, sessions grouped by where they go.
    const byTarget = new Map<ActorRef<any>, ClientSession[]>();
    for (const s of this.dirty) {
      if (s.resendAt > now) continue;
      this.dirty.delete(s);
      const target = this.targetOf(s);
      const list = byTarget.get(target);
      if (list) list.push(s);
      else byTarget.set(target, [s]);
    }
    for (const [target, sessions] of byTarget) {
      for (const s of sessions) this.writeSession(io, s, target, now);
      if (w.count > 0) this.sendRequest(io, target);
    }
  }

  /** Adds a session's commands to send (to `target`) to the request being written, sending it whenever it is full. */
  private writeSession(io: ClientIO, s: ClientSession, target: ActorRef<any>, now: number): void {
    const w = this.writer;
    const max = this.options.maxRequestBytes;
    const maxCommands = this.options.maxRequestCommands;
    // From the first command to send again, or else the first never sent: the rest were sent.
    const from = Math.max(s.ack + 1, s.resendFrom > 0 ? Math.min(s.resendFrom, s.sentUpTo) : s.sentUpTo);
    s.resendFrom = 0;
    const answered = s.opAnswered;
    const opBytes = s.opBytes;
    for (let i = s.head + (from - s.ack - 1); i < s.end; i++) {
      if (answered[i]) continue;
      const bytes = opBytes[i]!;
      if (w.count > 0 && (w.bytes + bytes.length > max || w.count >= maxCommands)) this.sendRequest(io, target);
      w.add(s.no, s.ack, s.seqAt(i), bytes);
      s.opSentAt[i] = now;
    }
    s.sentUpTo = s.nextSeq;
  }

  private sendRequest(io: ClientIO, target: ActorRef<any>): void {
    const commands = this.writer.count;
    const bytes = this.writer.finish(this.clientId, io.sharedBytes === undefined ? undefined : (n) => io.sharedBytes!(n));
    io.send(target, { type: 'client-request', from: this.self, client: this.clientId, commands, bytes });
  }

  private flushReads(io: ClientIO, now: number): void {
    // One message per (target, consistency); a read may be served at any index past its own point.
    const groups = new Map<ActorRef<any>, Map<ReadConsistency, { after: number; reads: Read[] }>>();
    const later: Read[] = [];
    for (const r of this.unsentReads) {
      if (r.sentAt > now) {
        later.push(r);
        continue;
      }
      const toLeader = r.consistency === 'linearizable' || r.consistency === 'lease';
      const target = toLeader ? this.targetOf(r.session) : this.cluster.replicas[(this.nextReplica + r.attempts) % this.cluster.replicas.length]!;
      let byTarget = groups.get(target);
      if (!byTarget) {
        byTarget = new Map();
        groups.set(target, byTarget);
      }
      let g = byTarget.get(r.consistency);
      if (!g) {
        g = { after: 0, reads: [] };
        byTarget.set(r.consistency, g);
      }
      const after = r.consistency === 'eventual' ? r.afterIndex : Math.max(r.afterIndex, r.session.lastIndex);
      if (after > g.after) g.after = after;
      g.reads.push(r);
      r.sentAt = now;
    }
    this.unsentReads.length = 0;
    this.unsentReads.push(...later);
    this.nextReplica++;
    const w = this.readsWriter;
    for (const [target, byConsistency] of groups) {
      for (const [consistency, g] of byConsistency) {
        for (const r of g.reads) w.add(r.id, r.query);
        io.send(target, { type: 'client-reads', from: this.self, client: this.clientId, consistency, afterIndex: g.after, bytes: w.finish() });
      }
    }
  }

  // ---------------------------------------------------------------- receiving

  /** Handles a reply; returns whether `flush` has work now (commands admitted or to resend). */
  receive(m: ClientReply, now: number): boolean {
    switch (m.type) {
      case 'client-results':
        this.onResults(m, now);
        break;
      case 'client-read-results':
        this.onReadResults(m, now);
        break;
      case 'client-redirect':
        this.onRedirect(m, now);
        break;
    }
    return this.wantsFlush;
  }

  private onResults(m: MClientResults, now: number): void {
    this.heardAt = now;
    this.redirectStreak = 0;
    const r = this.reader.reset(m.bytes);
    const n = r.uvar();
    for (let i = 0; i < n; i++) {
      const sessionNo = r.uvar();
      const seq = r.uvar();
      const outcome = r.u8() as Outcome;
      const index = r.uvar();
      const bytes = r.bytesView();
      const s = this.byWire.get(sessionNo);
      if (!s || seq <= s.ack || seq >= s.nextSeq) continue; // an old duplicate
      const op = s.head + (seq - s.ack - 1);
      if (s.opAnswered[op]) continue;
      if (index > s.lastIndex && outcome !== Outcome.Gap && outcome !== Outcome.UnknownSession) s.lastIndex = index;
      switch (outcome) {
        case Outcome.Ok:
          this.answer(s, op, { kind: 'ok', bytes, index });
          break;
        case Outcome.Failed:
          this.answer(s, op, { kind: 'failed', message: text(bytes), index });
          break;
        case Outcome.QuotaExceeded:
          this.answer(s, op, { kind: 'quota', message: text(bytes), index });
          break;
        case Outcome.Forgotten:
          this.answer(s, op, {
            kind: 'unknown',
            detail: `command ${seq} of session ${this.clientId}/${sessionNo} was applied, and its result is no longer kept (the replicas keep sessionWindow results per session)`,
          });
          break;
        case Outcome.Gap:
          this.resend(s, now, 0);
          break;
        case Outcome.UnknownSession:
          if (s.ack === 0)
            this.resend(s, now, 0); // its first command is missing: send again from there
          else this.expire(s, now);
          break;
      }
    }
    this.settle();
  }

  /** Answers the command at index `op` of the session's columns. */
  private answer(s: ClientSession, op: number, c: Completion): void {
    s.take(op)?.(c);
    s.advance();
  }

  /**
   * The replicas no longer know this session (they keep `maxSessions`, least recently used
   * forgotten): its outstanding commands may or may not have taken effect, and none of them will
   * now. Later commands go in a new session of the same client.
   */
  private expire(s: ClientSession, now: number): void {
    const detail = `the replicas forgot session ${this.clientId}/${s.no} (more than maxSessions sessions were used since); it may have taken effect`;
    const told = this.takeUnanswered(s);
    s.clearOps();
    // The same session object lives on under a new number for the replicas (its callers keep the
    // number they have): its queue and read point stay.
    this.byWire.delete(s.no);
    s.no = this.nextSessionNo++;
    this.byWire.set(s.no, s);
    s.nextSeq = 1;
    s.ack = 0;
    s.sentUpTo = 1;
    void now;
    // Last: a caller told may issue its next command at once, into the renumbered session.
    for (const done of told) done({ kind: 'unknown', detail });
  }

  /** The callbacks of a session's unanswered commands, each taken (answered) so it is called once. */
  private takeUnanswered(s: ClientSession): Done[] {
    const told: Done[] = [];
    for (let i = s.head; i < s.end; i++) {
      if (s.opAnswered[i]) continue;
      const done = s.take(i);
      if (done) told.push(done);
    }
    return told;
  }

  /** Moves queued commands into windows with room. */
  private settle(): void {
    if (this.queuedTotal === 0) return;
    for (const s of this.sessions.values()) {
      while (s.waiting > 0 && this.hasRoom(s)) {
        const q = s.queuedHead++;
        const done = s.queuedDone[q]!;
        const bytes = s.queuedBytes[q]!;
        s.queuedDone[q] = NOOP;
        s.queuedBytes[q] = EMPTY;
        this.queuedTotal--;
        // Its caller stopped waiting before it was sent: it is not sent at all.
        if (done !== NOOP) this.admit(s, bytes, done, s.queuedDeadline[q]!);
      }
      if (s.queuedHead === s.queuedBytes.length) s.clearQueued();
    }
  }

  /** Sends a session's unanswered commands again, from its oldest, at `at` or later. */
  private resend(s: ClientSession, now: number, delayMs: number): void {
    if (s.outstanding === 0) return;
    s.resendFrom = s.ack + 1;
    s.resendAt = now + delayMs;
    this.dirty.add(s);
  }

  private onRedirect(m: MClientRedirect, now: number): void {
    const i = m.leader ? this.cluster.leaders.findIndex((l) => l.node === m.leader!.node && l.id === m.leader!.id) : -1;
    if (i >= 0 && !m.busy) this.leaderGuess = i;
    else if (!m.busy) this.leaderGuess++;
    // A hint is followed at once, but only a few times in a row: two nodes that each name the
    // other (stale hints mid-election) would otherwise bounce every request between them at
    // network speed, and duplicated messages would multiply the requests bouncing. After that,
    // redirects wait retryDelayMs, and the ones arriving meanwhile share one resend.
    const followAtOnce = i >= 0 && !m.busy && this.redirectStreak++ < this.cluster.leaders.length;
    const delay = followAtOnce ? 0 : this.options.retryDelayMs;
    if (m.reads) {
      for (const r of this.reads.values()) {
        const toLeader = r.consistency === 'linearizable' || r.consistency === 'lease';
        if (toLeader && r.sentAt >= 0 && r.sentAt <= now) {
          r.sentAt = now + delay;
          this.unsentReads.push(r);
        }
      }
      return;
    }
    for (const s of this.sessions.values()) if (s.outstanding > 0) this.resend(s, now, delay);
  }

  private onReadResults(m: MClientReadResults, now: number): void {
    this.heardAt = now;
    forEachEntry(m.bytes, (r) => {
      const id = r.uvar();
      const status = r.u8() as ReadStatus;
      const bytes = r.bytesView();
      const read = this.reads.get(id);
      if (!read) return;
      if (status === ReadStatus.Unavailable) {
        // This node cannot serve it now: another may (session and eventual reads), or later.
        read.attempts++;
        read.sentAt = now + this.options.retryDelayMs;
        this.unsentReads.push(read);
        return;
      }
      this.reads.delete(id);
      if (status === ReadStatus.Ok) {
        if (read.consistency !== 'eventual' && m.index > read.session.lastIndex) read.session.lastIndex = m.index;
        read.done({ kind: 'ok', bytes, index: m.index });
      } else {
        read.done({ kind: 'read-failed', message: text(bytes) });
      }
    });
  }

  // ---------------------------------------------------------------- time

  /**
   * Resends what went unanswered for `attemptTimeoutMs` (to the next leader guessed, when the
   * current one has been silent), and ends operations past their deadline. Returns whether
   * `flush` has work.
   */
  tick(now: number): boolean {
    const wait = this.options.attemptTimeoutMs;
    let silent = false;
    for (const s of this.sessions.values()) {
      // Each command's deadline only once one may have passed (tens of thousands may be in flight).
      if (now >= s.earliestDeadline) {
        let earliest = Number.POSITIVE_INFINITY;
        s.earliestDeadline = Number.POSITIVE_INFINITY; // lowered by commands a caller told issues meanwhile
        for (let i = s.head; i < s.end; i++) {
          const done = s.opDone[i] as Done | null;
          if (done === null) continue; // answered, or its caller was told already
          if (now < s.opDeadline[i]!) {
            earliest = Math.min(earliest, s.opDeadline[i]!);
            continue;
          }
          // Told now; still unanswered (it may yet be applied), so it stays in the window.
          s.opDone[i] = null;
          const seq = s.seqAt(i);
          done(
            s.opSentAt[i]! >= 0
              ? { kind: 'timeout', sent: true, detail: `command ${seq} of session ${this.clientId}/${s.no} got no answer` }
              : { kind: 'timeout', sent: false, detail: `command ${seq} of session ${this.clientId}/${s.no} could not be sent (no leader took it)` },
          );
        }
        s.earliestDeadline = Math.min(s.earliestDeadline, earliest);
      }
      if (s.outstanding > 0 && !s.opAnswered[s.head] && s.opSentAt[s.head]! >= 0 && now - s.opSentAt[s.head]! >= wait && s.resendFrom === 0) {
        silent = true;
        this.resend(s, now, 0);
      }
      // Queued operations past their deadline were never sent.
      for (let i = s.queuedHead; i < s.queuedBytes.length; i++) {
        const done = s.queuedDone[i]!;
        if (done !== NOOP && now >= s.queuedDeadline[i]!) {
          s.queuedDone[i] = NOOP;
          done({ kind: 'timeout', sent: false, detail: `it waited for room in session ${this.clientId}/${s.no} (maxInflightPerSession) and was not sent` });
        }
      }
    }
    for (const r of this.reads.values()) {
      if (now >= r.deadline) {
        this.reads.delete(r.id);
        const i = this.unsentReads.indexOf(r);
        if (i >= 0) this.unsentReads.splice(i, 1);
        r.done({ kind: 'timeout', sent: r.sentAt >= 0, detail: `${r.consistency} read got no answer` });
      } else if (r.sentAt >= 0 && r.sentAt <= now && now - r.sentAt >= wait && !this.unsentReads.includes(r)) {
        silent = true;
        r.attempts++;
        this.unsentReads.push(r);
      }
    }
    // Nothing heard from the leader guessed for a whole attempt: guess the next one.
    if (silent && now - this.heardAt >= wait) this.leaderGuess++;
    return this.wantsFlush;
  }

  /**
   * Ends every outstanding operation with `unknown` and `detail` (the replicas stopped; they
   * may have applied some), and stops sending them. New operations may still be issued.
   */
  abandonAll(detail: string): void {
    // Everything is taken first and the callers told last: one told may issue again at once, and
    // that must not be swept away with what was abandoned.
    const told: Done[] = [];
    for (const s of this.sessions.values()) {
      told.push(...this.takeUnanswered(s));
      s.clearOps();
      s.ack = s.nextSeq - 1;
      s.sentUpTo = s.nextSeq;
      for (let i = s.queuedHead; i < s.queuedBytes.length; i++) if (s.queuedDone[i] !== NOOP) told.push(s.queuedDone[i]!);
      s.clearQueued();
    }
    this.queuedTotal = 0;
    const reads = [...this.reads.values()];
    this.reads.clear();
    this.unsentReads.length = 0;
    this.dirty.clear();
    for (const done of told) done({ kind: 'unknown', detail });
    for (const r of reads) r.done({ kind: 'read-failed', message: detail });
  }

  /** Ends every operation (the host is shutting down); `detail` says why. */
  close(detail: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sessions.values()) {
      for (let i = s.head; i < s.end; i++) {
        const done = s.opDone[i] as Done | null;
        // Answered ones have no callback left (see `take`).
        if (done !== null) {
          s.opDone[i] = null;
          done({ kind: 'timeout', sent: s.opSentAt[i]! >= 0, detail });
        }
      }
      for (let i = s.queuedHead; i < s.queuedBytes.length; i++) {
        const done = s.queuedDone[i]!;
        s.queuedDone[i] = NOOP;
        if (done !== NOOP) done({ kind: 'refused', reason: 'closed', message: detail });
      }
    }
    for (const r of this.reads.values()) r.done({ kind: 'refused', reason: 'closed', message: detail });
    this.reads.clear();
    this.sessions.clear();
    this.byWire.clear();
  }
}

const EMPTY = new Uint8Array(0);
const NOOP: Done = () => {};
const utf8 = new TextDecoder();
function text(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}
