import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AskTimeoutError, defineActor, type ActorRef } from '@synod/actors';
import { PlanError, Simulation, formatTrace, type FaultPlan } from '@synod/actors/sim';
import { Recorder, Sender, Ticker, type RecorderMsg } from './fixtures/sim-actors.ts';

/** Two senders on their own nodes send bursts to one recorder over a jittery network. */
async function jittery(seed: number, plan: FaultPlan = {}) {
  const sim = new Simulation({ seed, plan: { network: { latency: { kind: 'uniform', minMs: 0.1, maxMs: 5 }, reorder: 0.3 }, ...plan } });
  const rec = await sim.spawn(Recorder, { name: 'rec' });
  const a = await sim.spawn(Sender, { name: 'a' });
  const b = await sim.spawn(Sender, { name: 'b' });
  sim.send(a, { type: 'burst', to: rec, from: 0, count: 50 });
  sim.send(b, { type: 'burst', to: rec, from: 1000, count: 50 });
  const r = await sim.run({ untilMs: 100 });
  const log = sim.state<{ log: { seq: number }[] }>('rec')!.log.map((x) => x.seq);
  return { sim, r, log };
}

test('the same seed gives the same run and fingerprint; different seeds differ', async () => {
  const one = await jittery(7);
  const two = await jittery(7);
  assert.is(one.log.length, 100);
  assert.equal(one.log, two.log);
  assert.is(one.r.fingerprint, two.r.fingerprint);
  assert.equal(one.sim.stats, two.sim.stats);
  const other = await jittery(8);
  assert.is.not(other.r.fingerprint, one.r.fingerprint);
  assert.not.equal(other.log, one.log, 'another seed interleaves the two senders differently');
});

test('timers fire in virtual time and ctx.now() is virtual', async () => {
  const sim = new Simulation({ seed: 1, plan: { network: { latency: { kind: 'fixed', ms: 1 } } } });
  const t = await sim.spawn(Ticker, { name: 't' });
  sim.send(t, { type: 'start', everyMs: 10 });
  const r = await sim.run({ untilMs: 100 });
  assert.is(r.reason, 'time');
  assert.is(r.nowMs, 100);
  // The start message arrives at 1 ms; ticks every 10 ms from then.
  assert.equal(sim.state<{ ticks: number[] }>('t')!.ticks, [11, 21, 31, 41, 51, 61, 71, 81, 91]);
});

test('ctx.random is seeded per actor: same seed, same draws; another seed, other draws', async () => {
  const draws = async (seed: number) => {
    const sim = new Simulation({ seed });
    const t = await sim.spawn(Ticker, { name: 't' });
    sim.send(t, { type: 'start', everyMs: 5 });
    await sim.run({ untilMs: 50 });
    return sim.state<{ draws: number[] }>('t')!.draws;
  };
  const a = await draws(3);
  assert.ok(a.length >= 8);
  assert.equal(await draws(3), a);
  assert.not.equal(await draws(4), a);
});

test('asks from outside settle in virtual time: the answer, or a timeout after timeoutMs of virtual time', async () => {
  const sim = new Simulation({ seed: 1, plan: { network: { latency: { kind: 'fixed', ms: 2 } } } });
  const rec = await sim.spawn(Recorder, { name: 'rec' });
  sim.send(rec, { type: 'msg', seq: 1 });
  assert.is(await sim.call<number>(rec, { type: 'get' }), 1);
  assert.is(sim.nowMs, 4, 'one round trip of 2 ms each way');
  sim.fault({ kind: 'isolate', node: rec.node });
  const started = sim.nowMs;
  try {
    await sim.call(rec, { type: 'get' }, { timeoutMs: 30 });
    assert.unreachable('the ask should time out');
  } catch (e) {
    assert.instance(e, AskTimeoutError);
  }
  assert.is(sim.nowMs - started, 30);
});

test("an actor's ask continuation runs at the virtual time of the reply (or of its timeout)", async () => {
  const sim = new Simulation({ seed: 1, plan: { network: { latency: { kind: 'fixed', ms: 3 } } } });
  const rec = await sim.spawn(Recorder, { name: 'rec' });
  const t = await sim.spawn(Ticker, { name: 't' });
  sim.send(t, { type: 'ask-peer', peer: rec });
  await sim.run({ untilMs: 20 });
  // Driver -> t at 3 ms, t -> rec at 6 ms, rec -> t at 9 ms.
  assert.equal(sim.state<{ answers: unknown[] }>('t')!.answers, [{ n: 0, atMs: 9 }]);
  sim.fault({ kind: 'isolate', node: rec.node });
  sim.send(t, { type: 'ask-peer', peer: rec });
  await sim.run({ untilMs: 100 });
  // Asked at 23 ms; the ask's timeout is 50 ms.
  assert.equal(sim.state<{ answers: unknown[] }>('t')!.answers[1], { error: 'AskTimeoutError', atMs: 73 });
});

