import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decode, encode } from '@synod/canonical';
import { ClientAnswers, Executor, Outcome, RequestWriter, defineStateMachine, slotOf, type MachineCore } from '../src/index.ts';

const Counter = defineStateMachine({
  name: 'test-counter',
  initial: () => ({ n: 0 }),
  apply(s, c: { by?: number; throw?: unknown; fn?: boolean }) {
    if ('throw' in c) {
      s.n += 1000; // changed before throwing: kept
      throw c.throw;
    }
    s.n += c.by ?? 0;
    return { state: s, result: c.fn ? () => s.n : s.n };
  },
  query: (s) => s.n,
});

type Got = [client: string, session: number, seq: number, outcome: Outcome, value: unknown][];

function sink(): { got: Got; result: (c: string, s: number, q: number, o: Outcome, b: Uint8Array) => void } {
  const got: Got = [];
  return { got, result: (c, s, q, o, b) => got.push([c, s, q, o, o === Outcome.Ok ? decode(b) : new TextDecoder().decode(b)]) };
}

function request(client: string, commands: [session: number, seq: number, cmd: unknown, ack?: number][]): Uint8Array {
  const w = new RequestWriter();
  for (const [s, q, c, ack] of commands) w.add(s, ack ?? 0, q, encode(c));
  return w.finish(client);
}

test('a slot in shared memory is applied from a copy of its own: the machine may keep views of its commands', () => {
  // A machine that keeps its last command as a view, as the ReplicatedMap does with its values.
  const Keeper: MachineCore<{ last: Uint8Array | null }> = {
    initial: () => ({ last: null }),
    apply: (s, command) => ({ state: { last: command.subarray(0) }, result: new Uint8Array(0) }),
    query: () => new Uint8Array(0),
    snapshot: () => ({ next: () => null }),
    restore: () => ({ add() {}, finish: () => ({ last: null }) }),
  };
  const e = new Executor(Keeper);
  const slot = slotOf([request('a', [[1, 1, 'kept']])]);
  const shared = new Uint8Array(new SharedArrayBuffer(slot.length + 5)).subarray(5);
  shared.set(slot);
  e.applySlot(shared, null);
  shared.fill(0); // the arena block reused
  const kept = e.state.last!;
  assert.ok(!(kept.buffer instanceof SharedArrayBuffer), 'not a view of shared memory');
  assert.is(decode(kept), 'kept');
});

test('a command is applied once per session number; a retried one gets its kept result', () => {
  const e = new Executor(Counter.core);
  const out = sink();
  e.applySlot(
    slotOf([
      request('a', [
        [1, 1, { by: 5 }],
        [1, 2, { by: 1 }],
      ]),
    ]),
    out,
  );
  e.applySlot(slotOf([request('a', [[1, 2, { by: 1 }]])]), out);
  assert.equal(out.got, [
    ['a', 1, 1, Outcome.Ok, 5],
    ['a', 1, 2, Outcome.Ok, 6],
    ['a', 1, 2, Outcome.Ok, 6],
  ]);
  assert.equal(e.state, { n: 6 });
  assert.is(e.appliedUpTo, 2);
});

test("a session's commands apply in order: a later one before a missing one is a gap, not applied", () => {
  const e = new Executor(Counter.core);
  const out = sink();
  e.applySlot(
    slotOf([
      request('a', [
        [1, 1, { by: 1 }],
        [1, 3, { by: 100 }],
      ]),
    ]),
    out,
  );
  assert.equal(
    out.got.map((g) => g[3]),
    [Outcome.Ok, Outcome.Gap],
  );
  assert.equal(e.state, { n: 1 });
  e.applySlot(
    slotOf([
      request('a', [
        [1, 2, { by: 10 }],
        [1, 3, { by: 100 }],
      ]),
    ]),
    out,
  );
  assert.equal(e.state, { n: 111 });
  // A new session's first command missing: its later ones are refused as an unknown session.
  e.applySlot(slotOf([request('b', [[1, 2, { by: 1 }]])]), out);
  assert.is(out.got.at(-1)![3], Outcome.UnknownSession);
});

