/**
 * Bad leader and replica options are refused by `ReplicatedStateMachine.start` with an
 * `InvalidOptionError` that names the option and the rule, before any actor starts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSystem, InvalidOptionError } from '@synod/actors';
import { ReplicatedMap, ReplicatedStateMachine, multiPaxosProtocol } from '@synod/replicated';
import { Counter } from './fixtures/counter.ts';

test('bad leader or replica options: InvalidOptionError naming the option and the rule, and no actor started', async () => {
  const system = await ActorSystem.start({ mode: 'embedded', logLevel: 'error' });
  let started = 0;
  system.events.on('actor:started', () => {
    started++;
  });
  try {
    for (const [options, parts] of [
      [{ leader: { leaseMs: 800 } }, ['leaseMs (800) must be shorter than electionTimeoutMs (500)']],
      [{ leader: { heartbeatMs: 0 } }, ['heartbeatMs must be a positive, finite number']],
      [{ leader: { maxClockDrift: 1.5 } }, ['maxClockDrift must be a number in [0, 1)']],
      [{ leader: { window: 2.5 } }, ['window must be a positive integer']],
      [{ leader: { preferredLeader: 5 } }, ['preferredLeader (5) must be a node of the cluster (0..2)']],
      [{ replica: { maxSubscribers: -1 } }, ['replica options: maxSubscribers must be a positive integer']],
      [{ replica: { sessionWindow: 64 } }, ['maxInflightPerSession (1024) must not exceed replica.sessionWindow (64)']],
      [{ replica: { snapshotEvry: 10 } }, ['unknown option "snapshotEvry"']],
      // A command bigger than a log record or a snapshot chunk would be refused by every store, again and again.
      [
        { maxCommandBytes: 32 << 20 },
        ['maxCommandBytes (33554432) is more than the cluster can store', 'storage.maxRecordBytes 16777216', 'storage.maxSnapshotChunkBytes 8388608'],
      ],
    ] as const) {
      try {
        await ReplicatedStateMachine.start({ machine: Counter, system, replicas: 3, ...(options as object) });
        assert.unreachable(JSON.stringify(options));
      } catch (e) {
        assert.instance(e, InvalidOptionError, JSON.stringify(options));
        for (const p of parts) assert.match((e as Error).message, p);
      }
    }
    assert.is(started, 0, 'no actor started');
    // Good options still start (and configure, in workers or embedded, the same rules hold).
    const map = await ReplicatedMap.start({ system, replicas: 3, leader: { heartbeatMs: 20, leaseMs: 100, electionTimeoutMs: 200 } });
    await map.set('k', 1);
    assert.is(await map.get('k'), 1);
    await map.rsm.cluster.supervisor.shutdown();
  } finally {
    await system.shutdown();
  }
});

test('maxCommandBytes up to what the stores hold: with both storage limits raised, a 20 MiB value is written, read back, and the cluster goes on', async () => {
  const map = await ReplicatedMap.start<string>({
    mode: 'embedded',
    replicas: 3,
    maxCommandBytes: 32 << 20,
    operationTimeoutMs: 60_000,
    systemOptions: { logLevel: 'error', storage: { maxRecordBytes: 48 << 20, maxSnapshotChunkBytes: 48 << 20 } },
  });
  try {
    const big = 'x'.repeat(20 << 20);
    await map.set('big', big);
    assert.is((await map.get('big'))?.length, big.length);
    await map.set('after', 'y');
    assert.is(await map.get('after'), 'y');
  } finally {
    await map.shutdown();
  }
});

test("a Multi-Paxos cluster lets its replicas' snapshots of a large state wait for half the acceptors' budget, unless told otherwise", () => {
  const base = { index: 0, machine: 'counter', replicas: [], leaders: [] };
  const lag = (o: { storage: 'shared' | 'file' | 'memory'; sharedBytes?: number; leader?: object; replica?: object }): unknown =>
    multiPaxosProtocol.replicaArgs!(
      { ...base, options: o.replica },
      { nodes: 3, protocolOptions: undefined, storage: o.storage, sharedBytes: o.sharedBytes ?? 128 << 20, leader: o.leader },
    ).options?.maxSnapshotLagBytes;
  assert.is(lag({ storage: 'file' }), 128 << 20, 'file: half of 256 MiB');
  assert.is(lag({ storage: 'memory' }), 128 << 20, 'memory: half of 256 MiB');
  assert.is(lag({ storage: 'shared' }), 16 << 20, 'shared, 128 MiB buffer: half of 32 MiB');
  assert.is(lag({ storage: 'shared', sharedBytes: 32 << 20 }), 4 << 20, 'shared, 32 MiB buffer: half of a quarter of it');
  assert.is(lag({ storage: 'file', leader: { maxAcceptorBytes: 64 << 20 } }), 32 << 20, "half the leader's own budget");
  assert.is(lag({ storage: 'file', replica: { maxSnapshotLagBytes: 1 << 20 } }), 1 << 20, "the replica's own option wins");
});

test.run();
