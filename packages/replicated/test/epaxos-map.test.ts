/**
 * `ReplicatedMap` on EPaxos through the public API (`protocol: 'epaxos'`): the same operations,
 * read consistencies, sessions, watchers and errors as on Multi-Paxos; commands led by several
 * replicas; linearizable histories; session guarantees without a log index; the quota decided at
 * barriers; bad options refused before anything starts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InvalidOptionError } from '@synod/actors';
import { HistoryRecorder, check, formatExplanation, replicatedMapModel, type ReplicatedMapInput } from '@synod/checker';
import type { EPaxosState } from '@synod/epaxos';
import { QuotaExceededError, ReplicatedMap, type MapChange } from '@synod/replicated';

const start = (o: Parameters<typeof ReplicatedMap.start>[0] = {}) => ReplicatedMap.start<string>({ replicas: 3, mode: 'embedded', protocol: 'epaxos', ...o });

async function stats(map: ReplicatedMap<string>): Promise<EPaxosState['stats'][]> {
  const snaps = await Promise.all(map.rsm.cluster.replicas.map((r) => map.system.inspect(r)));
  return snaps.map((s) => (s.state as { stats: EPaxosState['stats'] }).stats);
}

test('the map on EPaxos: set, get at every consistency, compareAndSet, delete, causal tokens', async () => {
  const map = await start();
  try {
    await map.set('a', '1');
    assert.is(await map.get('a'), '1');
    assert.is(await map.get('a', { consistency: 'lease' }), '1');
    assert.is(await map.get('a', { consistency: 'session' }), '1');
    assert.is(await map.compareAndSet('a', '1', '2'), true);
    assert.is(await map.compareAndSet('a', '1', '3'), false);
    assert.is(await map.get('a'), '2');
    const other = map.withSession();
    assert.is(await other.get('a', { consistency: 'session', after: map.clientSession.token() }), '2', 'a token carries what its session saw');
    await map.delete('a');
    assert.is(await map.get('a'), undefined);
    const eventual = await map.get('a', { consistency: 'eventual' });
    assert.ok(eventual === undefined || eventual === '2');
  } finally {
    await map.shutdown();
  }
});

test('sessions spread over the replicas, and each replica leads what it receives', async () => {
  const map = await start();
  try {
    const sessions = Array.from({ length: 6 }, () => map.withSession());
    await Promise.all(
      sessions.map(async (m, i) => {
        for (let k = 0; k < 5; k++) await m.set(`k${i}`, `${k}`);
      }),
    );
    const led = (await stats(map)).map((s) => s.led);
    assert.ok(led.filter((n) => n > 0).length >= 2, `instances led by several replicas (${led.join(', ')})`);
  } finally {
    await map.shutdown();
  }
});

test('linearizable reads and writes of concurrent sessions form a linearizable history', async () => {
  const map = await start();
  try {
    const rec = new HistoryRecorder<ReplicatedMapInput, unknown>();
    await Promise.all(
      Array.from({ length: 4 }, async (_, p) => {
        const m = map.withSession();
        for (let i = 0; i < 40; i++) {
          const key = `k${i % 2}`;
          const value = `${p}.${i}`;
          if (i % 3 === 0) await rec.record(p, { f: 'set', key, value }, () => m.set(key, value));
          else if (i % 3 === 1) await rec.record(p, { f: 'get', key }, () => m.get(key));
          else await rec.record(p, { f: 'compareAndSet', key, expected: `${p}.${i - 2}`, value }, () => m.compareAndSet(key, `${p}.${i - 2}`, value));
        }
      }),
    );
    const result = check(rec.history(), replicatedMapModel);
    assert.is(result.verdict, 'linearizable', result.explanation ? formatExplanation(result.explanation) : '');
  } finally {
    await map.shutdown();
  }
});

test('session reads without a log index: read your writes and monotonic reads, at whichever replica answers', async () => {
  const map = await start({ replicas: 5 });
  try {
    // Each key has one writer, whose versions count up: a read that goes back returns a lower one.
    const writers = Array.from({ length: 3 }, () => map.withSession());
    const readers = Array.from({ length: 3 }, () => map.withSession());
    const problems: string[] = [];
    const version = (v: string | undefined) => (v === undefined ? -1 : Number(v));
    await Promise.all([
      ...writers.map(async (m, w) => {
        for (let i = 0; i < 30; i++) {
          await m.set(`w${w}`, String(i));
          const seen = version(await m.get(`w${w}`, { consistency: 'session' }));
          if (seen < i) problems.push(`writer ${w} wrote ${i} and then read ${seen}`);
        }
      }),
      ...readers.map(async (m, r) => {
        const last = [-1, -1, -1];
        for (let i = 0; i < 60; i++) {
          const w = i % 3;
          const seen = version(await m.get(`w${w}`, { consistency: 'session' }));
          if (seen < last[w]!) problems.push(`reader ${r} read ${seen} of w${w} after ${last[w]}`);
          last[w] = Math.max(last[w]!, seen);
        }
      }),
    ]);
    assert.equal(problems, []);
  } finally {
    await map.shutdown();
  }
});

test('watchers hear every change', async () => {
  const map = await start();
  try {
    const changes: MapChange[] = [];
    map.watch().events.on('change', (c) => changes.push(c));
    await map.set('x', '1');
    await map.set('y', '2');
    await map.delete('x');
    for (let i = 0; i < 50 && changes.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(changes.map((c) => `${c.type}:${c.key}`).sort(), ['delete:x', 'set:x', 'set:y']);
  } finally {
    await map.shutdown();
  }
});

test('the state quota is decided at barriers: past it writes fail with QuotaExceededError, deletes go on', async () => {
  const map = await start({ replica: { maxStateBytes: 400 }, protocolOptions: { barrierEveryInstances: 1 } });
  try {
    let refused: unknown = null;
    for (let i = 0; i < 40 && refused === null; i++) {
      try {
        await map.set(`k${i}`, 'x'.repeat(40));
      } catch (e) {
        refused = e;
      }
    }
    assert.instance(refused, QuotaExceededError);
    assert.match((refused as Error).message, /over maxStateBytes \(400\)/);
    await map.delete('k0');
  } finally {
    await map.shutdown();
  }
});

async function refused(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('it started');
}

test('bad protocol names and protocol options are refused before anything starts, with what is allowed', async () => {
  const a = await refused(start({ protocol: 'nope' }));
  assert.instance(a, InvalidOptionError);
  assert.match(a.message, /protocol must be one of multipaxos, epaxos/);
  const b = await refused(start({ protocolOptions: { windw: 3 } }));
  assert.instance(b, InvalidOptionError);
  assert.match(b.message, /unknown option "windw"/);
  assert.match(
    (await refused(start({ protocolOptions: { askAfterMs: 500, recoveryTimeoutMs: 100 } }))).message,
    /askAfterMs \(500\) must be shorter than recoveryTimeoutMs \(100\)/,
  );
});

test.run();
