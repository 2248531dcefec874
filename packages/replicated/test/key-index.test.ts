/**
 * The map's key index (open addressing, deletes that shift later keys back): after any sequence of
 * inserts and deletes, every key held is found with its value, no key deleted is, and growing the
 * table loses nothing. Keys are chosen to collide (a small table, many keys with the same home),
 * so probe runs wrap around the table's end and deletes move keys across it.
 *
 * Randomised: a failure prints its seed; SEED=<n> replays it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Prng } from '@synod/actors/internals';
import { hashBytes } from '@synod/canonical';
import { KeyIndex } from '../src/key-index.js';
import { ValueStore } from '../src/value-store.js';

const utf8 = new TextEncoder();
const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);

test('inserts and deletes, colliding and wrapping around: every key held is found with its value, none deleted is', () => {
  const rng = new Prng(seed);
  const random = () => rng.next();
  const why = `seed ${seed} (replay: SEED=${seed} npx -y pnpm@12.4.2 test key-index)`;
  try {
    const values = new ValueStore();
    const index = new KeyIndex(values);
    const model = new Map<string, number>();
    // Hashes forced into few homes near the table's end: long runs that wrap.
    const hashOf = (key: string) => (hashBytes(utf8.encode(key)) & 7) | 56;
    const find = (key: string) => {
      const b = utf8.encode(key);
      return index.find(hashOf(key), b, 0, b.length);
    };
    for (let i = 0; i < 20_000; i++) {
      // At most 30 keys: the table stays at 64 slots (it grows past half full).
      const key = `k${Math.floor(random() * 30)}`;
      const slot = find(key);
      assert.is(slot >= 0, model.has(key), `step ${i}: ${key} found as held`);
      if (random() < 0.55) {
        if (slot >= 0) {
          index.setValueAt(slot, i);
        } else {
          const b = utf8.encode(key);
          index.insert(hashOf(key), values.addKey(b, 0, b.length), i);
        }
        model.set(key, i);
      } else if (slot >= 0) {
        values.deleteKey(index.keyAt(slot));
        index.removeAt(slot);
        model.delete(key);
      }
      assert.is(index.size, model.size, `step ${i}: size`);
    }
    for (const [key, value] of model) assert.is(index.valueAt(find(key)), value, `value of ${key}`);
    // Every pair the index lists is a key held, once.
    const pairs = index.pairs();
    const listed = new Set<string>();
    for (let i = 0; i < pairs.length; i += 2) listed.add(new TextDecoder().decode(values.view(pairs[i]!)));
    assert.equal([...listed].sort(), [...model.keys()].sort());
  } catch (err) {
    console.error(`key-index failed with ${why}`);
    throw err;
  }
});

test('a table grown from 64 slots to many thousands finds every key', () => {
  const values = new ValueStore();
  const index = new KeyIndex(values);
  for (let i = 0; i < 50_000; i++) {
    const b = utf8.encode(`key-${i}`);
    index.insert(hashBytes(b), values.addKey(b, 0, b.length), i);
  }
  for (let i = 0; i < 50_000; i += 7) assert.is(index.valueAt(index.slotOf(`key-${i}`)), i, `key-${i}`);
  assert.is(index.slotOf('key-50000'), -1);
});

test.run();
