/**
 * Flexible Paxos (Howard, Malkhi, Spiegelman, 2016) in Multi-Paxos: phase 1 and phase 2 need
 * only quorums that intersect, |Q1| + |Q2| > N, not two majorities. The options `q1` and `q2` are
 * checked where a cluster starts; the election counts q1 promises, the pipeline q2 acceptances,
 * and a heartbeat round confirms leadership (reads, the lease) with N − q1 + 1 acknowledgements,
 * enough to meet every phase-1 quorum. The leader core is driven by hand.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InvalidOptionError } from '@synod/actors';
import { encode } from '@synod/canonical';
import { Leader, MultiAcceptor, MultiPaxosInvariants, checkClusterOptions, leaderQuorums, type LeaderState, type MultiAcceptorState } from '@synod/paxos';
import { Net, requestOf } from './harness.ts';

test('quorums: majorities by default; q1 + q2 must exceed the acceptors; confirmation meets every phase-1 quorum', () => {
  assert.equal(leaderQuorums({ q1: 'majority', q2: 'majority' }, 5), { q1: 3, q2: 3, confirm: 3 });
  assert.equal(leaderQuorums({ q1: 4, q2: 2 }, 5), { q1: 4, q2: 2, confirm: 2 });
  assert.equal(leaderQuorums({ q1: 2, q2: 4 }, 5), { q1: 2, q2: 4, confirm: 4 });
  assert.equal(leaderQuorums({ q1: 'majority', q2: 2 }, 3), { q1: 2, q2: 2, confirm: 2 });
  assert.throws(
    () => leaderQuorums({ q1: 2, q2: 3 }, 5),
    (e: Error) => e instanceof InvalidOptionError && /q1 \(2\) \+ q2 \(3\) must exceed the number of acceptors \(5\)/.test(e.message),
  );
  assert.throws(() => leaderQuorums({ q1: 6, q2: 2 }, 5), /q1 \(6\) must be a number of acceptors in 1\.\.5/);
});

test('the rule is checked where a cluster starts, with the options named', () => {
  assert.throws(() => checkClusterOptions({ nodes: 5, leader: { q1: 3, q2: 2 } }), /leader options: q1 \(3\) \+ q2 \(2\) must exceed/);
  assert.throws(() => checkClusterOptions({ nodes: 3, leader: { q1: 0 as never } }), /q1 must be a positive number of acceptors, or 'majority'/);
  assert.not.throws(() => checkClusterOptions({ nodes: 5, leader: { q1: 4, q2: 2 } }));
});

function setup(q1: number, q2: number) {
  const net = new Net();
  const acceptors = [0, 1, 2, 3, 4].map((i) => net.spawn(MultiAcceptor, `acceptor-${i}`, { index: i }));
  const replicas = [0, 1, 2, 3, 4].map((i) => ({ name: `replica-${i}`, node: 9, id: 100 + i }));
  const self = { name: 'leader-0', node: 1, id: 6 };
  const leader = net.spawn(Leader, 'leader-0', { index: 0, acceptors, replicas, leaders: [self], options: { q1, q2, maxBatchCommands: 1 } });
  assert.equal(leader, self);
  return { net, leader };
}

test('phase 1 elects with q1 promises: with q1 = 4 of 5, three promises elect no one, four do', () => {
  const { net } = setup(4, 2);
  net.advance(10);
  const prepares = net.pending('m-prepare');
  assert.is(prepares.length, 5);
  // Acceptors 3 and 4 are cut off: three promises.
  net.run({ drop: (p) => p.to.name === 'acceptor-3' || p.to.name === 'acceptor-4' || p.from?.name === 'acceptor-3' || p.from?.name === 'acceptor-4' });
  assert.is(net.state<LeaderState>('leader-0').election.status, 'candidate', 'three promises of five are not a phase-1 quorum of four');
  // Acceptor 3 comes back; the campaign is retried.
  for (let i = 0; i < 40 && net.state<LeaderState>('leader-0').election.status !== 'leader'; i++) {
    net.advance(100);
    net.run({ drop: (p) => p.to.name === 'acceptor-4' || p.from?.name === 'acceptor-4' });
  }
  assert.is(net.state<LeaderState>('leader-0').election.status, 'leader', 'four promises elect');
});

test('phase 2 chooses with q2 acceptances: with q2 = 2 of 5, two acceptors choose a slot, and the invariant counts two as chosen', () => {
  const { net, leader } = setup(4, 2);
  for (let i = 0; i < 40 && net.state<LeaderState>('leader-0').election.status !== 'leader'; i++) {
    net.advance(100);
    net.run();
  }
  assert.is(net.state<LeaderState>('leader-0').election.status, 'leader');
  const before = net.state<LeaderState>('leader-0').pipeline.commitUpTo;
  net.tell(leader, requestOf('c', { name: 'client', node: 7, id: 1 }, [{ seq: 1, bytes: encode('x') }]));
  // Only acceptors 0 and 1 accept (the others are cut off).
  const cut = (p: { to: { name: string }; from: { name: string } | null }) =>
    ['acceptor-2', 'acceptor-3', 'acceptor-4'].includes(p.to.name) || ['acceptor-2', 'acceptor-3', 'acceptor-4'].includes(p.from?.name ?? '');
  net.run({ drop: cut });
  assert.is(net.state<LeaderState>('leader-0').pipeline.commitUpTo, before + 1, 'two acceptances chose the slot');
  const inv = new MultiPaxosInvariants(5, 2);
  const actors = [0, 1, 2, 3, 4].map((i) => ({ name: `acceptor-${i}`, state: net.state<MultiAcceptorState>(`acceptor-${i}`) }));
  assert.is(inv.observe({ actors }), null);
});

test('a heartbeat round confirms leadership with N − q1 + 1 acknowledgements (two of five with q1 = 4), and no fewer', () => {
  const { net } = setup(4, 2);
  for (let i = 0; i < 40 && net.state<LeaderState>('leader-0').election.status !== 'leader'; i++) {
    net.advance(100);
    net.run();
  }
  const s = net.state<LeaderState>('leader-0');
  assert.is(s.quorums.confirm, 2);
  net.advance(60);
  const round = s.heartbeats.round;
  const acks = net.pending('m-heartbeat');
  assert.ok(acks.length > 0, 'a heartbeat round went out');
  // Only acceptor 0 answers: one acknowledgement confirms nothing.
  net.run({ drop: (p) => p.msg.type === 'm-heartbeat' && p.to.name !== 'acceptor-0' });
  assert.ok(s.heartbeats.confirmedRound < round, 'one acknowledgement does not confirm');
  net.advance(60);
  net.run({ drop: (p) => p.msg.type === 'm-heartbeat' && !['acceptor-0', 'acceptor-1'].includes(p.to.name) });
  assert.ok(s.heartbeats.confirmedRound > round, 'two acknowledgements confirm a round');
});

test.run();
