/**
 * The ring transport between workers: full rings are back-pressure (nothing lost, no turn
 * blocked), records too large for a ring keep their place, a writer waiting for room is never
 * left asleep once the reader has made room, and a worker killed mid-flood leaves no half record
 * behind and gets new rings when it is restarted.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MessageChannel } from 'node:worker_threads';
import { ActorSystem, type DeadLetter, type LogRecord } from '@synod/actors';
import { CodecRegistry } from '../dist/codec.js';
import { Doorbell, createDoorbell } from '../dist/doorbell.js';
import { Envelope } from '../dist/envelope.js';
import type { ActorHost } from '../dist/host.js';
import { RingTransport, defaultRingTransportLimits } from '../dist/ring-transport.js';
import { createRing } from '../dist/ring.js';
import { Checker, Flooder, floodCodecs, type CheckerReport } from './fixtures/flood.ts';

async function start(rings: Record<string, number>, logs: LogRecord[] = []): Promise<ActorSystem> {
  return ActorSystem.start({
    mode: 'workers',
    statsIntervalMs: 0,
    codecs: [floodCodecs],
    transport: 'rings',
    rings,
    mailboxCapacity: 1 << 20,
    logSink: (r) => logs.push(r),
    logLevel: 'warn',
  });
}

test('a full ring is back-pressure: a fast sender and a slow receiver lose nothing, and the receiver stays responsive', async () => {
  const logs: LogRecord[] = [];
  const sys = await start({ ringBytes: 4096, maxBacklogBytes: 8 * 1024 }, logs);
  const dead: DeadLetter[] = [];
  sys.events.on('dead-letter', (d) => dead.push(d));
  try {
    const checker = await sys.spawn(Checker, { name: 'checker' });
    const flooder = await sys.spawn(Flooder, { name: 'flooder' });
    sys.send(checker, { type: 'slow', usPerItem: 20 });
    const count = 20_000;
    sys.send(flooder, { type: 'flood', to: checker, count, perTurn: 500, size: 24 });
    // The receiver's own turns are never blocked: it answers while the flood is on.
    const mid = await sys.ask<CheckerReport>(checker, { type: 'report' }, { timeoutMs: 5_000 });
    assert.ok((mid.received.flooder ?? 0) < count, 'asked while the flood was on');
    await sys.ask(checker, { type: 'wait-for', from: 'flooder', count }, { timeoutMs: 60_000 });
    const r = await sys.ask<CheckerReport>(checker, { type: 'report' });
    assert.equal(r.problems, []);
    assert.is(r.received.flooder, count);
    assert.equal(dead, [], 'no dead letters');
    assert.equal(
      logs.filter((l) => l.level === 'error'),
      [],
    );
    const t = (await sys.stats()).find((h) => h.node === flooder.node)!.transport!;
    assert.ok(t.congestions > 0, "the sender's backlog passed its bound, and the sender paused");
    // Bounded: the bound, plus what the one turn that crossed it sent (500 items of ~40 bytes).
    assert.ok(t.peakBacklogBytes <= 8 * 1024 + 500 * 64, `peak backlog ${t.peakBacklogBytes} bytes`);
  } finally {
    await sys.shutdown();
  }
});

test('a writer whose reader made room just before the writer went to sleep does not sleep (the reader rang no one)', () => {
  // Two hosts' transports in one thread, so the interleaving is exact: the writer fills the ring
  // and asks for room, the reader frees room while the writer is awake (so its ring of the
  // writer's doorbell is a no-op), and only then does the writer announce its sleep. Its sleep
  // must find the answered request; a wait here would never end (a park has no timeout).
  const delivered: unknown[] = [];
  const fakeHost = (node: number) =>
    ({ node, deliver: (e: Envelope) => delivered.push(e.msg), deadLetter: () => assert.unreachable('no dead letters') }) as unknown as ActorHost;
  const resolveRef = () => {
    throw new Error('no refs in these messages');
  };
  const ring12 = createRing(4096);
  const ring21 = createRing(4096);
  const bell1 = createDoorbell();
  const bell2 = createDoorbell();
  const ch = new MessageChannel();
  const writer = new RingTransport(fakeHost(1), new CodecRegistry(), resolveRef, { ...defaultRingTransportLimits, maxBacklogBytes: 1 << 20 });
  const reader = new RingTransport(fakeHost(2), new CodecRegistry(), resolveRef);
  try {
    writer.connect(2, ch.port1, { out: ring12, in: ring21, peerDoorbell: bell2 });
    reader.connect(1, ch.port2, { out: ring21, in: ring12, peerDoorbell: bell1 });
    const count = 200; // about 40 bytes each: several rings' worth
    for (let i = 0; i < count; i++) writer.send(new Envelope(7, 2, null, 0, 0, { seq: i, pad: 'x'.repeat(16) }));
    writer.flush(); // fills the ring, asks the reader for room
    assert.ok(writer.backlogBytes() > 0, 'records wait for room');
    assert.not.ok(writer.hasWork(), 'nothing to do until the reader frees room');
    assert.ok(reader.poll(1_000) > 0); // frees room and rings the writer's doorbell, which is awake
    const bell = new Doorbell(bell1);
    const sleep = bell.sleepAsync(
      () => writer.hasWork(),
      () => assert.unreachable('woken: the doorbell was rung after all'),
    );
    if (sleep !== false) sleep.cancel();
    assert.is(sleep, false, 'the writer sees the answered request and goes on instead of waiting for a ring that came before its sleep');
    // And the writer's retries, each after the reader freed room, get everything through in order.
    for (let round = 0; round < 100 && writer.backlogBytes() > 0; round++) {
      assert.ok(writer.hasWork(), `round ${round}: the reader made room, the writer knows`);
      writer.flush();
      reader.poll(1_000);
    }
    reader.poll(1_000);
    assert.is(writer.backlogBytes(), 0);
    assert.equal(
      delivered.map((m) => (m as { seq: number }).seq),
      Array.from({ length: count }, (_, i) => i),
    );
  } finally {
    writer.close();
    reader.close();
  }
});

test('a record too large for the ring keeps its place among small ones', async () => {
  const sys = await start({ ringBytes: 8192 });
  try {
    const checker = await sys.spawn(Checker, { name: 'checker' });
    const flooder = await sys.spawn(Flooder, { name: 'flooder' });
    // Every 50th item is 100 KiB, far more than a quarter of an 8 KiB ring.
    sys.send(flooder, { type: 'flood', to: checker, count: 2_000, perTurn: 100, size: 16, bigEvery: 50, bigSize: 100 * 1024 });
    await sys.ask(checker, { type: 'wait-for', from: 'flooder', count: 2_000 }, { timeoutMs: 30_000 });
    const r = await sys.ask<CheckerReport>(checker, { type: 'report' });
    assert.equal(r.problems, []);
    assert.is(r.received.flooder, 2_000);
  } finally {
    await sys.shutdown();
  }
});

test('a sender killed mid-flood: the receiver gets only whole, intact items, and the restarted sender gets new rings that work', async () => {
  const logs: LogRecord[] = [];
  const sys = await start({ ringBytes: 16 * 1024 }, logs);
  const exited: number[] = [];
  sys.events.on('worker:exited', (e) => exited.push(e.node));
  try {
    const checker = await sys.spawn(Checker, { name: 'checker' });
    const flooder = await sys.spawn(Flooder, { name: 'flooder' });
    sys.send(flooder, { type: 'flood', to: checker, count: 10_000_000, perTurn: 200, size: 200 });
    await sys.ask(checker, { type: 'wait-for', from: 'flooder', count: 5_000 }, { timeoutMs: 30_000 });
    await sys.failWorker(flooder.node, 'exit'); // dies between (or in the middle of) ring writes
    const deadline = Date.now() + 10_000;
    while (exited.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(exited, [flooder.node]);
    const before = await sys.ask<CheckerReport>(checker, { type: 'report' });
    assert.equal(before.problems, [], 'no gap, no repeat, no damaged item from the dead sender');
    // The supervisor restarted the flooder (same ref) in a new worker with new rings.
    let restarted = false;
    for (let i = 0; i < 200 && !restarted; i++) {
      try {
        await sys.ask(flooder, { type: 'sent' }, { timeoutMs: 500 });
        restarted = true;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    assert.ok(restarted, 'the flooder is back');
    sys.send(checker, { type: 'reset' });
    sys.send(flooder, { type: 'flood', to: checker, count: 3_000, perTurn: 200, size: 200 });
    await sys.ask(checker, { type: 'wait-for', from: 'flooder', count: 3_000 }, { timeoutMs: 30_000 });
    const after = await sys.ask<CheckerReport>(checker, { type: 'report' });
    assert.equal(after.problems, []);
    assert.is(after.received.flooder, 3_000, "the new incarnation's items arrived in order from 0");
    assert.equal(
      logs.filter((l) => l.level === 'error').map((l) => l.message),
      [],
      'nothing failed to decode',
    );
  } finally {
    await sys.shutdown();
  }
});

test.run();
