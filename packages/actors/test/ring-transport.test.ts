/**
 * The ring transport between workers: full rings are back-pressure (nothing lost, no turn
 * blocked), records too large for a ring keep their place, and a worker killed mid-flood leaves
 * no half record behind and gets new rings when it is restarted.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSystem, type DeadLetter, type LogRecord } from '@synod/actors';
import { Checker, Flooder, floodCodecs, type CheckerReport } from './fixtures/flood.ts';

async function start(rings: Record<string, number>, logs: LogRecord[] = []): Promise<ActorSystem> {
  return ActorSystem.start({
    mode: 'workers', statsIntervalMs: 0, codecs: [floodCodecs], transport: 'rings', rings,
    mailboxCapacity: 1 << 20, logSink: (r) => logs.push(r), logLevel: 'warn',
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
    assert.equal(logs.filter((l) => l.level === 'error'), []);
    const t = (await sys.stats()).find((h) => h.node === flooder.node)!.transport!;
    assert.ok(t.congestions > 0, 'the sender\'s backlog passed its bound, and the sender paused');
    // Bounded: the bound, plus what the one turn that crossed it sent (500 items of ~40 bytes).
    assert.ok(t.peakBacklogBytes <= 8 * 1024 + 500 * 64, `peak backlog ${t.peakBacklogBytes} bytes`);
  } finally { await sys.shutdown(); }
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
  } finally { await sys.shutdown(); }
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
      try { await sys.ask(flooder, { type: 'sent' }, { timeoutMs: 500 }); restarted = true; } catch { await new Promise((r) => setTimeout(r, 20)); }
    }
    assert.ok(restarted, 'the flooder is back');
    sys.send(checker, { type: 'reset' });
    sys.send(flooder, { type: 'flood', to: checker, count: 3_000, perTurn: 200, size: 200 });
    await sys.ask(checker, { type: 'wait-for', from: 'flooder', count: 3_000 }, { timeoutMs: 30_000 });
    const after = await sys.ask<CheckerReport>(checker, { type: 'report' });
    assert.equal(after.problems, []);
    assert.is(after.received.flooder, 3_000, 'the new incarnation\'s items arrived in order from 0');
    assert.equal(logs.filter((l) => l.level === 'error').map((l) => l.message), [], 'nothing failed to decode');
  } finally { await sys.shutdown(); }
});

test.run();
