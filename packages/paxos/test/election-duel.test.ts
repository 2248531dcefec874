/**
 * Followers whose election timeouts run out close together (the leader's node died) must not
 * take turns deposing each other. A candidate announces its campaign to the other leaders: a
 * follower holds off its own (once per candidate), and a candidate with a lower ballot gives its
 * own up. Before, the later candidate's higher ballot deposed the first winner just after its
 * election, and the cluster paid for two elections (the demo showed it after most leader kills).
 * The leader cores are driven by hand.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Leader, MultiAcceptor, ballot, type LeaderState } from '@synod/paxos';
import { Net, type Packet } from './harness.ts';

/** Five acceptors; the leaders of nodes 3 and 4 (nodes 0-2's are gone: node 0 led). */
function cluster() {
  const net = new Net();
  const acceptors = [0, 1, 2, 3, 4].map((i) => net.spawn(MultiAcceptor, `acceptor-${i}`, { index: i }));
  const replicas = [0, 1, 2, 3, 4].map((i) => ({ name: `replica-${i}`, node: 9, id: 100 + i }));
  // The harness numbers spawns on: the two leaders get ids 6 and 7.
  const leaders = [0, 1, 2].map((i) => ({ name: `leader-${i}`, node: 8, id: 200 + i }));
  leaders.push({ name: 'leader-3', node: 1, id: 6 }, { name: 'leader-4', node: 1, id: 7 });
  for (const i of [3, 4]) {
    const ref = net.spawn(Leader, `leader-${i}`, { index: i, acceptors, replicas, leaders, options: { preferredLeader: 0 } });
    assert.equal(ref, leaders[i]);
  }
  // Both have heard nobody for longer than an election timeout, and neither has campaigned yet.
  for (const i of [3, 4]) leader(net, i).election.electionDeadline = 1e9;
  net.advance(1000);
  return net;
}

const leader = (net: Net, i: number) => net.state<LeaderState>(`leader-${i}`);
const status = (net: Net, i: number) => leader(net, i).election.status;

/** Delivers the packets in flight that `pick` selects, in order, leaving the rest in flight. */
function deliverOnly(net: Net, pick: (p: Packet) => boolean): void {
  for (const p of net.inFlight.filter(pick)) net.deliver(p);
}

/** Runs `ms` of time with every message delivered (`drop` aside). */
function runFor(net: Net, ms: number, drop?: (p: Packet) => boolean): void {
  for (let t = 0; t < ms; t += 10) {
    net.run({ drop });
    net.advance(10);
  }
  net.run({ drop });
}

test("a follower that hears a campaign holds off its own: one election, and the winner's reign lasts", () => {
  const net = cluster();
  leader(net, 3).election.electionDeadline = 0;
  // Node 4's own timeout would run out 20 ms from now.
  leader(net, 4).election.electionDeadline = net.time + 20;
  net.advance(10);
  assert.is(status(net, 3), 'candidate');
  deliverOnly(net, (p) => p.msg?.type === 'm-campaign');
  const heldOffUntil = leader(net, 4).election.electionDeadline;
  assert.ok(heldOffUntil >= net.time + 500, `node 4 holds off for an election timeout (until ${heldOffUntil}, now ${net.time})`);
  runFor(net, 3000);
  assert.is(status(net, 3), 'leader', 'node 3 leads');
  assert.is(status(net, 4), 'follower');
  assert.is(leader(net, 4).election.leaderIndex, 3, 'node 4 follows it');
  assert.is(leader(net, 3).stats.elections, 1, 'node 3 campaigned once');
  assert.is(leader(net, 4).stats.elections, 0, 'node 4 never campaigned');
});

test('a follower restarted recently, whose reservation put its ballots far above, holds off all the same', () => {
  const net = cluster();
  // A restart starts a node's ballots above every round it reserved before (a block of rounds).
  leader(net, 4).election.seen = ballot(1025, 5);
  leader(net, 3).election.electionDeadline = 0;
  leader(net, 4).election.electionDeadline = net.time + 20;
  net.advance(10);
  deliverOnly(net, (p) => p.msg?.type === 'm-campaign');
  const heldOffUntil = leader(net, 4).election.electionDeadline;
  assert.ok(heldOffUntil >= net.time + 500, `node 4 holds off for an election timeout (until ${heldOffUntil}, now ${net.time})`);
  runFor(net, 3000);
  assert.is(status(net, 3), 'leader', 'node 3 leads');
  assert.is(leader(net, 4).stats.elections, 0, 'node 4 never campaigned');
});

test('two campaigns at once: the lower candidate gives up when it hears of the higher, which is elected and stays', () => {
  const net = cluster();
  leader(net, 3).election.electionDeadline = 0;
  leader(net, 4).election.electionDeadline = 0;
  net.advance(10);
  assert.is(status(net, 3), 'candidate');
  assert.is(status(net, 4), 'candidate');
  assert.ok(leader(net, 4).election.ballot > leader(net, 3).election.ballot, "node 4's ballot is the higher one (same round, higher id)");
  // The announcements arrive first: node 3 hears of the higher campaign before its promises.
  deliverOnly(net, (p) => p.msg?.type === 'm-campaign');
  assert.is(status(net, 3), 'follower', 'node 3 gave its campaign up');
  runFor(net, 3000);
  assert.is(status(net, 4), 'leader', 'node 4 leads');
  assert.is(leader(net, 3).election.leaderIndex, 4, 'node 3 follows it');
  assert.is(leader(net, 3).stats.elections, 1, 'node 3 did not campaign again');
  assert.is(leader(net, 4).stats.elections, 1, 'node 4 was elected at its first campaign');
});

test('a candidate that keeps campaigning without reaching the acceptors holds the others off once, not forever', () => {
  const net = cluster();
  // Node 3 reaches node 4's leader but no acceptor: it announces campaign after campaign.
  net.crash('leader-3');
  leader(net, 4).election.electionDeadline = net.time + 20;
  for (let t = 0, round = 1; t < 5000 && status(net, 4) !== 'leader'; t += 10) {
    if (t % 100 === 0)
      net.post({ name: 'leader-3', node: 1, id: 6 }, { name: 'leader-4', node: 1, id: 7 }, { type: 'm-campaign', ballot: ballot(round++, 4), leader: 3 }, 0);
    net.run();
    net.advance(10);
  }
  assert.is(status(net, 4), 'leader', 'node 4 campaigned after holding off once, and leads');
});

test('a candidate that hears an elected leader before any promise follows it', () => {
  const net = cluster();
  leader(net, 3).election.electionDeadline = 0;
  net.advance(10);
  // Node 4 hears neither node 3's announcement nor its heartbeats (lost) until its own timeout
  // runs out: it campaigns while node 3 leads.
  const deaf = (p: Packet) => p.to.name === 'leader-4' && (p.msg?.type === 'm-campaign' || p.msg?.type === 'm-heartbeat');
  runFor(net, 200, deaf);
  assert.is(status(net, 3), 'leader');
  leader(net, 4).election.electionDeadline = net.time;
  runFor(net, 600, deaf);
  assert.is(status(net, 4), 'candidate', "node 4 campaigns: the acceptors, in node 3's lease, refuse it");
  assert.is(leader(net, 4).election.promises.count, 0);
  runFor(net, 3000);
  assert.is(status(net, 3), 'leader', 'node 3 still leads');
  assert.is(status(net, 4), 'follower', 'node 4 gave up and follows it');
  assert.is(leader(net, 4).election.leaderIndex, 3);
  assert.is(leader(net, 3).stats.elections, 1, 'one reign');
});

test.run();
