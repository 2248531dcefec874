/**
 * The seed's checklist (sections 6.5 and 6.6), one test per point, on the pure protocol cores
 * driven by hand (test/harness.ts). Each test names the sentence it checks.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  Acceptor,
  Learner,
  Proposer,
  ZERO_BALLOT,
  ballot,
  nextBallot,
  proposerOf,
  roundOf,
  FORGOTTEN,
  SynodInvariants,
  type AcceptorState,
  type LearnerState,
  type ProposerState,
} from '@synod/paxos';
import { Net, type Packet } from './harness.ts';

function cluster(opts: { acceptors?: number; proposers?: number; learners?: number; reportTo?: number; electLeader?: boolean } = {}) {
  const net = new Net();
  const nA = opts.acceptors ?? 3,
    nP = opts.proposers ?? 1,
    nL = opts.learners ?? 1;
  const learners = Array.from({ length: nL }, (_, i) => net.spawn(Learner, `learner-${i}`, { index: i, acceptorCount: nA }));
  const acceptors = Array.from({ length: nA }, (_, i) => net.spawn(Acceptor, `acceptor-${i}`, { index: i, learners, reportTo: opts.reportTo }));
  const proposers = Array.from({ length: nP }, (_, i) =>
    net.spawn(Proposer, `proposer-${i}`, {
      id: i + 1,
      acceptors,
      options: { electLeader: opts.electLeader ?? true, initialTimeoutMs: 100 },
    }),
  );
  for (const p of proposers) net.tell(p, { type: 'configure', proposers });
  for (const l of learners) net.tell(l, { type: 'configure', learners, proposers });
  net.run();
  return { net, acceptors, proposers, learners };
}

const acceptorState = (net: Net, i: number) => net.state<AcceptorState>(`acceptor-${i}`);

test('6.5 ①: ballots are unique per proposer and ordered by round, then proposer id', () => {
  const seen = new Set<number>();
  for (let round = 0; round < 50; round++)
    for (let id = 1; id <= 5; id++) {
      const b = ballot(round, id);
      assert.not.ok(seen.has(b), 'unique');
      seen.add(b);
      assert.is(roundOf(b), round);
      assert.is(proposerOf(b), id);
    }
  assert.ok(ballot(2, 1) > ballot(1, 9), 'round first');
  assert.ok(ballot(2, 3) > ballot(2, 2), 'then id');
  assert.ok(nextBallot(ballot(7, 3), 1) > ballot(7, 3), 'next ballot is above what was seen');
  assert.throws(() => ballot(1, 0), /proposer id/);
});

test('6.5 ①: a restarted proposer starts above every ballot it used before', () => {
  const { net, proposers } = cluster();
  for (let i = 0; i < 3; i++) net.ask(proposers[0]!, { type: 'propose', instance: i, value: `v${i}` });
  net.run();
  const used = Math.max(...net.sentOf('prepare').map((p) => p.msg.ballot));
  net.restart('proposer-0');
  net.ask(proposers[0]!, { type: 'propose', instance: 10, value: 'after restart' });
  net.run();
  const after = net
    .sentOf('prepare')
    .filter((p) => p.msg.instance === 10)
    .map((p) => p.msg.ballot);
  assert.ok(after.length > 0 && after.every((b) => b > used), `ballots after restart ${after} must exceed ${used}`);
});

test('6.5 ②: an acceptor starts with nothing promised and nothing accepted', () => {
  const { net, acceptors } = cluster();
  net.tell(acceptors[0]!, { type: 'configure' });
  const corr = net.ask(acceptors[0]!, { type: 'prepare', instance: 42, ballot: ballot(1, 1) });
  net.run();
  const promise = net.answers.get(corr) as any;
  assert.is(promise.type, 'promise');
  assert.is(promise.acceptedBallot, ZERO_BALLOT);
  assert.is(promise.acceptedValue, null);
});

test('6.5 ③: prepare goes to every acceptor with a timeout; without a majority it retries with a higher ballot and a longer, randomised timeout', () => {
  const { net, proposers, acceptors } = cluster({ acceptors: 3 });
  net.ask(proposers[0]!, { type: 'propose', instance: 1, value: 'x' });
  // Only acceptor-0 is reachable: never a majority.
  const unreachable = (p: Packet) => p.to.name === 'acceptor-1' || p.to.name === 'acceptor-2';
  net.run({ drop: unreachable });
  const first = net.sentOf('prepare');
  assert.equal(new Set(first.map((p) => p.to.name)), new Set(acceptors.map((a) => a.name)), 'prepare to all acceptors');
  const ballots: number[] = [first[0]!.msg.ballot];
  const times: number[] = [net.time];
  for (let k = 0; k < 4; k++) {
    // Within an attempt the same prepare is sent again (retransmission, same ballot); a new
    // attempt is a new ballot.
    const last = ballots[ballots.length - 1]!;
    while (net.sentOf('prepare').at(-1)!.msg.ballot === last) {
      net.advance(5);
      net.run({ drop: unreachable });
    }
    ballots.push(net.sentOf('prepare').at(-1)!.msg.ballot);
    times.push(net.time);
  }
  for (let i = 1; i < ballots.length; i++) assert.ok(ballots[i]! > ballots[i - 1]!, 'each retry uses a higher ballot');
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  assert.ok(gaps[3]! > gaps[0]!, `the timeout grows: ${gaps.join(', ')}`);
  assert.ok(new Set(gaps).size > 1, 'and is randomised');
  assert.ok(net.state<ProposerState>('proposer-0').stats.timeouts >= 4);
});

test('6.5 ④: an acceptor promises only a ballot above any it promised, and persists the promise before the reply', () => {
  const { net, acceptors } = cluster();
  const a = acceptors[0]!;
  const c1 = net.ask(a, { type: 'prepare', instance: 1, ballot: ballot(5, 1) });
  net.run();
  assert.is((net.answers.get(c1) as any).type, 'promise');
  // Persisted: a restart remembers the promise.
  net.restart('acceptor-0');
  assert.is(acceptorState(net, 0).instances.get(1)!.promisedBallot, ballot(5, 1));
  const c2 = net.ask(a, { type: 'prepare', instance: 1, ballot: ballot(4, 2) });
  net.run();
  assert.is((net.answers.get(c2) as any).type, 'reject', 'a lower ballot is not promised');
  const c3 = net.ask(a, { type: 'prepare', instance: 1, ballot: ballot(6, 1) });
  net.run();
  assert.is((net.answers.get(c3) as any).type, 'promise', 'a higher one is');
});

test('6.5 ⑤: with a majority of promises the proposer proposes the highest-numbered accepted value, else its own', () => {
  const { net, proposers, acceptors } = cluster({ acceptors: 3 });
  // Earlier ballots left different values accepted at acceptors 0 and 1.
  net.tell(acceptors[0]!, { type: 'accept', instance: 7, ballot: ballot(1, 2), value: 'older' });
  net.tell(acceptors[1]!, { type: 'accept', instance: 7, ballot: ballot(3, 2), value: 'newer' });
  net.run();
  const corr = net.ask(proposers[0]!, { type: 'propose', instance: 7, value: 'mine' });
  net.run();
  assert.equal(net.answers.get(corr), { type: 'chosen', instance: 7, value: 'newer' });
  assert.ok(
    net
      .sentOf('accept')
      .filter((p) => p.from?.name === 'proposer-0')
      .every((p) => p.msg.value === 'newer'),
  );
  const own = net.ask(proposers[0]!, { type: 'propose', instance: 8, value: 'mine' });
  net.run();
  assert.equal(net.answers.get(own), { type: 'chosen', instance: 8, value: 'mine' });
});

test('6.5 ⑥: a learner learns a value only when a majority of acceptors accepted it in the same ballot', () => {
  const { net, learners } = cluster({ acceptors: 5 });
  const l = learners[0]!;
  const acc = (acceptor: number, b: number, value: string) => net.tell(l, { type: 'accepted', instance: 3, ballot: b, acceptor, value });
  acc(0, ballot(1, 1), 'a');
  acc(1, ballot(1, 1), 'a');
  acc(2, ballot(2, 2), 'a');
  acc(2, ballot(2, 2), 'a');
  net.run();
  assert.not.ok(net.state<LearnerState>('learner-0').decided.has(3), 'three votes, but split over two ballots (and one duplicate)');
  acc(3, ballot(1, 1), 'a');
  net.run();
  assert.is(net.state<LearnerState>('learner-0').decided.get(3), 'a', 'three of five in ballot (1.1)');
});

test('6.5 ⑦ ⑧: stale prepares and accepts are rejected with the promised ballot, and the proposer jumps past it at once', () => {
  const { net, proposers, acceptors } = cluster({ acceptors: 3 });
  const high = ballot(40, 2);
  for (const a of acceptors) net.tell(a, { type: 'prepare', instance: 9, ballot: high });
  net.run();
  const stale = net.ask(acceptors[0]!, { type: 'accept', instance: 9, ballot: ballot(3, 1), value: 'late' });
  net.run();
  assert.equal(net.answers.get(stale), { type: 'reject', instance: 9, ballot: ballot(3, 1), acceptor: 0, promised: high });
  const corr = net.ask(proposers[0]!, { type: 'propose', instance: 9, value: 'v' });
  net.run();
  assert.equal(net.answers.get(corr), { type: 'chosen', instance: 9, value: 'v' });
  const prepares = net
    .sentOf('prepare')
    .filter((p) => p.from?.name === 'proposer-0')
    .map((p) => p.msg.ballot);
  assert.is(new Set(prepares).size, 2, 'one rejected ballot, then one above the promise');
  assert.ok(Math.max(...prepares) > high);
  assert.is(net.time, 0, 'no timeout was waited for');
});

test('6.6: a crashed proposer is replaced by another that first reads what the acceptors hold', () => {
  const { net, proposers } = cluster({ proposers: 2, electLeader: false });
  net.ask(proposers[0]!, { type: 'propose', instance: 5, value: 'first' });
  // proposer-0 gets its accept to every acceptor, then crashes before hearing back.
  net.run({ drop: (p) => p.msg.type === 'accepted' && p.to.name === 'proposer-0' });
  net.crash('proposer-0');
  const corr = net.ask(proposers[1]!, { type: 'propose', instance: 5, value: 'second' });
  net.run();
  assert.equal(net.answers.get(corr), { type: 'chosen', instance: 5, value: 'first' }, 'the new proposer completes the value already chosen');
  const phase1 = net.sentOf('prepare').filter((p) => p.from?.name === 'proposer-1');
  assert.ok(phase1.length >= 3, 'it ran phase 1 first');
});

test('6.6: acceptors report an acceptance to a subset of learners, not all; the others hear it from that learner', () => {
  const { net, proposers } = cluster({ learners: 4, reportTo: 1 });
  for (let i = 0; i < 8; i++) net.ask(proposers[0]!, { type: 'propose', instance: i, value: `v${i}` });
  net.run();
  for (let i = 0; i < 8; i++) {
    const to = new Set(
      net
        .sentOf('accepted')
        .filter((p) => p.msg.instance === i && p.to.name.startsWith('learner'))
        .map((p) => p.to.name),
    );
    assert.equal(to, new Set([`learner-${i % 4}`]), `instance ${i} is reported to its one distinguished learner`);
    for (let l = 0; l < 4; l++) assert.is(net.state<LearnerState>(`learner-${l}`).decided.get(i), `v${i}`, `learner-${l} knows instance ${i}`);
  }
});

test('6.6: a learner that missed the outcome asks again, and may start a new proposal', () => {
  const { net, proposers, learners } = cluster({ learners: 2 });
  const p0 = proposers[0]!;
  net.ask(p0, { type: 'propose', instance: 4, value: 'hidden' });
  // Every report to a learner is lost: no learner knows instance 4.
  net.run({ drop: (p) => p.to.name.startsWith('learner') && (p.msg.type === 'accepted' || p.msg.type === 'decided') });
  assert.not.ok(net.state<LearnerState>('learner-1').decided.has(4));
  const corr = net.ask(learners[1]!, { type: 'learn', instance: 4 });
  net.run();
  assert.ok(net.sentOf('query').length > 0, 'first it asks its peers');
  net.advance(200);
  net.run();
  assert.ok(
    net.sentOf('propose').some((p) => p.from?.name === 'learner-1' && p.msg.recover),
    'then it starts a proposal',
  );
  assert.equal(net.answers.get(corr), { type: 'decided', instance: 4, value: 'hidden' }, 'which finds the chosen value');
  // An instance nobody proposed decides "no value".
  const none = net.ask(learners[1]!, { type: 'learn', instance: 99 });
  net.run();
  net.advance(200);
  net.run();
  assert.equal(net.answers.get(none), { type: 'decided', instance: 99, value: null });
});

test('6.6: duelling proposers livelock; electing a distinguished proposer ends it', () => {
  const duel = (electLeader: boolean) => {
    const { net, proposers } = cluster({ proposers: 2, electLeader });
    net.advance(60);
    net.run(); // heartbeats
    let ballots = 0;
    for (let i = 0; i < 20; i++) {
      const a = net.ask(proposers[0]!, { type: 'propose', instance: i, value: 'p1' });
      const b = net.ask(proposers[1]!, { type: 'propose', instance: i, value: 'p2' });
      // Interleave the two proposers' messages so each preempts the other.
      for (let step = 0; step < 200 && !(net.answers.has(a) && net.answers.has(b)); step++) {
        net.run({ maxSteps: 2 });
        if (net.inFlight.length === 0) {
          net.advance(10);
        }
      }
      assert.ok(net.answers.has(a) && net.answers.has(b), `instance ${i} decided (election ${electLeader})`);
      assert.equal(net.answers.get(a), net.answers.get(b), 'both clients get the one chosen value');
    }
    ballots = net.state<ProposerState>('proposer-0').stats.ballots + net.state<ProposerState>('proposer-1').stats.ballots;
    return ballots;
  };
  const without = duel(false);
  const withElection = duel(true);
  assert.is(withElection, 20, 'with a distinguished proposer each instance takes one ballot');
  assert.ok(without > withElection, `duelling costs more ballots (${without} vs ${withElection})`);
});

test('acceptors forget compacted instances and reject them as such', () => {
  const { net, acceptors } = cluster();
  net.tell(acceptors[0]!, { type: 'accept', instance: 1, ballot: ballot(1, 1), value: 'x' });
  net.tell(acceptors[0]!, { type: 'forget', below: 5 });
  const corr = net.ask(acceptors[0]!, { type: 'prepare', instance: 2, ballot: ballot(9, 1) });
  net.run();
  assert.is(acceptorState(net, 0).instances.size, 0);
  assert.is((net.answers.get(corr) as any).promised, FORGOTTEN);
  net.restart('acceptor-0');
  assert.is(acceptorState(net, 0).forgottenBelow, 5, 'the watermark is durable');
});

test('the invariant checker accepts a normal run and flags a forgotten promise', () => {
  const { net, proposers } = cluster({ acceptors: 3, proposers: 2, electLeader: false });
  const inv = new SynodInvariants(3);
  const view = () => ({
    actors: ['acceptor-0', 'acceptor-1', 'acceptor-2', 'learner-0', 'proposer-0', 'proposer-1'].map((name) => ({ name, state: net.state(name) })),
    inFlight: net.inFlight,
  });
  net.ask(proposers[0]!, { type: 'propose', instance: 1, value: 'a' });
  while (net.inFlight.length) {
    net.run({ maxSteps: 1 });
    assert.is(inv.observe(view()), null);
  }
  // Now break an acceptor's memory (as memory storage would on a crash) and let proposer-1 in.
  for (const i of [0, 1]) net.node(`acceptor-${i}`).durable.entries.clear();
  net.restart('acceptor-0');
  net.restart('acceptor-1');
  net.ask(proposers[1]!, { type: 'propose', instance: 1, value: 'b' });
  let violation = null;
  while (net.inFlight.length && !violation) {
    net.run({ maxSteps: 1 });
    violation = inv.observe(view());
  }
  assert.ok(violation, 'two values chosen for instance 1 is caught');
  assert.is(violation!.property, 'one-value-chosen');
});

test.run();
