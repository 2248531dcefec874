/**
 * The recorder: invoke and outcome times from its clock, outcomes by classification, timeouts as
 * unknown, one call per process at a time; and histories recorded from real async clients check
 * as they should (a correct register passes, one that serves stale reads fails).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  HistoryRecorder,
  RecordTimeoutError,
  casRegisterModel,
  check,
  formatExplanation,
  replicatedMapModel,
  type CasRegisterInput,
  type RegisterOutput,
  type RegisterValue,
  type ReplicatedMapInput,
} from '@synod/checker';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

test('record: ok, fail and unknown outcomes with times from the clock', async () => {
  let now = 0;
  const rec = new HistoryRecorder<string, number>({ clock: () => now++ });
  const a = await rec.record(1, 'a', async () => 42);
  const b = await rec.record(
    1,
    'b',
    async () => {
      throw new Error('refused');
    },
    (s) => (s.status === 'rejected' ? { outcome: 'fail' } : { outcome: 'unknown' }),
  );
  const c = await rec.record(2, 'c', async () => {
    throw new Error('connection lost');
  });
  assert.equal([a.outcome, a.value, a.id], ['ok', 42, 0]);
  assert.equal([b.outcome, (b.error as Error).message], ['fail', 'refused']);
  assert.is(c.outcome, 'unknown', 'by default an error may still have taken effect');
  const ops = rec.history().operations;
  assert.equal(ops[0], { id: 0, process: 1, input: 'a', outcome: 'ok', output: 42, call: 0, ret: 1 });
  assert.equal([ops[1]!.outcome, ops[1]!.call, ops[1]!.ret], ['fail', 2, 3]);
  assert.equal([ops[2]!.outcome, ops[2]!.ret], ['unknown', Infinity]);
});

test('record: a call that does not settle in time is unknown and the process is free again', async () => {
  const rec = new HistoryRecorder<string, string>();
  const r = await rec.record('p', 'slow', () => sleep(200).then(() => 'late'), { timeoutMs: 5 });
  assert.is(r.outcome, 'unknown');
  assert.ok(r.error instanceof RecordTimeoutError);
  assert.is(rec.pending, 0);
  const again = await rec.record('p', 'fast', async () => 'now');
  assert.is(again.outcome, 'ok');
  assert.is(rec.history().operations[0]!.ret, Infinity);
});

test('record: a synchronous throw is recorded, not thrown', async () => {
  const rec = new HistoryRecorder();
  const r = await rec.record(0, 'x', () => {
    throw new Error('sync');
  });
  assert.is(r.outcome, 'unknown');
});

test('begin: one call per process at a time; each call ends once; pending calls are unknown', () => {
  const rec = new HistoryRecorder<string, number>();
  const op = rec.begin(7, 'x');
  assert.throws(() => rec.begin(7, 'y'), /process 7 starts a call while its call #0 is still in flight/);
  const other = rec.begin(8, 'y');
  op.ok(1);
  assert.throws(() => op.fail(), /already ended as ok/);
  assert.is(rec.pending, 1);
  const h = rec.history();
  assert.equal(
    h.operations.map((o) => o.outcome),
    ['ok', 'unknown'],
  );
  other.fail();
  assert.equal(
    rec.history().operations.map((o) => o.outcome),
    ['ok', 'fail'],
  );
});

test('maxOperations bounds the recorder', () => {
  const rec = new HistoryRecorder({ maxOperations: 2 });
  rec.begin(1, 'a').ok(1);
  rec.begin(1, 'b').ok(1);
  assert.throws(() => rec.begin(1, 'c'), /maximum of 2 operations/);
});

/** An async register whose replies arrive after random delays; `stale` makes reads serve a cached value. */
function asyncRegister(random: () => number, stale: boolean) {
  let value: RegisterValue = null;
  let cached: RegisterValue = null;
  const delay = () => sleep(Math.floor(random() * 3));
  return {
    async read(): Promise<RegisterValue> {
      await delay();
      const v = stale ? cached : value;
      await delay();
      return v;
    },
    async write(v: RegisterValue): Promise<void> {
      await delay();
      value = v;
      if (random() < 0.3) cached = v;
      await delay();
    },
    async cas(from: RegisterValue, to: RegisterValue): Promise<boolean> {
      await delay();
      const ok = value === from;
      if (ok) value = to;
      await delay();
      return ok;
    },
  };
}

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function drive(stale: boolean, seed: number) {
  const random = mulberry32(seed);
  const reg = asyncRegister(random, stale);
  const rec = new HistoryRecorder<CasRegisterInput, RegisterOutput>();
  let next = 0;
  await Promise.all(
    [0, 1, 2, 3].map(async (p) => {
      for (let i = 0; i < 25; i++) {
        const r = random();
        if (r < 0.4) await rec.record(p, { f: 'read' }, () => reg.read());
        else if (r < 0.8) {
          const v = ++next;
          await rec.record(p, { f: 'write', value: v }, () => reg.write(v).then(() => null));
        } else {
          const from = Math.floor(random() * next);
          const to = ++next;
          await rec.record(p, { f: 'cas', from, to }, () => reg.cas(from, to));
        }
      }
    }),
  );
  return rec.history();
}

test('a correct async register records linearizable histories', async () => {
  const seed = Number(process.env.SEED ?? 1);
  const h = await drive(false, seed);
  const r = check(h, casRegisterModel);
  assert.is(r.verdict, 'linearizable', `seed ${seed} (replay: SEED=${seed} node --import tsx packages/checker/test/recorder.test.ts)`);
});

test('a register serving stale reads is caught', async () => {
  const seed = Number(process.env.SEED ?? 2);
  const h = await drive(true, seed);
  const r = check(h, casRegisterModel);
  assert.is(r.verdict, 'not-linearizable', `seed ${seed} (replay: SEED=${seed} node --import tsx packages/checker/test/recorder.test.ts)`);
  assert.match(formatExplanation(r.explanation!), /must take effect before it returns/);
});

test('ReplicatedMap operations recorded against an in-memory map check per key', async () => {
  const map = new Map<string, unknown>();
  const rec = new HistoryRecorder<ReplicatedMapInput, unknown>();
  await Promise.all(
    ['a', 'b'].map(async (key, p) => {
      await rec.record(p, { f: 'set', key, value: { n: 1, tags: ['x'] } }, async () => {
        map.set(key, { n: 1, tags: ['x'] });
      });
      await rec.record(p, { f: 'get', key }, async () => map.get(key));
      await rec.record(p, { f: 'compareAndSet', key, expected: { tags: ['x'], n: 1 }, value: 2 }, async () => {
        map.set(key, 2);
        return true;
      });
      await rec.record(p, { f: 'delete', key }, async () => map.delete(key));
      await rec.record(p, { f: 'get', key }, async () => map.get(key));
    }),
  );
  const r = check(rec.history(), replicatedMapModel);
  assert.is(r.verdict, 'linearizable');
  assert.equal(
    r.partitions.map((x) => x.key),
    ['a', 'b'],
  );
});

test.run();
