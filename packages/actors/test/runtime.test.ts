import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ActorSystem,
  ActorInitError,
  ActorLoadError,
  ActorNotFoundError,
  AskTimeoutError,
  DuplicateNameError,
  MessageEncodingError,
  SystemStoppedError,
  type DeadLetter,
  type ActorRef,
} from '@synod/actors';
import { Counter } from './fixtures/counter.ts';
import { Recorder, Sender, ThrowsInInit, hiddenDefinition, NoModule, Slow } from './fixtures/misc.ts';

const modes = ['embedded', 'workers'] as const;

function waitFor<T>(fn: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      const v = fn();
      if (v !== undefined && v !== false) return resolve(v);
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

for (const mode of modes) {
  const t = suite(`runtime (${mode})`);

  t('spawn, send and ask', async () => {
    const sys = await ActorSystem.start({ mode, statsIntervalMs: 0 });
    try {
      const c = await sys.spawn(Counter, { name: 'c', args: { start: 40 } });
      assert.is(c.name, 'c');
      sys.send(c, { type: 'inc' });
      sys.send(c, { type: 'inc', by: 1 });
      assert.is(await sys.ask(c, { type: 'get' }), 42);
      assert.equal(sys.lookup('c'), c);
    } finally {
      await sys.shutdown();
    }
  });

  t('FIFO between two actors, and messages from actors to actors', async () => {
    const sys = await ActorSystem.start({ mode, statsIntervalMs: 0 });
    try {
      const rec = await sys.spawn(Recorder, { name: 'rec' });
      const s1 = await sys.spawn(Sender, { name: 's1' });
      const s2 = await sys.spawn(Sender, { name: 's2' });
      sys.send(s1, { type: 'burst', to: rec, count: 500, tag: 'a' });
      sys.send(s2, { type: 'burst', to: rec, count: 500, tag: 'b' });
      const got = await waitForDump(sys, rec, 1000);
      for (const tag of ['a', 'b']) {
        const seq = got.filter((m: any) => m.tag === tag).map((m: any) => m.i);
        assert.equal(
          seq,
          Array.from({ length: 500 }, (_, i) => i),
          `order of ${tag}`,
        );
      }
    } finally {
      await sys.shutdown();
    }
  });

  t('ask timeout names the target, the message type and the timeout', async () => {
    const sys = await ActorSystem.start({ mode, statsIntervalMs: 0 });
    try {
      const quiet = await sys.spawn(Slow, { name: 'quiet' }); // never replies to 'dump'
      try {
        await sys.ask(quiet, { type: 'dump' } as any, { timeoutMs: 50 });
        assert.unreachable('should time out');
      } catch (e) {
        assert.instance(e, AskTimeoutError);
        const msg = (e as Error).message;
        assert.match(msg, '"quiet"');
        assert.match(msg, '"dump"');
        assert.match(msg, '50 ms');
      }
      // the same from inside an actor (ctx.ask)
      const s = await sys.spawn(Sender, { name: 'asker' });
      const report = await sys.spawn(Recorder, { name: 'report' });
      sys.send(s, { type: 'ask-other', to: quiet, timeoutMs: 30, reportTo: report });
      const [r] = await waitForDump(sys, report, 1);
      assert.is(r.type, 'err');
      assert.is(r.name, 'AskTimeoutError');
      assert.match(r.message, '"quiet"');
    } finally {
      await sys.shutdown();
    }
  });

  t('ctx.ask resolves with the reply of another actor', async () => {
    const sys = await ActorSystem.start({ mode, statsIntervalMs: 0 });
    try {
      const rec = await sys.spawn(Recorder, { name: 'r' });
      sys.send(rec, { type: 'x', v: 1 });
      const s = await sys.spawn(Sender, { name: 's' });
      const report = await sys.spawn(Recorder, { name: 'report' });
      sys.send(s, { type: 'ask-other', to: rec, timeoutMs: 5000, reportTo: report });
      const [r] = await waitForDump(sys, report, 1);
      assert.equal(r, { type: 'ok', value: [{ type: 'x', v: 1 }] });
    } finally {
      await sys.shutdown();
    }
  });

  t('timers fire once, can be replaced and cancelled', async () => {
    const sys = await ActorSystem.start({ mode, statsIntervalMs: 0 });
    try {
      const s = await sys.spawn(Sender, { name: 'timers' });
      sys.send(s, { type: 'timer', key: 'a', delayMs: 10, note: 'a1' });
      sys.send(s, { type: 'timer', key: 'a', delayMs: 20, note: 'a2' }); // replaces a1
      sys.send(s, { type: 'timer', key: 'b', delayMs: 10, note: 'b' });
      sys.send(s, { type: 'cancel', key: 'b' });
      sys.send(s, { type: 'timer', key: 'c', delayMs: 5, note: 'c' });
      const fired = await waitForAsync(async () => {
        const list = await sys.ask<string[]>(s, { type: 'fired-list' });
        return list.length >= 2 ? list : undefined;
      }, 'two timers');
      await new Promise((r) => setTimeout(r, 30)); // b (10 ms) would have fired by now
      assert.equal(fired, ['c', 'a2']);
      assert.equal(await sys.ask(s, { type: 'fired-list' }), ['c', 'a2']);
    } finally {
      await sys.shutdown();
    }
  });

  t('ctx.random is seeded: same seed and name give the same numbers', async () => {
    const draw = async (seed: number) => {
      const sys = await ActorSystem.start({ mode, seed, statsIntervalMs: 0 });
      try {
        const s = await sys.spawn(Sender, { name: 'dice' });
        return await sys.ask<number[]>(s, { type: 'rand' });
      } finally {
        await sys.shutdown();
      }
    };
    const a = await draw(7);
    assert.equal(await draw(7), a);
    assert.not.equal(await draw(8), a);
    for (const x of a) assert.ok(x >= 0 && x < 1);
  });

  t('ctx.spawn puts a named child next to its parent; stopping the parent stops it', async () => {
    const sys = await ActorSystem.start({ mode, statsIntervalMs: 0 });
    try {
      const p = await sys.spawn(Sender, { name: 'parent' });
      const child = await sys.ask<ActorRef<any>>(p, { type: 'spawn-child', name: 'kid' });
      assert.is(child.name, 'parent/kid');
      assert.is(child.node, p.node);
      sys.send(child, { type: 'hello' });
      assert.equal(await sys.ask(child, { type: 'dump' }), [{ type: 'hello' }]);
      const stopped: string[] = [];
      sys.events.on('actor:stopped', (e) => stopped.push(e.ref.name));
      await sys.stop(p);
      await waitFor(() => stopped.length === 2 || undefined, 'two stop events');
      assert.equal(new Set(stopped), new Set(['parent', 'parent/kid']));
    } finally {
      await sys.shutdown();
    }
  });

  t('mailbox overflow drops the newest and reports a dead letter; enqueue waits for room', async () => {
    const sys = await ActorSystem.start({ mode, statsIntervalMs: 0, mailboxCapacity: 4 });
    try {
      const slow = await sys.spawn(Slow, { name: 'slow' });
      const dead: DeadLetter[] = [];
      sys.events.on('dead-letter', (d) => dead.push(d));
      for (let i = 0; i < 50; i++) sys.send(slow, { type: 'work', ms: 2 });
      await waitFor(() => dead.some((d) => d.reason === 'mailbox-full') || undefined, 'a mailbox-full dead letter');
      const d = dead.find((x) => x.reason === 'mailbox-full')!;
      assert.is(d.messageType, 'work');
      const handled = await waitForCount(sys, slow, 50 - dead.length);
      assert.ok(handled < 50, 'some were dropped');
      // With enqueue, nothing is dropped.
      const before = await sys.ask<number>(slow, { type: 'count' });
      const deadBefore = dead.length;
      await Promise.all(Array.from({ length: 30 }, () => sys.enqueue(slow, { type: 'work', ms: 1 }, { timeoutMs: 10_000 })));
      assert.is(await waitForCount(sys, slow, before + 30), before + 30);
      assert.is(dead.length, deadBefore);
    } finally {
      await sys.shutdown();
    }
  });

  t('bad input gets a clear error and the system stays up', async () => {
    const sys = await ActorSystem.start({ mode, statsIntervalMs: 0 });
    try {
      const c = await sys.spawn(Counter, { name: 'ok' });
      // a message that is not plain data
      assert.throws(
        () => sys.send(c, { type: 'inc', by: (() => 1) as any }),
        (e: Error) => e instanceof MessageEncodingError && /function/.test(e.message),
      );
      // an init that throws
      try {
        await sys.spawn(ThrowsInInit, { name: 'bad-init' });
        assert.unreachable();
      } catch (e) {
        assert.instance(e, ActorInitError);
        assert.match((e as Error).message, 'init refuses');
      }
      // a duplicate name
      try {
        await sys.spawn(Counter, { name: 'ok' });
        assert.unreachable();
      } catch (e) {
        assert.instance(e, DuplicateNameError);
      }
      if (mode === 'workers') {
        // a definition that is not exported, and one without a module
        try {
          await sys.spawn(hiddenDefinition[0]!, { name: 'hidden' });
          assert.unreachable();
        } catch (e) {
          assert.instance(e, ActorLoadError);
          assert.match((e as Error).message, 'not exported');
        }
        try {
          await sys.spawn(NoModule, { name: 'nomodule' });
          assert.unreachable();
        } catch (e) {
          assert.instance(e, ActorLoadError);
          assert.match((e as Error).message, 'import.meta.url');
        }
      }
      // an unknown or stopped target
      const gone = await sys.spawn(Counter, { name: 'gone' });
      await sys.stop(gone);
      assert.throws(
        () => sys.send(gone, { type: 'inc' }),
        (e: Error) => e instanceof ActorNotFoundError && /"gone"/.test(e.message),
      );
      // the good actor still works
      sys.send(c, { type: 'inc' });
      assert.is(await sys.ask(c, { type: 'get' }), 1);
      // an actor that sends a bad message crashes with a clear error, others keep going
      const crashes: string[] = [];
      sys.events.on('actor:crashed', (e) => crashes.push(e.error.message));
      const s = await sys.spawn(Sender, { name: 'sends-bad' });
      sys.send(s, { type: 'send-bad', to: c });
      await waitFor(() => crashes.length > 0 || undefined, 'crash event');
      assert.match(crashes[0]!, 'function');
      assert.is(await sys.ask(c, { type: 'get' }), 1);
    } finally {
      await sys.shutdown();
    }
    // after shutdown
    assert.throws(
      () => sys.send({ name: 'x', node: 0, id: 1 }, {}),
      (e: Error) => e instanceof SystemStoppedError,
    );
    try {
      await sys.spawn(Counter, { name: 'late' });
      assert.unreachable();
    } catch (e) {
      assert.instance(e, SystemStoppedError);
    }
  });

  t('shutdown stops actors in reverse start order and resolves when all are gone', async () => {
    const sys = await ActorSystem.start({ mode, statsIntervalMs: 0 });
    const order: string[] = [];
    sys.events.on('actor:stopped', (e) => order.push(e.ref.name));
    await sys.spawn(Counter, { name: 'first' });
    await sys.spawn(Counter, { name: 'second' });
    await sys.spawn(Counter, { name: 'third' });
    await sys.shutdown();
    assert.equal(order, ['third', 'second', 'first']);
    assert.is(sys.running, false);
  });

  t('statistics events report messages per second and mailbox depth', async () => {
    const sys = await ActorSystem.start({ mode, statsIntervalMs: 50 });
    try {
      const c = await sys.spawn(Counter, { name: 'busy' });
      const reports: any[] = [];
      sys.events.on('stats', (r) => reports.push(r));
      const until = Date.now() + 300;
      while (Date.now() < until) {
        for (let i = 0; i < 100; i++) sys.send(c, { type: 'inc' });
        await new Promise((r) => setTimeout(r, 5));
      }
      await waitFor(
        () => reports.some((r) => r.actors.some((a: any) => a.name === 'busy' && a.messagesPerSecond > 0)) || undefined,
        'a stats report with a rate',
      );
      const a = reports.flatMap((r) => r.actors).find((x: any) => x.name === 'busy');
      assert.type(a.mailbox, 'number');
    } finally {
      await sys.shutdown();
    }
  });

  t.run();
}

async function waitForAsync<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 5000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function waitForDump(sys: ActorSystem, rec: ActorRef<any>, count: number): Promise<any[]> {
  const started = Date.now();
  for (;;) {
    const got = await sys.ask<any[]>(rec, { type: 'dump' });
    if (got.length >= count) return got;
    if (Date.now() - started > 5000) throw new Error(`only ${got.length} of ${count} arrived`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function waitForCount(sys: ActorSystem, ref: ActorRef<any>, atLeast: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const n = await sys.ask<number>(ref, { type: 'count' }, { timeoutMs: 10_000 });
    if (n >= atLeast) return n;
    if (Date.now() - started > 10_000) return n;
    await new Promise((r) => setTimeout(r, 10));
  }
}
