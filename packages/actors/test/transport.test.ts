import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSystem, ControlError, type DeadLetter } from '@synod/actors';
import { Echo, Recorder, Slow, pingCodecs } from './fixtures/misc.ts';

async function dumpWhen(sys: ActorSystem, ref: any, n: number): Promise<any[]> {
  const started = Date.now();
  for (;;) {
    const got = await sys.ask<any[]>(ref, { type: 'dump' });
    if (got.length >= n || Date.now() - started > 5000) return got;
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const transport of ['rings', 'ports'] as const) {
  test(`messages with a codec cross workers as bytes and arrive equal, in order with cloned ones (${transport})`, async () => {
    const sys = await ActorSystem.start({ transport, mode: 'workers', statsIntervalMs: 0, codecs: [pingCodecs] });
    try {
      const rec = await sys.spawn(Recorder, { name: 'rec' });
      const relay = await sys.spawn(Echo, { name: 'relay' });
      const msgs: any[] = [];
      for (let i = 0; i < 300; i++) {
        msgs.push(
          i % 3 === 0
            ? { type: 'ping', seq: i, payload: i % 2 ? 'ascii' : 'ünïcødé ✓ '.repeat(i % 7) }
            : { type: 'other', seq: i, nested: { list: [i, 'x'], when: new Date(0) } },
        );
      }
      sys.send(relay, { type: 'relay', to: rec, msgs });
      assert.equal(await dumpWhen(sys, rec, 300), msgs);
    } finally {
      await sys.shutdown();
    }
  });

  test(`one message object sent to several actors of a worker arrives intact at each (encoded once) (${transport})`, async () => {
    const sys = await ActorSystem.start({ transport, mode: 'workers', statsIntervalMs: 0, codecs: [pingCodecs] });
    try {
      const r1 = await sys.spawn(Recorder, { name: 'r1', worker: 'sinks' });
      const r2 = await sys.spawn(Recorder, { name: 'r2', worker: 'sinks' });
      const relay = await sys.spawn(Echo, { name: 'relay' });
      const msgs = [
        { type: 'ping', seq: 1, payload: 'a' },
        { type: 'ping', seq: 2, payload: 'b' },
        { type: 'other', n: 3 },
      ];
      sys.send(relay, { type: 'fanout', to: [r1, r2], msgs });
      assert.equal(await dumpWhen(sys, r1, 3), msgs);
      assert.equal(await dumpWhen(sys, r2, 3), msgs);
    } finally {
      await sys.shutdown();
    }
  });

  test(`actors given the same worker key share one worker; others get their own (${transport})`, async () => {
    const sys = await ActorSystem.start({ transport, mode: 'workers', statsIntervalMs: 0 });
    try {
      const a = await sys.spawn(Echo, { name: 'a', worker: 'w1' });
      const b = await sys.spawn(Echo, { name: 'b', worker: 'w1' });
      const c = await sys.spawn(Echo, { name: 'c' });
      assert.is(a.node, b.node);
      assert.is.not(a.node, c.node);
      assert.is(sys.workerNodes().length, 2);
      assert.equal(await sys.ask(b, { type: 'hi' }), { type: 'hi' });
    } finally {
      await sys.shutdown();
    }
  });

  test(`a message that cannot be cloned becomes a dead letter; the rest of its batch arrives (${transport})`, async () => {
    const sys = await ActorSystem.start({ transport, mode: 'workers', statsIntervalMs: 0, validateMessages: false });
    try {
      const rec = await sys.spawn(Recorder, { name: 'rec' });
      const dead: DeadLetter[] = [];
      sys.events.on('dead-letter', (d) => dead.push(d));
      sys.send(rec, { type: 'good', n: 1 });
      sys.send(rec, { type: 'bad', f: () => 1 } as any);
      sys.send(rec, { type: 'good', n: 2 });
      assert.equal(await dumpWhen(sys, rec, 2), [
        { type: 'good', n: 1 },
        { type: 'good', n: 2 },
      ]);
      assert.is(dead.length, 1);
      assert.is(dead[0]!.reason, 'encoding');
      assert.is(dead[0]!.messageType, 'bad');
    } finally {
      await sys.shutdown();
    }
  });
}

test('one message object sent to actors on several workers arrives intact at each, large values in it too (rings: encoded once, arena references held per copy)', async () => {
  const sys = await ActorSystem.start({ transport: 'rings', mode: 'workers', statsIntervalMs: 0, codecs: [pingCodecs] });
  try {
    const sinks = [];
    for (let i = 0; i < 3; i++) sinks.push(await sys.spawn(Recorder, { name: `r${i}` }));
    const relay = await sys.spawn(Echo, { name: 'relay' });
    const big = new Uint8Array(100_000).map((_, i) => i & 0xff);
    const msgs = [
      { type: 'ping', seq: 1, payload: 'x'.repeat(200) },
      { type: 'other', n: 2, list: Array.from({ length: 50 }, (_, i) => i) },
      { type: 'blob', bytes: big },
    ];
    sys.send(relay, { type: 'fanout', to: sinks, msgs });
    for (const r of sinks) assert.equal(await dumpWhen(sys, r, 3), msgs);
  } finally {
    await sys.shutdown();
  }
});

test('a control call times out when its worker does not answer, and is rejected at once when the worker dies', async () => {
  const sys = await ActorSystem.start({ mode: 'workers', statsIntervalMs: 0, controlTimeoutMs: 200 });
  try {
    const slow = await sys.spawn(Slow, { name: 'slow' });
    sys.send(slow, { type: 'work', ms: 1500 }); // the worker is busy: control calls wait
    await new Promise((r) => setTimeout(r, 50));
    try {
      await sys.inspect(slow);
      assert.unreachable();
    } catch (e) {
      assert.instance(e, ControlError);
      assert.match((e as Error).message, 'did not answer within 200 ms');
    }
  } finally {
    await sys.shutdown();
  }

  const sys2 = await ActorSystem.start({ mode: 'workers', statsIntervalMs: 0, controlTimeoutMs: 60_000 });
  try {
    const slow = await sys2.spawn(Slow, { name: 'slow' });
    sys2.send(slow, { type: 'work', ms: 30_000 });
    await new Promise((r) => setTimeout(r, 50));
    const pending = sys2.inspect(slow).then(
      () => 'answered',
      (e) => e,
    );
    await sys2.killWorker(slow.node);
    const e = await pending;
    assert.instance(e, ControlError);
    assert.match((e as Error).message, 'died');
  } finally {
    await sys2.shutdown();
  }
});

test.run();
