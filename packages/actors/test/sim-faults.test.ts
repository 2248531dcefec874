/**
 * Each fault kind, shown to happen and to be undone by healing (or by the supervisor, for
 * process faults). The background network is a fixed 1 ms per message so expectations are exact
 * where they can be.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Simulation, type FaultPlan } from '@synod/actors/sim';
import { DurableCell, Recorder, Sender, type Received } from './fixtures/sim-actors.ts';

const fixed = { latency: { kind: 'fixed' as const, ms: 1 } };

/** A sender on node 1 sending seq k at 1 + k ms (every 1 ms), to a recorder on node 2. */
async function stream(plan: FaultPlan, count = 150, options: { heartbeatTimeoutMs?: number } = {}) {
  const sim = new Simulation({ seed: 11, plan: { network: fixed, ...plan }, ...options });
  const s = await sim.spawn(Sender, { name: 's' });
  const rec = await sim.spawn(Recorder, { name: 'rec' });
  assert.equal([s.node, rec.node], [1, 2]);
  sim.send(s, { type: 'every', to: rec, everyMs: 1, count });
  await sim.run({ untilMs: count + 200 });
  const log = sim.state<{ log: Received[] }>('rec')?.log ?? [];
  return { sim, log, seqs: log.map((r) => r.seq) };
}

const sentAt = (seq: number) => 1 + seq;

test('drop: messages on a degraded link are lost while it lasts, and flow again once it ends', async () => {
  const { sim, seqs } = await stream({ faults: [{ atMs: 0, kind: 'degrade', from: 1, to: 2, drop: 1, durationMs: 50 }] });
  assert.ok(
    seqs.every((q) => q >= 45),
    'nothing sent in the window arrived',
  );
  for (let q = 55; q < 150; q++) assert.ok(seqs.includes(q), `seq ${q} arrived after the heal`);
  assert.ok(sim.stats.drops >= 45);
});

test('duplicate: every message is delivered twice while it lasts, once after', async () => {
  const { sim, seqs } = await stream({ faults: [{ atMs: 0, kind: 'degrade', from: 1, to: 2, duplicate: 1, durationMs: 50 }] });
  const times = (q: number) => seqs.filter((x) => x === q).length;
  for (let q = 0; q < 45; q++) assert.is(times(q), 2, `seq ${q} twice`);
  for (let q = 55; q < 150; q++) assert.is(times(q), 1, `seq ${q} once`);
  assert.ok(sim.stats.duplicates >= 45);
});

test('delay: a latency spike delays messages while it lasts; after it, 1 ms again', async () => {
  const { log } = await stream({ faults: [{ atMs: 0, kind: 'degrade', to: 2, latency: { kind: 'fixed', ms: 30 }, durationMs: 50 }] });
  const delay = (q: number) => log.find((r) => r.seq === q)!.atMs - sentAt(q);
  for (let q = 0; q < 45; q++) assert.is(delay(q), 30);
  // Links stay FIFO: right after the spike, messages queue behind the delayed ones.
  for (let q = 100; q < 150; q++) assert.is(delay(q), 1);
});

test('reorder: messages overtake each other while it lasts; in order again after', async () => {
  const { seqs } = await stream({
    faults: [{ atMs: 0, kind: 'degrade', from: 1, reorder: 0.5, reorderDelay: { kind: 'uniform', minMs: 0, maxMs: 20 }, durationMs: 50 }],
  });
  assert.is(seqs.length, 150, 'nothing lost, nothing duplicated');
  const early = seqs.filter((q) => q < 50);
  let inversions = 0;
  for (let i = 1; i < early.length; i++) if (early[i]! < early[i - 1]!) inversions++;
  assert.ok(inversions > 0, 'some messages of the window were overtaken');
  const late = seqs.filter((q) => q >= 100);
  assert.equal(
    late,
    [...late].sort((a, b) => a - b),
  );
});

