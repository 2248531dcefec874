/**
 * A Multi-Paxos slot's batch travels as bytes (leader to acceptors and replicas): replicas must
 * get back exactly the commands the leader batched, reply addresses and origins included.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { batchOf, encodeBatch, type Command } from '@synod/paxos';

const client = { name: 'client-a', node: 0, id: 7 };
const other = { name: 'client-b', node: 3, id: 2 ** 31 + 5 };

test('commands come back equal: sessions, seqs, reply tokens, origins and any plain op', () => {
  const commands: Command[] = [
    { client: 's1', seq: 1, op: { op: 'set', key: 'k', value: 'v' } },
    { client: 's1', seq: 2, op: { op: 'set', key: 'k', value: -3.5 }, reply: { to: client, corr: 4_000_000_000 }, origin: 0 },
    { client: 's2', seq: 2 ** 40, op: [1, null, undefined, true], reply: { to: other, corr: 1 }, origin: 2 },
    { client: 's1', seq: 3, op: new Map([['a', new Uint8Array([9, 8])]]), reply: { to: client, corr: 2 } },
    { client: 'ß-ünïcode', seq: 0, op: undefined, origin: 1 },
  ];
  const bytes = encodeBatch(commands);
  assert.ok(bytes instanceof Uint8Array);
  const back = batchOf(bytes);
  assert.ok(back !== null);
  assert.equal(back.commands, commands);
});

test('an empty batch, a no-op and an unencoded batch', () => {
  assert.equal(batchOf(encodeBatch([]))?.commands, []);
  assert.is(batchOf(null), null);
  const plain = { commands: [{ client: 'c', seq: 1, op: 1 }] };
  assert.is(batchOf(plain), plain);
});

test('each batch stands alone: the tables of one do not leak into the next', () => {
  const a = encodeBatch([{ client: 'first', seq: 1, op: 1, reply: { to: client, corr: 1 } }]);
  const b = encodeBatch([{ client: 'second', seq: 1, op: 2, reply: { to: other, corr: 2 } }]);
  assert.equal(batchOf(b)?.commands, [{ client: 'second', seq: 1, op: 2, reply: { to: other, corr: 2 } }]);
  assert.equal(batchOf(a)?.commands, [{ client: 'first', seq: 1, op: 1, reply: { to: client, corr: 1 } }]);
});

test('bytes of an unknown format are refused with a clear error', () => {
  assert.throws(() => batchOf(new Uint8Array([9, 0, 0, 0])), /unknown batch format 9/);
});

test.run();
