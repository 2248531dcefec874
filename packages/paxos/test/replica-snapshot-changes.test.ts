/**
 * A replica whose machine offers snapshots of changes (`MachineCore.snapshotChanges`) writes them
 * as parts on top of its whole snapshot (`maxSnapshotChanges`), restores the whole chain at a
 * restart, serves it to a peer as one stream, and never restores a part left over from a chain a
 * newer whole snapshot replaced. The replica core is driven by hand.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decode, encode } from '@synod/canonical';
import { Replica, type ReplicaState } from '@synod/paxos';
import { registerMachine, type MachineCore, type SnapshotSource } from '@synod/smr';
import { Net, slotWith } from './harness.ts';

/** Keys and values, and the keys set since the last snapshot. A command: `[key, value]`. */
interface Kv {
  m: Map<string, string>;
  changed: Set<string>;
}

/** One chunk, then the end. */
function oneChunk(bytes: Uint8Array): SnapshotSource {
  let done = false;
  return {
    next: () => {
      if (done) return null;
      done = true;
      return bytes;
    },
  };
}

const kvCore: MachineCore<Kv> = {
  initial: () => ({ m: new Map(), changed: new Set() }),
  apply(s, command) {
    const [k, v] = decode(command) as [string, string];
    s.m.set(k, v);
    s.changed.add(k);
    return { state: s, result: encode(true) };
  },
  query: (s) => encode([...s.m].sort()),
  snapshot(s) {
    s.changed = new Set();
    return oneChunk(encode([...s.m]));
  },
  snapshotChanges(s) {
    const pairs = [...s.changed].map((k) => [k, s.m.get(k)!]);
    s.changed = new Set();
    return oneChunk(encode(pairs));
  },
  restore() {
    const s = kvCore.initial();
    return {
      add: (chunk) => {
        for (const [k, v] of decode(chunk) as [string, string][]) s.m.set(k, v);
      },
      finish: () => s,
    };
  },
  size: (s) => [...s.m.values()].reduce((n, v) => n + v.length, 0),
};

const Kv = registerMachine({
  module: import.meta.url,
  name: 'kv-with-changes',
  core: kvCore,
  client: {
    encodeCommand: (c: unknown) => encode(c),
    decodeResult: (b) => decode(b),
    encodeQuery: () => new Uint8Array(0),
    decodeAnswer: (b) => decode(b),
  },
});

/** A value of 1000 characters. */
const big = (c: string) => c.padEnd(1000, '.');
let seq = 1;
function decide(net: Net, replica: ReturnType<Net['spawn']>, slot: number, key: string, value: string): void {
  net.tell(replica, { type: 'm-decide', firstSlot: slot, values: [slotWith('c', [{ seq: seq++, value: [key, value] }])] });
}

/** Slot 0 sets 8 keys of 1 kB; slots 1 to 3 change key a: the first snapshot (at 4) is whole. */
function fill(net: Net, replica: ReturnType<Net['spawn']>): number {
  seq = 1; // a new cluster: its client's session begins again
  const commands = [...'abcdefgh'].map((k) => ({ seq: seq++, value: [k, big(k)] }));
  net.tell(replica, { type: 'm-decide', firstSlot: 0, values: [slotWith('c', commands)] });
  for (let slot = 1; slot < 4; slot++) decide(net, replica, slot, 'a', big(String(slot)));
  return 4;
}

function ids(net: Net, name: string): string[] {
  return net.node(name).snapshots!.list().sort();
}

const options = { snapshotEvery: 4, maxSnapshotChanges: 2 };

/** A replica with a state of 8 keys of 1 kB, then `rounds` snapshots' worth of slots that change key a only. */
function chainOf(rounds: number) {
  const net = new Net();
  const replica = net.spawn(Replica, 'replica-0', { index: 0, machine: Kv.key, options });
  let slot = fill(net, replica);
  net.run();
  const whole = net.state<ReplicaState>('replica-0').snapshot!;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < 4; i++) decide(net, replica, slot++, 'a', big(String(slot)));
    net.run();
  }
  return { net, replica, whole, slot };
}

