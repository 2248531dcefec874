/**
 * Replica subscriptions: a progress watcher (or change subscriber) that says it is done gets
 * nothing more, and no longer counts against maxSubscribers; one past maxSubscribers is refused
 * and told so, and the replica goes on; subscribers given in the replica's arguments are there
 * from its (re)start. The replica core is driven by hand.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Replica, type ReplicaState } from '@synod/paxos';
import { Counter, Net, slotWith } from './harness.ts';

function decide(net: Net, replica: { name: string; node: number; id: number }, slot: number): void {
  net.tell(replica, { type: 'm-decide', firstSlot: slot, values: [slotWith('c', [{ seq: slot + 1, value: 1 }])] });
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
  assert.is(net.state<ReplicaState>('replica-0').exec.appliedUpTo, 2, 'both slots applied');

  // Their places are free again: two new watchers fit under maxSubscribers 2.
  net.tell(replica, { type: 'watch-progress', to: b });
  net.tell(replica, { type: 'watch-progress', to: { name: 'c', node: 5, id: 3 } });
  decide(net, replica, 2);
  net.run();
  assert.is(to('b', 'progress'), 1);
  assert.is(to('c', 'progress'), 1);
});

test('a subscriber past maxSubscribers is refused and told why; nothing crashes, the others go on', () => {
  const net = new Net();
  const replica = net.spawn(Replica, 'replica-0', { index: 0, machine: Counter.key, options: { maxSubscribers: 2 } });
  const [a, b, c] = ['a', 'b', 'c'].map((name, i) => ({ name, node: 5, id: i + 1 }));
  net.tell(replica, { type: 'subscribe', to: a });
  net.tell(replica, { type: 'subscribe', to: a }); // the same one again: still one place
  net.tell(replica, { type: 'subscribe', to: b });
  net.tell(replica, { type: 'subscribe', to: c });
  net.tell(replica, { type: 'watch-progress', to: a });
  net.tell(replica, { type: 'watch-progress', to: b });
  net.tell(replica, { type: 'watch-progress', to: c });
  decide(net, replica, 0);
  net.run();
  const to = (name: string, type: string) => net.sentOf(type).filter((p) => p.to.name === name);
  const refusals = to('c', 'subscription-refused');
  assert.is(refusals.length, 2, 'c is refused as a subscriber and as a progress watcher');
  assert.match(refusals[0]!.msg.reason, 'already has 2 subscribers (maxSubscribers)');
  assert.is(refusals[0]!.msg.replica, 0);
  assert.is(to('c', 'changes').length, 0);
  assert.is(to('a', 'changes').length, 1, 'a is served once');
  assert.is(to('b', 'changes').length, 1);
  assert.is(net.state<ReplicaState>('replica-0').exec.appliedUpTo, 1, 'the replica applied the slot');
});

test('subscribers in the arguments are there from the start, so a restarted replica keeps its watchers', () => {
  const net = new Net();
  const w = { name: 'watcher', node: 0, id: 7 };
  const p = { name: 'progress', node: 0, id: 8 };
  const replica = net.spawn(Replica, 'replica-0', { index: 0, machine: Counter.key, subscribers: [w], progressWatchers: [p] });
  decide(net, replica, 0);
  net.run();
  net.restart('replica-0');
  decide(net, replica, 0); // applied again from the start (no snapshot yet)
  decide(net, replica, 1);
  net.run();
  const slots = net
    .sentOf('changes')
    .filter((x) => x.to.name === 'watcher')
    .flatMap((x) => x.msg.changes.map((ch: { slot: number }) => ch.slot));
  assert.equal(slots, [0, 0, 1], 'every slot applied, in each incarnation, reached the watcher');
  assert.ok(net.sentOf('progress').filter((x) => x.to.name === 'progress').length >= 2);
});

test.run();
