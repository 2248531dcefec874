/**
 * Options of the Multi-Paxos roles are checked where they enter: an error names the option, its
 * value and the rule. A running leader's `configure` changes bounds only: timing stays as the
 * cluster started (its lease must match the acceptors'). Quorums are majorities, counted once
 * per acceptor.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InvalidOptionError } from '@synod/actors';
import {
  Leader,
  MultiAcceptor,
  QuorumTally,
  Replica,
  checkClusterOptions,
  defaultLeaderOptions,
  leaderOptions,
  majorityOf,
  replicaOptions,
  type LeaderState,
  type MConfigured,
} from '@synod/paxos';
import { Counter, Net } from './harness.ts';

function refused(f: () => unknown, ...parts: (string | RegExp)[]): void {
  try {
    f();
  } catch (e) {
    assert.instance(e, InvalidOptionError);
    for (const p of parts) assert.match((e as Error).message, p);
    return;
  }
  assert.unreachable(`refused: ${parts.join(' ')}`);
}

test('leader options: the defaults pass; timing out of order is refused naming both options and why', () => {
  assert.equal(leaderOptions(undefined), defaultLeaderOptions);
  assert.is(leaderOptions({ window: 8 }).window, 8);
  refused(() => leaderOptions({ leaseMs: 600 }), 'leaseMs (600) must be shorter than electionTimeoutMs (500)', 'campaigns');
  refused(() => leaderOptions({ electionTimeoutMs: 300 }), 'leaseMs (400) must be shorter than electionTimeoutMs (300)');
  refused(() => leaderOptions({ heartbeatMs: 400 }), 'heartbeatMs (400) must be shorter than leaseMs (400)', 'renew the lease');
  refused(() => leaderOptions({ tickMs: 60 }), 'tickMs (60) must not exceed heartbeatMs (50)');
  refused(() => leaderOptions({ retransmitMs: 2000 }), 'retransmitMs (2000) must not exceed maxRetransmitMs (1000)');
});

test('leader options: every value of its kind, and no unknown option', () => {
  refused(() => leaderOptions({ window: 0 }), 'window must be a positive integer, got 0');
  refused(() => leaderOptions({ maxBatchCommands: 1.5 }), 'maxBatchCommands must be a positive integer, got 1.5');
  refused(() => leaderOptions({ maxClockDrift: 1 }), 'maxClockDrift must be a number in [0, 1), got 1');
  refused(() => leaderOptions({ maxClockDrift: -0.1 }), 'maxClockDrift');
  refused(() => leaderOptions({ heartbeatMs: Number.NaN }), 'heartbeatMs must be a positive, finite number of milliseconds');
  refused(() => leaderOptions({ preferredLeader: -2 }), 'preferredLeader');
  refused(() => leaderOptions({ leaseMS: 100 } as never), 'unknown option "leaseMS"', 'leaseMs');
  assert.is(leaderOptions({ maxClockDrift: 0, preferredLeader: -1 }).maxClockDrift, 0);
});

test('replica and cluster options', () => {
  refused(() => replicaOptions({ maxSubscribers: 0 }), 'maxSubscribers must be a positive integer, got 0');
  refused(() => replicaOptions({ readTimeoutMs: -5 }), 'readTimeoutMs');
  refused(() => checkClusterOptions({ nodes: 3, leader: { preferredLeader: 3 } }), 'preferredLeader (3) must be a node of the cluster (0..2)');
  refused(() => checkClusterOptions({ nodes: 3, replica: { snapshotEvery: 0 } }), 'replica options: snapshotEvery');
});

test("the actors check their arguments in init: a leader's options, an acceptor's number", () => {
  const net = new Net();
  const acceptors = [0, 1, 2].map((i) => net.spawn(MultiAcceptor, `acceptor-${i}`, { index: i }));
  refused(() => net.spawn(Leader, 'leader-bad', { index: 0, acceptors, replicas: [], leaders: [], options: { leaseMs: 1_000 } }), 'leaseMs (1000)');
  refused(() => net.spawn(Leader, 'leader-none', { index: 0, acceptors: [], replicas: [], leaders: [] }), 'acceptors must be a list of 1..31');
  refused(() => net.spawn(MultiAcceptor, 'acceptor-x', { index: -1 }), 'index must be an integer');
  refused(() => net.spawn(MultiAcceptor, 'acceptor-y', { index: 3, leaseMs: -1 }), 'leaseMs must be a finite number');
  refused(() => net.spawn(Replica, 'replica-bad', { index: 0, machine: Counter.key, options: { snapshotEvery: 0 } }), 'snapshotEvery');
});

test('configure changes bounds at run time; timing is refused, and then nothing changes', () => {
  const net = new Net();
  const acceptors = [0, 1, 2].map((i) => net.spawn(MultiAcceptor, `acceptor-${i}`, { index: i }));
  const leader = net.spawn(Leader, 'leader-0', { index: 0, acceptors, replicas: [], leaders: [] });
  const other = { name: 'leader-1', node: 1, id: 99 };

  const timing = net.ask(leader, { type: 'configure', leaders: [leader, other], options: { leaseMs: 300, window: 8 } });
  net.run();
  const no = net.answers.get(timing) as MConfigured;
  assert.is(no.ok, false);
  assert.match(no.error!, 'leaseMs cannot change while the cluster runs');
  const s = net.state<LeaderState>('leader-0');
  assert.is(s.opts.leaseMs, defaultLeaderOptions.leaseMs, 'the lease stays the one the acceptors honour');
  assert.is(s.opts.window, defaultLeaderOptions.window, 'a refused configure changes nothing');
  assert.equal(s.leaders, [], 'not even the wiring');

  const bad = net.ask(leader, { type: 'configure', options: { window: 0 } });
  net.run();
  assert.match((net.answers.get(bad) as MConfigured).error!, 'window must be a positive integer');

  const tuning = net.ask(leader, { type: 'configure', leaders: [leader, other], options: { window: 8, maxBatchCommands: 16 } });
  net.run();
  assert.equal(net.answers.get(tuning), { type: 'configured', ok: true });
  assert.is(net.state<LeaderState>('leader-0').opts.window, 8);
  assert.is(net.state<LeaderState>('leader-0').opts.maxBatchCommands, 16);
  assert.is(net.state<LeaderState>('leader-0').leaders.length, 2);
});

test('quorums: a majority of the acceptors, each counted once, reached exactly once', () => {
  assert.equal([1, 2, 3, 4, 5, 31].map(majorityOf), [1, 2, 2, 3, 3, 16]);
  assert.throws(() => majorityOf(0));
  assert.throws(() => majorityOf(32));
  const t = new QuorumTally(majorityOf(5));
  assert.equal([t.add(4), t.add(4), t.add(0), t.add(2), t.add(1), t.add(2)], [false, false, false, true, false, false]);
  assert.equal([t.reached, t.count, t.has(1), t.has(3)], [true, 4, true, false]);
  t.reset();
  assert.equal([t.reached, t.count, t.has(4)], [false, 0, false]);
  assert.throws(() => t.add(31), /out of range/);
});

test.run();
