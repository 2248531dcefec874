/**
 * The activity table (activity.ts): who may spin. Spinning never takes the core a running peer
 * needs, and spins stay short while more threads are alive than there are cores, unless every
 * thread (the main thread's event loop included) is mostly idle.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Activity, createActivity } from '../dist/activity.js';

test('a spinner leaves a core for every running thread', () => {
  const buf = createActivity();
  const a = new Activity(buf, 1, 2);
  const b = new Activity(buf, 2, 2);
  const c = new Activity(buf, 3, 2);
  a.running();
  b.running();
  assert.ok(a.coreFree(), 'two running threads fit two cores');
  c.running();
  assert.not.ok(a.coreFree(), 'a third running thread does not');
  c.idle();
  assert.ok(a.coreFree());
});

test('crowded: more threads alive (the main thread counted) than cores, until workers are gone', () => {
  const buf = createActivity();
  const a = new Activity(buf, 1, 2);
  assert.not.ok(a.crowded(), 'one worker and the main thread fit two cores');
  new Activity(buf, 2, 2);
  assert.ok(a.crowded(), 'two workers and the main thread do not');
  Activity.gone(buf, 2);
  assert.not.ok(a.crowded(), 'a worker that is gone no longer counts');
});

test("the busiest thread's load: live workers and the main thread count, workers gone do not", () => {
  const buf = createActivity();
  const a = new Activity(buf, 1, 2);
  const b = new Activity(buf, 2, 2);
  assert.is(a.busiestLoad(), 1, 'a worker that has not measured its load yet counts as busy');
  a.setLoad(0.1);
  b.setLoad(0.2);
  assert.is(a.busiestLoad(), 0.2);
  Activity.mainLoad(buf, 0.9);
  assert.is(a.busiestLoad(), 0.9, "the main thread's event loop, busy with the user's code, counts");
  Activity.mainLoad(buf, 0.05);
  b.setLoad(0.7);
  assert.is(a.busiestLoad(), 0.7);
  Activity.gone(buf, 2);
  assert.is(a.busiestLoad(), 0.1, 'a worker that is gone no longer counts');
});

test.run();
