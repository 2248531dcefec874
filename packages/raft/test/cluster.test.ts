/**
 * RaftNodes and replicas together in the simulator, in schedules chosen by hand, driven by the
 * production client (`ClientCore`, in a small actor): commands applied on every replica, reads of
 * a deposed leader, a follower brought back after the log was compacted past it (the compaction
 * point from Raft, the state from a peer replica in chunks), and a leadership transfer under load.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ActorRef } from '@synod/actors';
import { Simulation } from '@synod/actors/sim';
import { Replica, type ReplicaArgs, type ReplicaState } from '@synod/paxos';
import { RaftInvariants, RaftNode, type RaftMsg, type RaftNodeArgs, type RaftNodeState, type RaftOptions } from '@synod/raft';
import type { ReadConsistency } from '@synod/smr';
import { TestClient, type Answer } from './fixtures/client.ts';
import { registers } from './fixtures/registers.ts';

const baseOptions: Partial<RaftOptions> = { heartbeatMs: 20, electionTimeoutMs: 150, snapshotCatchUpEntries: 2 };

async function cluster(n: number, seed = 1, extra: Partial<RaftOptions> = {}) {
  const options = { ...baseOptions, ...extra };
  const sim = new Simulation({ seed, logLevel: 'silent' });
  const replicaOptions = { snapshotEvery: 4, digestEverySlots: 4, snapshotChunkBytes: 64 };
  const replicaArgs = (i: number, replicas: ActorRef<any>[] = [], leaders: ActorRef<any>[] = []): ReplicaArgs => ({
    index: i,
    machine: registers.key,
    replicas,
    leaders,
    options: replicaOptions,
  });
  const replicas: ActorRef<any>[] = [];
  for (let i = 0; i < n; i++) replicas.push(await sim.spawn(Replica, { name: `replica-${i}`, worker: `node-${i}`, storage: 'file', args: replicaArgs(i) }));
  const argsOf = (i: number, nodes: ActorRef<RaftMsg>[]): RaftNodeArgs => ({ index: i, size: n, nodes, replicas, options });
  const nodes: ActorRef<RaftMsg>[] = [];
  for (let i = 0; i < n; i++) nodes.push(await sim.spawn(RaftNode, { name: `raft-${i}`, worker: `node-${i}`, storage: 'file', args: argsOf(i, []) }));
  nodes.forEach((ref, i) => {
    sim.root.setChildArgs(ref, argsOf(i, nodes));
    sim.send(ref, { type: 'configure', nodes });
  });
  replicas.forEach((ref, i) => {
    sim.root.setChildArgs(ref, replicaArgs(i, replicas, nodes));
    sim.send(ref, { type: 'configure', replicas, leaders: nodes });
  });
  const invariants = new RaftInvariants(n);
  const watched = [...nodes.map((r) => r.name), ...replicas.map((r) => r.name)];
  sim.invariant('raft safety', (view) => {
    const v = invariants.observe({
      actors: watched.map((name) => ({ name, state: view.state(name), tentative: name.startsWith('raft') && !view.durable(name) })),
    });
    return v === null ? true : `${v.property}: ${v.message}`;
  });
  const client = await sim.spawn(TestClient, { name: 'client', worker: 'clients', args: { cluster: { leaders: nodes, replicas } } });
  const raft = (i: number) => sim.state<RaftNodeState>(`raft-${i}`)!;
  const replica = (i: number) => sim.state<ReplicaState>(`replica-${i}`)!;
  const leader = () => nodes.findIndex((_, i) => sim.state<RaftNodeState>(`raft-${i}`)?.status === 'leader');
  const set = (key: string, value: unknown) => sim.call<Answer>(client as ActorRef<any>, { type: 'set', key, value }, { timeoutMs: 3_000 });
  const get = (key: string, consistency: ReadConsistency = 'linearizable') =>
    sim.call<Answer>(client as ActorRef<any>, { type: 'get', key, consistency }, { timeoutMs: 3_000 });
  return { sim, nodes, replicas, raft, replica, leader, set, get, client };
}

test('a cluster elects node 0, commits commands from the production client, and every replica applies them in the same order', async () => {
  const c = await cluster(3);
  await c.sim.run({ forMs: 100 });
  assert.is(c.leader(), 0);
  for (let k = 0; k < 10; k++) assert.is((await c.set(`k${k % 3}`, k)).kind, 'ok');
  await c.sim.run({ forMs: 100 });
  for (let i = 0; i < 3; i++) {
    assert.is(c.replica(i).exec.appliedUpTo, c.raft(0).commitIndex);
    assert.equal(c.replica(i).exec.state, { k0: 9, k1: 7, k2: 8 });
  }
  for (const consistency of ['linearizable', 'lease', 'session', 'eventual'] as const) {
    const r = await c.get('k1', consistency);
    assert.equal([r.kind, r.value], ['ok', 7], consistency);
  }
  assert.ok(c.sim.failed === null, c.sim.failed?.message);
});

test("§6.4 a deposed leader that still believes it leads serves no read: the new leader's writes are never missed", async () => {
  // Without CheckQuorum a cut-off leader goes on believing it leads until it hears a newer term.
  const c = await cluster(3, 1, { checkQuorum: false });
  await c.sim.run({ forMs: 100 });
  assert.is((await c.set('x', 'old')).kind, 'ok');
  await c.sim.run({ forMs: 50 }); // a heartbeat round: node 0's lease runs
  // Node 0 is cut off from the other nodes; clients still reach it.
  c.sim.fault({ kind: 'partition', groups: [['raft-0'], ['raft-1', 'raft-2']], durationMs: 600 });
  await c.sim.run({ until: (v) => [1, 2].some((i) => v.state<RaftNodeState>(`raft-${i}`)?.status === 'leader'), maxSteps: 1e6 });
  assert.is((await c.set('x', 'new')).kind, 'ok', 'the new leader commits (the client found it)');
  assert.is(c.raft(0).status, 'leader', 'node 0 still leads its older term');
  // A client that knows only node 0 (and its replica) reads there.
  const stale = await c.sim.spawn(TestClient, {
    name: 'stale-client',
    worker: 'clients',
    args: { cluster: { leaders: [c.nodes[0]!], replicas: [c.replicas[0]!] } },
  });
  const reads = (['linearizable', 'lease'] as const).map((consistency) =>
    c.sim.ask<Answer>(stale as ActorRef<any>, { type: 'get', key: 'x', consistency }, { timeoutMs: 3_000 }),
  );
  await c.sim.run({ forMs: 2_500 });
  for (const r of await Promise.all(reads)) {
    assert.ok(r.kind !== 'ok' || r.value === 'new', `a read at the deposed leader answered ${JSON.stringify(r)}`);
  }
  assert.is(c.raft(0).status, 'follower', 'it stepped down once the partition healed');
  assert.ok(c.sim.failed === null, c.sim.failed?.message);
});

test("§7 a follower behind the leader's compaction point gets the compaction point from Raft and the state from a peer replica in chunks; replication resumes at once", async () => {
  const c = await cluster(3);
  await c.sim.run({ forMs: 100 });
  c.sim.fault({ kind: 'partition', groups: [['raft-2'], ['raft-0', 'raft-1']], durationMs: 1_000 });
  for (let k = 0; k < 30; k++) assert.is((await c.set(`k${k}`, 'v'.repeat(40))).kind, 'ok');
  await c.sim.run({ forMs: 100 });
  assert.ok(c.raft(0).log.snapIndex > c.raft(2).log.lastIndex, 'the leader compacted past the follower');
  await c.sim.run({ forMs: 1_500 });
  assert.ok(c.raft(0).stats.snapshotsSent >= 1);
  assert.ok(c.raft(2).stats.snapshotsInstalled >= 1);
  assert.is(c.raft(2).log.snapIndex, c.raft(0).log.snapIndex, "its log starts at the leader's compaction point");
  assert.is((await c.set('after', 1)).kind, 'ok');
  await c.sim.run({ forMs: 200 });
  assert.is(c.raft(2).commitIndex, c.raft(0).commitIndex);
  const r2 = c.replica(2);
  assert.is(r2.exec.appliedUpTo, c.raft(0).commitIndex);
  assert.ok((r2.snapshot?.index ?? 0) > 0, "its replica installed a peer's snapshot");
  assert.is((r2.exec.state as Record<string, unknown>).k29, 'v'.repeat(40));
  assert.is(r2.exec.digest, c.replica(0).exec.digest, "the same applied log as the leader's replica");
  assert.ok(c.sim.failed === null, c.sim.failed?.message);
});

test('§3.10 a leadership transfer under load: the target leads the next term, no acknowledged command is lost', async () => {
  const c = await cluster(5);
  await c.sim.run({ forMs: 100 });
  const acked: number[] = [];
  const writes: Promise<void>[] = [];
  for (let k = 0; k < 20; k++) {
    writes.push(
      c.sim.ask<Answer>(c.client as ActorRef<any>, { type: 'set', key: `k${k}`, value: k }, { timeoutMs: 3_000 }).then(
        (r) => {
          if (r.kind === 'ok') acked.push(k);
        },
        () => {},
      ),
    );
    if (k === 10) c.sim.send(c.nodes[3]!, { type: 'r-transfer', to: 3 });
  }
  await c.sim.run({ forMs: 500 });
  await Promise.all(writes);
  assert.is(c.leader(), 3);
  assert.is(c.raft(3).term, 2);
  assert.is(acked.length, 20, 'the client resends what the old leader handed back');
  await c.sim.run({ forMs: 200 });
  const state = c.replica(3).exec.state as Record<string, unknown>;
  for (const k of acked) assert.is(state[`k${k}`], k, `acknowledged write k${k}`);
  assert.ok(c.sim.failed === null, c.sim.failed?.message);
});

test.run();
