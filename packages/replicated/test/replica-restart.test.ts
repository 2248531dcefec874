/**
 * The replica on the leader's node answers the clients. When it crashes and its supervisor
 * restarts it, clients go on being answered: it tells the leader that the routes to the clients
 * went with its old incarnation, and the leader tells it again. (Before, the leader believed its
 * replica still knew every route, and no client was answered again until the leader moved.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ReplicatedMap } from '@synod/replicated';

for (const protocol of ['multipaxos', 'raft'] as const) {
  test(`${protocol}: after the leader node's replica crashes and restarts, writes are answered again`, async () => {
    const map = await ReplicatedMap.start<number>({ replicas: 3, protocol });
    try {
      await map.set('k', 0);
      const { system, cluster } = map.rsm;
      await system.crash(cluster.replicas[map.rsm.leaderIndex]!, 'crash injected by replica-restart.test');
      // Each set must be answered: one stuck client times out (OutcomeUnknownError) and fails the test.
      for (let i = 1; i <= 20; i++) await map.set('k', i);
      assert.is(await map.get('k'), 20);
    } finally {
      await map.shutdown();
    }
  });
}

test.run();
