/**
 * EPaxos, sentence by sentence (Moraru et al., SOSP 2013, Figure 2 and §4; with the corrections
 * of Tollman et al. and Sutra), on the hand-driven network: each test names the rule it checks.
 * Random fault schedules are the campaign's job (packages/replicated/test/epaxos-campaign.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Prng } from '@synod/actors/internals';
import { decode, encode } from '@synod/canonical';
import { RequestWriter, forEachEntry, slotOf } from '@synod/smr';
import { EPaxosInvariants, quorumsOf, instanceKey, Status, type EPaxosState } from '../src/index.js';
import { recoveryBallot } from '../src/ids.js';
import { Held, type MPrepareOk } from '../src/messages.js';
import { cluster, read, writes } from './harness.js';

/** Sessions' first commands interfere with everything (they create the session): get them out of the way. */
function openSessions(c: ReturnType<typeof cluster>, clients: [string, number][]): void {
  for (const [client, replica] of clients) c.net.tell(c.refs[replica]!, writes(client, c.net.client, [1, `init-${client}`, 0]));
  c.net.run();
}

function checkInvariants(c: ReturnType<typeof cluster>, n: number, inv = new EPaxosInvariants(n)): void {
  const v = inv.observe(Array.from({ length: n }, (_, i) => ({ name: `r${i}`, state: c.state(i), durable: true })));
  assert.is(v, null, v ? `${v.property}: ${v.message}` : '');
}

test('quorums: classic is a majority; fast is n − 1 for odd n ≥ 3 (simplified EPaxos); recovery hears n − f besides the leader', () => {
  const table = [1, 2, 3, 4, 5, 6, 7].map((n) => {
    const q = quorumsOf(n);
    return [n, q.classic, q.fast, q.recovery, q.fastEvidence];
  });
  assert.equal(table, [
    [1, 1, 1, 0, 0],
    [2, 2, 2, 1, 0],
    [3, 2, 2, 2, 1],
    [4, 3, 3, 3, 1],
    [5, 3, 4, 3, 2],
    [6, 4, 4, 4, 2],
    [7, 4, 6, 4, 3],
  ]);
});

test('Figure 2, phase 1: a command that interferes with nothing in flight commits after one round trip to a fast quorum', () => {
  const c = cluster(3);
  openSessions(c, [['a', 0]]);
  const before = c.state(0).stats.fast;
  const acceptsBefore = c.net.sentOf('e-accept').length;
  c.net.tell(c.refs[0]!, writes('a', c.net.client, [2, 'x', 1]));
  c.net.run();
  assert.is(c.state(0).stats.fast, before + 1, 'committed on the fast path');
  assert.is(c.net.sentOf('e-accept').length, acceptsBefore, 'no Accept round');
  for (let i = 0; i < 3; i++) assert.equal(c.log(i).slice(-1), ['x=1'], `replica ${i} executed it`);
  const results = c.net.sentOf('client-results').filter((p) => p.to.name === 'client');
  assert.ok(results.length >= 2, 'the leader answered its client');
  checkInvariants(c, 3);
});

test('Figure 2: a replica that holds an interfering instance adds it; the leader then takes the slow path (Accept to a majority) with the union', () => {
  const c = cluster(3);
  openSessions(c, [
    ['a', 0],
    ['b', 1],
  ]);
  const net = c.net;
  const deliverFirst = (test: (p: (typeof net.inFlight)[number]) => boolean): void => {
    const p = net.inFlight.find(test);
    assert.ok(p, 'a message to deliver');
    net.deliver(p!);
  };
  // Replica 1 proposes B on k; only replica 2 hears of it for now.
  net.tell(c.refs[1]!, writes('b', net.client, [2, 'k', 'from-1']));
  deliverFirst((p) => p.msg.type === 'client-request');
  deliverFirst((p) => p.msg.type === 'flush');
  deliverFirst((p) => p.msg.type === 'e-preaccept' && p.to.name === 'r2');
  // Replica 0 proposes A on k, not knowing B: both others hold B, so both add it.
  net.tell(c.refs[0]!, writes('a', net.client, [2, 'k', 'from-0']));
  deliverFirst((p) => p.msg.type === 'client-request');
  deliverFirst((p) => p.msg.type === 'flush');
  deliverFirst((p) => p.msg.type === 'e-preaccept' && p.msg.q === 0 && p.to.name === 'r1');
  deliverFirst((p) => p.msg.type === 'e-preaccept' && p.msg.q === 0 && p.to.name === 'r2');
  const replies = net.inFlight.filter((p) => p.msg.type === 'e-preaccept-ok' && p.msg.q === 0);
  assert.equal(
    replies.map((p) => p.msg.changed),
    [true, true],
    'both replies add B',
  );
  net.run();
  const mine = net.sentOf('e-accept').filter((p) => p.msg.q === 0);
  assert.ok(mine.length > 0, 'replica 0 ran an Accept round');
  assert.ok(mine[0]!.msg.deps[1] >= 2, `its accepted dependencies include replica 1's instance (deps ${mine[0]!.msg.deps})`);
  const logs = [0, 1, 2].map((i) => c.log(i).filter((l) => l.startsWith('k=')));
  assert.equal(logs[0], ['k=from-1', 'k=from-0'], 'B, on which A depends, first');
  assert.equal(logs[1], logs[0]);
  assert.equal(logs[2], logs[0]);
  checkInvariants(c, 3);
});