test('partition into groups: no message crosses while it lasts; a heal restores the links', async () => {
  const sim = new Simulation({ seed: 3, plan: { network: fixed } });
  const s = await sim.spawn(Sender, { name: 's' });
  const near = await sim.spawn(Recorder, { name: 'near', worker: 'b' });
  const far = await sim.spawn(Recorder, { name: 'far', worker: 'c' });
  await sim.run({ untilMs: 1 });
  sim.fault({ kind: 'partition', groups: [[s.node, near.node], [far.node]] });
  sim.send(s, { type: 'burst', to: near, from: 0, count: 10 });
  sim.send(s, { type: 'burst', to: far, from: 0, count: 10 });
  sim.send(far, { type: 'msg', seq: 99 });
  await sim.run({ untilMs: 20 });
  assert.is(sim.state<{ log: Received[] }>('near')!.log.length, 10);
  assert.is(sim.state<{ log: Received[] }>('far')!.log.length, 1, 'the driver (unlisted) still reaches far; s does not');
  sim.fault({ kind: 'heal' });
  sim.send(s, { type: 'burst', to: far, from: 10, count: 10 });
  await sim.run({ untilMs: 40 });
  assert.equal(
    sim.state<{ log: Received[] }>('far')!.log.map((r) => r.seq),
    [99, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
  );
});

test('isolate: a node hears nothing and nobody hears it while it lasts; after its duration, both again', async () => {
  const sim = new Simulation({ seed: 3, plan: { network: fixed, faults: [{ atMs: 5, kind: 'isolate', node: 'rec', durationMs: 20 }] } });
  const rec = await sim.spawn(Recorder, { name: 'rec' });
  const s = await sim.spawn(Sender, { name: 's' });
  await sim.run({ untilMs: 6 });
  sim.send(rec, { type: 'msg', seq: 1 });
  sim.send(s, { type: 'burst', to: rec, from: 2, count: 3 });
  const asked = sim.ask(rec, { type: 'get' }, { timeoutMs: 10 }).then(
    () => 'answered',
    (e: Error) => e.name,
  );
  await sim.run({ untilMs: 24 });
  assert.is(await asked, 'AskTimeoutError');
  assert.equal(sim.state<{ log: Received[] }>('rec')!.log, []);
  await sim.run({ untilMs: 26 });
  sim.send(rec, { type: 'msg', seq: 5 });
  assert.is(await sim.call(rec, { type: 'get' }), 1);
});

test('one-way cut: messages go one way and not the other; a heal restores both', async () => {
  const sim = new Simulation({ seed: 3, plan: { network: fixed } });
  const s1 = await sim.spawn(Sender, { name: 's1', worker: 'one' });
  const r1 = await sim.spawn(Recorder, { name: 'r1', worker: 'one' });
  const s2 = await sim.spawn(Sender, { name: 's2', worker: 'two' });
  const r2 = await sim.spawn(Recorder, { name: 'r2', worker: 'two' });
  await sim.run({ untilMs: 1 });
  sim.fault({ kind: 'cut', from: s1.node, to: s2.node });
  sim.send(s1, { type: 'burst', to: r2, from: 0, count: 5 });
  sim.send(s2, { type: 'burst', to: r1, from: 0, count: 5 });
  await sim.run({ untilMs: 10 });
  assert.is(sim.state<{ log: Received[] }>('r1')!.log.length, 5, 'two -> one flows');
  assert.is(sim.state<{ log: Received[] }>('r2')!.log.length, 0, 'one -> two is cut');
  sim.fault({ kind: 'heal' });
  sim.send(s1, { type: 'burst', to: r2, from: 0, count: 5 });
  await sim.run({ untilMs: 20 });
  assert.is(sim.state<{ log: Received[] }>('r2')!.log.length, 5);
});

test('crash-actor: the actor crashes and its supervisor restarts it under the same ref', async () => {
  const sim = new Simulation({ seed: 3, plan: { network: fixed, faults: [{ atMs: 10, kind: 'crash-actor', actor: 'rec' }] } });
  const rec = await sim.spawn(Recorder, { name: 'rec' });
  for (let i = 0; i < 3; i++) sim.send(rec, { type: 'msg', seq: i });
  await sim.run({ untilMs: 9 });
  assert.is(sim.state<{ log: Received[] }>('rec')!.log.length, 3);
  await sim.run({ untilMs: 11 });
  assert.is(sim.view.actor('rec')!.status, 'crashed');
  await sim.run({ untilMs: 100 });
  assert.is(sim.view.actor('rec')!.status, 'running');
  assert.is(sim.view.actor('rec')!.incarnation, 1);
  assert.equal(sim.state<{ log: Received[] }>('rec')!.log, [], 'memory state is not durable');
  assert.is(sim.stats.restarts, 1);
  sim.send(rec, { type: 'msg', seq: 7 });
  assert.is(await sim.call(rec, { type: 'get' }), 1, 'the old ref reaches the new incarnation');
});

test('crash-node: its actors go down, messages to it are lost, and it comes back (after downMs) with what was durable', async () => {
  const sim = new Simulation({ seed: 3, plan: { network: fixed, disk: { syncDelay: { kind: 'fixed', ms: 2 } } } });
  const cell = await sim.spawn(DurableCell, { name: 'cell' });
  for (let v = 1; v <= 3; v++) assert.is(await sim.call(cell, { type: 'set', value: v }), 'ok');
  sim.fault({ kind: 'crash-node', node: 'cell', downMs: 30 });
  assert.is(sim.view.actor('cell')!.status, 'down');
  const crashedAt = sim.nowMs;
  sim.send(cell, { type: 'set', value: 9 });
  await sim.run({ untilMs: crashedAt + 29 });
  assert.is(sim.view.actor('cell')!.status, 'down', 'not before downMs');
  assert.is(sim.stats.lost, 1);
  await sim.run({ untilMs: crashedAt + 100 });
  assert.is(sim.view.actor('cell')!.status, 'running');
  assert.is(sim.state<{ value: number; recovered: number | null }>('cell')!.recovered, 3, 'every acknowledged value was durable');
});

test('storage kinds: memory survives an actor crash but not a node crash; shared and synced file data survive both', async () => {
  const sim = new Simulation({ seed: 3, plan: { network: fixed } });
  const kinds = ['memory', 'shared', 'file'] as const;
  for (const storage of kinds) {
    const ref = await sim.spawn(DurableCell, { name: storage, storage });
    assert.is(await sim.call(ref, { type: 'set', value: 5 }), 'ok');
  }
  const recovered = () => kinds.map((k) => sim.state<{ recovered: number | null }>(k)?.recovered);
  for (const k of kinds) sim.fault({ kind: 'crash-actor', actor: k });
  await sim.run({ untilMs: sim.nowMs + 100 });
  assert.equal(recovered(), [5, 5, 5], 'after an actor crash');
  for (const k of kinds) sim.fault({ kind: 'crash-node', node: k });
  await sim.run({ untilMs: sim.nowMs + 100 });
  assert.equal(recovered(), [null, 5, 5], 'after a node crash');
});

test('disk: a crash loses writes that were not synced yet (their acknowledgements never left)', async () => {
  const sim = new Simulation({ seed: 3, plan: { network: fixed, disk: { syncDelay: { kind: 'fixed', ms: 20 } } } });
  const cell = await sim.spawn(DurableCell, { name: 'cell' });
  assert.is(await sim.call(cell, { type: 'set', value: 1 }), 'ok');
  const acked = sim.ask(cell, { type: 'set', value: 2 }, { timeoutMs: 500 }).then(
    () => 'ok',
    (e: Error) => e.name,
  );
  await sim.run({ until: (v) => v.state<{ value: number }>('cell')?.value === 2, untilMs: 1_000 });
  sim.fault({ kind: 'crash-node', node: 'cell' });
  await sim.run({ untilMs: sim.nowMs + 600 });
  assert.is(await acked, 'AskTimeoutError');
  assert.is(sim.state<{ value: number }>('cell')!.value, 1);
});

test('disk: with random-prefix, a crash keeps a seeded prefix of the unsynced writes; a torn record is cut off', async () => {
  const recoveredBySeed: number[] = [];
  let sawTorn = false;
  for (let seed = 1; seed <= 12; seed++) {
    const sim = new Simulation({
      seed,
      trace: true,
      plan: { network: fixed, disk: { syncDelay: { kind: 'fixed', ms: 50 }, unsyncedOnCrash: 'random-prefix', tornWriteRate: 0.5 } },
    });
    const cell = await sim.spawn(DurableCell, { name: 'cell' });
    assert.is(await sim.call(cell, { type: 'set', value: 1 }), 'ok');
    // Ten more writes, one per turn, none synced yet (the first sync after them is 50 ms away).
    for (let v = 2; v <= 11; v++) sim.send(cell, { type: 'set', value: v });
    await sim.run({ until: (v) => v.state<{ value: number }>('cell')?.value === 11, untilMs: 1_000 });
    sim.fault({ kind: 'crash-node', node: 'cell' });
    const loss = sim.trace.find((r) => r.kind === 'disk-loss')!;
    assert.ok(loss, 'the crash lost unsynced writes');
    const m = /(\d+) unsynced write\(s\) lost, (\d+) kept(, the first lost one torn)?/.exec(loss.detail!)!;
    const kept = Number(m[2]);
    if (m[3]) sawTorn = true;
    await sim.run({ untilMs: sim.nowMs + 100 });
    const recovered = sim.state<{ recovered: number }>('cell')!.recovered;
    // Only complete records count: the state is the last kept write (values 2..11 in order).
    assert.is(recovered, 1 + kept, `seed ${seed}: recovered ${recovered} with ${kept} kept`);
    recoveredBySeed.push(recovered);
  }
  assert.ok(
    recoveredBySeed.some((r) => r > 1),
    'some seeds keep a prefix',
  );
  assert.ok(
    recoveredBySeed.some((r) => r < 11),
    'some seeds lose a suffix',
  );
  assert.ok(sawTorn, 'some crash tore the first lost record');
});

test('pause: a paused node runs nothing; what came meanwhile runs when it resumes', async () => {
  const { sim, log } = await stream({ faults: [{ atMs: 20, kind: 'pause', node: 'rec', durationMs: 30 }] }, 100);
  assert.is(log.length, 100, 'nothing lost');
  for (const r of log) assert.ok(r.atMs < 20 || r.atMs >= 50, `seq ${r.seq} handled at ${r.atMs}, not during the pause`);
  assert.ok(log.filter((r) => r.atMs === 50).length >= 25, 'the backlog runs at resume');
  assert.is(sim.stats.crashes, 0);
});

test('pause longer than the heartbeat timeout: the node is declared dead and its actors restarted', async () => {
  const sim = new Simulation({
    seed: 3,
    heartbeatTimeoutMs: 100,
    plan: { network: fixed, faults: [{ atMs: 10, kind: 'pause', node: 'rec', durationMs: 500 }] },
  });
  await sim.spawn(Recorder, { name: 'rec' });
  await sim.run({ untilMs: 109 });
  assert.is(sim.view.actor('rec')!.status, 'running', 'paused is not dead yet');
  await sim.run({ untilMs: 200 });
  assert.is(sim.stats.crashes, 1);
  assert.is(sim.view.actor('rec')!.incarnation, 1);
  assert.is(sim.view.actor('rec')!.status, 'running');
});

test('background link rules of the plan (by node or by actor name) apply from the start', async () => {
  const { sim, seqs } = await stream({ links: [{ from: 's', to: 2, drop: 0.5 }] }, 200);
  assert.ok(seqs.length > 50 && seqs.length < 150, `about half of 200 arrive, got ${seqs.length}`);
  assert.ok(sim.stats.drops > 50);
});

test.run();
