import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSystem, type ActorRef, type SystemEvents } from '@synod/actors';
import { Crashy } from './fixtures/crashy.ts';

type Ev<K extends keyof SystemEvents> = Parameters<SystemEvents[K]>[0];

function collect<K extends keyof SystemEvents>(sys: ActorSystem, name: K): Ev<K>[] {
  const out: Ev<K>[] = [];
  sys.events.on(name, ((e: Ev<K>) => out.push(e)) as any);
  return out;
}

async function until(what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const started = Date.now();
  while (!(await fn())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Asks until the actor answers (it may be restarting). */
async function count(sys: ActorSystem, ref: ActorRef<any>): Promise<number> {
  for (let i = 0; ; i++) {
    try {
      return await sys.ask<number>(ref, { type: 'get' }, { timeoutMs: 500 });
    } catch (e) {
      if (i > 40) throw e;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function threeChildren(strategy: 'one-for-one' | 'one-for-all' | 'rest-for-one') {
  const sys = await ActorSystem.start({ mode: 'workers', statsIntervalMs: 0, logLevel: 'silent' });
  const sup = await sys.supervise({
    name: 'sup',
    strategy,
    backoff: { initialMs: 1, jitter: 0 },
    children: ['a', 'b', 'c'].map((name) => ({ actor: Crashy, name })),
  });
  const [a, b, c] = sup.actors() as ActorRef<any>[];
  for (const r of [a!, b!, c!]) for (let i = 0; i < 5; i++) sys.send(r, { type: 'inc' });
  for (const r of [a!, b!, c!]) assert.is(await count(sys, r), 5);
  return { sys, sup, a: a!, b: b!, c: c! };
}

test('one-for-one restarts only the crashed child, under the same ref', async () => {
  const { sys, a, b, c } = await threeChildren('one-for-one');
  try {
    const restarted = collect(sys, 'actor:restarted');
    sys.send(b, { type: 'boom' });
    await until('b restarted', () => restarted.length === 1);
    assert.equal(
      restarted.map((e) => e.ref.name),
      ['b'],
    );
    assert.equal([await count(sys, a), await count(sys, b), await count(sys, c)], [5, 0, 5]);
  } finally {
    await sys.shutdown();
  }
});

test('one-for-all restarts every child when one crashes', async () => {
  const { sys, a, b, c } = await threeChildren('one-for-all');
  try {
    const restarted = collect(sys, 'actor:restarted');
    sys.send(b, { type: 'boom' });
    await until('all restarted', () => restarted.length === 3);
    assert.equal(
      restarted.map((e) => e.ref.name),
      ['a', 'b', 'c'],
    );
    assert.equal([await count(sys, a), await count(sys, b), await count(sys, c)], [0, 0, 0]);
  } finally {
    await sys.shutdown();
  }
});

test('rest-for-one restarts the crashed child and those started after it', async () => {
  const { sys, a, b, c } = await threeChildren('rest-for-one');
  try {
    const restarted = collect(sys, 'actor:restarted');
    sys.send(b, { type: 'boom' });
    await until('b and c restarted', () => restarted.length === 2);
    assert.equal(
      restarted.map((e) => e.ref.name),
      ['b', 'c'],
    );
    assert.equal([await count(sys, a), await count(sys, b), await count(sys, c)], [5, 0, 0]);
  } finally {
    await sys.shutdown();
  }
});

test('restart types: permanent always, transient after a crash only, temporary never', async () => {
  const sys = await ActorSystem.start({ mode: 'workers', statsIntervalMs: 0, logLevel: 'silent', supervision: { backoff: { initialMs: 1 } } });
  try {
    const restarted = collect(sys, 'actor:restarted');
    const stopped = collect(sys, 'actor:stopped');
    const perm = await sys.spawn(Crashy, { name: 'perm', restart: 'permanent' });
    const trans = await sys.spawn(Crashy, { name: 'trans', restart: 'transient' });
    const temp = await sys.spawn(Crashy, { name: 'temp', restart: 'temporary' });
    // a normal stop
    sys.send(perm, { type: 'stop' });
    sys.send(trans, { type: 'stop' });
    await until('perm restarted and trans stopped', () => restarted.some((e) => e.ref.name === 'perm') && stopped.some((e) => e.ref.name === 'trans'));
    assert.is(sys.lookup('trans'), undefined);
    assert.is(await count(sys, perm), 0);
    // a crash
    const trans2 = await sys.spawn(Crashy, { name: 'trans2', restart: 'transient' });
    sys.send(trans2, { type: 'boom' });
    sys.send(temp, { type: 'boom' });
    await until('trans2 restarted and temp gone', () => restarted.some((e) => e.ref.name === 'trans2') && stopped.some((e) => e.ref.name === 'temp'));
    assert.is(await count(sys, trans2), 0);
    assert.is(sys.lookup('temp'), undefined);
    assert.not.ok(restarted.some((e) => e.ref.name === 'temp' || e.ref.name === 'trans'));
  } finally {
    await sys.shutdown();
  }
});

test('each way a worker actor can die is detected and the actor serves again: throw, process.exit, uncaught error, endless loop', async () => {
  const sys = await ActorSystem.start({
    mode: 'workers',
    statsIntervalMs: 0,
    logLevel: 'silent',
    heartbeat: { intervalMs: 20, timeoutMs: 300 },
    supervision: { backoff: { initialMs: 1 } },
  });
  try {
    const crashed = collect(sys, 'actor:crashed');
    const exited = collect(sys, 'worker:exited');
    const x = await sys.spawn(Crashy, { name: 'x' });
    const ways = [
      { msg: { type: 'boom' as const }, expect: /boom on purpose/ },
      { msg: { type: 'exit' as const }, expect: /exited with code 3/ },
      { msg: { type: 'uncaught' as const }, expect: /uncaught on purpose/ },
      { msg: { type: 'loop' as const }, expect: /stopped answering heartbeats/ },
    ];
    for (const way of ways) {
      sys.send(x, { type: 'inc' });
      await until('the inc to land', async () => (await count(sys, x)) === 1);
      const before = crashed.length;
      sys.send(x, way.msg);
      await until(`a crash after ${way.msg.type}`, () => crashed.length > before);
      assert.match(crashed[crashed.length - 1]!.error.message, way.expect, way.msg.type);
      // same ref, fresh state, serving again
      await until(`x serving again after ${way.msg.type}`, async () => (await count(sys, x)) === 0);
    }
    assert.ok(exited.length >= 3, 'exit, uncaught error and endless loop end the worker');
  } finally {
    await sys.shutdown();
  }
});

test('restart intensity: a supervisor that gives up escalates; its parent restarts the subtree', async () => {
  const sys = await ActorSystem.start({ mode: 'workers', statsIntervalMs: 0, logLevel: 'silent', supervision: { backoff: { initialMs: 1 } } });
  try {
    const escalated = collect(sys, 'supervisor:escalated');
    const sub = await sys.supervise({ name: 'sub', maxRestarts: 2, windowMs: 60_000, backoff: { initialMs: 1 }, children: [{ actor: Crashy, name: 'flaky' }] });
    const flaky = sub.actors()[0]!;
    for (let i = 0; i < 3; i++) {
      sys.send(flaky, { type: 'boom' });
      await until(`crash ${i + 1} handled`, async () => (await count(sys, flaky)) === 0 || escalated.length > 0);
    }
    await until('escalation', () => escalated.length === 1);
    assert.is(escalated[0]!.supervisor, 'sub');
    assert.match(escalated[0]!.reason, 'more than 2 restarts');
    // the root restarted the subtree: same ref serves again
    await until('flaky back', async () => (await count(sys, flaky)) === 0);
  } finally {
    await sys.shutdown();
  }
});

test('at the root, giving up fails the system, which shuts down cleanly', async () => {
  const sys = await ActorSystem.start({ mode: 'workers', statsIntervalMs: 0, logLevel: 'silent', supervision: { maxRestarts: 1, backoff: { initialMs: 1 } } });
  const failed = collect(sys, 'system:failed');
  const stoppedSys = new Promise<void>((r) => sys.events.once('system:stopped', () => r()));
  const x = await sys.spawn(Crashy, { name: 'x' });
  sys.send(x, { type: 'boom' });
  await until('restart', async () => (await count(sys, x)) === 0);
  sys.send(x, { type: 'boom' });
  await stoppedSys;
  assert.is(failed.length, 1);
  assert.match(failed[0]!.reason, 'more than 1 restarts');
  assert.is(sys.running, false);
  assert.throws(() => sys.send(x, { type: 'inc' }), /shut down/);
});

test('restarts back off exponentially with jitter, bounded by maxMs', async () => {
  const sys = await ActorSystem.start({
    mode: 'workers',
    statsIntervalMs: 0,
    logLevel: 'silent',
    supervision: { maxRestarts: 100, backoff: { initialMs: 10, factor: 2, maxMs: 45, jitter: 0.2 } },
  });
  try {
    const restarted = collect(sys, 'actor:restarted');
    const x = await sys.spawn(Crashy, { name: 'x' });
    for (let i = 0; i < 5; i++) {
      sys.send(x, { type: 'boom' });
      await until(`restart ${i + 1}`, () => restarted.length === i + 1);
    }
    const delays = restarted.map((e) => e.delayMs);
    const attempts = restarted.map((e) => e.attempt);
    assert.equal(attempts, [1, 2, 3, 4, 5]);
    const expected = [10, 20, 40, 45, 45];
    delays.forEach((d, i) => assert.ok(d >= expected[i]! * 0.8 - 1 && d <= expected[i]! * 1.2 + 1, `delay ${i + 1} = ${d}, expected ~${expected[i]}`));
  } finally {
    await sys.shutdown();
  }
});

test('messages to a crashed actor, while it waits for its restart, are dead letters', async () => {
  const sys = await ActorSystem.start({ mode: 'workers', statsIntervalMs: 0, logLevel: 'silent', supervision: { backoff: { initialMs: 200, jitter: 0 } } });
  try {
    const dead = collect(sys, 'dead-letter');
    const crashed = collect(sys, 'actor:crashed');
    const x = await sys.spawn(Crashy, { name: 'x' });
    sys.send(x, { type: 'boom' });
    await until('crash', () => crashed.length === 1);
    sys.send(x, { type: 'inc' }); // during the 200 ms backoff
    await until('dead letter', () => dead.some((d) => d.messageType === 'inc'));
    assert.ok(['actor-crashed', 'no-such-actor'].includes(dead.find((d) => d.messageType === 'inc')!.reason));
  } finally {
    await sys.shutdown();
  }
});

for (const mode of ['workers', 'embedded'] as const) {
  test(`an init that throws during a restart is a crash (an event) and counts toward the restart intensity (${mode})`, async () => {
    const sys = await ActorSystem.start({ mode, statsIntervalMs: 0, logLevel: 'silent', supervision: { backoff: { initialMs: 1 } } });
    try {
      const escalated = collect(sys, 'supervisor:escalated');
      const crashed = collect(sys, 'actor:crashed');
      const restarted = collect(sys, 'actor:restarted');
      const sub = await sys.supervise({
        name: 'sub',
        maxRestarts: 3,
        backoff: { initialMs: 1 },
        restart: 'temporary',
        children: [{ actor: Crashy, name: 'bad-restart', args: { failInitOnRestart: true } }],
      });
      sys.send(sub.actors()[0]!, { type: 'boom' });
      await until('escalation after repeated init failures', () => escalated.length === 1);
      assert.match(escalated[0]!.reason, 'more than 3 restarts');
      // The crash in receive, then three restarts whose init threw: each one an event, none a restart.
      assert.equal(
        crashed.map((e) => [e.ref.name, e.during]),
        [
          ['bad-restart', 'receive'],
          ['bad-restart', 'init'],
          ['bad-restart', 'init'],
          ['bad-restart', 'init'],
        ],
      );
      for (const e of crashed.slice(1)) assert.match(e.error.message, 'init fails on restart on purpose');
      assert.is(restarted.length, 0);
      await until('the temporary subtree is gone', () => sys.lookup('bad-restart') === undefined);
    } finally {
      await sys.shutdown();
    }
  });
}

test('supervision works the same in embedded mode', async () => {
  const sys = await ActorSystem.start({ mode: 'embedded', statsIntervalMs: 0, logLevel: 'silent' });
  try {
    const sup = await sys.supervise({
      name: 's',
      strategy: 'one-for-all',
      backoff: { initialMs: 1 },
      children: [
        { actor: Crashy, name: 'p' },
        { actor: Crashy, name: 'q' },
      ],
    });
    const [p, q] = sup.actors();
    const restarted = collect(sys, 'actor:restarted');
    sys.send(q!, { type: 'inc' });
    sys.send(p!, { type: 'boom' });
    await until('both restarted', () => restarted.length === 2);
    assert.is(await count(sys, q!), 0);
  } finally {
    await sys.shutdown();
  }
});

test.run();
