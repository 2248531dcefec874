/**
 * A turn's durable changes are its own: a store gets exactly the entries persisted in that turn,
 * whatever the turns before it persisted or failed to (the runtime reuses its op records from
 * turn to turn), and what a restart recovers is every successful turn's changes, in order.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { ActorSystem, defineActor, type PersistKey, type StorageKind } from '@synod/actors';
import { tempDir } from './store-helpers.ts';

type Msg = { type: 'put'; entries: [PersistKey, unknown][]; fail?: boolean; state?: unknown } | { type: 'get' };

interface View {
  entries: [PersistKey, unknown][];
  state: unknown;
}

/** Persists a turn's entries (and state) as told; a `fail` turn persists them, then throws. */
const Writer = defineActor<View, Msg, void, unknown>({
  module: import.meta.url,
  init: (_args, ctx, recovered) => ({ entries: [...ctx.recoveredEntries()].sort((a, b) => String(a[0]).localeCompare(String(b[0]))), state: recovered }),
  receive(state, msg, ctx) {
    if (msg.type === 'get') {
      ctx.reply(state);
      return;
    }
    for (const [k, v] of msg.entries) ctx.persistEntry(k, v);
    if (msg.state !== undefined) ctx.persist(msg.state);
    if (msg.fail) throw new Error('this turn fails after persisting');
    ctx.reply(true);
  },
});

for (const storage of ['memory', 'shared', 'file'] as StorageKind[]) {
  test(`${storage}: a restart recovers each successful turn's entries, none of a failed turn's`, async () => {
    const dir = tempDir();
    const sys = await ActorSystem.start({ mode: 'embedded', statsIntervalMs: 0, logLevel: 'silent', storage: { dir } });
    try {
      const w = await sys.spawn(Writer, { name: 'w', storage, restart: 'permanent' });
      // A big turn, then smaller ones: the later turns must not carry the first one's leftovers.
      const big: [PersistKey, unknown][] = Array.from({ length: 40 }, (_, i) => [i, { big: i }]);
      await sys.ask(w, { type: 'put', entries: big });
      await sys.ask(w, {
        type: 'put',
        entries: [
          [1, 'one'],
          ['s', 'string key'],
        ],
      });
      await sys.ask(w, { type: 'put', entries: [[2, undefined]], state: { n: 1 } });
      // A failed turn's changes are dropped, and the next turn's are all there is of them.
      const failed = sys
        .ask(
          w,
          {
            type: 'put',
            entries: [
              [3, 'lost'],
              [4, 'lost'],
            ],
            fail: true,
          },
          { timeoutMs: 500 },
        )
        .catch(() => 'no answer');
      assert.is(await failed, 'no answer');
      let view: View | undefined;
      for (let i = 0; view === undefined; i++) {
        try {
          await sys.ask(w, { type: 'put', entries: [['after', 'restart']] }, { timeoutMs: 500 });
          view = await sys.ask<View>(w, { type: 'get' });
        } catch (e) {
          if (i > 40) throw e; // restarting
        }
      }
      const expected = new Map<PersistKey, unknown>(big);
      expected.set(1, 'one').set('s', 'string key').delete(2);
      expected.set(4, { big: 4 }).set(3, { big: 3 });
      assert.equal(view.state, { n: 1 }, 'the state of the last turn that persisted one');
      const recovered = new Map(view.entries);
      assert.equal(recovered.get(3), expected.get(3), "the failed turn's write of 3 did not land");
      assert.is(recovered.get('after'), undefined, "recovered before the restart's turn");
      assert.equal(recovered, expected);
      // The turn after the restart landed, alone.
      await sys.stop(w);
      const again = await sys.spawn(Writer, { name: 'w', storage, restart: 'permanent' });
      const last = new Map((await sys.ask<View>(again, { type: 'get' })).entries);
      expected.set('after', 'restart');
      assert.equal(last, expected);
    } finally {
      await sys.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
