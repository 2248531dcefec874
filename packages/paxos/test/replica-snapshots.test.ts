/**
 * Replica snapshots come every `snapshotEvery` slots, or sooner once the slots applied since the
 * last one hold `snapshotEveryBytes`: with large batches, logs (cut at snapshots) stay bounded in
 * bytes, not only in slots. The replica core is driven by hand.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Replica, type ReplicaState } from '@synod/paxos';
import { defineStateMachine } from '@synod/smr';
import { Net, slotWith } from './harness.ts';

/** A register; `size`: the bytes its state says it holds (for the snapshot schedule). */
function registerMachine(name: string, size?: () => number) {
  return defineStateMachine({
    module: import.meta.url,
    name,
    initial: () => ({ v: '' }),
    apply: (s: { v: string }, v: string) => {
      s.v = v;
      return { state: s, result: true };
    },
    query: (s: { v: string }) => s.v,
    ...(size ? { size } : {}),
  });
}

const Register = registerMachine('register');

test('a snapshot is taken once the applied slots hold snapshotEveryBytes, long before snapshotEvery slots', () => {
  const net = new Net();
  const leader = { name: 'leader-0', node: 5, id: 1 };
  const replica = net.spawn(Replica, 'replica-0', {
    index: 0,
    machine: Register.key,
    leaders: [leader],
    options: { snapshotEvery: 1000, snapshotEveryBytes: 10_000 },
  });
  const big = 'x'.repeat(1000);
  for (let slot = 0; slot < 12; slot++) {
    net.tell(replica, { type: 'm-decide', firstSlot: slot, values: [slotWith('c', [{ seq: slot + 1, value: big }])] });
  }
  net.run();
  const s = net.state<ReplicaState>('replica-0');
  assert.is(s.exec.appliedUpTo, 12);
  const at = s.snapshot?.index ?? 0;
  assert.ok(at >= 9 && at <= 11, `snapshot after about 10 slots of ~1 kB (at ${at})`);
  const reports = net
    .sentOf('m-applied')
    .filter((p) => p.to.name === 'leader-0')
    .map((p) => p.msg.snapshotAt);
  assert.ok(reports.includes(at), "the leader hears of the snapshot (it cuts the acceptors' logs there)");
});

/** A register that says its state is 64 kB, whatever it holds: a large state. */
const LargeRegister = registerMachine('large-register', () => 64_000);

/** The slot of the first snapshot of a 64 kB state, with slots of about 1 kB. */
function firstSnapshotOfLargeState(maxSnapshotLagBytes: number | undefined): number {
  const net = new Net();
  const options = { snapshotEvery: 1000, snapshotEveryBytes: 2_000, ...(maxSnapshotLagBytes === undefined ? {} : { maxSnapshotLagBytes }) };
  const replica = net.spawn(Replica, 'replica-0', { index: 0, machine: LargeRegister.key, options });
  const big = 'x'.repeat(1000);
  for (let slot = 0; slot < 80; slot++) {
    net.tell(replica, { type: 'm-decide', firstSlot: slot, values: [slotWith('c', [{ seq: slot + 1, value: big }])] });
  }
  net.run();
  return net.state<ReplicaState>('replica-0').snapshot?.index ?? 0;
}

test('a large state is snapshotted after a quarter of its bytes by default, and after as many as maxSnapshotLagBytes allows (up to the whole state)', () => {
  const quarter = firstSnapshotOfLargeState(undefined);
  assert.ok(quarter >= 14 && quarter <= 16, `by default, after about 16 kB of slots (a quarter of 64 kB): at ${quarter}`);
  const lag = firstSnapshotOfLargeState(48_000);
  assert.ok(lag >= 44 && lag <= 48, `with maxSnapshotLagBytes 48 kB, after about 48 kB: at ${lag}`);
  const whole = firstSnapshotOfLargeState(1 << 20);
  assert.ok(whole >= 59 && whole <= 64, `with room for more than the state, after about as many bytes as the state (64 kB): at ${whole}`);
  assert.is(firstSnapshotOfLargeState(1_000), quarter, 'a lag below a quarter of the state changes nothing');
});

test('small slots: snapshots still come every snapshotEvery slots', () => {
  const net = new Net();
  const replica = net.spawn(Replica, 'replica-0', { index: 0, machine: Register.key, options: { snapshotEvery: 5, snapshotEveryBytes: 1 << 20 } });
  for (let slot = 0; slot < 7; slot++) net.tell(replica, { type: 'm-decide', firstSlot: slot, values: [slotWith('c', [{ seq: slot + 1, value: 'v' }])] });
  net.run();
  assert.is(net.state<ReplicaState>('replica-0').snapshot?.index, 5);
});

test('a restart restores a snapshot of many chunks over many turns, with ticks in between, without crashing', () => {
  const net = new Net();
  const options = { snapshotEvery: 4, snapshotChunkBytes: 64, snapshotChunksPerTurn: 1, tickMs: 10 };
  const replica = net.spawn(Replica, 'replica-0', { index: 0, machine: Register.key, options });
  const big = 'x'.repeat(1000);
  for (let slot = 0; slot < 4; slot++)
    net.tell(replica, { type: 'm-decide', firstSlot: slot, values: [slotWith('c', [{ seq: slot + 1, value: big + slot }])] });
  net.run();
  const taken = net.state<ReplicaState>('replica-0').snapshot;
  assert.is(taken?.index, 4);
  assert.ok(taken!.chunks > 4, `the snapshot spans many chunks (${taken!.chunks})`);

  net.restart('replica-0');
  let turns = 0;
  while (net.state<ReplicaState>('replica-0').restoring !== null) {
    const step = net.pending('restore-step');
    assert.is(step.length, 1, 'the restore goes on, one step at a time');
    net.deliver(step[0]!);
    // A tick between two steps (before the fix, its check that the applied point is at least the
    // snapshot's index crashed the replica, and the restart began the restore again: forever).
    net.advance(options.tickMs);
    turns++;
  }
  const s = net.state<ReplicaState>('replica-0');
  assert.ok(turns > 4, `restored over ${turns} turns`);
  assert.is(s.exec.appliedUpTo, 4);
  assert.is(s.snapshot?.index, 4);
  assert.equal(s.exec.state, { v: `${big}3` });
});

test.run();
