import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decode, encode } from '@synod/canonical';
import type { ActorRef } from '@synod/actors';
import {
  ClientAnswers,
  ClientCore,
  Executor,
  SlotBuilder,
  defineStateMachine,
  type ClientReply,
  type Completion,
  type MClientReads,
  type MClientRequest,
} from '../src/index.ts';

const Log = defineStateMachine({
  name: 'test-log',
  initial: () => [] as number[],
  apply: (s, x: number) => {
    s.push(x);
    return { state: s, result: s.length };
  },
  query: (s) => s.slice(),
});

const ref = (name: string, node: number): ActorRef<any> => ({ name, node, id: 1 });
const leaders = [ref('l0', 1), ref('l1', 2)];
const replicas = [ref('r0', 1), ref('r1', 2)];
const me = ref('me', 0) as ActorRef<ClientReply>;

/** A one-replica "cluster": what arrives at the leader is applied at once, unless `drop` says no. */
class Cluster {
  readonly executor = new Executor(Log.core);
  readonly answers = new ClientAnswers();
  readonly sent: { to: ActorRef<any>; m: MClientRequest | MClientReads }[] = [];
  readonly replies: ClientReply[] = [];
  now = 0;
  io = {
    send: (to: ActorRef<any>, m: MClientRequest | MClientReads) => {
      this.sent.push({ to, m });
    },
    now: () => this.now,
  };

  /** Applies every request sent so far (or those `pick` keeps), in one slot each. */
  deliver(pick: (i: number, m: MClientRequest) => boolean = () => true): void {
    const sent = this.sent.splice(0);
    sent.forEach(({ m }, i) => {
      if (m.type !== 'client-request' || !pick(i, m)) return;
      this.answers.route(m.client, m.from);
      const b = new SlotBuilder();
      b.add(m.bytes, m.commands);
      this.executor.applySlot(b.finish(), this.answers);
      this.answers.flushResults(this.executor.appliedUpTo, (_to, r) => this.replies.push(r));
    });
  }

  /** Hands every reply to the client. */
  answer(c: ClientCore): void {
    for (const r of this.replies.splice(0)) c.receive(r, this.now);
  }

  /** The client sends what it has, every request is applied, and every answer handed back. */
  roundTrip(c: ClientCore): void {
    c.flush(this.io);
    this.deliver();
    this.answer(c);
  }

  /** The replica forgets every session (as past `maxSessions`). */
  forgetSessions(): void {
    (this.executor as unknown as { sessions: { read(r: unknown): void } }).sessions.read({ uvar: () => 0 });
  }
}

function op(c: ClientCore, session: number, x: number, got: Completion[], deadline = 1e9): void {
  c.execute(session, encode(x), deadline, (d) => got.push(d));
}

/** A cluster and a client with one session, and where its completions go. */
function started(options: ConstructorParameters<typeof ClientCore>[3] = {}): { k: Cluster; c: ClientCore; s: number; got: Completion[] } {
  const k = new Cluster();
  const c = new ClientCore('c1', { leaders, replicas }, me, options);
  return { k, c, s: c.openSession(), got: [] };
}

const values = (got: Completion[]): unknown[] => got.map((g) => (g.kind === 'ok' ? decode(g.bytes) : g.kind));

test('operations issued together leave together, in one request', () => {
  const k = new Cluster();
  const c = new ClientCore('c1', { leaders, replicas }, me);
  const s = c.openSession();
  const got: Completion[] = [];
  for (let i = 1; i <= 3; i++) op(c, s, i, got);
  c.flush(k.io);
  assert.is(k.sent.length, 1);
  assert.is((k.sent[0]!.m as MClientRequest).commands, 3);
  k.deliver();
  k.answer(c);
  assert.equal(values(got), [1, 2, 3]);
  assert.equal(k.executor.state, [1, 2, 3]);
});

test('the in-flight bound per session holds exactly; waiting commands go as room appears', () => {
  const k = new Cluster();
  const c = new ClientCore('c1', { leaders, replicas }, me, { maxInflightPerSession: 2 });
  const s = c.openSession();
  const got: Completion[] = [];
  for (let i = 1; i <= 5; i++) op(c, s, i, got);
  for (let round = 0; round < 5 && got.length < 5; round++) {
    c.flush(k.io);
    const outstanding = k.sent.reduce((n, x) => n + (x.m as MClientRequest).commands, 0);
    assert.ok(outstanding <= 2, `${outstanding} commands in flight`);
    k.deliver();
    k.answer(c);
  }
  assert.equal(values(got), [1, 2, 3, 4, 5]);
});

