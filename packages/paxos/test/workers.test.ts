/**
 * The Synod on real worker threads: 3 acceptors, 2 proposers, 2 learners decide 10,000
 * instances while an acceptor's worker is killed (more than once); the supervisor restarts it
 * from its shared-memory state; every instance decides exactly one value and the safety
 * properties hold over the final states.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSynod } from '@synod/paxos';

test('10,000 instances decided on workers while an acceptor worker is killed twice', async () => {
  const synod = await createSynod({ acceptors: 3, proposers: 2, learners: 2, storage: 'shared', proposeTimeoutMs: 10_000 });
  const { system } = synod;
  const restarts: string[] = [];
  system.events.on('actor:restarted', (e) => restarts.push(e.ref.name));
  try {
    const N = 10_000;
    const victim = synod.acceptors[1]!;
    const results: Promise<unknown>[] = [];
    let killed = 0;
    for (let i = 0; i < N; i++) {
      // Two clients race on every tenth instance: only one value may win.
      results.push(synod.propose(i, `a${i}`));
      if (i % 10 === 0) results.push(synod.propose(i, `b${i}`));
      if (i === 3000 || i === 6500) {
        // Kill it only when it is up (after the first kill, once it was restarted).
        while (restarts.filter((n) => n === victim.name).length < killed) await new Promise((r) => setTimeout(r, 10));
        await system.killWorker(victim.node);
        killed++;
      }
      if (i % 500 === 499) await Promise.all(results.slice(-500));
    }
    const values = await Promise.all(results);
    assert.is(killed, 2);
    for (let t = 0; t < 500 && restarts.filter((n) => n === victim.name).length < 2; t++) await new Promise((r) => setTimeout(r, 20));
    assert.is(restarts.filter((n) => n === victim.name).length, 2, `the acceptor was restarted twice (${restarts.join(', ')})`);
    // Every instance decided exactly one value, the same for every client that asked.
    let k = 0;
    for (let i = 0; i < N; i++) {
      const first = values[k++];
      assert.ok(first === `a${i}` || first === `b${i}`, `instance ${i}: ${String(first)}`);
      if (i % 10 === 0) assert.is(values[k++], first, `instance ${i}: both clients see one value`);
    }
    // Learners agree with the acceptors, and with each other (learning may lag: wait for it).
    for (const i of [0, 1, 2999, 3001, 6501, N - 1]) assert.is(await synod.learn(i), values[i + Math.floor((i + 9) / 10)]);
    assert.equal(await synod.check(), []);
  } finally {
    await synod.shutdown();
  }
});

test.run();
