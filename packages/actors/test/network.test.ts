/**
 * Observation and partitions on a real (workers) system: `traceMessages` windows and
 * `isolate` / `heal`. No timing is asserted beyond "eventually".
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSystem, AskTimeoutError, type DeadLetter, type TraceWindow } from '@synod/actors';
import { Recorder, Sender } from './fixtures/misc.ts';

async function until(what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const started = Date.now();
  while (!(await fn())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('traceMessages: windows aligned on the clock hold the messages actors sent, with sender, target and type', async () => {
  const sys = await ActorSystem.start({ mode: 'workers', statsIntervalMs: 0, logLevel: 'silent' });
  try {
    const rec = await sys.spawn(Recorder, { name: 'rec' });
    const sender = await sys.spawn(Sender, { name: 'sender' });
    const windows: TraceWindow[] = [];
    sys.events.on('messages', (w) => windows.push(w));
    await sys.traceMessages({ periodMs: 50, windowMs: 25, maxPerWindow: 5 });
    const stop = Date.now() + 5000;
    // Keep traffic going until a window caught a burst from the sender's worker.
    while (!windows.some((w) => w.node === sender.node && w.messages.some((m) => m.type === 'n')) && Date.now() < stop) {
      sys.send(sender, { type: 'burst', to: rec, count: 10, tag: 'x' });
      await new Promise((r) => setTimeout(r, 5));
    }
    const w = windows.find((x) => x.node === sender.node && x.messages.some((m) => m.type === 'n'));
    assert.ok(w, 'a window from the sender worker with its burst');
    assert.is(w!.startMs % 50, 0);
    assert.ok(w!.messages.length <= 5, 'at most maxPerWindow recorded');
    const m = w!.messages.find((x) => x.type === 'n')!;
    assert.equal(m.from, [sender.node, sender.id]);
    assert.equal(m.to, [rec.node, rec.id]);
    assert.is(m.kind, 'send');
    for (const x of w!.messages) assert.ok(x.atMs >= w!.startMs && x.atMs < w!.startMs + 25, 'inside its window');
    // The main thread's own sends are traced too (node 0).
    await until('a main-thread window', () => windows.some((x) => x.node === 0 && x.messages.some((y) => y.type === 'burst')));
    await sys.traceMessages(null);
    const count = windows.length;
    sys.send(sender, { type: 'burst', to: rec, count: 10, tag: 'y' });
    await new Promise((r) => setTimeout(r, 150));
    assert.is(windows.length, count, 'no windows after turning it off');
  } finally {
    await sys.shutdown();
  }
});

test('isolate cuts a worker off both ways (dead letters), keeps it cut across a restart of its worker, and heal ends it', async () => {
  const sys = await ActorSystem.start({ mode: 'workers', statsIntervalMs: 0, logLevel: 'silent' });
  try {
    const rec = await sys.spawn(Recorder, { name: 'rec' });
    const sender = await sys.spawn(Sender, { name: 'sender' });
    const dead: DeadLetter[] = [];
    sys.events.on('dead-letter', (d) => dead.push(d));

    await sys.isolate(rec.node);
    assert.equal(sys.isolatedNodes(), [rec.node]);
    sys.send(sender, { type: 'burst', to: rec, count: 3, tag: 'cut' });
    await until('three dead letters', () => dead.filter((d) => d.messageType === 'n').length === 3);
    assert.ok(dead.every((d) => d.reason === 'unreachable' && /isolated/.test(d.detail ?? '')));
    // The main thread is cut off too: an ask gets no answer.
    try {
      await sys.ask(rec, { type: 'dump' }, { timeoutMs: 200 });
      assert.unreachable('the ask should time out');
    } catch (e) {
      assert.instance(e, AskTimeoutError);
    }

    // A restarted worker of an isolated node stays isolated.
    const restarted = new Promise<void>((r) => sys.events.once('actor:restarted', () => r()));
    await sys.killWorker(rec.node);
    await restarted;
    const before = dead.length;
    sys.send(sender, { type: 'burst', to: rec, count: 2, tag: 'still-cut' });
    await until('two more dead letters', () => dead.length >= before + 2);

    await sys.heal();
    assert.equal(sys.isolatedNodes(), []);
    sys.send(sender, { type: 'burst', to: rec, count: 2, tag: 'healed' });
    await until('healed messages arrive', async () => (await sys.ask<{ tag: string }[]>(rec, { type: 'dump' })).length === 2);
    const got = await sys.ask<{ tag: string }[]>(rec, { type: 'dump' });
    assert.equal(
      got.map((g) => g.tag),
      ['healed', 'healed'],
    );
  } finally {
    await sys.shutdown();
  }
});

test('isolate refuses a node that is not a worker', async () => {
  const sys = await ActorSystem.start({ mode: 'workers', statsIntervalMs: 0, logLevel: 'silent' });
  try {
    await sys.spawn(Recorder, { name: 'rec' });
    try {
      await sys.isolate(0);
      assert.unreachable();
    } catch (e) {
      assert.match((e as Error).message, /no worker node 0/);
    }
    try {
      await sys.traceMessages({ windowMs: 2000, periodMs: 1000 });
      assert.unreachable();
    } catch (e) {
      assert.match((e as Error).message, /windowMs/);
    }
  } finally {
    await sys.shutdown();
  }
});

test.run();