test("a redirect sends the session's unanswered commands again, in order, to the leader named", () => {
  const k = new Cluster();
  const c = new ClientCore('c1', { leaders, replicas }, me);
  const s = c.openSession();
  const got: Completion[] = [];
  op(c, s, 1, got);
  op(c, s, 2, got);
  c.flush(k.io);
  k.sent.length = 0; // lost at a node that does not lead
  c.receive({ type: 'client-redirect', leader: leaders[1]!, reason: 'not the leader', busy: false, reads: false }, 0);
  c.flush(k.io);
  assert.is(k.sent[0]!.to, leaders[1]);
  k.deliver();
  k.answer(c);
  assert.equal(values(got), [1, 2]);
});

test("a gap: a session's later command is not applied before the missing one, which is sent again", () => {
  const { k, c, s, got } = started();
  op(c, s, 1, got);
  c.flush(k.io);
  op(c, s, 2, got);
  c.flush(k.io);
  k.deliver((i) => i === 1); // the first request is lost, the second arrives
  k.answer(c);
  assert.equal(got, [], 'command 2 waits for 1');
  assert.equal(k.executor.state, []);
  c.flush(k.io);
  k.deliver();
  k.answer(c);
  assert.equal(values(got), [1, 2]);
  assert.equal(k.executor.state, [1, 2], 'applied in the order issued');
});

test('a command whose caller timed out is still sent until answered, and answered once', () => {
  const k = new Cluster();
  const c = new ClientCore('c1', { leaders, replicas }, me, { attemptTimeoutMs: 100 });
  const s = c.openSession();
  const got: Completion[] = [];
  op(c, s, 7, got, 50);
  c.flush(k.io);
  k.sent.length = 0;
  k.now = 60;
  c.tick(k.now);
  assert.equal(got, [{ kind: 'timeout', sent: true, detail: got[0] && (got[0] as { detail: string }).detail }]);
  k.now = 200;
  assert.ok(c.tick(k.now), 'it is due again');
  c.flush(k.io);
  k.deliver();
  k.answer(c);
  assert.is(got.length, 1);
  assert.equal(k.executor.state, [7]);
  assert.is(c.pending, 0);
});

test('a queued command whose caller timed out is never sent', () => {
  const k = new Cluster();
  const c = new ClientCore('c1', { leaders, replicas }, me, { maxInflightPerSession: 1 });
  const s = c.openSession();
  const got: Completion[] = [];
  op(c, s, 1, got);
  op(c, s, 2, got, 10);
  c.flush(k.io);
  k.now = 20;
  c.tick(k.now);
  assert.equal(
    got.map((g) => g.kind === 'timeout' && g.sent),
    [false],
  );
  k.deliver();
  k.answer(c);
  c.flush(k.io);
  k.deliver();
  assert.equal(k.executor.state, [1]);
});

test('a session the replicas forgot: its outstanding commands are unknown, later ones go in a new session', () => {
  const k = new Cluster();
  const c = new ClientCore('c1', { leaders, replicas }, me, { maxInflightPerSession: 1 });
  const s = c.openSession();
  const got: Completion[] = [];
  op(c, s, 1, got);
  c.flush(k.io);
  k.deliver();
  k.answer(c);
  op(c, s, 2, got);
  op(c, s, 3, got);
  c.flush(k.io);
  k.forgetSessions();
  k.deliver();
  k.answer(c);
  k.roundTrip(c);
  assert.equal(
    got.map((g) => g.kind),
    ['ok', 'unknown', 'ok'],
  );
  assert.equal(k.executor.state, [1, 3], 'command 2 never took effect; 3 did, in a new session');
});

