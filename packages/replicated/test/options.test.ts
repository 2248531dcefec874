/**
 * Bad leader and replica options are refused by `ReplicatedStateMachine.start` with an
 * `InvalidOptionError` that names the option and the rule, before any actor starts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSystem, InvalidOptionError } from '@synod/actors';
import { ReplicatedMap, ReplicatedStateMachine } from '@synod/replicated';
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

test.run();