test('whatever apply throws becomes the same Failed outcome everywhere, and the replica goes on (issue 13, case 1)', () => {
  const weird: unknown[] = [
    Object.create(null),
    new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
        getPrototypeOf() {
          throw new Error('no');
        },
      },
    ),
    42,
    'text',
    new RangeError('bad'),
    null,
    Symbol('s'),
  ];
  const run = (): string[] =>
    weird.map((w) => {
      const m: MachineCore<{ n: number }> = {
        ...(Counter.core as MachineCore<{ n: number }>),
        apply: () => {
          throw w;
        },
      };
      const e = new Executor(m);
      const out = sink();
      e.applySlot(slotOf([request('c', [[1, 1, {}]])]), out);
      assert.is(e.appliedUpTo, 1);
      return `${out.got[0]![3]}:${String(out.got[0]![4])}`;
    });
  const [a, b] = [run(), run()];
  assert.equal(a, b, 'the same outcome on every replica');
  assert.ok(a.every((r) => r.startsWith(`${Outcome.Failed}:`)));
  assert.match(a[0]!, /an object that is not an Error/);
  assert.match(a[4]!, /RangeError: bad/);
  const e = new Executor(Counter.core);
  e.applySlot(slotOf([request('c', [[1, 1, { throw: 'x' }]])]), null);
  assert.equal(e.state, { n: 1000 }, 'what apply changed before throwing is kept');
  e.applySlot(slotOf([request('c', [[1, 2, { by: 1 }]])]), null);
  assert.equal(e.state, { n: 1001 }, 'and the replica goes on');
});

test('a result that is not plain data fails the command and keeps the state it changed', () => {
  const e = new Executor(Counter.core);
  const out = sink();
  e.applySlot(slotOf([request('a', [[1, 1, { by: 3, fn: true }]])]), out);
  assert.is(out.got[0]![3], Outcome.Failed);
  assert.match(String(out.got[0]![4]), /not plain data.*kept/);
  assert.equal(e.state, { n: 3 });
});

test('past maxStateBytes commands are refused, those that free space go on', () => {
  const Bag = defineStateMachine({
    name: 'test-bag',
    initial: () => [] as string[],
    apply: (s, c: { add?: string; clear?: true }) => (c.clear ? { state: [], result: 0 } : (s.push(c.add!), { state: s, result: s.length })),
    query: (s) => s.length,
    size: (s) => s.reduce((n, x) => n + x.length, 0),
    frees: (c) => c.clear === true,
  });
  const e = new Executor(Bag.core, { maxSessions: 10, sessionWindow: 10, maxStateBytes: 100 });
  const out = sink();
  e.applySlot(
    slotOf([
      request('a', [
        [1, 1, { add: 'x'.repeat(80) }],
        [1, 2, { add: 'y'.repeat(30) }],
        [1, 3, { clear: true }],
        [1, 4, { add: 'z' }],
      ]),
    ]),
    out,
  );
  assert.equal(
    out.got.map((g) => g[3]),
    [Outcome.Ok, Outcome.QuotaExceeded, Outcome.Ok, Outcome.Ok],
  );
  assert.match(String(out.got[1]![4]), /maxStateBytes \(100\)/);
});

test('replicas applying the same log have the same digest; a non-deterministic machine shows', () => {
  let calls = 0;
  const Flaky: MachineCore<number> = {
    ...(Counter.core as unknown as MachineCore<number>),
    initial: () => 0,
    apply: (s) => ({ state: s + 1, result: encode(calls++ % 2) }),
  };
  const log = [
    slotOf([
      request('a', [
        [1, 1, {}],
        [1, 2, {}],
      ]),
    ]),
    null,
    slotOf([request('b', [[1, 1, {}]])]),
  ];
  const digests = (core: MachineCore<any>): number => {
    const e = new Executor(core);
    for (const v of log) e.applySlot(v, null);
    return e.digest;
  };
  assert.is(digests(Counter.core), digests(Counter.core));
  calls = 0;
  const first = digests(Flaky);
  assert.is.not(first, digests(Flaky));
});

