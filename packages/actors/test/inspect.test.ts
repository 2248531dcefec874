/** `system.inspect` with a projection: only what the exported function returns is read and cloned. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorLoadError, ActorSystem } from '@synod/actors';
import { Recorder } from './fixtures/misc.ts';

const projections = new URL('./fixtures/projections.ts', import.meta.url).href;

test('a projection reads the live state in the worker and returns only its result; a bad one is refused with its name', async () => {
  const sys = await ActorSystem.start({ mode: 'workers', statsIntervalMs: 0, logLevel: 'silent' });
  try {
    const rec = await sys.spawn(Recorder, { name: 'rec' });
    for (let i = 0; i < 3; i++) sys.send(rec, { type: 'n', i });
    await sys.ask(rec, { type: 'dump' });
    const full = await sys.inspect(rec);
    assert.is((full.state as { got: unknown[] }).got.length, 3);
    const projected = await sys.inspect(rec, { project: { module: projections, exportName: 'gotCount' } });
    assert.is(projected.state, 3);
    assert.is(projected.status, 'running');
    assert.is(projected.processed, full.processed);
    try {
      await sys.inspect(rec, { project: { module: projections, exportName: 'notAFunction' } });
      assert.unreachable('a non-function is refused');
    } catch (e) {
      assert.instance(e, ActorLoadError);
      assert.match((e as Error).message, /notAFunction/);
    }
  } finally {
    await sys.shutdown();
  }
});

test('embedded mode projects on the calling thread', async () => {
  const sys = await ActorSystem.start({ mode: 'embedded', statsIntervalMs: 0, logLevel: 'silent' });
  try {
    const rec = await sys.spawn(Recorder, { name: 'rec' });
    sys.send(rec, { type: 'n' });
    await sys.ask(rec, { type: 'dump' });
    assert.is((await sys.inspect(rec, { project: { module: projections, exportName: 'gotCount' } })).state, 1);
  } finally {
    await sys.shutdown();
  }
});

test.run();
