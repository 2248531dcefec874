/**
 * Read consistency models, on Multi-Paxos and on Raft, checked over recorded histories: `session`
 * reads give read-your-writes and monotonic reads at any replica; `linearizable` histories pass
 * the linearizability checker.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HistoryRecorder, check, checkSessionGuarantees, formatExplanation, replicatedMapModel, type ReplicatedMapInput, type SessionOperation } from '@synod/checker';
import { ReplicatedMap } from '@synod/replicated';

for (const protocol of ['multipaxos', 'raft'] as const) {
test(`${protocol}: session reads: read your writes and monotonic reads, at whichever replica answers`, async () => {
  const map = await ReplicatedMap.start<string>({ replicas: 3, protocol });
  try {
    const ops: SessionOperation[] = [];
    const sessions = Array.from({ length: 4 }, () => map.withSession());
    await Promise.all(sessions.map(async (m, p) => {
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
    }));
    assert.equal(checkSessionGuarantees(ops), []);
    assert.ok(ops.some((o) => o.kind === 'read' && o.value !== undefined));
  } finally { await map.shutdown(); }
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
    await Promise.all(Array.from({ length: 4 }, async (_, p) => {
      const m = map.withSession();
      for (let i = 0; i < 50; i++) {
        const key = `k${i % 2}`;
        const value = `${p}.${i}`;
        if (i % 3 === 0) await rec.record(p, { f: 'set', key, value }, () => m.set(key, value));
        else if (i % 3 === 1) await rec.record(p, { f: 'get', key }, () => m.get(key));
        else await rec.record(p, { f: 'compareAndSet', key, expected: `${p}.${i - 2}`, value }, () => m.compareAndSet(key, `${p}.${i - 2}`, value));
      }
    }));
    const result = check(rec.history(), replicatedMapModel);
    assert.is(result.verdict, 'linearizable', result.explanation ? formatExplanation(result.explanation) : '');
  } finally { await map.shutdown(); }
});
}

test.run();