test('a snapshot installs state, sessions and digest: a retry after it still gets its result', () => {
  const a = new Executor(Counter.core);
  a.applySlot(slotOf([request('a', [[1, 1, { by: 2 }]])]), null);
  const { header, source } = a.snapshot();
  const sinkState = Counter.core.restore();
  for (let c = source.next(4); c; c = source.next(4)) sinkState.add(c);
  const b = new Executor(Counter.core);
  b.install(header, sinkState.finish(), 0);
  assert.is(b.appliedUpTo, 1);
  assert.is(b.digest, a.digest);
  const out = sink();
  b.applySlot(
    slotOf([
      request('a', [
        [1, 1, { by: 2 }],
        [1, 2, { by: 1 }],
      ]),
    ]),
    out,
  );
  assert.equal(
    out.got.map((g) => g[4]),
    [2, 3],
  );
});

test('a snapshot keeps kept results of every length: retries after it get each one back', () => {
  const Echo = defineStateMachine({
    name: 'test-echo',
    initial: () => ({}),
    apply: (s, c: { len: number }) => ({ state: s, result: 'r'.repeat(c.len) }),
    query: () => null,
  });
  // Short ones (written by hand) and long ones, enough of them to grow the snapshot's writer.
  const lens = Array.from({ length: 3000 }, (_, i) => [0, 1, 5, 120, 125, 126, 127, 300, 5000][i % 9]!);
  const a = new Executor(Echo.core);
  a.applySlot(
    slotOf([
      request(
        'a',
        lens.map((len, i) => [1, i + 1, { len }] as [number, number, unknown]),
      ),
    ]),
    null,
  );
  const { header, source } = a.snapshot();
  const state = Echo.core.restore();
  for (let c = source.next(1024); c; c = source.next(1024)) state.add(c);
  const b = new Executor(Echo.core);
  b.install(header, state.finish(), 0);
  const out = sink();
  b.applySlot(
    slotOf([
      request(
        'a',
        lens.map((len, i) => [1, i + 1, { len: len + 1 }] as [number, number, unknown]),
      ),
    ]),
    out,
  );
  assert.is(out.got.length, lens.length);
  out.got.forEach((g, i) => assert.is(g[4], 'r'.repeat(lens[i]!), `kept result of command ${i + 1}`));
});

test('results are kept until acknowledged, and at most sessionWindow', () => {
  const e = new Executor(Counter.core, { maxSessions: 10, sessionWindow: 3, maxStateBytes: 1e9 });
  e.applySlot(
    slotOf([
      request('a', [
        [1, 1, { by: 1 }],
        [1, 2, { by: 1 }],
        [1, 3, { by: 1 }],
        [1, 4, { by: 1 }],
      ]),
    ]),
    null,
  );
  assert.is(e.sessions.get('a', 1)!.kept, 3);
  e.applySlot(slotOf([request('a', [[1, 5, { by: 1 }, 4]])]), null);
  assert.is(e.sessions.get('a', 1)!.kept, 1, 'acknowledged results are dropped');
  const out = sink();
  e.applySlot(slotOf([request('a', [[1, 2, { by: 1 }]])]), out);
  assert.is(out.got[0]![3], Outcome.Forgotten);
});

test('outcomes go to routed clients only, one message per client', () => {
  const e = new Executor(Counter.core);
  const answers = new ClientAnswers();
  const me = { name: 'c', node: 0, id: 9 };
  answers.route('a', me);
  e.applySlot(slotOf([request('a', [[1, 1, { by: 1 }]]), request('b', [[1, 1, { by: 1 }]]), request('a', [[2, 1, { by: 1 }]])]), answers);
  const sent: unknown[] = [];
  answers.flushResults(e.appliedUpTo, (to, m) => sent.push([to, m.type]));
  assert.equal(sent, [[me, 'client-results']]);
});

test.run();
