/**
 * A tiny hand-driven network for unit tests of the pure protocol cores: the tests call each
 * role's `init` and `receive` directly with a recording context, and decide which message is
 * delivered, dropped or duplicated, and when time moves. (Randomised fault campaigns use the
 * simulator; these tests pin down single sentences of the seed.)
 */
import { MemorySnapshotStore, type ActorContext, type ActorDefinition, type ActorRef, type PersistKey, type ReplyToken } from '@synod/actors';
import { Prng } from '@synod/actors/internals';
import { encode } from '@synod/canonical';
import { RequestWriter, SlotReader, defineStateMachine, slotOf, type MClientRequest } from '@synod/smr';

/** A counter machine for replica tests: `apply(by)` adds `by` and answers the new count. */
export const Counter = defineStateMachine({
  module: import.meta.url,
  name: 'counter',
  initial: () => ({ n: 0 }),
  apply: (s: { n: number }, by: number) => {
    s.n += by;
    return { state: s, result: s.n };
  },
  query: (s: { n: number }) => s.n,
});

export interface Packet {
  from: ActorRef<any> | null;
  to: ActorRef<any>;
  msg: any;
  corr: number;
}

interface Node {
  ref: ActorRef<any>;
  def: ActorDefinition<any, any, any, any>;
  args: unknown;
  state: any;
  ctx: FakeContext;
  /** What persist/persistEntry wrote, as a store would keep it. */
  durable: { state?: unknown; hasState: boolean; entries: Map<PersistKey, unknown> };
  up: boolean;
  /** Its snapshots (ctx.snapshots), kept across restarts like `durable`. */
  snapshots?: MemorySnapshotStore;
}

export class FakeContext implements ActorContext<any, any> {
  current: Packet | null = null;
  readonly timers = new Map<string, { at: number; msg: unknown }>();
  readonly rng: Prng;
  readonly log = { debug() {}, info() {}, warn() {}, error() {} };
  constructor(
    readonly net: Net,
    readonly node: Node,
  ) {
    this.rng = new Prng(node.ref.name);
  }
  get self() {
    return this.node.ref;
  }
  get sender() {
    return this.current?.from ?? undefined;
  }
  send(to: ActorRef<any>, message: unknown) {
    this.net.post(this.node.ref, to, message, 0);
  }
  reply(message: unknown) {
    const p = this.current;
    if (p?.from) this.net.post(this.node.ref, p.from, message, p.corr);
  }
  replyToken(): ReplyToken | undefined {
    const p = this.current;
    return p?.from ? { to: p.from, corr: p.corr } : undefined;
  }
  respond(token: ReplyToken, message: unknown) {
    this.net.post(this.node.ref, token.to, message, token.corr);
  }
  ask(): Promise<never> {
    throw new Error('not used by the protocol cores');
  }
  setTimer(key: string, delayMs: number, message: unknown) {
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
  persist(state: unknown) {
    this.node.durable.state = structuredClone(state);
    this.node.durable.hasState = true;
    this.net.persists++;
  }
  persistEntry(key: PersistKey, value: unknown) {
    if (value === undefined) this.node.durable.entries.delete(key);
    else this.node.durable.entries.set(key, structuredClone(value));
    this.net.persists++;
  }
  recoveredEntries() {
    return new Map(this.node.durable.entries);
  }
  sharedBytes(n: number) {
    return new Uint8Array(n);
  }
  get snapshots() {
    return (this.node.snapshots ??= new MemorySnapshotStore());
  }
  spawn(): never {
    throw new Error('not used by the protocol cores');
  }
  stop() {}
  watch() {}
  unwatch() {}
}

/** The test network: a list of packets in flight and the actors they go to. */
export class Net {
  time = 0;
  persists = 0;
  inFlight: Packet[] = [];
  /** Everything ever sent, for assertions. */
  readonly sent: Packet[] = [];
  /** Answers to the test's own asks, by correlation id. */
  readonly answers = new Map<number, unknown>();
  private readonly nodes = new Map<string, Node>();
  private nextId = 1;
  private nextCorr = 1;
  readonly client: ActorRef<any> = { name: 'client', node: 0, id: 0 };

  spawn<A>(def: ActorDefinition<any, any, A, any>, name: string, args: A): ActorRef<any> {
    const ref: ActorRef<any> = { name, node: 1, id: this.nextId++ };
    const node: Node = { ref, def, args, state: undefined, ctx: undefined as never, durable: { hasState: false, entries: new Map() }, up: true };
    node.ctx = new FakeContext(this, node);
    this.nodes.set(name, node);
    node.state = def.init(args, node.ctx, undefined);
    return ref;
  }

