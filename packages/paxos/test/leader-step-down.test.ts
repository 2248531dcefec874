/**
 * A Multi-Paxos leader that steps down tells every client it served that leadership moved, also
 * those with no command still waiting at it: their commands may be in slots it proposed and now
 * abandons, and a client not told would wait its whole attempt timeout (a second by default)
 * before sending them again, its session's later commands waiting behind them. The leader core is
 * driven by hand; the acceptors never answer its phase-2 messages, so the slot stays in flight.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encode } from '@synod/canonical';
import { Leader, MultiAcceptor, ballot, roundOf, type LeaderState } from '@synod/paxos';
import { Net, requestOf } from './harness.ts';

test("a leader stepping down with a client's command proposed but not chosen redirects that client", () => {
  const net = new Net();
  const acceptors = [0, 1, 2].map((i) => net.spawn(MultiAcceptor, `acceptor-${i}`, { index: i }));
  const replicas = [0, 1, 2].map((i) => ({ name: `replica-${i}`, node: 9, id: 100 + i }));
  const self = { name: 'leader-0', node: 1, id: 4 }; // the id the harness gives the next spawn
  const other = { name: 'leader-1', node: 2, id: 200 };
  const leader = net.spawn(Leader, 'leader-0', { index: 0, acceptors, replicas, leaders: [self, other] });
  assert.equal(leader, self);
  for (let i = 0; i < 20 && net.state<LeaderState>('leader-0').election.status !== 'leader'; i++) {
    net.advance(10);
    net.run();
  }
  assert.is(net.state<LeaderState>('leader-0').election.status, 'leader', 'the leader was elected');

  const client = { name: 'client', node: 7, id: 1 };
  net.tell(leader, requestOf('c', client, [{ seq: 1, bytes: encode('x') }]));
  // Proposed, never accepted: the acceptors do not get the slot.
  net.run({ drop: (p) => p.msg?.type === 'm-accept' });
  const s = net.state<LeaderState>('leader-0');
  assert.is(s.batching.pendingCommands, 0, 'nothing waits at the leader: the command is in a slot in flight');
  assert.ok(net.sentOf('m-accept').length > 0, 'the slot was proposed');

  // A higher ballot of the other node, as an acceptor's rejection reports it: the leader steps down.
  const higher = ballot(roundOf(s.election.ballot) + 1, 2);
  net.tell(leader, { type: 'm-reject', ballot: s.election.ballot, acceptor: 0, promised: higher });
  net.run({ drop: (p) => p.msg?.type === 'm-accept' });
  assert.is(net.state<LeaderState>('leader-0').election.status, 'follower', 'the leader stepped down');
  const told = net.sentOf('client-redirect').filter((p) => p.to.name === 'client');
  assert.is(told.length, 1, 'the client was told that leadership moved');
  assert.equal(told[0]!.msg.leader, other, 'to send to the node whose ballot is higher');
});

test.run();