test('an invariant violation stops the run and reports its step and time', async () => {
  const sim = new Simulation({ seed: 5 });
  const rec = await sim.spawn(Recorder, { name: 'rec' });
  const s = await sim.spawn(Sender, { name: 's' });
  sim.invariant(
    'fewer than five',
    (v) => (v.state<{ log: unknown[] }>('rec')?.log.length ?? 0) < 5 || `the recorder holds ${v.state<{ log: unknown[] }>('rec')!.log.length} messages`,
  );
  sim.send(s, { type: 'every', to: rec, everyMs: 1, count: 20 });
  const r = await sim.run({ untilMs: 1_000 });
  assert.is(r.reason, 'violation');
  assert.is(r.failure?.kind, 'invariant');
  assert.is(r.failure?.name, 'fewer than five');
  assert.is(r.failure?.message, 'the recorder holds 5 messages');
  assert.is(r.failure?.step, r.steps);
  assert.ok(r.failure!.timeMs < 1_000);
  assert.is(sim.state<{ log: unknown[] }>('rec')!.log.length, 5, 'nothing ran after the violating step');
  const again = await sim.run({ untilMs: 2_000 });
  assert.is(again.reason, 'violation', 'a failed simulation stays stopped');
});

test('the view lists actors and the messages in flight, in arrival order', async () => {
  const sim = new Simulation({ seed: 2, plan: { network: { latency: { kind: 'uniform', minMs: 1, maxMs: 9 }, reorder: 1 } } });
  const rec = await sim.spawn(Recorder, { name: 'rec' });
  for (let i = 0; i < 5; i++) sim.send(rec, { type: 'msg', seq: i });
  const inFlight = sim.view.inFlight();
  assert.is(inFlight.length, 5);
  for (let i = 1; i < inFlight.length; i++) assert.ok(inFlight[i]!.arrivesAtMs >= inFlight[i - 1]!.arrivesAtMs);
  assert.equal(inFlight.map((m) => (m.message as { seq: number }).seq).sort(), [0, 1, 2, 3, 4]);
  assert.equal(
    sim.view.actors().map((a) => [a.name, a.status]),
    [['rec', 'running']],
  );
  await sim.run({ untilMs: 50 });
  assert.equal(sim.view.inFlight(), []);
  const order = sim.state<{ log: { seq: number }[] }>('rec')!.log.map((x) => x.seq);
  assert.equal(
    order,
    inFlight.map((m) => (m.message as { seq: number }).seq),
  );
});

test('actors with one worker key share a node, and their messages to each other skip the network', async () => {
  const sim = new Simulation({ seed: 1 });
  const rec = await sim.spawn(Recorder, { name: 'rec', worker: 'w' });
  const s = await sim.spawn(Sender, { name: 's', worker: 'w' });
  const far = await sim.spawn(Recorder, { name: 'far' });
  assert.is(rec.node, s.node);
  assert.is.not(far.node, s.node);
  sim.send(s, { type: 'burst', to: rec, from: 0, count: 10 });
  await sim.run({ untilMs: 10 });
  assert.is(sim.state<{ log: unknown[] }>('rec')!.log.length, 10);
  assert.is(sim.stats.sends, 1, 'only the driver -> s message crossed the network');
  sim.send(s, { type: 'burst', to: far, from: 0, count: 10 });
  await sim.run({ untilMs: 20 });
  assert.is(sim.stats.sends, 12);
});

test('a crashed actor is restarted by its supervisor after the backoff, in virtual time; past the intensity the system fails', async () => {
  const sim = new Simulation({ seed: 9, supervision: { maxRestarts: 3, windowMs: 1_000, backoff: { initialMs: 10, factor: 2, jitter: 0 } } });
  const rec = await sim.spawn(Recorder, { name: 'rec' });
  const restarts: { attempt: number; delayMs: number; atMs: number }[] = [];
  sim.events.on('actor:restarted', (e) => restarts.push({ attempt: e.attempt, delayMs: e.delayMs, atMs: sim.nowMs }));
  for (let i = 0; i < 3; i++) {
    sim.send(rec, { type: 'boom' });
    const r = await sim.run({ until: () => restarts.length === i + 1, untilMs: 10_000 });
    assert.is(r.reason, 'until');
    assert.is(sim.view.actor('rec')!.incarnation, i + 1);
  }
  assert.equal(
    restarts.map((r) => [r.attempt, r.delayMs]),
    [
      [1, 10],
      [2, 20],
      [3, 40],
    ],
  );
  sim.send(rec, { type: 'boom' });
  const r = await sim.run({ untilMs: 10_000 });
  assert.is(r.reason, 'failed');
  assert.is(r.failure?.kind, 'system-failed');
  assert.match(r.failure!.message, /more than 3 restarts within 1000 ms/);
});

