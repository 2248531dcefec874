/**
 * How the dashboard (and the demo) name a run: counts agree with their nouns ("1 client",
 * "3 replicas").
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dashboardTitle } from '../src/demo/view.ts';

test('one client is "1 client"; the fault rate only when faults are injected', () => {
  assert.is(
    dashboardTitle({ protocol: 'multipaxos', replicas: 3, storage: 'shared', clients: 1 }, null),
    '3 replicas · multipaxos · shared storage · 1 client',
  );
  assert.is(
    dashboardTitle({ protocol: 'raft', replicas: 1, storage: 'file', clients: 8 }, 3_000),
    '1 replica · raft · file storage · 8 clients · a fault every 3.0 s',
  );
});

test.run();
