/**
 * A replica applies at most `maxApplyCommandsPerTurn` commands per turn (whole slots), and the
 * rest in the next turns: a decide of a whole window of full slots (64 x 1024 commands, what the
 * leader sends its followers under a batched load) applied in one turn took over 2 s on a loaded
 * machine, the worker stopped answering the runtime's heartbeats and was restarted, taking its
 * leader and whatever else it hosted with it (issue 17: the protocols bench's `fpaxos` cell
 * stalled). The replica core is driven by hand, one message at a time.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Replica, defaultReplicaOptions, type ReplicaState } from '@synod/paxos';
import { Counter, Net, slotWith, type Packet } from './harness.ts';

const SLOTS = 64;
const PER_SLOT = 1024;

/** A window of full slots: slot i holds PER_SLOT commands of client `c<i>`, each adding 1. */
function windowOfFullSlots(): Uint8Array[] {
  return Array.from({ length: SLOTS }, (_, i) =>
    slotWith(
      `c${i}`,
      Array.from({ length: PER_SLOT }, (_, k) => ({ seq: k + 1, value: 1 })),
    ),
  );
}

/** Delivers the packets to the replica one by one; returns the slots each of its turns applied. */
function turnsOf(net: Net, name: string, skip?: (p: Packet) => boolean): number[] {
  const applied: number[] = [];
  while (net.inFlight.length > 0) {
    const p = net.inFlight[0]!;
    if (skip?.(p)) {
      net.inFlight.shift();
      continue;
    }
    const before = net.state<ReplicaState>(name).exec.appliedUpTo;
    net.deliver(p);
    const after = net.state<ReplicaState>(name).exec.appliedUpTo;
    if (p.to.name === name && after > before) applied.push(after - before);
  }
  return applied;
}

test('a decide of 64 full slots is applied over many turns, none past maxApplyCommandsPerTurn (default), every command once', () => {
  const net = new Net();
  const replica = net.spawn(Replica, 'replica-0', { index: 0, machine: Counter.key });
  net.tell(replica, { type: 'm-decide', firstSlot: 0, values: windowOfFullSlots() });
  const turns = turnsOf(net, 'replica-0');
  const bound = defaultReplicaOptions.maxApplyCommandsPerTurn;
  assert.ok(bound >= PER_SLOT && bound < SLOTS * PER_SLOT, `the default (${bound}) takes a full slot, not a whole window`);
  assert.ok(turns.length > 1, `applied over ${turns.length} turn(s)`);
  for (const slots of turns) assert.ok(slots * PER_SLOT <= bound, `a turn applied ${slots} slots of ${PER_SLOT} commands (bound ${bound})`);
  const s = net.state<ReplicaState>('replica-0');
  assert.is(s.exec.appliedUpTo, SLOTS, 'every slot applied');
  assert.is((s.exec.state as { n: number }).n, SLOTS * PER_SLOT, 'every command applied once');
  assert.is(s.applyQueued, false);
});

test('a slot is never split: with a bound below a slot, one slot per turn', () => {
  const net = new Net();
  const replica = net.spawn(Replica, 'replica-0', { index: 0, machine: Counter.key, options: { maxApplyCommandsPerTurn: 100 } });
  net.tell(replica, { type: 'm-decide', firstSlot: 0, values: windowOfFullSlots().slice(0, 8) });
  assert.equal(turnsOf(net, 'replica-0'), [1, 1, 1, 1, 1, 1, 1, 1]);
});

test('what a turn left is applied at the next tick even if the replica never hears its apply-more (a full mailbox drops it)', () => {
  const net = new Net();
  const options = { maxApplyCommandsPerTurn: PER_SLOT, tickMs: 10 };
  const replica = net.spawn(Replica, 'replica-0', { index: 0, machine: Counter.key, options });
  net.tell(replica, { type: 'm-decide', firstSlot: 0, values: windowOfFullSlots().slice(0, 4) });
  const dropped = turnsOf(net, 'replica-0', (p) => p.msg?.type === 'apply-more');
  assert.equal(dropped, [1], 'one slot, then its apply-more was lost');
  for (let i = 0; i < 3; i++) {
    net.advance(10);
    turnsOf(net, 'replica-0', (p) => p.msg?.type === 'apply-more');
  }
  const s = net.state<ReplicaState>('replica-0');
  assert.is(s.exec.appliedUpTo, 4, 'ticks applied the rest');
  assert.is((s.exec.state as { n: number }).n, 4 * PER_SLOT);
  assert.is(net.sentOf('m-fetch').length, 0, 'nothing fetched: the slots were here, waiting for their turn');
});

test.run();
