/** The simulator's parts on their own: the event queue, random plans, the network's FIFO links. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Prng } from '@synod/actors/internals';
import { checkPlan, randomPlan, Simulation } from '@synod/actors/sim';
import { EventQueue, type EventType, type SimEvent } from '../dist/sim/event-queue.js';

/** EventType.Call (a const enum: its value, since tests see only the declarations). */
const CALL = 4 as EventType;
import { Recorder, Sender, type Received } from './fixtures/sim-actors.ts';

const SEED = Number(process.env.SEED ?? 20_261_126);

test(`the event queue pops in (time, seq) order and never yields a removed event (seed ${SEED})`, () => {
  const rng = new Prng(SEED);
  const q = new EventQueue();
  const live: SimEvent[] = [];
  let lastTime = -1;
  let lastSeq = -1;
  let popped = 0;
  for (let i = 0; i < 20_000; i++) {
    const r = rng.next();
    if (r < 0.5) {
      // Coarse times, so that ties (ordered by seq) are common.
      live.push(q.push(lastTime + Math.floor(rng.next() * 8), CALL, -1, 0, null, null, i));
    } else if (r < 0.65 && live.length > 0) {
      const ev = live.splice(rng.int(live.length), 1)[0]!;
      assert.ok(q.remove(ev), `seed ${SEED}: a live event is removable`);
      assert.not.ok(q.remove(ev), `seed ${SEED}: removing twice fails`);
    } else {
      const ev = q.pop();
      if (ev === undefined) {
        assert.is(live.length, 0);
        continue;
      }
      popped++;
      assert.ok(ev.time > lastTime || (ev.time === lastTime && ev.seq > lastSeq), `seed ${SEED}: order kept at pop ${popped}`);
      lastTime = ev.time;
      lastSeq = ev.seq;
      const k = live.indexOf(ev);
      assert.ok(k >= 0, `seed ${SEED}: popped a live event`);
      live.splice(k, 1);
    }
    assert.is(q.size, live.length);
  }
  assert.ok(popped > 1_000);
});

test('random plans: the same seed gives the same valid JSON plan; other seeds other plans', () => {
  const o = { nodes: [1, 2, 'x'] as (number | string)[], actors: ['x'], endMs: 500, startMs: 10 };
  const a = randomPlan(42, o);
  assert.equal(randomPlan(42, o), a);
  assert.equal(JSON.parse(JSON.stringify(a)), a);
  checkPlan(a);
  const last = a.faults!.at(-1)!;
  assert.equal(last, { atMs: 500, kind: 'heal' });
  for (const f of a.faults!) assert.ok(f.atMs >= 10 && f.atMs <= 500);
  const kinds = new Set<string>();
  for (let seed = 1; seed <= 200; seed++) {
    const p = randomPlan(seed, o);
    checkPlan(p);
    for (const f of p.faults!)
      kinds.add(f.kind === 'degrade' ? `degrade:${'drop' in f ? 'drop' : 'duplicate' in f ? 'duplicate' : 'latency' in f ? 'delay' : 'reorder'}` : f.kind);
  }
  assert.equal([...kinds].sort(), [
    'crash-actor',
    'crash-node',
    'cut',
    'degrade:delay',
    'degrade:drop',
    'degrade:duplicate',
    'degrade:reorder',
    'heal',
    'isolate',
    'partition',
    'pause',
  ]);
  assert.not.equal(randomPlan(43, o), a);
});

test('links are FIFO under jitter unless reordering is asked for', async () => {
  const run = async (reorder: number) => {
    const sim = new Simulation({ seed: SEED, plan: { network: { latency: { kind: 'exponential', meanMs: 3, maxMs: 50 }, reorder } } });
    const rec = await sim.spawn(Recorder, { name: 'rec' });
    const s = await sim.spawn(Sender, { name: 's' });
    sim.send(s, { type: 'burst', to: rec, from: 0, count: 500 });
    await sim.run({ untilMs: 1_000 });
    return sim.state<{ log: Received[] }>('rec')!.log.map((r) => r.seq);
  };
  const fifo = await run(0);
  assert.equal(
    fifo,
    Array.from({ length: 500 }, (_, i) => i),
    `seed ${SEED}`,
  );
  const shuffled = await run(0.3);
  assert.is(shuffled.length, 500);
  assert.not.equal(shuffled, fifo, `seed ${SEED}: reordering reorders`);
});

test.run();
