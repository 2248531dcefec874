/**
 * A learner's decision subscribers: one past maxSubscribers is refused and told so; the learner
 * goes on deciding and telling the others.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Learner, ballot, type LearnerState } from '@synod/paxos';
import { Net } from './harness.ts';

test('a subscriber past maxSubscribers is refused and told why; the learner goes on', () => {
  const net = new Net();
  const learner = net.spawn(Learner, 'learner-0', { index: 0, acceptorCount: 3, options: { maxSubscribers: 1 } });
  const a = { name: 'a', node: 5, id: 1 };
  const b = { name: 'b', node: 5, id: 2 };
  net.tell(learner, { type: 'subscribe', to: a });
  net.tell(learner, { type: 'subscribe', to: b });
  for (const acceptor of [0, 1]) net.tell(learner, { type: 'accepted', instance: 4, ballot: ballot(1, 1), acceptor, value: 'x' });
  net.run();
  const to = (name: string, type: string) => net.sentOf(type).filter((p) => p.to.name === name);
  assert.is(to('b', 'subscription-refused').length, 1);
  assert.match(to('b', 'subscription-refused')[0]!.msg.reason, 'already has 1 subscribers (maxSubscribers)');
  assert.is(to('b', 'decided').length, 0);
  assert.is(to('a', 'decided').length, 1, 'the subscriber it took hears the decision');
  assert.is(net.state<LearnerState>('learner-0').decided.get(4), 'x');
});

test.run();
