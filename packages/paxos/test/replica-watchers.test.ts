/**
 * Replica subscriptions: a progress watcher (or change subscriber) that says it is done gets
 * nothing more, and no longer counts against maxSubscribers. The replica core is driven by hand.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Replica, defineStateMachine, encodeBatch } from '@synod/paxos';
import { Net } from './harness.ts';

const Counter = defineStateMachine({
  module: import.meta.url, name: 'counter',
  initial: () => ({ n: 0 }),
  apply: (s: { n: number }, by: number) => { s.n += by; return { state: s, result: s.n }; },
  query: (s: { n: number }) => s.n,
});

function decide(net: Net, replica: { name: string; node: number; id: number }, slot: number): void {
  net.tell(replica, { type: 'm-decide', firstSlot: slot, values: [encodeBatch([{ client: 'c', seq: slot + 1, op: 1 }])] });
}

test('an unwatched progress watcher hears nothing more; an unsubscribed subscriber neither', () => {
  const net = new Net();
  const replica = net.spawn(Replica, 'replica-0', { index: 0, machine: Counter.key, options: { maxSubscribers: 2 } });
  const a = { name: 'a', node: 5, id: 1 };
  const b = { name: 'b', node: 5, id: 2 };
  net.tell(replica, { type: 'watch-progress', to: a });
  net.tell(replica, { type: 'subscribe', to: b });
  decide(net, replica, 0);
  net.run();
  const to = (name: string, type: string) => net.sentOf(type).filter((p) => p.to.name === name).length;
  assert.is(to('a', 'progress'), 1);
  assert.is(to('b', 'changes'), 1);

  net.tell(replica, { type: 'unwatch-progress', to: a });
  net.tell(replica, { type: 'unsubscribe', to: b });
  decide(net, replica, 1);
  net.run();
  assert.is(to('a', 'progress'), 1, 'no progress after unwatch-progress');
  assert.is(to('b', 'changes'), 1, 'no changes after unsubscribe');
  assert.is(net.state('replica-0').appliedUpTo, 2, 'both slots applied');

  // Their places are free again: two new watchers fit under maxSubscribers 2.
  net.tell(replica, { type: 'watch-progress', to: b });
  net.tell(replica, { type: 'watch-progress', to: { name: 'c', node: 5, id: 3 } });
  decide(net, replica, 2);
  net.run();
  assert.is(to('b', 'progress'), 1);
  assert.is(to('c', 'progress'), 1);
});

test.run();
