/**
 * `protocol: 'raft'` as users run it: a ReplicatedMap whose follower's worker is killed under load
 * (its RaftNode and replica restart from their durable state and catch up), a command that kills
 * every replica halting the cluster with the same error as on Multi-Paxos, and Raft's options
 * refused where they enter, before any actor starts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSystem, InvalidOptionError } from '@synod/actors';
import type { RaftNodeState } from '@synod/raft';
import { ClusterHaltedError, ReplicatedMap, ReplicatedStateMachine } from '@synod/replicated';
import { Counter } from './fixtures/counter.ts';
import { Hostile } from './fixtures/hostile.ts';

for (const mode of ['workers', 'embedded'] as const) {
  test(`${mode}: 1,200 writes from four sessions commit while a follower's worker is killed and restarted; every replica ends the same`, async () => {
    const map = await ReplicatedMap.start<number>({ mode, replicas: 3, protocol: 'raft', leader: { heartbeatMs: 20, electionTimeoutMs: 300, leaseMs: 200 } });
    const restarted: string[] = [];
    map.system.events.on('actor:restarted', (e) => restarted.push(e.ref.name));
    try {
      assert.is(map.rsm.cluster.protocol, 'raft');
      assert.equal(Object.keys(map.rsm.cluster.roles), ['raft']);
      let killed = false;
      await Promise.all(
        ['a', 'b', 'c', 'd'].map(async (key, k) => {
          const m = map.withSession();
          for (let n = 1; n <= 300; n++) {
            await m.set(key, n);
            if (mode === 'workers' && k === 0 && n === 100) {
              // A follower's node: neither the leader's nor (when it can be told apart) the client's first guess.
              const leader = map.rsm.leaderIndex;
              killed = true;
              await map.system.killWorker(map.rsm.cluster.replicas[(leader + 1) % 3]!.node);
            }
          }
        }),
      );
      assert.equal(await map.entries(), [
        ['a', 300],
        ['b', 300],
        ['c', 300],
        ['d', 300],
      ]);
      if (mode === 'workers') {
        assert.ok(killed);
        // The node's actors come back one by one after its new worker starts: the writes may all
        // have committed (on the other two nodes) before the last of them is restarted.
        const both = () => restarted.some((r) => r.includes('-raft-')) && restarted.some((r) => r.includes('-replica-'));
        for (let t = 0; t < 250 && !both(); t++) await new Promise((r) => setTimeout(r, 20));
        assert.ok(
          restarted.some((r) => r.includes('-raft-')) && restarted.some((r) => r.includes('-replica-')),
          `the node's actors restarted (${restarted.join(', ')})`,
        );
      }
      // Every replica catches up to the same applied log.
      let digests: unknown[] = [];
      for (let t = 0; t < 300; t++) {
        const snaps = await Promise.all(map.rsm.cluster.replicas.map((r) => map.system.inspect(r).catch(() => null)));
        digests = snaps.map((s) => {
          const v = s?.state as { appliedUpTo?: number; digest?: number } | undefined;
          return `${v?.appliedUpTo}:${v?.digest}`;
        });
        if (digests.every((d) => d === digests[0]) && !String(digests[0]).startsWith('undefined')) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(
        digests.every((d) => d === digests[0]),
        `replicas agree (applied:digest ${digests.join(', ')})`,
      );
      const nodes = await Promise.all(map.rsm.cluster.leaders.map((r) => map.system.inspect(r)));
      assert.is(nodes.filter((s) => (s.state as RaftNodeState).status === 'leader').length, 1, 'one leader');
    } finally {
      await map.shutdown();
    }
  });
}

test('a command that kills every replica that applies it stops them at its slot on Raft too, with the same error', async () => {
  const rsm = await ReplicatedStateMachine.start({
    machine: Hostile,
    replicas: 3,
    protocol: 'raft',
    replica: { maxApplyAttempts: 2 },
    operationTimeoutMs: 60_000,
    systemOptions: { heartbeat: { intervalMs: 50, timeoutMs: 1000 } },
  });
  try {
    await rsm.execute({ do: 'add', n: 1 });
    const halted = new Promise<{ slot: number; detail: string }>((resolve) => rsm.events.once('halted', resolve));
    const poisoned = rsm.execute({ do: 'exit' }).catch((e: Error) => e);
    const h = await halted;
    assert.match(h.detail, `stopped applying at slot ${h.slot}`);
    assert.instance(await poisoned, ClusterHaltedError);
    try {
      await rsm.execute({ do: 'add', n: 1 });
      assert.unreachable();
    } catch (err) {
      assert.instance(err, ClusterHaltedError);
    }
  } finally {
    await rsm.shutdown();
  }
});

test('Raft options: leader options that mean the same set them; bad or unknown ones are refused before any actor starts, naming the option', async () => {
  const system = await ActorSystem.start({ mode: 'embedded', logLevel: 'error' });
  let started = 0;
  system.events.on('actor:started', () => {
    started++;
  });
  try {
    for (const [options, part] of [
      [{ protocolOptions: { preVot: false } }, 'unknown option "preVot"'],
      [{ protocolOptions: { maxInflightMsgs: 0 } }, 'maxInflightMsgs must be a positive integer'],
      [{ protocolOptions: { heartbeatMs: 600 } }, 'heartbeatMs (600) must be shorter than electionTimeoutMs (500)'],
      [{ protocolOptions: 'fast' }, 'protocolOptions must be an object of Raft options'],
      [{ protocolOptions: { preferredLeader: 4 } }, 'preferredLeader (4) must be a node of the cluster (0..2)'],
      [{ protocol: 'paxos-made-simple' }, 'protocol must be one of multipaxos, epaxos, raft'],
    ] as const) {
      try {
        await ReplicatedStateMachine.start({ machine: Counter, system, replicas: 3, protocol: 'raft', ...(options as object) });
        assert.unreachable(JSON.stringify(options));
      } catch (e) {
        assert.instance(e, InvalidOptionError, JSON.stringify(options));
        assert.match((e as Error).message, part);
      }
    }
    assert.is(started, 0, 'no actor started');
    const rsm = await ReplicatedStateMachine.start({
      machine: Counter,
      system,
      replicas: 3,
      protocol: 'raft',
      leader: { window: 7, heartbeatMs: 25 },
      protocolOptions: { maxInflightMsgs: 3, preVote: false },
    });
    const live = (
      await system.inspect(rsm.cluster.leaders[1]!, {
        project: { module: new URL('./fixtures/raft-options.ts', import.meta.url).href, exportName: 'raftOptions' },
      })
    ).state as Record<string, unknown>;
    assert.equal([live.window, live.heartbeatMs, live.maxInflightMsgs, live.preVote, live.electionTimeoutMs], [7, 25, 3, false, 500]);
    assert.is(await rsm.execute({ add: 2 }), 2);
    await rsm.cluster.supervisor.shutdown();
  } finally {
    await system.shutdown();
  }
});

test.run();