  /** Crash and restart with what was persisted (as a supervisor would, same ref). */
  restart(name: string, args?: unknown): void {
    const node = this.node(name);
    if (args !== undefined) node.args = args;
    node.ctx = new FakeContext(this, node);
    node.state = node.def.init(node.args, node.ctx, node.durable.hasState ? structuredClone(node.durable.state) : undefined);
    node.up = true;
  }

  /** Crash: the actor stops answering; messages to it are lost. */
  crash(name: string): void {
    this.node(name).up = false;
  }

  node(name: string): Node {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no actor ${name}`);
    return n;
  }

  state<S = any>(name: string): S {
    return this.node(name).state;
  }

  post(from: ActorRef<any> | null, to: ActorRef<any>, msg: unknown, corr: number): void {
    const p = { from, to, msg, corr };
    this.inFlight.push(p);
    this.sent.push(p);
  }

  /** The test sends as a client; the answer lands in `answers` under the returned id. */
  ask(to: ActorRef<any>, msg: unknown): number {
    const corr = this.nextCorr++;
    this.post(this.client, to, msg, corr);
    return corr;
  }

  tell(to: ActorRef<any>, msg: unknown): void {
    this.post(null, to, msg, 0);
  }

  /** Delivers one packet now. */
  deliver(p: Packet): void {
    const i = this.inFlight.indexOf(p);
    if (i >= 0) this.inFlight.splice(i, 1);
    if (p.to.name === 'client') {
      this.answers.set(p.corr, p.msg);
      return;
    }
    const node = [...this.nodes.values()].find((n) => n.ref.id === p.to.id && n.ref.node === p.to.node);
    if (!node || !node.up) return;
    node.ctx.current = p;
    const next = node.def.receive(node.state, p.msg, node.ctx);
    if (next !== undefined) node.state = next;
    node.ctx.current = null;
  }

  /**
   * Delivers packets in order until none is left (or `maxSteps`), dropping those `drop` says,
   * duplicating those `dup` says.
   */
  run(opts: { drop?: (p: Packet) => boolean; dup?: (p: Packet) => boolean; maxSteps?: number } = {}): number {
    let steps = 0;
    const max = opts.maxSteps ?? 100_000;
    while (this.inFlight.length > 0 && steps < max) {
      const p = this.inFlight.shift()!;
      steps++;
      if (opts.drop?.(p)) continue;
      if (opts.dup?.(p)) this.inFlight.push({ ...p });
      this.deliver(p);
    }
    return steps;
  }

  /** Moves time forward, firing due timers (in time order). */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      let next: { node: Node; key: string; at: number; msg: unknown } | null = null;
      for (const node of this.nodes.values()) {
        if (!node.up) continue;
        for (const [key, t] of node.ctx.timers) if (t.at <= until && (!next || t.at < next.at)) next = { node, key, at: t.at, msg: t.msg };
      }
      if (!next) break;
      this.time = Math.max(this.time, next.at);
      next.node.ctx.timers.delete(next.key);
      this.deliver({ from: next.node.ref, to: next.node.ref, msg: next.msg, corr: 0 });
    }
    this.time = until;
  }

  /** Packets in flight of a message type. */
  pending(type: string): Packet[] {
    return this.inFlight.filter((p) => p.msg?.type === type);
  }
  sentOf(type: string): Packet[] {
    return this.sent.filter((p) => p.msg?.type === type);
  }
}

// ------------------------------------------------------------------ the client protocol, by hand

/** A client's request of commands (session 1 unless said), as the client protocol sends it. */
export function requestOf(client: string, from: ActorRef<any>, commands: { seq: number; bytes: Uint8Array; session?: number }[]): MClientRequest {
  const w = new RequestWriter();
  for (const c of commands) w.add(c.session ?? 1, 0, c.seq, c.bytes);
  return { type: 'client-request', from, client, commands: commands.length, bytes: w.finish(client) };
}

/** The commands of a slot value, in order. */
export function commandsIn(value: Uint8Array | null): { client: string; session: number; seq: number; command: Uint8Array }[] {
  const out: { client: string; session: number; seq: number; command: Uint8Array }[] = [];
  if (value === null) return out;
  const r = new SlotReader().reset(value);
  while (r.nextRequest())
    while (r.nextCommand()) out.push({ client: r.clientId, session: r.sessionNos[r.sessionIndex]!, seq: r.seq, command: r.command.slice() });
  return out;
}

/** A slot value of one request of `client`'s session 1 (commands encoded canonically). */
export function slotWith(client: string, commands: { seq: number; value: unknown }[]): Uint8Array {
  const w = new RequestWriter();
  for (const c of commands) w.add(1, 0, c.seq, encode(c.value));
  return slotOf([w.finish(client)]);
}