test('§4.3.2: interfering commands led by different replicas concurrently execute in one order on every replica, whatever the delivery order', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const n = seed % 2 === 0 ? 3 : 5;
    const c = cluster(n);
    const inv = new EPaxosInvariants(n);
    openSessions(
      c,
      Array.from({ length: n }, (_, i) => [`c${i}`, i] as [string, number]),
    );
    const rng = new Prng(seed);
    let onK = 0;
    for (let i = 0; i < n; i++) {
      const key = rng.next() < 0.7 ? 'k' : `k${i}`;
      if (key === 'k') onK++;
      onK++;
      c.net.tell(c.refs[i]!, writes(`c${i}`, c.net.client, [2, key, `${seed}.${i}`], [3, 'k', `${seed}.${i}b`]));
    }
    // Deliver in a random order (each step picks any message in flight).
    for (let steps = 0; c.net.inFlight.length > 0 && steps < 100_000; steps++) {
      const p = c.net.inFlight[rng.int(c.net.inFlight.length)]!;
      c.net.deliver(p);
      checkInvariants(c, n, inv);
    }
    const logs = Array.from({ length: n }, (_, i) => c.log(i).filter((l) => l.startsWith('k=')));
    for (let i = 1; i < n; i++) assert.equal(logs[i], logs[0], `seed ${seed}: replica ${i} executed the writes on k in another order`);
    assert.is(logs[0]!.length, onK, `seed ${seed}: every write on k executed`);
  }
});

test('§4.3.2: a strongly connected component is executed after what it depends on, its instances by sequence number', () => {
  const c = cluster(3);
  const net = c.net;
  const value = (client: string, key: string, v: unknown) => {
    const w = new RequestWriter();
    w.add(1, 0, 1, encode({ key, value: v }));
    return slotOf([w.finish(client)]);
  };
  // X = 0.1 and Y = 1.1 depend on each other (a cycle); Z = 2.1 depends on X. Y has the lower seq.
  const commit = (q: number, key: string, seq: number, deps: number[]) => ({
    type: 'e-commit' as const,
    q,
    i: 1,
    value: value(`w${q}`, key, `${q}`),
    keys: [1],
    seq,
    deps,
    withValue: true,
  });
  net.tell(c.refs[0]!, commit(2, 'z', 9, [1, 0, 0]));
  net.tell(c.refs[0]!, commit(0, 'x', 5, [0, 1, 0]));
  net.run();
  assert.equal(c.log(0), [], 'nothing executes while Y is not committed');
  assert.ok(c.state(0).needed.has(instanceKey(1, 1)), 'Y is needed (asked of the peers, then recovered)');
  net.tell(c.refs[0]!, commit(1, 'y', 3, [1, 0, 0]));
  net.run();
  assert.equal(c.log(0), ['y=1', 'x=0', 'z=2']);
});

