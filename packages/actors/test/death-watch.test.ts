/**
 * Death watch (`ctx.watch`, `system.watch`): a watcher hears once when a watched actor ends for
 * good (stopped, failed and not restarted, its node lost), never for a supervised restart; in
 * workers, embedded and the simulator.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSystem, type ActorRef, type Terminated } from '@synod/actors';
import { Simulation } from '@synod/actors/sim';
import { Target, Watcher } from './fixtures/watcher.ts';

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const mode of ['embedded', 'workers'] as const) {
  const t = suite(`death watch (${mode})`);
  const start = () => ActorSystem.start({ mode, statsIntervalMs: 0, logLevel: 'silent', supervision: { backoff: { initialMs: 1, maxMs: 5 } } });

  t('a stop, a crash not restarted and a watch of a gone actor are told; a supervised restart is not', async () => {
    const sys = await start();
    try {
      const stopped = await sys.spawn(Target, { name: 'stopped' });
      const kept = await sys.spawn(Target, { name: 'kept', restart: 'permanent' });
      const failed = await sys.spawn(Target, { name: 'failed', restart: 'temporary' });
      const w = await sys.spawn(Watcher, { name: 'w', args: { watch: [stopped, kept, failed] } });
      const restarted = new Promise<void>((r) => sys.events.once('actor:restarted', () => r()));
      sys.send(kept, { type: 'boom' });
      await restarted;
      assert.is(await sys.ask(kept, { type: 'ping' }), 'pong');
      sys.send(failed, { type: 'boom' });
      await sys.stop(stopped);
      const seen = await until('two notices', async () => {
        const s = await sys.ask(w, { type: 'seen' });
        return s.length >= 2 ? s : undefined;
      });
      const byName = new Map(seen.map((n) => [n.ref.name, n]));
      assert.is(byName.get('stopped')?.reason, 'stopped');
      assert.is(byName.get('failed')?.reason, 'failed');
      assert.is(byName.has('kept'), false, 'a supervised restart is not an end');
      // Watching what is gone answers at once.
      sys.send(w, { type: 'watch', ref: stopped });
      const third = await until('the not-found notice', async () => {
        const s = await sys.ask(w, { type: 'seen' });
        return s.length >= 3 ? s[2] : undefined;
      });
      assert.is(third.reason, 'not-found');
      assert.is(third.ref.name, 'stopped');
      // Once each: nothing more came.
      await new Promise((r) => setTimeout(r, 50));
      assert.is((await sys.ask(w, { type: 'seen' })).length, 3);
    } finally {
      await sys.shutdown();
    }
  });

  t('unwatch: no notice; a restarted watcher loses its watches', async () => {
    const sys = await start();
    try {
      const a = await sys.spawn(Target, { name: 'a' });
      const b = await sys.spawn(Target, { name: 'b' });
      const w = await sys.spawn(Watcher, { name: 'w' });
      sys.send(w, { type: 'watch', ref: a });
      sys.send(w, { type: 'unwatch', ref: a });
      sys.send(w, { type: 'watch', ref: b });
      assert.equal(await sys.ask(w, { type: 'seen' }), []);
      await sys.stop(a);
      await sys.stop(b);
      const seen = await until("b's notice", async () => {
        const s = await sys.ask(w, { type: 'seen' });
        return s.length >= 1 ? s : undefined;
      });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(
        (await sys.ask(w, { type: 'seen' })).map((n: Terminated) => n.ref.name),
        ['b'],
      );
      assert.is(seen[0]!.reason, 'stopped');
    } finally {
      await sys.shutdown();
    }
  });

  t('system.watch from outside: once, and cancellable', async () => {
    const sys = await start();
    try {
      const a = await sys.spawn(Target, { name: 'a' });
      const b = await sys.spawn(Target, { name: 'b' });
      const heard: Terminated[] = [];
      sys.watch(a, (n) => heard.push(n));
      const cancel = sys.watch(b, (n) => heard.push(n));
      cancel();
      await sys.stop(a);
      await sys.stop(b);
      await until("a's notice", () => (heard.length >= 1 ? true : undefined));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(
        heard.map((n) => [n.ref.name, n.reason]),
        [['a', 'stopped']],
      );
    } finally {
      await sys.shutdown();
    }
  });

  t.run();
}

{
  const t = suite('death watch (workers: a lost node)');
  t('a worker that dies: node-lost for an actor not restarted, nothing for one its supervisor restarts', async () => {
    const sys = await ActorSystem.start({ mode: 'workers', statsIntervalMs: 0, logLevel: 'silent', supervision: { backoff: { initialMs: 1, maxMs: 5 } } });
    try {
      const gone = await sys.spawn(Target, { name: 'gone', restart: 'temporary', worker: 'doomed' });
      const back = await sys.spawn(Target, { name: 'back', restart: 'permanent', worker: 'doomed' });
      const w = await sys.spawn(Watcher, { name: 'w', args: { watch: [gone, back] } });
      const restarted = new Promise<void>((r) => sys.events.once('actor:restarted', () => r()));
      await sys.killWorker(gone.node);
      await restarted;
      const seen = await until('the node-lost notice', async () => {
        const s = await sys.ask(w, { type: 'seen' });
        return s.length >= 1 ? s : undefined;
      });
      assert.is(seen[0]!.ref.name, 'gone');
      assert.is(seen[0]!.reason, 'node-lost');
      assert.ok(seen[0]!.detail?.includes(`node ${gone.node}`));
      assert.is(await sys.ask(back, { type: 'ping' }), 'pong');
      assert.is((await sys.ask(w, { type: 'seen' })).length, 1);
    } finally {
      await sys.shutdown();
    }
  });
  t.run();
}

{
  const t = suite('death watch (simulator)');
  t('stop, failure and a crashed node, in virtual time; the same seed gives the same notices', async () => {
    const run = async () => {
      const sim = new Simulation({ seed: 7, logLevel: 'silent', supervision: { backoff: { initialMs: 1, maxMs: 5 } } });
      const stopped = await sim.spawn(Target, { name: 'stopped' });
      const failed = await sim.spawn(Target, { name: 'failed', restart: 'temporary' });
      const lost = await sim.spawn(Target, { name: 'lost', restart: 'temporary' });
      const kept = await sim.spawn(Target, { name: 'kept' });
      const w = await sim.spawn(Watcher, { name: 'w', args: { watch: [stopped, failed, lost, kept] } });
      await sim.run({ forMs: 10 });
      sim.send(failed, { type: 'boom' });
      sim.send(kept, { type: 'boom' });
      await sim.stop(stopped);
      sim.fault({ kind: 'crash-node', node: lost.node });
      await sim.run({ forMs: 100 });
      const seen = await sim.call(w, { type: 'seen' });
      return { seen: seen.map((n) => [n.ref.name, n.reason]).sort(), fingerprint: sim.fingerprint, w: w as ActorRef<any> };
    };
    const a = await run();
    assert.equal(a.seen, [
      ['failed', 'failed'],
      ['lost', 'node-lost'],
      ['stopped', 'stopped'],
    ]);
    const b = await run();
    assert.is(b.fingerprint, a.fingerprint);
  });
  t.run();
}
