/**
 * Errors cross threads as instances of their own class, with their code and fields (a worker's
 * control-plane answer, a crash event, a lost worker), and awaitable calls stop waiting when their
 * AbortSignal fires.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AbortedError, ActorInitError, ActorLoadError, ActorSystem, InvalidOptionError, NodeLostError, SynodError, isSynodError } from '@synod/actors';
import { Target, Watcher } from './fixtures/watcher.ts';

for (const mode of ['embedded', 'workers'] as const) {
  const t = suite(`errors keep their class (${mode})`);
  const start = () => ActorSystem.start({ mode, statsIntervalMs: 0, logLevel: 'silent' });

  t('a spawn whose init throws: ActorInitError with the thrown error, of its class, as its cause', async () => {
    const sys = await start();
    try {
      const e = await sys.spawn(Target, { name: 'bad', args: { failInit: true } }).then(
        () => null,
        (x: unknown) => x,
      );
      assert.ok(e instanceof ActorInitError, String(e));
      assert.is((e as ActorInitError).code, 'actor-init');
      const cause = (e as Error).cause;
      assert.ok(cause instanceof InvalidOptionError, `cause: ${String(cause)}`);
      assert.is((cause as InvalidOptionError).code, 'invalid-option');
      assert.ok(isSynodError(cause, 'invalid-option'));
    } finally {
      await sys.shutdown();
    }
  });

  t('a crash event carries the thrown error as an instance of its class', async () => {
    const sys = await start();
    try {
      const a = await sys.spawn(Target, { name: 'a', restart: 'temporary' });
      const b = await sys.spawn(Target, { name: 'b', restart: 'temporary' });
      const crashed = new Map<string, Error>();
      const both = new Promise<void>((r) =>
        sys.events.on('actor:crashed', (e) => {
          crashed.set(e.ref.name, e.error);
          if (crashed.size === 2) r();
        }),
      );
      sys.send(a, { type: 'boom-registered' });
      sys.send(b, { type: 'boom' });
      await both;
      const ea = crashed.get('a')!;
      assert.ok(ea instanceof InvalidOptionError, String(ea));
      assert.is((ea as SynodError).code, 'invalid-option');
      assert.match(ea.stack ?? '', /boom-registered|InvalidOptionError/);
      const eb = crashed.get('b')!;
      assert.ok(eb instanceof Error);
      assert.not.ok(eb instanceof SynodError);
      assert.is(eb.message, 'boom on purpose');
    } finally {
      await sys.shutdown();
    }
  });

  t('AbortSignal: an ask and an enqueue stop waiting; an aborted signal refuses at once', async () => {
    const sys = await start();
    try {
      const w = await sys.spawn(Watcher, { name: 'w' });
      const ctl = new AbortController();
      // `unwatch` is never answered: the ask waits until its signal fires.
      const pending = sys.ask(w, { type: 'unwatch', ref: w }, { timeoutMs: 60_000, signal: ctl.signal });
      ctl.abort(new Error('the caller gave up'));
      const e = await pending.then(
        () => null,
        (x: unknown) => x,
      );
      assert.ok(e instanceof AbortedError, String(e));
      assert.is((e as AbortedError).code, 'aborted');
      assert.is(((e as Error).cause as Error).message, 'the caller gave up');
      const e2 = await sys.ask(w, { type: 'seen' }, { signal: AbortSignal.abort() }).then(
        () => null,
        (x: unknown) => x,
      );
      assert.ok(e2 instanceof AbortedError);
      const e3 = await sys.enqueue(w, { type: 'seen' }, { signal: AbortSignal.abort() }).then(
        () => null,
        (x: unknown) => x,
      );
      assert.ok(e3 instanceof AbortedError);
      // The system still answers.
      assert.equal(await sys.ask(w, { type: 'seen' }), []);
    } finally {
      await sys.shutdown();
    }
  });

  t.run();
}

{
  const t = suite('errors keep their class (workers only)');
  t('control-plane errors from a worker, and a lost worker', async () => {
    const sys = await ActorSystem.start({ mode: 'workers', statsIntervalMs: 0, logLevel: 'silent' });
    try {
      const a = await sys.spawn(Target, { name: 'a', restart: 'temporary' });
      const e = await sys.inspect(a, { project: { module: new URL('./fixtures/no-such-module.ts', import.meta.url).href, exportName: 'x' } }).then(
        () => null,
        (x: unknown) => x,
      );
      assert.ok(e instanceof ActorLoadError, String(e));
      assert.is((e as ActorLoadError).code, 'actor-load');
      const lost = new Promise<Error>((r) => sys.events.once('actor:crashed', (ev) => r(ev.error)));
      await sys.killWorker(a.node);
      const err = await lost;
      assert.ok(err instanceof NodeLostError, String(err));
      assert.is((err as NodeLostError).node, a.node);
      assert.is((err as NodeLostError).code, 'node-lost');
    } finally {
      await sys.shutdown();
    }
  });
  t.run();
}