test('snapshots after changes to part of the state hold that part, as parts on top of the whole one, up to maxSnapshotChanges', () => {
  const { net, whole } = chainOf(2);
  const s = net.state<ReplicaState>('replica-0');
  assert.is(whole.parts.length, 1, 'the first snapshot is whole');
  assert.ok(whole.bytes > 8000, `it holds the whole state (${whole.bytes} bytes)`);
  assert.equal(
    s.snapshot!.parts.map((p) => p.id),
    ['state', 'state+1', 'state+2'],
  );
  for (const p of s.snapshot!.parts.slice(1)) assert.ok(p.bytes < 1100, `a part holds key a only (${p.bytes} bytes)`);
  assert.is(s.snapshot!.index, 12);
  assert.is(s.snapshot!.chunks, 3);
  assert.equal(ids(net, 'replica-0'), ['state', 'state+1', 'state+2']);

  // maxSnapshotChanges reached: the next one is whole, and the parts it replaces are deleted.
  const replica = net.node('replica-0').ref;
  for (let slot = 12; slot < 16; slot++) decide(net, replica, slot, 'b', big('z'));
  net.run();
  const after = net.state<ReplicaState>('replica-0').snapshot!;
  assert.equal(
    after.parts.map((p) => p.id),
    ['state'],
  );
  assert.is(after.index, 16);
  assert.equal(ids(net, 'replica-0'), ['state']);
});

test('a restart restores the whole snapshot and every part on top of it, in order', () => {
  const { net, slot } = chainOf(2);
  const before = net.state<ReplicaState>('replica-0').exec.state as Kv;
  net.restart('replica-0');
  net.run();
  const s = net.state<ReplicaState>('replica-0');
  assert.is(s.restoring, null);
  assert.is(s.exec.appliedUpTo, slot);
  assert.equal([...(s.exec.state as Kv).m].sort(), [...before.m].sort());
  assert.is((s.exec.state as Kv).m.get('a'), big(String(slot)), 'the last part was restored last');
  assert.is(s.snapshot!.parts.length, 3);
});

test('a part left over from a chain that a newer whole snapshot replaced is not restored, and is deleted', () => {
  const { net } = chainOf(2);
  // What a crash between finishing a whole snapshot and deleting the parts on top of the old
  // one leaves: a whole snapshot newer than the parts beside it.
  const store = net.node('replica-0').snapshots!;
  const w = store.create('state');
  w.append(encode([['a', 'new']]));
  const header = store.open('state+2')!.meta.slice();
  // The header of the part at slot 12, its index raised to 13: as a whole snapshot taken after it.
  assert.is(header[1], 12, 'the header holds the index in its second byte (uvar 12)');
  header[1] = 13;
  w.finish(header);
  net.restart('replica-0');
  net.run();
  const s = net.state<ReplicaState>('replica-0');
  assert.equal(
    s.snapshot!.parts.map((p) => p.id),
    ['state'],
  );
  assert.is(s.exec.appliedUpTo, 13);
  assert.equal([...(s.exec.state as Kv).m], [['a', 'new']], 'the parts at slots 8 and 12 were not applied on top of it');
  assert.equal(ids(net, 'replica-0'), ['state']);
});

test('a peer far behind pulls the whole snapshot and its parts as one stream, and keeps it as its own whole one', () => {
  const net = new Net();
  const refs = [0, 1].map((i) => ({ name: `replica-${i}`, node: 1, id: i + 1 }));
  const r0 = net.spawn(Replica, 'replica-0', { index: 0, machine: Kv.key, options, replicas: refs });
  const r1 = net.spawn(Replica, 'replica-1', { index: 1, machine: Kv.key, options, replicas: refs });
  assert.equal([r0, r1], refs);
  let slot = fill(net, r0);
  net.run();
  for (let r = 0; r < 2; r++) {
    for (let i = 0; i < 4; i++) decide(net, r0, slot++, 'a', big(String(slot)));
    net.run();
  }
  const s0 = net.state<ReplicaState>('replica-0');
  assert.is(s0.snapshot!.parts.length, 3);
  // Replica 1 learns of a slot past everything replica 0 cut from its log: it asks, and is offered the snapshot.
  decide(net, r1, slot, 'i', 'last');
  for (let t = 0; t < 20 && net.state<ReplicaState>('replica-1').exec.appliedUpTo <= slot; t++) {
    net.advance(100);
    net.run();
  }
  const s1 = net.state<ReplicaState>('replica-1');
  assert.ok(net.sentOf('m-snapshot-offer').length > 0, 'replica 0 offered its snapshot');
  assert.is(s1.exec.appliedUpTo, slot + 1);
  assert.equal([...(s1.exec.state as Kv).m].sort(), [...(s0.exec.state as Kv).m, ['i', 'last']].sort());
  assert.equal(
    s1.snapshot!.parts.map((p) => p.id),
    ['state'],
  );
  assert.is(s1.snapshot!.chunks, 3, "the peer's one snapshot holds the three parts' chunks");
});

test.run();
