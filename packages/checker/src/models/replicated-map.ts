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
 * `expected: undefined` means "only if the key is absent". Values are compared as JSON (object
 * keys in any order); `undefined` as a value means absent.
 */
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

function encode(v: unknown): string {
  return v === undefined ? ABSENT : canonicalJson(v);
}

/** ReplicatedMap (get, set, delete, compareAndSet), partitioned per key. */
export const replicatedMapModel: Model<string, ReplicatedMapInput, ReplicatedMapOutput> = {
  name: 'replicated-map',
  init: () => ABSENT,
  step(state, input, output: ReplicatedMapOutput | Unknown) {
    switch (input.f) {
      case 'get': return output === UNKNOWN || encode(output) === state ? state : undefined;
      case 'set': return encode(input.value);
      case 'delete':
        if (output === true && state === ABSENT) return undefined;
        if (output === false && state !== ABSENT) return undefined;
        return ABSENT;
      case 'compareAndSet': {
        const matches = state === encode(input.expected);
        if (output === UNKNOWN) return matches ? encode(input.value) : state;
        if (output === true) return matches ? encode(input.value) : undefined;
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
      case 'get': return `get(${k}) -> ${out}`;
      case 'set': return `set(${k}, ${canonicalJson(input.value)})${output === UNKNOWN ? ' -> ?' : ''}`;
      case 'delete': return `delete(${k}) -> ${out}`;
      case 'compareAndSet': return `compareAndSet(${k}, ${canonicalJson(input.expected)}, ${canonicalJson(input.value)}) -> ${out}`;
    }
  },
  describeState: (s) => (s === ABSENT ? '(absent)' : s),
  source: { module: import.meta.url, exportName: 'replicatedMapModel' },
};
