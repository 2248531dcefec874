/**
 * ReplicatedMap and ReplicatedStateMachine as applications use them, in both modes and on both
 * protocols (Multi-Paxos and Raft: the same code, the same answers): operations, validation at the
 * edge, exactly-once commands, read consistency choices, change events.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CommandFailedError, InvalidCommandError, ReadFailedError, ReplicatedMap, ReplicatedStateMachine, type MapChange } from '@synod/replicated';
import { RequestWriter, forEachEntry, type MClientResults } from '@synod/smr';
import { Counter } from './fixtures/counter.ts';

/**
 * What `call` rejects with. It must return a promise that rejects, never throw: callers write
 * `map.set(…).catch(…)`.
 */
async function rejection(what: string, call: () => Promise<unknown>): Promise<unknown> {
  let pending: Promise<unknown>;
  try {
    pending = call();
  } catch (e) {
    return assert.unreachable(`${what}: threw ${String(e)} instead of rejecting`);
  }
  try {
    await pending;
  } catch (e) {
    return e;
  }
  return assert.unreachable(`${what}: resolved`);
}

for (const protocol of ['multipaxos', 'raft'] as const)
  for (const mode of ['embedded', 'workers'] as const) {
    const t = suite(`ReplicatedMap (${protocol}, ${mode})`);
    let map: ReplicatedMap<unknown>;
    t.before(async () => {
      map = await ReplicatedMap.start({ mode, replicas: 3, protocol });
    });
    t.after(async () => {
      await map.shutdown();
    });

    t('set, get, delete, compareAndSet and entries', async () => {
      assert.is(await map.set('apple', 1), false);
      assert.is(await map.set('apple', 2), true);
      assert.is(await map.get('apple'), 2);
      assert.is(await map.compareAndSet('apple', 1, 5), false);
      assert.is(await map.compareAndSet('apple', 2, 3), true);
      assert.is(await map.compareAndSet('pear', null, 'new'), true, 'null expects absent');
      assert.equal(await map.entries(), [
        ['apple', 3],
        ['pear', 'new'],
      ]);
      assert.is(await map.delete('pear'), true);
      assert.is(await map.delete('pear'), false);
      assert.is(await map.get('pear'), undefined);
      assert.is(await map.has('apple'), true);
      assert.is(await map.size(), 1);
      await map.set('nested', { list: [1, 2], at: new Date(0), m: new Map([['k', 1]]) });
      assert.equal(await map.get('nested'), { list: [1, 2], at: new Date(0), m: new Map([['k', 1]]) });
    });

    t('bad commands are refused where they enter, and nothing changes', async () => {
      await map.set('safe', 'kept');
      for (const [what, call] of [
        ['a key that is not a string', () => map.set(42 as unknown as string, 1)],
        ['an empty key', () => map.set('', 1)],
        ['an undefined value', () => map.set('safe', undefined)],
        ['a function value', () => map.set('safe', () => 1)],
        ['a value over maxCommandBytes', () => map.set('safe', 'x'.repeat(100 * 1024))],
      ] as const) {
        const e = await rejection(what, call);
        assert.instance(e, InvalidCommandError, what);
        assert.match((e as Error).message, 'nothing was applied', what);
      }
      assert.is(await map.get('safe'), 'kept');
      for (const [what, call, error] of [
        ['a key that is not a string', () => map.get(7 as unknown as string), ReadFailedError],
        ['options that are null', () => map.get('safe', null as never), TypeError],
        ['options that are null', () => map.set('safe', 1, null as never), TypeError],
      ] as const) {
        assert.instance(await rejection(what, call), error, what);
      }
    });

    t("every read consistency sees this session's own write; linearizable and lease reads see the latest", async () => {
      const other = map.withSession();
      await other.set('k', 'v1');
      for (const consistency of ['linearizable', 'lease'] as const) assert.is(await map.get('k', { consistency }), 'v1', consistency);
      await map.set('k', 'v2');
      assert.is(await map.get('k', { consistency: 'session' }), 'v2', 'read your writes');
      const eventual = await map.get('k', { consistency: 'eventual' });
      assert.ok(eventual === 'v1' || eventual === 'v2' || eventual === undefined, 'eventual: some state that existed');
    });

    t('change events report applied writes in log order', async () => {
      const changes: MapChange[] = [];
      map.watch().events.on('change', (c) => changes.push(c));
      await map.set('w1', 1);
      await map.set('w2', 2);
      await map.delete('w1');
      await map.compareAndSet('w2', 2, 3);
      for (let i = 0; i < 200 && changes.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(
        changes.map((c) => [c.type, c.key]),
        [
          ['set', 'w1'],
          ['set', 'w2'],
          ['delete', 'w1'],
          ['set', 'w2'],
        ],
      );
      assert.ok(changes.every((c, i) => i === 0 || c.slot >= changes[i - 1]!.slot));
    });

    t.run();

    const c = suite(`ReplicatedStateMachine (${protocol}, ${mode})`);
    c('a retried command (same session and number) is applied once', async () => {
      const rsm = await ReplicatedStateMachine.start({ mode, replicas: 3, machine: Counter, protocol });
      try {
        assert.is(await rsm.execute({ add: 5 }), 5);
        // Send one request twice by hand, as a client retrying after a lost reply would.
        const leader = rsm.cluster.leaders[rsm.leaderIndex]!;
        const answers: MClientResults[] = [];
        const inbox = rsm.system.listener<MClientResults>('retrying-client-inbox', (m) => {
          if (m.type === 'client-results') answers.push(m);
        });
        const w = new RequestWriter();
        w.add(1, 0, 1, Counter.client.encodeCommand({ add: 10 }, 1024));
        const request = { type: 'client-request' as const, from: inbox, client: 'retrying-client', commands: 1, bytes: w.finish('retrying-client') };
        rsm.system.send(leader, request);
        for (let i = 0; i < 500 && answers.length < 1; i++) await new Promise((r) => setTimeout(r, 5));
        rsm.system.send(leader, request);
        for (let i = 0; i < 500 && answers.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
        const values = answers.map((a) => {
          let v: unknown;
          forEachEntry(a.bytes, (r) => {
            r.uvar();
            r.uvar();
            r.u8();
            r.uvar();
            v = Counter.client.decodeResult(r.bytesView());
          });
          return v;
        });
        assert.equal(values, [15, 15], 'the retry gets the first result');
        assert.is(await rsm.query('value'), 15, 'and the state changed once');
        // A command the machine refuses fails on every replica and changes nothing.
        try {
          await rsm.execute({ add: 13 });
          assert.unreachable();
        } catch (e) {
          assert.instance(e, CommandFailedError);
          assert.match((e as Error).message, '13 is refused');
        }
        assert.is(await rsm.query('value', { consistency: 'session' }), 15);
      } finally {
        await rsm.shutdown();
      }
    });
    c.run();
  }