test("children spawned by actors live on their parent's node, crash with it, and come back with the restarted parent", async () => {
  const Parent = defineActor<{ child: ActorRef<RecorderMsg> }, { type: 'fwd'; seq: number }>({
    init: (_a, ctx) => ({ child: ctx.spawn(Recorder, { name: 'kid' }) }),
    receive(s, msg, ctx) {
      ctx.send(s.child, { type: 'msg', seq: msg.seq });
    },
  });
  const sim = new Simulation({ seed: 1 });
  const p = await sim.spawn(Parent, { name: 'p' });
  assert.is(sim.nodeOf('p/kid'), p.node);
  sim.send(p, { type: 'fwd', seq: 1 });
  await sim.run({ untilMs: 10 });
  assert.is(sim.state<{ log: unknown[] }>('p/kid')!.log.length, 1);
  assert.is(sim.stats.sends, 1, 'parent -> child stays on the node');
  sim.fault({ kind: 'crash-node', node: 'p' });
  assert.is(sim.view.actor('p')!.status, 'down');
  assert.is(sim.view.actor('p/kid'), undefined, 'a child without a supervisor is forgotten');
  await sim.run({ untilMs: 100 });
  assert.is(sim.view.actor('p')!.status, 'running');
  assert.equal(sim.state<{ log: unknown[] }>('p/kid')!.log, [], 'the restarted parent spawned a fresh child');
});

test('run refuses to start without a bound, and refuses a second run at once', async () => {
  const sim = new Simulation({ seed: 1 });
  await assert.not.throws(() => sim.run({ maxSteps: 0 }));
  try {
    await sim.run({});
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /at least one bound/);
  }
  const rec = await sim.spawn(Recorder, { name: 'rec' });
  sim.send(rec, { type: 'msg', seq: 1 });
  let nested: Promise<unknown> | undefined;
  const first = await sim.run({
    untilMs: 10,
    until: () => {
      nested ??= sim.run({ untilMs: 10 });
      return false;
    },
  });
  assert.is(first.reason, 'idle');
  try {
    await nested;
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /already running/);
  }
});

test('a malformed plan is refused with a PlanError that names the field', () => {
  assert.throws(
    () => new Simulation({ seed: 1, plan: { faults: [{ atMs: 5, kind: 'degrade', drop: 2 }] } }),
    (e: Error) => e instanceof PlanError && /plan\.faults\[0\]\.drop must be a probability/.test(e.message),
  );
  assert.throws(() => new Simulation({ seed: 1, plan: { faults: [{ atMs: 5, kind: 'explode' } as never] } }), /kind must be one of/);
  assert.throws(() => new Simulation({ seed: 1, plan: { network: { latency: { kind: 'uniform', minMs: 5, maxMs: 1 } } } }), /maxMs \(1\) is below minMs \(5\)/);
});

test('a fault naming an actor that does not exist stops the run with a PlanError', async () => {
  const sim = new Simulation({ seed: 1, plan: { faults: [{ atMs: 1, kind: 'isolate', node: 'nobody' }] } });
  await sim.spawn(Recorder, { name: 'rec' });
  try {
    await sim.run({ untilMs: 10 });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, PlanError);
    assert.match((e as Error).message, /plan\.faults\[0\]\.node: no actor named "nobody"/);
  }
});

test('the trace, when kept, records every event readably; the fingerprint does not depend on keeping it', async () => {
  const run = async (trace: boolean) => {
    const sim = new Simulation({ seed: 4, trace, plan: { faults: [{ atMs: 2, kind: 'crash-actor', actor: 'rec' }] } });
    const rec: ActorRef<RecorderMsg> = await sim.spawn(Recorder, { name: 'rec' });
    sim.send(rec, { type: 'msg', seq: 1 });
    await sim.run({ untilMs: 50 });
    return sim;
  };
  const kept = await run(true);
  const bare = await run(false);
  assert.is(kept.fingerprint, bare.fingerprint);
  assert.is(bare.trace.length, 0);
  const kinds = new Set(kept.trace.map((r) => r.kind));
  for (const k of ['send', 'deliver', 'fault', 'crash', 'restart', 'start']) assert.ok(kinds.has(k as never), `trace has ${k}`);
  const text = formatTrace(kept.trace);
  assert.match(text, /deliver outside\(0\) -> rec\(1\.1\) msg/);
  assert.match(text, /fault .*crash-actor/);
});

test.run();
