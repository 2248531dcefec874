/**
 * A hand-driven cluster of RaftNodes for tests of single rules of the paper: the tests call the
 * node's `init` and `receive` directly with a recording context, and decide which message is
 * delivered or dropped and when time moves, as etcd's raft_paper_test.go steps messages into a
 * node and reads what it sends. Replicas are stood in for: what is sent to them is recorded.
 * (Randomised fault schedules are the simulation campaign's business.)
 */
import { type ActorContext, type ActorRef, type PersistKey, type ReplyToken } from '@synod/actors';
import { Prng } from '@synod/actors/internals';
import { RaftNode, type RaftMsg, type RaftNodeArgs, type RaftNodeState, type RaftOptions } from '@synod/raft';
import { ReadsWriter, RequestWriter, SlotReader, type MClientReads, type MClientRequest, type ReadConsistency } from '@synod/smr';

export interface Packet {
  from: ActorRef<any> | null;
  to: ActorRef<any>;
  msg: any;
  corr: number;
}

interface Member {
  ref: ActorRef<RaftMsg>;
  args: RaftNodeArgs;
  state: RaftNodeState;
  ctx: Ctx;
  /** What persistEntry wrote, as a store keeps it. */
  durable: Map<PersistKey, unknown>;
  up: boolean;
}

class Ctx implements ActorContext<RaftMsg, never> {
  current: Packet | null = null;
  readonly timers = new Map<string, { at: number; msg: RaftMsg }>();
  readonly rng: Prng;
  readonly errors: string[] = [];
  readonly log = {
    debug() {},
    info() {},
    warn: (m: string) => {
      this.errors.push(m);
    },
    error: (m: string) => {
      this.errors.push(m);
    },
  } as any;
  constructor(
    readonly net: RaftNet,
    readonly member: Member,
    seed: string,
  ) {
    this.rng = new Prng(seed);
  }
  get self() {
    return this.member.ref;
  }
  get sender() {
    return this.current?.from ?? undefined;
  }
  send(to: ActorRef<any>, message: unknown) {
    this.net.post(this.member.ref, to, message, 0);
  }
  reply(message: unknown) {
    const p = this.current;
    if (p?.from) this.net.post(this.member.ref, p.from, message, p.corr);
  }
  replyToken(): ReplyToken | undefined {
    const p = this.current;
    return p?.from ? { to: p.from, corr: p.corr } : undefined;
  }
  respond(token: ReplyToken, message: unknown) {
    this.net.post(this.member.ref, token.to, message, token.corr);
  }
  ask(): Promise<never> {
    throw new Error('not used by the protocol core');
  }
  setTimer(key: string, delayMs: number, message: RaftMsg) {
    this.timers.set(key, { at: this.net.time + delayMs, msg: message });
  }
  cancelTimer(key: string) {
    this.timers.delete(key);
  }
  now() {
    return this.net.time;
  }
  random() {
    return this.rng.next();
  }
  persist(): void {
    throw new Error('a RaftNode persists keyed entries only');
  }
  persistEntry(key: PersistKey, value: unknown) {
    if (value === undefined) this.member.durable.delete(key);
    else this.member.durable.set(key, structuredClone(value));
    this.net.persists++;
  }
  recoveredEntries() {
    return new Map(this.member.durable);
  }
  sharedBytes(n: number) {
    return new Uint8Array(n);
  }
  get snapshots(): never {
    throw new Error('a RaftNode keeps no snapshots (its replica does)');
  }
  spawn(): never {
    throw new Error('not used by the protocol core');
  }
  stop() {}
  watch() {}
  unwatch() {}
}

/** A client's ref: what is sent to it is recorded in `sent` (and answers to asks in `answers`). */
export const CLIENT: ActorRef<any> = { name: 'client', node: 0, id: 1 };

export class RaftNet {
  time = 0;
  persists = 0;
  inFlight: Packet[] = [];
  /** Everything ever sent. */
  readonly sent: Packet[] = [];
  readonly members: Member[] = [];
  readonly refs: ActorRef<RaftMsg>[];
  readonly replicas: ActorRef<any>[];
  private nextCorr = 1;

  /** `n` nodes with these options (defaults suited to hand-driven tests: no cold-start campaign). */
  constructor(
    readonly n: number,
    readonly options: Partial<RaftOptions> = {},
  ) {
    this.refs = Array.from({ length: n }, (_, i) => ({ name: `raft-${i}`, node: 1 + i, id: 1 }));
    this.replicas = Array.from({ length: n }, (_, i) => ({ name: `replica-${i}`, node: 1 + i, id: 2 }));
    for (let i = 0; i < n; i++) {
      const args: RaftNodeArgs = { index: i, size: n, nodes: this.refs, replicas: this.replicas, options: { preferredLeader: -1, ...options } };
      const m = { ref: this.refs[i]!, args, state: undefined as never, ctx: undefined as never, durable: new Map(), up: true } as Member;
      m.ctx = new Ctx(this, m, `raft-${i}/0`);
      m.state = RaftNode.init(args, m.ctx, undefined);
      this.members.push(m);
    }
  }

  state(i: number): RaftNodeState {
    return this.members[i]!.state;
  }
  durable(i: number): Map<PersistKey, unknown> {
    return this.members[i]!.durable;
  }
  errors(i: number): string[] {
    return this.members[i]!.ctx.errors;
  }

  /** Crash node i: it stops; messages to it are lost; its timers die with it. */
  crash(i: number): void {
    const m = this.members[i]!;
    m.up = false;
    m.ctx.timers.clear();
  }

