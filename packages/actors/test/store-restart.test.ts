/**
 * `shared` and `file` state survive the crash of their worker: a new worker for the same store
 * name (the actor spawned again, or restarted by its supervisor) gets the same buffer or log.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { ActorSystem, DuplicateNameError, StorageError, defineActor, type ActorRef, type ReplyToken, type StorageKind } from '@synod/actors';
import { Keeper, type KeeperMsg, type KeeperView } from './fixtures/keeper.ts';
import { tempDir } from './store-helpers.ts';

/** Puts entries and ticks; resolves once all are acknowledged (replies are held until durable). */
async function fill(sys: ActorSystem, k: ActorRef<KeeperMsg>, count: number): Promise<void> {
  const acks: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    sys.send(k, { type: 'tick' });
    acks.push(sys.ask(k, { type: 'put', key: i % 2 ? `s${i}` : i, value: { i, text: 'v'.repeat(i % 50) } }));
  }
  await Promise.all(acks);
}

/** Asks until the actor answers: it may be restarting. */
async function view(sys: ActorSystem, k: ActorRef<KeeperMsg>): Promise<KeeperView> {
  for (let i = 0; ; i++) {
    try {
      return await sys.ask<KeeperView>(k, { type: 'get' }, { timeoutMs: 500 });
    } catch (e) {
      if (i > 40) throw e;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

const strip = (v: KeeperView) => ({ n: v.n, entries: v.entries });

for (const kind of ['shared', 'file'] as StorageKind[]) {
  test(`${kind}: state survives a killed worker; the actor spawned again recovers it`, async () => {
    const dir = tempDir();
    const sys = await ActorSystem.start({
      mode: 'workers',
      statsIntervalMs: 0,
      logLevel: 'silent',
      spareWorkers: 0,
      heartbeat: { timeoutMs: 30_000 },
      storage: { dir, sharedBytes: 256 * 1024, maxLogBytes: 16 * 1024 },
    });
    try {
      const k = await sys.spawn(Keeper, { name: 'k', storage: kind, restart: 'temporary' });
      await fill(sys, k, 1500); // past sharedBytes / maxLogBytes: compactions happen
      const before = await view(sys, k);
      assert.is(before.n, 1500);
      assert.is(before.recovered, false);
      await sys.killWorker(k.node);
      let again: ActorRef<KeeperMsg> | undefined;
      for (let i = 0; !again; i++) {
        try {
          again = await sys.spawn(Keeper, { name: 'k', storage: kind, restart: 'temporary' });
        } catch (e) {
          if (!(e instanceof DuplicateNameError) || i > 100) throw e; // the old one is still being cleaned up
          await new Promise((r) => setTimeout(r, 10));
        }
      }
      assert.is.not(again.node, k.node, 'a new worker');
      const after = await view(sys, again);
      assert.is(after.recovered, true);
      assert.equal(strip(after), strip(before));
      await fill(sys, again, 10);
      assert.is((await view(sys, again)).n, 1510);
    } finally {
      await sys.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${kind}: state survives a killed worker restarted by its supervisor`, async () => {
    const dir = tempDir();
    const sys = await ActorSystem.start({
      mode: 'workers',
      statsIntervalMs: 0,
      logLevel: 'silent',
      spareWorkers: 0,
      heartbeat: { timeoutMs: 30_000 },
      storage: { dir },
    });
    try {
      const k = await sys.spawn(Keeper, { name: 'k', storage: kind });
      await fill(sys, k, 200);
      const before = await view(sys, k);
      const restarted = new Promise<void>((r) => sys.events.once('actor:restarted', () => r()));
      await sys.killWorker(k.node);
      await restarted;
      const after = await view(sys, k);
      assert.is(after.recovered, true);
      assert.equal(strip(after), strip(before));
    } finally {
      await sys.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('file storage without storage.dir: spawn fails with an error that says what to add', async () => {
  for (const mode of ['embedded', 'workers'] as const) {
    const sys = await ActorSystem.start({ mode, statsIntervalMs: 0, logLevel: 'silent', spareWorkers: 0 });
    try {
      await sys.spawn(Keeper, { name: 'k', storage: 'file' });
      assert.unreachable('spawn should fail');
    } catch (e) {
      assert.is((e as Error).name, 'StorageError', mode);
      if (mode === 'embedded') assert.instance(e, StorageError);
      assert.match((e as Error).message, 'storage: { dir');
    } finally {
      await sys.shutdown();
    }
  }
});

test('storage bounds are checked when the system starts', async () => {
  for (const storage of [{ sharedBytes: 10 }, { maxLogBytes: -1 }, { commitDelayMs: 1.5 }, { dir: '' }]) {
    try {
      await ActorSystem.start({ mode: 'embedded', storage });
      assert.unreachable(JSON.stringify(storage));
    } catch (e) {
      assert.is((e as Error).name, 'InvalidOptionError');
      assert.match((e as Error).message, `storage.${Object.keys(storage)[0]}`);
    }
  }
});

/**
 * Keeps the reply tokens of `remember` (as a replicated log keeps those of its commands) and
 * answers every one of them again, with 'stale', before it answers a `ping`.
 */
const Remembers = defineActor<{ tokens: ReplyToken[] }, { type: 'remember' } | { type: 'ping' }, void, ReplyToken[]>({
  init: (_a, _ctx, recovered) => ({ tokens: recovered ?? [] }),
  receive(state, msg, ctx) {
    if (msg.type === 'remember') {
      state.tokens.push(ctx.replyToken()!);
      ctx.persist(state.tokens);
      ctx.reply('remembered');
    } else {
      for (const t of state.tokens) ctx.respond(t, 'stale');
      ctx.reply('pong');
    }
  },
});

test('a reply stored before a restart of the whole system does not answer an ask of the next one', async () => {
  const dir = tempDir();
  try {
    const first = await ActorSystem.start({ mode: 'embedded', statsIntervalMs: 0, logLevel: 'silent', storage: { dir } });
    const a = await first.spawn(Remembers, { name: 'r', storage: 'file' });
    for (let i = 0; i < 5; i++) assert.is(await first.ask(a, { type: 'remember' }), 'remembered');
    await first.shutdown();
    const second = await ActorSystem.start({ mode: 'embedded', statsIntervalMs: 0, logLevel: 'silent', storage: { dir } });
    try {
      const b = await second.spawn(Remembers, { name: 'r', storage: 'file' });
      // The old replies go to the same address ($system) with the ask numbers of the first system.
      for (let i = 0; i < 5; i++) assert.is(await second.ask(b, { type: 'ping' }), 'pong');
    } finally {
      await second.shutdown();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
