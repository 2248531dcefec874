/**
 * RaftNodes and Multi-Paxos replicas together in the simulator, in schedules chosen by hand:
 * commands applied on every replica, reads of a deposed leader, a follower brought back by a
 * chunked snapshot after the log was compacted past it, and a leadership transfer under load.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ActorRef } from '@synod/actors';
import { Simulation } from '@synod/actors/sim';
import { Replica, type MRead, type MRequest, type ReplicaState } from '@synod/paxos';
import { RaftInvariants, RaftNode, type RaftMsg, type RaftNodeState, type RaftOptions } from '@synod/raft';
import { registers } from './fixtures/registers.ts';

const baseOptions: Partial<RaftOptions> = {
  heartbeatMs: 20, electionTimeoutMs: 150, encodeBatches: false, snapshotCatchUpEntries: 2, maxSnapshotChunkBytes: 64, maxSnapshotChunksInFlight: 2, snapshotRetryMs: 50,
};

async function cluster(n: number, seed = 1, extra: Partial<RaftOptions> = {}) {
  const options = { ...baseOptions, ...extra };
  const sim = new Simulation({ seed, logLevel: 'silent' });
  const replicaOptions = { snapshotEvery: 4, digest: true };
  const replicas: ActorRef<any>[] = [];
  for (let i = 0; i < n; i++) {
    replicas.push(await sim.spawn(Replica, { name: `replica-${i}`, worker: `node-${i}`, storage: 'file', args: { index: i, machine: registers.key, options: replicaOptions } }));
  }
  const nodes: ActorRef<RaftMsg>[] = [];
  for (let i = 0; i < n; i++) nodes.push(await sim.spawn(RaftNode, { name: `raft-${i}`, worker: `node-${i}`, storage: 'file', args: { index: i, size: n, replicas, options } }));
  nodes.forEach((ref, i) => {
    sim.root.setChildArgs(ref, { index: i, size: n, nodes, replicas, options });
    sim.send(ref, { type: 'configure', nodes });
  });
  replicas.forEach((ref, i) => {
    sim.root.setChildArgs(ref, { index: i, machine: registers.key, replicas, leaders: nodes, options: replicaOptions });
    sim.send(ref, { type: 'configure', replicas, leaders: nodes });
  });
  const invariants = new RaftInvariants(n);
  const watched = [...nodes.map((r) => r.name), ...replicas.map((r) => r.name)];
  sim.invariant('raft safety', (view) => {
    const v = invariants.observe({ actors: watched.map((name) => ({ name, state: view.state(name) })) });
    return v === null ? true : `${v.property}: ${v.message}`;
  });
  const raft = (i: number) => sim.state<RaftNodeState>(`raft-${i}`)!;
  const leader = () => nodes.findIndex((_, i) => sim.state<RaftNodeState>(`raft-${i}`)?.status === 'leader');
  let seq = 0;
  const c0 = { sim };
  const set = (at: number, key: string, value: unknown) => sim.call<any, MRequest>(nodes[at]!, { type: 'request', commands: [{ client: 'c', seq: ++seq, op: { key, value } }] }, { timeoutMs: 2_000 });
  const send = (at: number, key: string, value: unknown) => c0.sim.ask<any, MRequest>(nodes[at]!, { type: 'request', commands: [{ client: 'c', seq: ++seq, op: { key, value } }] }, { timeoutMs: 2_000 });
  const get = (at: number, key: string, consistency: 'linearizable' | 'lease' = 'linearizable') => sim.call<any, MRead>(nodes[at]!, { type: 'read', query: { key }, consistency }, { timeoutMs: 2_000 });
  return { sim, nodes, replicas, raft, leader, set, send, get };
}

test('a cluster elects node 0, commits commands, and every replica applies them in the same order (batches as objects, and encoded)', async () => {
  for (const encodeBatches of [false, true]) {
  const c = await cluster(3, 1, { encodeBatches });
  await c.sim.run({ forMs: 100 });
  assert.is(c.leader(), 0);
  for (let k = 0; k < 10; k++) {
    const r = await c.set(0, `k${k % 3}`, k);
    assert.is(r.type, 'result');
    assert.ok(r.ok);
  }
  await c.sim.run({ forMs: 100 });
  for (let i = 0; i < 3; i++) {
    const r = c.sim.state<ReplicaState>(`replica-${i}`)!;
    assert.is(r.appliedUpTo, c.raft(0).commitIndex);
    assert.equal(r.state, { k0: 9, k1: 7, k2: 8 });
  }
  assert.is((await c.get(0, 'k1')).value, 7);
  assert.ok(c.sim.failed === null, c.sim.failed?.message);
  }
});

test('§6.4 a deposed leader that still believes it leads serves no read: the new leader\'s writes are never missed', async () => {
  // Without CheckQuorum a cut-off leader goes on believing it leads until it hears a newer term.
  const c = await cluster(3, 1, { checkQuorum: false });
  await c.sim.run({ forMs: 100 });
  await c.set(0, 'x', 'old');
  await c.sim.run({ forMs: 50 }); // a heartbeat round: node 0's lease runs
  // Node 0 is cut off from the others; clients still reach it.
  c.sim.fault({ kind: 'partition', groups: [['raft-0'], ['raft-1', 'raft-2']], durationMs: 600 });
  await c.sim.run({ until: (v) => [1, 2].some((i) => v.state<RaftNodeState>(`raft-${i}`)?.status === 'leader'), maxSteps: 1e6 });
  const fresh = [1, 2].find((i) => c.raft(i).status === 'leader')!;
  assert.ok((await c.set(fresh, 'x', 'new')).ok, 'the new leader commits');
  assert.is(c.raft(0).status, 'leader', 'node 0 still leads its older term');
  const reads = (['linearizable', 'lease'] as const).map((consistency) => c.sim.ask<any, MRead>(c.nodes[0]!, { type: 'read', query: { key: 'x' }, consistency }, { timeoutMs: 2_000 }));
  await c.sim.run({ forMs: 1_000 });
  for (const r of await Promise.all(reads)) {
    assert.ok(r.type === 'redirect' || r.value === 'new', `a read at the deposed leader answered ${JSON.stringify(r)}`);
  }
  assert.is(c.raft(0).status, 'follower', 'it stepped down once the partition healed');
  assert.ok(c.sim.failed === null, c.sim.failed?.message);
});

test('§7 a follower behind the leader\'s compaction point gets the replica snapshot in chunks, and replication resumes after it', async () => {
  const c = await cluster(3);
  await c.sim.run({ forMs: 100 });
  c.sim.fault({ kind: 'partition', groups: [['raft-2'], ['raft-0', 'raft-1']], durationMs: 1_000 });
  for (let k = 0; k < 30; k++) await c.set(0, `k${k}`, 'v'.repeat(20));
  await c.sim.run({ forMs: 100 });
  assert.ok(c.raft(0).log.snapIndex > c.raft(2).log.lastIndex, 'the leader compacted past the follower');
  await c.sim.run({ forMs: 1_500 });
  assert.ok(c.raft(0).stats.snapshotsSent >= 1);
  assert.ok(c.raft(2).stats.snapshotsInstalled >= 1);
  await c.set(0, 'after', 1);
  await c.sim.run({ forMs: 200 });
  assert.is(c.raft(2).commitIndex, c.raft(0).commitIndex);
  const r2 = c.sim.state<ReplicaState>('replica-2')!;
  assert.is(r2.appliedUpTo, c.raft(0).commitIndex);
  assert.is((r2.state as Record<string, unknown>).k29, 'v'.repeat(20));
  assert.ok(c.sim.failed === null, c.sim.failed?.message);
});

test('§3.10 a leadership transfer under load: the target leads the next term, no acknowledged command is lost', async () => {
  const c = await cluster(5);
  await c.sim.run({ forMs: 100 });
  const acked: number[] = [];
  const writes: Promise<void>[] = [];
  for (let k = 0; k < 20; k++) {
    writes.push(c.send(0, `k${k}`, k).then((r) => { if (r.ok) acked.push(k); }, () => {}));
    if (k === 10) c.sim.send(c.nodes[3]!, { type: 'r-transfer', to: 3 });
  }
  await c.sim.run({ forMs: 500 });
  await Promise.all(writes);
  assert.is(c.leader(), 3);
  assert.is(c.raft(3).term, 2);
  await c.sim.run({ forMs: 200 });
  const state = c.sim.state<ReplicaState>('replica-3')!.state as Record<string, unknown>;
  for (const k of acked) assert.is(state[`k${k}`], k, `acknowledged write k${k}`);
  assert.ok(c.sim.failed === null, c.sim.failed?.message);
});

test.run();
