/**
 * Read consistency models, on Multi-Paxos and on Raft, checked over recorded histories: `session`
 * reads give read-your-writes and monotonic reads at any replica; `linearizable` histories pass
 * the linearizability checker.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  HistoryRecorder,
  check,
  checkSessionGuarantees,
  formatExplanation,
  replicatedMapModel,
  type ReplicatedMapInput,
  type SessionOperation,
} from '@synod/checker';
import { ReplicatedMap } from '@synod/replicated';

for (const protocol of ['multipaxos', 'raft'] as const) {
  test(`${protocol}: session reads: read your writes and monotonic reads, at whichever replica answers`, async () => {
    const map = await ReplicatedMap.start<string>({ replicas: 3, protocol });
    try {
      const ops: SessionOperation[] = [];
      const sessions = Array.from({ length: 4 }, () => map.withSession());
      await Promise.all(
        sessions.map(async (m, p) => {
          const s = m.clientSession;
          for (let i = 0; i < 60; i++) {
            const key = `k${(i + p) % 3}`;
            if (i % 2 === 0) {
              const value = `${p}.${i}`;
              await m.set(key, value);
              ops.push({ session: s.id, kind: 'write', key, value, index: s.lastOpIndex });
            } else {
              const value = await m.get(key, { consistency: 'session' });
              ops.push({ session: s.id, kind: 'read', key, value, index: s.lastOpIndex });
            }
          }
        }),
      );
      assert.equal(checkSessionGuarantees(ops), []);
      assert.ok(ops.some((o) => o.kind === 'read' && o.value !== undefined));
    } finally {
      await map.shutdown();
    }
  });
}

test('the session checker catches a read that goes back, and a read that misses its own write', () => {
  const ops: SessionOperation[] = [
    { session: 'a', kind: 'write', key: 'k', value: 1, index: 5 },
    { session: 'a', kind: 'read', key: 'k', value: undefined, index: 3 },
    { session: 'b', kind: 'read', key: 'k', value: 1, index: 6 },
    { session: 'b', kind: 'read', key: 'k', value: undefined, index: 4 },
  ];
  const v = checkSessionGuarantees(ops);
  assert.equal(v.map((x) => x.guarantee).sort(), ['monotonic-reads', 'read-your-writes']);
});

for (const protocol of ['multipaxos', 'raft'] as const) {
  test(`${protocol}: linearizable reads and writes from concurrent clients form a linearizable history`, async () => {
    const map = await ReplicatedMap.start<string>({ replicas: 3, protocol });
    try {
      const rec = new HistoryRecorder<ReplicatedMapInput, unknown>();
      await Promise.all(
        Array.from({ length: 4 }, async (_, p) => {
          const m = map.withSession();
          for (let i = 0; i < 50; i++) {
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
}

test("monotonic writes: a session's pipelined writes take effect in the order issued, across a leader's crash", async () => {
  const map = await ReplicatedMap.start<number>({ replicas: 3, operationTimeoutMs: 20_000 });
  try {
    const ops: SessionOperation[] = [];
    const s = map.withSession();
    const order: number[] = [];
    map.rsm.subscribe();
    map.rsm.events.on('applied', (changes) => {
      for (const c of changes) if ((c.command as { key?: string }).key === 'mw') order.push((c.command as { value: number }).value);
    });
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      if (i === 100) await map.system.killWorker(map.rsm.cluster.leaders[map.rsm.leaderIndex]!.node);
      // Issued without waiting: up to 200 in flight in one session.
      writes.push(
        s.set('mw', i).then(() => {
          ops[i] = { session: 's', kind: 'write', key: 'mw', value: i, index: s.clientSession.lastOpIndex };
        }),
      );
    }
    await Promise.all(writes);
    for (let i = 0; i < 200 && order.length < 200; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(
      order,
      [...order].sort((a, b) => a - b),
      'applied in the order issued',
    );
    assert.is(new Set(order).size, order.length, 'each once');
    assert.is(await s.get('mw'), 199);
    assert.equal(
      checkSessionGuarantees(ops, { checkValues: false }).filter((v) => v.guarantee === 'monotonic-writes'),
      [],
    );
  } finally {
    await map.shutdown();
  }
});

test("causal consistency: a session that reads after another session's token sees what that session saw", async () => {
  const map = await ReplicatedMap.start<string>({ replicas: 3 });
  try {
    const a = map.withSession();
    const b = map.withSession();
    for (let i = 0; i < 50; i++) {
      await a.set('c', `v${i}`);
      const token = a.token();
      const seen = await b.get('c', { consistency: 'session', after: token });
      assert.is(seen, `v${i}`, `read after the writer's token sees its write (round ${i})`);
      await b.set('d', `w${i}`, { after: token });
    }
    try {
      await b.get('c', { after: 'not a token' });
      assert.unreachable();
    } catch (e) {
      assert.match((e as Error).message, 'session.token()');
    }
  } finally {
    await map.shutdown();
  }
});

test('the session checker catches writes out of issue order and a read before its causal token', () => {
  const v = checkSessionGuarantees(
    [
      { session: 'a', kind: 'write', key: 'k', value: 1, index: 7 },
      { session: 'a', kind: 'write', key: 'k', value: 2, index: 5 },
      { session: 'b', kind: 'read', key: 'k', value: 2, index: 4, after: 7 },
    ],
    { checkValues: false },
  );
  assert.equal(v.map((x) => x.guarantee).sort(), ['causal', 'monotonic-writes']);
});

test.run();