  /** Restart node i from what it persisted (as a supervisor would, same ref). */
  restart(i: number): void {
    const m = this.members[i]!;
    m.ctx = new Ctx(this, m, `raft-${i}/${this.time}`);
    m.state = RaftNode.init(m.args, m.ctx, undefined);
    m.up = true;
  }

  post(from: ActorRef<any> | null, to: ActorRef<any>, msg: unknown, corr: number): void {
    const p = { from, to, msg, corr };
    this.inFlight.push(p);
    this.sent.push(p);
  }

  /** Sends `msg` to node i from outside (no sender). */
  tell(i: number, msg: RaftMsg): void {
    this.post(null, this.refs[i]!, msg, 0);
  }
  /** Sends `msg` to node i as the client (answers come back to CLIENT). */
  ask(i: number, msg: RaftMsg): number {
    const corr = this.nextCorr++;
    this.post(CLIENT, this.refs[i]!, msg, corr);
    return corr;
  }

  /** Delivers one packet now (to a node that is up; others lose it). */
  deliver(p: Packet): void {
    const k = this.inFlight.indexOf(p);
    if (k >= 0) this.inFlight.splice(k, 1);
    const m = this.members.find((x) => x.ref.name === p.to.name);
    if (!m || !m.up) return;
    m.ctx.current = p;
    RaftNode.receive(m.state, p.msg, m.ctx);
    m.ctx.current = null;
  }

  /** Steps one message straight into node i, as if `from` sent it (etcd's `r.Step`). */
  step(i: number, msg: RaftMsg, from: ActorRef<any> | null = null): void {
    this.deliver({ from, to: this.refs[i]!, msg, corr: 0 });
  }

  /** Delivers packets to nodes in order until none is left, dropping those `drop` says. Replica and client packets stay recorded. */
  run(opts: { drop?: (p: Packet) => boolean; maxSteps?: number } = {}): number {
    let steps = 0;
    const max = opts.maxSteps ?? 100_000;
    for (;;) {
      const k = this.inFlight.findIndex((p) => this.members.some((m) => m.ref.name === p.to.name));
      if (k < 0 || steps >= max) break;
      const p = this.inFlight.splice(k, 1)[0]!;
      steps++;
      if (opts.drop?.(p)) continue;
      this.deliver(p);
    }
    return steps;
  }

  /** Moves time forward, firing due timers in time order (each followed by `run`, unless `quiet`). */
  advance(ms: number, opts: { drop?: (p: Packet) => boolean; quiet?: boolean } = {}): void {
    const until = this.time + ms;
    for (;;) {
      let next: { m: Member; key: string; at: number; msg: RaftMsg } | null = null;
      for (const m of this.members) {
        if (!m.up) continue;
        for (const [key, t] of m.ctx.timers) if (t.at <= until && (!next || t.at < next.at)) next = { m, key, at: t.at, msg: t.msg };
      }
      if (!next) break;
      this.time = Math.max(this.time, next.at);
      next.m.ctx.timers.delete(next.key);
      this.deliver({ from: next.m.ref, to: next.m.ref, msg: next.msg, corr: 0 });
      if (!opts.quiet) this.run(opts);
    }
    this.time = until;
  }

  /** Packets in flight (to anyone) of a type. */
  pending(type: string): Packet[] {
    return this.inFlight.filter((p) => p.msg?.type === type);
  }
  /** Packets ever sent of a type. */
  sentOf(type: string): Packet[] {
    return this.sent.filter((p) => p.msg?.type === type);
  }
  /** Forgets what was sent (to read only what comes next). */
  clearSent(): void {
    this.sent.length = 0;
  }
  /** Drops every packet in flight. */
  clearInFlight(): void {
    this.inFlight.length = 0;
  }

  /** Runs time until node `i` leads (it campaigns first: the others' timers are far off). */
  elect(i: number): void {
    for (const m of this.members) m.state.electionDeadline = Number.POSITIVE_INFINITY;
    this.state(i).electionDeadline = this.time;
    this.advance(this.options.tickMs ?? 10);
    this.run();
    if (this.state(i).status !== 'leader') throw new Error(`node ${i} was not elected (it is ${this.state(i).status} in term ${this.state(i).term})`);
    // Entries to followers, their answers, the commit: all delivered.
    this.run();
  }

  /** The log of node i as terms, from its first index. */
  terms(i: number): number[] {
    return this.state(i).log.entries.map((e) => e.term);
  }
}

const utf8 = new TextEncoder();
let nextSeq = 0;

/**
 * A client's request of `n` commands (session 1), written as ClientCore writes it: the bytes that
 * will sit in the log. Its outcomes go to `from`.
 */
export function request(n = 1, client = 'c', from: ActorRef<any> = CLIENT): MClientRequest {
  const w = new RequestWriter();
  for (let k = 0; k < n; k++) {
    const seq = ++nextSeq;
    w.add(1, 0, seq, utf8.encode(`set k ${seq}`));
  }
  return { type: 'client-request', from, client, commands: n, bytes: w.finish(client) };
}

/** A client's reads (one query each, ids as given); the answers go to `from`. */
export function reads(consistency: ReadConsistency, ids: number[] = [1], from: ActorRef<any> = CLIENT): MClientReads {
  const w = new ReadsWriter();
  for (const id of ids) w.add(id, utf8.encode('get k'));
  return { type: 'client-reads', from, client: 'c', consistency, afterIndex: 0, bytes: w.finish() };
}

/** The number of commands in each request of an entry's value. */
export function commandsIn(value: Uint8Array | null): number[] {
  if (value === null) return [];
  const r = new SlotReader().reset(value);
  const out: number[] = [];
  while (r.nextRequest()) out.push(r.commandCount);
  return out;
}