test("§4.5 recovery, rule 2 (with Sutra's correction): the proposal accepted in the highest ballot voted in is accepted again", () => {
  const { c, ballot, reply } = recoveringReplica();
  const p1 = { value: null, keys: [7], seq: 3, deps: [0, 0, 0, 0, 0] };
  const p2 = { value: null, keys: [7], seq: 4, deps: [0, 1, 0, 0, 0] };
  c.net.deliver(pkt(c, reply(2, { held: Held.Accepted, vbal: recoveryBallot(1, 3), ...p1 })));
  c.net.deliver(pkt(c, reply(3, { held: Held.Accepted, vbal: recoveryBallot(2, 4), ...p2 })));
  const accepts = c.net.pending('e-accept').filter((p) => p.msg.ballot === ballot);
  assert.ok(accepts.length > 0, 'an Accept round in the recovery ballot');
  assert.is(accepts[0]!.msg.seq, 4, 'the proposal of the higher vote ballot');
});

test("§4.5 recovery, rule 3: enough pre-accepts unchanged in the leader's ballot mean a possible fast commit: exactly those attributes are accepted", () => {
  const { c, ballot, reply, held } = recoveringReplica();
  // Replica 1 (the recoverer) holds it unchanged; one more unchanged reply makes fastEvidence (2).
  c.net.deliver(pkt(c, reply(2, { held: Held.PreAccepted, vbal: 0, unchanged: true, ...held })));
  c.net.deliver(pkt(c, reply(3, { held: Held.Nothing, vbal: 0, value: null, keys: [], seq: 0, deps: [0, 0, 0, 0, 0] })));
  const accepts = c.net.pending('e-accept').filter((p) => p.msg.ballot === ballot);
  assert.is(accepts.length, 4, 'Accept sent to the four others');
  assert.equal(accepts[0]!.msg.deps, held.deps);
  assert.is(accepts[0]!.msg.seq, held.seq);
});

test('§4.5 recovery, rule 4: a command held without evidence of a fast commit is pre-accepted again in the recovery ballot', () => {
  const { c, ballot, reply, held } = recoveringReplica();
  c.net.deliver(pkt(c, reply(2, { held: Held.PreAccepted, vbal: 0, unchanged: false, ...held, deps: [1, 0, 0, 0, 1] })));
  c.net.deliver(pkt(c, reply(3, { held: Held.Nothing, vbal: 0, value: null, keys: [], seq: 0, deps: [0, 0, 0, 0, 0] })));
  assert.is(c.net.pending('e-accept').filter((p) => p.msg.ballot === ballot).length, 0, 'no Accept yet');
  const pre = c.net.pending('e-preaccept').filter((p) => p.msg.ballot === ballot);
  assert.ok(pre.length > 0, 'pre-accepted again');
  assert.is(pre[0]!.msg.deps[4], 1, 'with the union of what the replies held');
});

test('§4.5 recovery, rule 5: an instance nobody holds becomes a no-op', () => {
  const c = cluster(3, { recoveryTimeoutMs: 100, askAfterMs: 20 });
  const net = c.net;
  // Replica 2 learns of an instance that depends on 0.1, which nobody ever held.
  const w = new RequestWriter();
  w.add(1, 0, 1, encode({ key: 'q', value: 1 }));
  net.tell(c.refs[2]!, { type: 'e-commit', q: 1, i: 1, value: slotOf([w.finish('z')]), keys: [9], seq: 2, deps: [1, 0, 0], withValue: true });
  net.run();
  assert.equal(c.log(2), []);
  net.advance(400);
  net.run();
  net.advance(400);
  net.run();
  assert.ok(c.state(2).stats.noops >= 1, 'recovered as a no-op');
  assert.equal(c.log(2), ['q=1'], 'and what waited for it executed');
  const noop = c.state(2).instances.get(instanceKey(0, 1));
  assert.ok(noop === undefined || (noop.value === null && noop.keys?.length === 0));
});

test('persist before send: a vote is durable before the reply that carries it leaves', () => {
  const c = cluster(3);
  openSessions(c, [['a', 0]]);
  c.net.tell(c.refs[0]!, writes('a', c.net.client, [2, 'x', 1]));
  c.net.run({ maxSteps: 3 }); // request, flush, one pre-accept delivered
  const key = instanceKey(0, 2);
  const durable = c.net.node('r1').durable.entries.get(key) as { s: number } | undefined;
  const replied = c.net.inFlight.some((p) => p.msg.type === 'e-preaccept-ok' && p.msg.from === 1);
  if (replied) assert.ok(durable !== undefined && durable.s === Status.PreAccepted, 'the pre-accept is in the durable entries');
  c.net.run();
  // Restarted, the replica answers a repeat of the pre-accept as before (its vote never changes).
  const before = c.state(1).instances.get(key)!;
  c.net.restart('r1', c.args(1));
  const after = c.state(1).instances.get(key)!;
  assert.equal([after.seq, after.deps], [before.seq, before.deps]);
  assert.ok(after.status >= Status.Committed, 'committed (and executed again from the log)');
});

