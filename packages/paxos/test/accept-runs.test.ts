/**
 * Multi-Paxos phase 2 carries several slots per message: the slots a leader proposes in one turn
 * go to each acceptor together (at most `maxAcceptSlots`, and `maxAcceptBytes` of values), and an
 * acceptor answers them with one acceptance. The protocol per slot is unchanged: each slot is
 * accepted, counted and chosen on its own, and a slot lost with its message is sent again alone.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encode } from '@synod/canonical';
import { Leader, MultiAcceptor, ballot, type LeaderOptions, type LeaderState, type MAccept, type MAccepted, type MultiAcceptorState } from '@synod/paxos';
import { Net, requestOf, type Packet } from './harness.ts';

function setup(options: Partial<LeaderOptions>) {
  const net = new Net();
  const acceptors = [0, 1, 2].map((i) => net.spawn(MultiAcceptor, `acceptor-${i}`, { index: i }));
  const replicas = [0, 1, 2].map((i) => ({ name: `replica-${i}`, node: 9, id: 100 + i }));
  const self = { name: 'leader-0', node: 1, id: 4 }; // the id the harness gives the next spawn
  const leader = net.spawn(Leader, 'leader-0', { index: 0, acceptors, replicas, leaders: [self], options: { maxBatchCommands: 1, ...options } });
  for (let i = 0; i < 20 && net.state<LeaderState>('leader-0').election.status !== 'leader'; i++) {
    net.advance(10);
    net.run();
  }
  assert.is(net.state<LeaderState>('leader-0').election.status, 'leader', 'the leader was elected');
  return { net, leader };
}

/** `n` requests of one command each, arriving together (one turn's worth at the leader). */
function requests(net: Net, leader: ReturnType<typeof setup>['leader'], n: number, valueBytes = 8): void {
  const client = { name: 'client', node: 7, id: 1 };
  for (let i = 1; i <= n; i++) net.tell(leader, requestOf('c', client, [{ seq: i, bytes: encode('x'.repeat(valueBytes)) }]));
}

const acceptsTo = (net: Net, name: string): Packet[] => net.sentOf('m-accept').filter((p) => p.to.name === name && (p.msg as MAccept).values.length > 0);

test('the slots proposed in one turn travel in one message per acceptor, at most maxAcceptSlots each, and are all chosen', () => {
  const { net, leader } = setup({ maxAcceptSlots: 4 });
  const before = net.state<LeaderState>('leader-0').pipeline.commitUpTo;
  const sentBefore = acceptsTo(net, 'acceptor-0').length;
  requests(net, leader, 10);
  net.run();
  const runs = acceptsTo(net, 'acceptor-0')
    .slice(sentBefore)
    .map((p) => p.msg as MAccept);
  assert.equal(
    runs.map((m) => m.values.length),
    [4, 4, 2],
    'ten one-command slots in three messages of at most four',
  );
  assert.equal(
    runs.map((m) => m.firstSlot),
    [before, before + 4, before + 8],
    'consecutive slots, each sent once',
  );
  const answers = net.sentOf('m-accepted').filter((p) => (p.msg as MAccepted).acceptor === 0 && (p.msg as MAccepted).firstSlot >= before);
  assert.equal(
    answers.map((p) => (p.msg as MAccepted).count),
    [4, 4, 2],
    'one acceptance answers each message',
  );
  assert.is(net.state<LeaderState>('leader-0').pipeline.commitUpTo, before + 10, 'all ten slots chosen');
  for (const i of [0, 1, 2]) {
    const a = net.state<MultiAcceptorState>(`acceptor-${i}`);
    for (let slot = before; slot < before + 10; slot++) assert.ok(a.accepted.has(slot), `acceptor ${i} accepted slot ${slot}`);
  }
});

test('a message holds at most maxAcceptBytes of values (a slot larger alone travels alone)', () => {
  const { net, leader } = setup({ maxAcceptSlots: 64, maxAcceptBytes: 200 });
  const sentBefore = acceptsTo(net, 'acceptor-0').length;
  requests(net, leader, 6, 120);
  net.run();
  const runs = acceptsTo(net, 'acceptor-0')
    .slice(sentBefore)
    .map((p) => p.msg as MAccept);
  assert.is(
    runs.reduce((n, m) => n + m.values.length, 0),
    6,
    'every slot sent',
  );
  for (const m of runs) {
    const bytes = m.values.reduce((n, v) => n + (v?.byteLength ?? 0), 0);
    assert.ok(m.values.length === 1 || bytes <= 200, `a message of ${m.values.length} slots holds ${bytes} bytes`);
  }
  assert.ok(
    runs.every((m) => m.values.length === 1),
    'two slots of more than 100 bytes never share a message of 200',
  );
});

test('a slot lost with its message is sent again alone, to the acceptors that did not answer it', () => {
  const { net, leader } = setup({ maxAcceptSlots: 8, retransmitMs: 10 });
  const before = net.state<LeaderState>('leader-0').pipeline.commitUpTo;
  requests(net, leader, 5);
  // Acceptor 1 never gets the run, acceptor 2's acceptance is lost: no quorum yet.
  net.run({ drop: (p) => (p.msg?.type === 'm-accept' && p.to.name === 'acceptor-1') || (p.msg?.type === 'm-accepted' && (p.msg as MAccepted).acceptor === 2) });
  assert.is(net.state<LeaderState>('leader-0').pipeline.commitUpTo, before, 'nothing chosen with one acceptance');
  const sentBefore = net.sentOf('m-accept').length;
  net.advance(50);
  net.run();
  const resent = net
    .sentOf('m-accept')
    .slice(sentBefore)
    .map((p) => p.msg as MAccept);
  assert.ok(resent.length > 0 && resent.every((m) => m.values.length === 1), 'resent one slot per message');
  assert.ok(
    net
      .sentOf('m-accept')
      .slice(sentBefore)
      .every((p) => p.to.name !== 'acceptor-0'),
    'not to the acceptor that answered',
  );
  assert.is(net.state<LeaderState>('leader-0').pipeline.commitUpTo, before + 5, 'all five chosen after the resend');
});

test('an acceptor answers the slots of a run above its truncation point, and says where it truncated', () => {
  const net = new Net();
  const a = net.spawn(MultiAcceptor, 'acceptor-0', { index: 0, leaseMs: 0 });
  const b = ballot(1, 1);
  net.ask(a, { type: 'm-prepare', ballot: b, fromSlot: 0 });
  net.tell(a, { type: 'm-truncate', below: 5 });
  const v = (s: number) => encode(`v${s}`);
  const corr = net.ask(a, { type: 'm-accept', ballot: b, firstSlot: 3, values: [v(3), v(4), v(5), v(6)], commitUpTo: 0 } satisfies MAccept);
  net.run();
  const answers = net.sent.filter((p) => p.corr === corr && p.to.name === 'client').map((p) => p.msg);
  assert.equal(answers, [
    { type: 'm-truncated', acceptor: 0, below: 5 },
    { type: 'm-accepted', ballot: b, firstSlot: 5, count: 2, acceptor: 0 },
  ]);
  const s = net.state<MultiAcceptorState>('acceptor-0');
  assert.equal(s.accepted.keysArray().sort(), [5, 6], 'only the slots above the truncation point are kept');
});

test.run();
