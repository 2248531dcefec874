/**
 * Many instances per message: what a turn of a Synod role sends to one actor leaves as one batch,
 * and each instance inside is handled exactly as if it had come alone (the seed's checklist in
 * seed.test.ts runs the same code). Driven by hand on the pure cores (harness.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Acceptor, Learner, Proposer, SynodInvariants, type LearnerState, type SynodBatch } from '@synod/paxos';
import { Prng } from '@synod/actors/internals';
import { Net, type Packet } from './harness.ts';

function cluster(maxBatchMessages?: number) {
  const net = new Net();
  const learners = [net.spawn(Learner, 'learner-0', { index: 0, acceptorCount: 3, options: { maxBatchMessages } })];
  const acceptors = [0, 1, 2].map((i) => net.spawn(Acceptor, `acceptor-${i}`, { index: i, learners, maxBatchMessages }));
  const proposer = net.spawn(Proposer, 'proposer-0', { id: 1, acceptors, options: { maxBatchMessages, electLeader: false } });
  net.tell(learners[0]!, { type: 'configure', learners, proposers: [proposer] });
  net.run();
  return { net, acceptors, proposer, learner: learners[0]! };
}

const proposals = (first: number, n: number): SynodBatch => ({
  type: 'batch',
  msgs: Array.from({ length: n }, (_, i) => ({ type: 'propose' as const, instance: first + i, value: `v${first + i}` })),
});

/** Messages of a type, counted inside batches too. */
function itemsOf(packets: Packet[], type: string): number {
  let n = 0;
  for (const p of packets) {
    if (p.msg.type === type) n++;
    else if (p.msg.type === 'batch') n += p.msg.msgs.filter((m: { type: string }) => m.type === type).length;
  }
  return n;
}

test('64 instances proposed in one message take one message per acceptor and phase, and each decides its own value', () => {
  const { net, proposer } = cluster();
  net.tell(proposer, proposals(0, 64));
  net.run();
  const decided = net.state<LearnerState>('learner-0').decided;
  for (let i = 0; i < 64; i++) assert.is(decided.get(i), `v${i}`, `instance ${i}`);
  const toAcceptor0 = net.sent.filter((p) => p.from?.name === 'proposer-0' && p.to.name === 'acceptor-0');
  assert.is(toAcceptor0.length, 2, 'one prepare batch and one accept batch');
  assert.is(itemsOf(toAcceptor0, 'prepare'), 64);
  assert.is(itemsOf(toAcceptor0, 'accept'), 64);
  // Every phase's answers come back batched too: 2 to each acceptor, 2 back, 1 to the learner.
  assert.ok(net.sent.length <= 1 + 3 * 5 + 2, `${net.sent.length} messages in all for 64 rounds`);
});

test('maxBatchMessages bounds a batch; 1 sends every message alone, as before batching', () => {
  for (const max of [16, 1]) {
    const { net, proposer } = cluster(max);
    net.tell(proposer, proposals(0, 64));
    net.run();
    const decided = net.state<LearnerState>('learner-0').decided;
    for (let i = 0; i < 64; i++) assert.is(decided.get(i), `v${i}`);
    const toAcceptor0 = net.sent.filter((p) => p.from?.name === 'proposer-0' && p.to.name === 'acceptor-0');
    assert.is(toAcceptor0.length, (2 * 64) / max, `max ${max}: 64 prepares and 64 accepts in batches of ${max}`);
    for (const p of net.sent) if (p.from !== null && p.msg.type === 'batch') assert.ok(p.msg.msgs.length <= max, `a batch of ${p.msg.msgs.length}`);
    if (max === 1)
      assert.not.ok(
        net.sent.some((p) => p.from !== null && p.msg.type === 'batch'),
        'no batch at all',
      );
  }
});

test('batches lost, duplicated and reordered: every instance still decides one value, and the invariants hold at every step', () => {
  const seed = 1411;
  const rng = new Prng(seed);
  const { net, proposer } = cluster();
  const inv = new SynodInvariants(3);
  const view = () => ({
    actors: ['acceptor-0', 'acceptor-1', 'acceptor-2', 'learner-0', 'proposer-0'].map((name) => ({ name, state: net.state(name) })),
    inFlight: net.inFlight,
  });
  for (let k = 0; k < 4; k++) net.tell(proposer, proposals(k * 32, 32));
  for (let step = 0; step < 400 && net.state<LearnerState>('learner-0').decided.size < 128; step++) {
    // Reorder: deliver a random packet in flight; lose 20 % and duplicate 10 % of the actors'
    // messages (the client's own proposals are not lost: a real client would retry them).
    for (let i = 0; i < 20 && net.inFlight.length > 0; i++) {
      const p = net.inFlight[Math.floor(rng.next() * net.inFlight.length)]!;
      const roll = p.from === null ? 1 : rng.next();
      if (roll < 0.2) {
        net.inFlight.splice(net.inFlight.indexOf(p), 1);
        continue;
      }
      if (roll < 0.3) net.inFlight.push({ ...p });
      net.deliver(p);
      const v = inv.observe(view());
      assert.is(v, null, `seed ${seed} (replay: npx -y pnpm@12.4.2 test synod-batch): ${v?.property}: ${v?.message}`);
    }
    if (net.inFlight.length === 0) net.advance(10); // retransmissions and new ballots
  }
  // The faults end. A learner that missed an outcome finds it when asked (6.6).
  const decided = net.state<LearnerState>('learner-0').decided;
  for (let i = 0; i < 128; i++) if (!decided.has(i)) net.ask(net.node('learner-0').ref, { type: 'learn', instance: i });
  for (let t = 0; t < 100 && (decided.size < 128 || net.inFlight.length > 0); t++) {
    net.run();
    assert.is(inv.observe(view()), null, `seed ${seed}`);
    net.advance(50);
  }
  assert.is(decided.size, 128, `seed ${seed}: every instance decided`);
  for (let i = 0; i < 128; i++) assert.is(decided.get(i), `v${i}`, `seed ${seed}: instance ${i} decided its only proposal`);
});

test.run();