test('reads: a linearizable read rides a barrier through the protocol and sees every write committed before it', () => {
  const c = cluster(3);
  openSessions(c, [['a', 0]]);
  c.net.tell(c.refs[0]!, writes('a', c.net.client, [2, 'x', 'v1']));
  c.net.run();
  c.net.tell(c.refs[2]!, read('r', c.net.client, 'linearizable', 0, 'x'));
  c.net.run();
  const barriers = c.net.sentOf('e-preaccept').filter((p) => p.msg.keys === null && p.msg.value === null && p.msg.q === 2);
  assert.ok(barriers.length > 0, 'replica 2 proposed a barrier');
  const answers = c.net.sentOf('client-read-results');
  assert.ok(answers.length > 0);
  const got: unknown[] = [];
  forEachEntry(answers.at(-1)!.msg.bytes, (r) => {
    r.uvar();
    r.u8();
    got.push(decode(r.bytesView()));
  });
  assert.equal(got, ['v1']);
  assert.is(answers.at(-1)!.msg.index, c.state(2).barriers, "its index is the barrier's number");
});

test('reads: a session read waits for the barrier the session saw, which the replica holding it proposes', () => {
  const c = cluster(3);
  openSessions(c, [['a', 0]]);
  const s = c.state(1);
  const point = s.barriers + 1;
  c.net.tell(c.refs[1]!, read('r', c.net.client, 'session', point, 'x'));
  c.net.run();
  assert.ok(c.state(1).barriers >= point, 'a barrier was executed');
  const answers = c.net.sentOf('client-read-results');
  assert.is(answers.length, 1);
  assert.is(answers[0]!.msg.index, c.state(1).barriers + 1);
});

// ------------------------------------------------------------------ recovery set-up

/**
 * Five replicas; replica 0 proposes a command whose pre-accept only replica 1 receives, then
 * crashes; replica 1, after its recovery timeout, prepares. Its prepares are taken off the network:
 * the tests deliver the replies they want.
 */
function recoveringReplica() {
  const c = cluster(5, { recoveryTimeoutMs: 100, askAfterMs: 20 });
  openSessions(c, [['a', 0]]);
  const net = c.net;
  net.tell(c.refs[0]!, writes('a', net.client, [2, 'x', 1]));
  net.run({ maxSteps: 2 });
  for (const p of net.pending('e-preaccept')) {
    if (p.to.name === 'r1') net.deliver(p);
    else net.inFlight.splice(net.inFlight.indexOf(p), 1);
  }
  net.crash('r0');
  net.inFlight.length = 0;
  const key = instanceKey(0, 2);
  const x = c.state(1).instances.get(key)!;
  assert.ok(x && x.status === Status.PreAccepted && x.unchanged);
  net.advance(500);
  const prepares = net.pending('e-prepare');
  assert.ok(prepares.length > 0, 'replica 1 started a recovery');
  const ballot = prepares[0]!.msg.ballot as number;
  net.inFlight.length = 0;
  const held = { value: x.value, keys: x.keys, seq: x.seq, deps: [...x.deps] };
  const reply = (from: number, r: Omit<MPrepareOk, 'type' | 'from' | 'ballot' | 'q' | 'i' | 'unchanged'> & { unchanged?: boolean }): MPrepareOk => ({
    type: 'e-prepare-ok',
    from,
    ballot,
    q: 0,
    i: 2,
    unchanged: false,
    ...r,
  });
  return { c, ballot, reply, held };
}

function pkt(c: ReturnType<typeof cluster>, msg: unknown) {
  return { from: c.refs[(msg as { from: number }).from]!, to: c.refs[1]!, msg, corr: 0 };
}

export type { EPaxosState };
test.run();
