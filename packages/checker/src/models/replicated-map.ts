/**
 * The operations of `@synod/replicated`'s ReplicatedMap, for checking histories recorded from
 * its clients. Keys are independent, so the model is partitioned per key; a state is one key's
 * value in canonical JSON, or `""` when the key is absent.
 *
 * Record operations with these inputs and outputs:
 *
 * | input                                               | output (when ok)                          |
 * | --------------------------------------------------- | ----------------------------------------- |
 * | `{ f: 'get', key }`                                 | the value, `undefined` when absent        |
 * | `{ f: 'set', key, value }`                          | ignored                                   |
 * | `{ f: 'delete', key }`                              | `true`/`false`: was it present (or `undefined` not to check) |
 * | `{ f: 'compareAndSet', key, expected, value }`      | `true` if it swapped, else `false`        |
 *
 * `expected: undefined` means "only if the key is absent". Values are compared by their canonical
 * encoding (@synod/canonical), exactly as ReplicatedMap's compareAndSet compares them: object key
 * order and Map or Set insertion order do not matter, types do; `undefined` as a value means absent.
 */
import { CanonicalError, decode, encode } from '@synod/canonical';
import { canonicalJson, hashString } from '../hash.js';
import type { Model } from '../model.js';
import { UNKNOWN, type Unknown } from '../model.js';

export type MapKey = string | number;

export type ReplicatedMapInput =
  | { readonly f: 'get'; readonly key: MapKey }
  | { readonly f: 'set'; readonly key: MapKey; readonly value: unknown }
  | { readonly f: 'delete'; readonly key: MapKey }
  | { readonly f: 'compareAndSet'; readonly key: MapKey; readonly expected: unknown; readonly value: unknown };

/** See the table in the module comment. */
export type ReplicatedMapOutput = unknown;

const ABSENT = '';

/** A value's canonical bytes, one character per byte (exact, hashable, comparable with ===). */
function stateOf(v: unknown): string {
  if (v === undefined) return ABSENT;
  try {
    return Buffer.from(encode(v)).toString('latin1');
  } catch (e) {
    if (e instanceof CanonicalError) return `!${canonicalJson(v)}`; // no canonical form: it can equal nothing the map stores
    throw e;
  }
}

function describe(state: string): string {
  if (state === ABSENT) return '(absent)';
  if (state.startsWith('!')) return state.slice(1);
  return canonicalJson(decode(Buffer.from(state, 'latin1')));
}

/** ReplicatedMap (get, set, delete, compareAndSet), partitioned per key. */
export const replicatedMapModel: Model<string, ReplicatedMapInput, ReplicatedMapOutput> = {
  name: 'replicated-map',
  init: () => ABSENT,
  step(state, input, output: ReplicatedMapOutput | Unknown) {
    switch (input.f) {
      case 'get':
        return output === UNKNOWN || stateOf(output) === state ? state : undefined;
      case 'set':
        return stateOf(input.value);
      case 'delete':
        if (output === true && state === ABSENT) return undefined;
        if (output === false && state !== ABSENT) return undefined;
        return ABSENT;
      case 'compareAndSet': {
        const matches = state === stateOf(input.expected);
        if (output === UNKNOWN) return matches ? stateOf(input.value) : state;
        if (output === true) return matches ? stateOf(input.value) : undefined;
        return matches ? undefined : state;
      }
    }
  },
  hash: hashString,
  equal: (a, b) => a === b,
  partitionKey: (input) => input.key,
  describeOperation(input, output) {
    const k = JSON.stringify(input.key);
    const out = output === UNKNOWN ? '?' : output === undefined ? 'undefined' : canonicalJson(output);
    switch (input.f) {
      case 'get':
        return `get(${k}) -> ${out}`;
      case 'set':
        return `set(${k}, ${canonicalJson(input.value)})${output === UNKNOWN ? ' -> ?' : ''}`;
      case 'delete':
        return `delete(${k}) -> ${out}`;
      case 'compareAndSet':
        return `compareAndSet(${k}, ${canonicalJson(input.expected)}, ${canonicalJson(input.value)}) -> ${out}`;
    }
  },
  describeState: describe,
  source: { module: import.meta.url, exportName: 'replicatedMapModel' },
};
