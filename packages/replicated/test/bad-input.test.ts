/**
 * Issue 13, case by case: no command and no state size can stop a cluster. Each test is one of
 * the inputs that used to brick a cluster; each asserts the clear error the user gets and that the
 * cluster goes on serving afterwards.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, replicatedMapModel } from '@synod/checker';
import { ClusterHaltedError, CommandFailedError, InvalidCommandError, QuotaExceededError, ReplicatedMap, ReplicatedStateMachine } from '@synod/replicated';
import { Hostile } from './fixtures/hostile.ts';

test('1. apply throwing a non-Error, or returning what cannot travel: the same error everywhere, and the cluster serves on (file storage, reopened)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'synod-hostile-'));
  try {
    let rsm = await ReplicatedStateMachine.start({ machine: Hostile, replicas: 3, storage: 'file', dir });
    try {
      for (const c of [{ do: 'throw-null-proto' }, { do: 'throw-string' }, { do: 'return-function' }] as const) {
        try {
          await rsm.execute(c);
          assert.unreachable(c.do);
        } catch (e) {
          assert.instance(e, CommandFailedError, c.do);
        }
      }
      try {
        await rsm.execute({ do: 'change-then-throw', n: 10 });
        assert.unreachable();
      } catch (e) {
        assert.instance(e, CommandFailedError);
        assert.match((e as Error).message, 'RangeError: failed half-way');
        assert.match((e as Error).message, 'what apply changed before it failed is kept');
      }
      assert.is(await rsm.execute({ do: 'add', n: 5 }), 16, 'the cluster serves on (1 from return-function, 10 kept from change-then-throw)');
    } finally {
      await rsm.shutdown();
    }
    // Reopening the directory replays the log with the same commands: no crash loop.
    rsm = await ReplicatedStateMachine.start({ machine: Hostile, replicas: 3, storage: 'file', dir });
    try {
      assert.is(await rsm.query('n'), 16);
      assert.is(await rsm.execute({ do: 'add', n: 1 }), 17);
    } finally {
      await rsm.shutdown();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('2. state past maxStateBytes: writes get QuotaExceededError, reads and deletes go on; nothing crash-loops', async () => {
  const map = await ReplicatedMap.start<string>({ replicas: 3, replica: { maxStateBytes: 2 << 20 } });
  try {
    const value = 'v'.repeat(4096);
    let refused = 0;
    let i = 0;
    for (; i < 1000 && refused === 0; i++) {
      try {
        await map.set(`k${i}`, value);
      } catch (e) {
        assert.instance(e, QuotaExceededError);
        assert.match((e as Error).message, 'maxStateBytes');
        refused++;
      }
    }
    assert.is(refused, 1, 'a write past the quota is refused');
    assert.ok(i > 400, `about 2 MiB of 4 KiB values fit (${i})`);
    assert.is(await map.get('k0'), value, 'reads go on');
    assert.is(await map.delete('k0'), true, 'deletes go on');
    assert.is(await map.set('small', 'x'), false, 'and once there is room, writes again');
  } finally {
    await map.shutdown();
  }
});

test('3. a small command that expands (600 references to one 32 KB string) is refused where it enters', async () => {
  const map = await ReplicatedMap.start<unknown>({ replicas: 3, mode: 'embedded' });
  try {
    const o = { s: 'x'.repeat(32_000) };
    try {
      await map.set('amp', Array(600).fill(o));
      assert.unreachable();
    } catch (e) {
      assert.instance(e, InvalidCommandError);
      assert.match((e as Error).message, 'maxCommandBytes');
      assert.match((e as Error).message, 'nothing was applied');
    }
    assert.is(await map.set('after', 1), false, 'the cluster serves on');
  } finally {
    await map.shutdown();
  }
});

test('4. a 364-byte DAG of depth 30 is refused (the encoder stops at the size bound), and the caller goes on', async () => {
  const map = await ReplicatedMap.start<unknown>({ replicas: 3, mode: 'embedded' });
  try {
    let x: object = { leaf: 1 };
    for (let i = 0; i < 30; i++) x = { a: x, b: x };
    try {
      await map.set('dag', x);
      assert.unreachable();
    } catch (e) {
      assert.instance(e, InvalidCommandError);
    }
    assert.is(await map.set('after', 1), false);
  } finally {
    await map.shutdown();
  }
});

test('5. compareAndSet compares canonical forms (Maps, key order), as the checker model does', async () => {
  const map = await ReplicatedMap.start<unknown>({ replicas: 3, mode: 'embedded' });
  try {
    await map.set('m', new Map([['a', 1]]));
    assert.is(await map.compareAndSet('m', new Map([['b', 2]]), 'x'), false, 'different Maps are different');
    await map.set('o', { a: 1, b: 2 });
    assert.is(await map.compareAndSet('o', { b: 2, a: 1 }, 'y'), true, 'key order does not matter');
    const ops = [
      { id: 0, process: 0, input: { f: 'set' as const, key: 'o', value: { a: 1, b: 2 } }, outcome: 'ok' as const, call: 0, ret: 1 },
      {
        id: 1,
        process: 0,
        input: { f: 'compareAndSet' as const, key: 'o', expected: { b: 2, a: 1 }, value: 'y' },
        outcome: 'ok' as const,
        output: true,
        call: 2,
        ret: 3,
      },
      { id: 2, process: 0, input: { f: 'set' as const, key: 'm', value: new Map([['a', 1]]) }, outcome: 'ok' as const, call: 4, ret: 5 },
      {
        id: 3,
        process: 0,
        input: { f: 'compareAndSet' as const, key: 'm', expected: new Map([['b', 2]]), value: 'x' },
        outcome: 'ok' as const,
        output: false,
        call: 6,
        ret: 7,
      },
    ];
    assert.is(check({ operations: ops }, replicatedMapModel).verdict, 'linearizable', 'the checker agrees with the map');
  } finally {
    await map.shutdown();
  }
});

test('6. circular values and class instances are InvalidCommandError naming the place', async () => {
  const map = await ReplicatedMap.start<unknown>({ replicas: 3, mode: 'embedded' });
  try {
    const cyclic: Record<string, unknown> = { list: [1] };
    (cyclic.list as unknown[]).push(cyclic);
    for (const [value, where] of [
      [cyclic, '$.list[1]'],
      [{ when: new (class Stamp {})() }, '$.when'],
    ] as const) {
      try {
        await map.set('bad', value);
        assert.unreachable();
      } catch (e) {
        assert.instance(e, InvalidCommandError);
        assert.match((e as Error).message, where);
      }
    }
  } finally {
    await map.shutdown();
  }
});

test('6. a non-deterministic apply is reported: replicas compare digests and raise a divergence event', async () => {
  const rsm = await ReplicatedStateMachine.start({ machine: Hostile, replicas: 3, replica: { digestEverySlots: 4 } });
  try {
    const seen = new Promise<{ replicas: [number, number]; from: number; to: number }>((resolve) => rsm.events.once('divergence', resolve));
    for (let i = 0; i < 16; i++) await rsm.execute({ do: 'random' });
    const d = await seen;
    assert.ok(d.to > d.from, `between slots ${d.from} and ${d.to}`);
    assert.is.not(d.replicas[0], d.replicas[1]);
  } finally {
    await rsm.shutdown();
  }
});

test('a command that kills every replica that applies it stops them at its slot, with an error naming it (not an endless restart loop)', async () => {
  const rsm = await ReplicatedStateMachine.start({
    machine: Hostile,
    replicas: 3,
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
    assert.match(h.detail, 'command');
    const e = await poisoned;
    assert.instance(e, ClusterHaltedError);
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

test.run();