test('deadlines are kept per command whatever their order: each caller is told when its own passes, not before', () => {
  const { k, c, s, got } = started();
  op(c, s, 1, got, 100);
  op(c, s, 2, got, 50); // issued later, due sooner
  op(c, s, 3, got, 1e9);
  c.flush(k.io);
  k.now = 49;
  c.tick(k.now);
  assert.is(got.length, 0);
  k.now = 60;
  c.tick(k.now);
  assert.equal(
    got.map((g) => g.kind === 'timeout' && (g as { detail: string }).detail),
    [`command 2 of session c1/${s} got no answer`],
  );
  k.now = 100;
  c.tick(k.now);
  assert.equal(
    got.map((g) => g.kind === 'timeout' && (g as { detail: string }).detail),
    [`command 2 of session c1/${s} got no answer`, `command 1 of session c1/${s} got no answer`],
  );
  k.deliver();
  k.answer(c);
  assert.equal(values(got).slice(2), [3], 'the one still awaited is answered; the others were told once');
});

test('a caller told that its command is lost may issue again at once: that command is kept, sent and answered', () => {
  for (const how of ['forgotten', 'abandoned'] as const) {
    const { k, c, s, got } = started();
    op(c, s, 1, got);
    c.flush(k.io);
    k.deliver();
    k.answer(c);
    c.execute(s, encode(2), 1e9, (d) => {
      got.push(d);
      if (d.kind === 'unknown') op(c, s, 3, got); // at once, from inside the callback
    });
    c.flush(k.io);
    if (how === 'forgotten') {
      k.forgetSessions();
      k.deliver();
      k.answer(c);
    } else {
      // Command 2 is applied, and its answer never comes: the client gives up on everything.
      k.deliver();
      k.replies.length = 0;
      c.abandonAll('the replicas stopped answering');
    }
    assert.is(c.pending, 1, `${how}: the command issued from the callback waits`);
    k.roundTrip(c);
    assert.equal(
      got.map((g) => g.kind),
      ['ok', 'unknown', 'ok'],
      how,
    );
    assert.equal(k.executor.state.slice(-1), [3], how);
  }
});

test('reads: linearizable ones go to the leader guessed, session ones to a replica at the session point', () => {
  const k = new Cluster();
  const c = new ClientCore('c1', { leaders, replicas }, me);
  const s = c.openSession();
  const done: Completion[] = [];
  c.observe(s, 5);
  c.read(s, encode(null), 'linearizable', 0, 1e9, (d) => done.push(d));
  c.read(s, encode(null), 'session', 0, 1e9, (d) => done.push(d));
  c.flush(k.io);
  const [lin, ses] = k.sent.map((x) => x as { to: ActorRef<any>; m: MClientReads });
  assert.is(lin!.to, leaders[0]);
  assert.is(lin!.m.consistency, 'linearizable');
  assert.ok(replicas.includes(ses!.to));
  assert.is(ses!.m.afterIndex, 5);
});

test('two nodes that name each other as leader do not bounce requests at network speed: after a few hops the client waits retryDelayMs', () => {
  const k = new Cluster();
  const c = new ClientCore('c1', { leaders, replicas }, me, { retryDelayMs: 20 });
  const s = c.openSession();
  const got: Completion[] = [];
  op(c, s, 1, got);
  c.flush(k.io);
  // Every request is answered at once by a redirect to the other node, as two stale nodes would;
  // each redirect may also arrive twice (a duplicating network).
  let sentAtOnce = 0;
  for (let round = 0; round < 50; round++) {
    const sent = k.sent.splice(0);
    sentAtOnce += sent.length;
    for (const { to } of sent) {
      const other = to.node === leaders[0]!.node ? leaders[1]! : leaders[0]!;
      for (let d = 0; d < 2; d++) c.receive({ type: 'client-redirect', leader: other, reason: 'not the leader', busy: false, reads: false }, k.now);
    }
    c.flush(k.io);
  }
  // Without a bound: one request doubling every round. With it: a couple of hops, then nothing
  // until the retry delay has passed, and then one request for all the redirects that came.
  assert.ok(sentAtOnce <= leaders.length + 2, `${sentAtOnce} requests sent without waiting`);
  k.now += 20;
  c.flush(k.io);
  assert.is(k.sent.length, 1, 'one request after the delay');
  // Results reset the count: the next redirect is followed at once again.
  k.deliver();
  k.answer(c);
  assert.equal(values(got), [1]);
});

test.run();
