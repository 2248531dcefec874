/**
 * A key-value map of strings (the `kv/` histories): `get` returns the key's string (`""` when
 * absent), `put` sets it, `append` appends to it. Keys are independent, so the model is
 * partitioned per key and a state is one key's string.
 */
import { hashString } from '../hash.js';
import type { DecodedOperation, Model } from '../model.js';
import { UNKNOWN, type Unknown } from '../model.js';
import { formatEdn, type EdnValue } from '../parsers/edn-reader.js';
import type { JepsenOperation } from '../parsers/jepsen-ops.js';

export type KvInput =
  | { readonly f: 'get'; readonly key: string }
  | { readonly f: 'put'; readonly key: string; readonly value: string }
  | { readonly f: 'append'; readonly key: string; readonly value: string };
/** For `get` the string read; for `put` and `append` anything (ignored). */
export type KvOutput = string | null;

function decodeKey(k: EdnValue | undefined): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'number' && Number.isInteger(k)) return String(k);
  throw new Error(`:key must be a string or an integer, got ${k === undefined ? 'nothing' : formatEdn(k)}`);
}

function decodeString(v: EdnValue | undefined, what: string): string {
  if (typeof v === 'string') return v;
  throw new Error(`${what} must be a string, got ${v === undefined ? 'nothing' : formatEdn(v)}`);
}

function fromJepsen(op: JepsenOperation): DecodedOperation<KvInput, KvOutput> {
  const key = decodeKey(op.key);
  const open = op.type === 'info' || op.type === 'open';
  let input: KvInput;
  switch (op.f) {
    case 'get':
      input = { f: 'get', key };
      if (open) return { input, outcome: 'unknown' };
      if (op.type === 'fail') return { input, outcome: 'fail' };
      // nil is an absent key, which reads as "".
      return { input, outcome: 'ok', output: op.value === null ? '' : decodeString(op.value, 'the value read') };
    case 'put':
    case 'append': {
      const value = decodeString(op.invokeValue, `the value to ${op.f}`);
      input = { f: op.f, key, value };
      if (open) return { input, outcome: 'unknown' };
      if (op.type === 'fail') return { input, outcome: 'fail' };
      if (op.value !== null && op.value !== value) {
        throw new Error(`the :ok value ${formatEdn(op.value!)} differs from the value invoked ${formatEdn(op.invokeValue)}`);
      }
      return { input, outcome: 'ok', output: null };
    }
  }
  throw new Error(`unknown function :${op.f} for the kv model (expected :get, :put, :append)`);
}

/** How many appends {@link appendsSpell} may try per question before it answers "unsure". */
const MAX_PROBES = 256;
// Scratch of possibleAfter (one question at a time per thread): appends in use, probes left.
let used = new Uint8Array(64);
let probes = 0;

/**
 * Whether some of the unused appends in `writes`, each once, spell `read` from `at` to its end.
 * Values that are prefixes of one another make this a search; past its budget it gives up.
 */
function appendsSpell(read: string, at: number, writes: readonly KvInput[]): boolean {
  if (read.length === at) return true;
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i]!;
    if (w.f !== 'append' || used[i] === 1 || w.value.length === 0 || !read.startsWith(w.value, at)) continue;
    if (--probes < 0) return false;
    used[i] = 1;
    const spelled = appendsSpell(read, at + w.value.length, writes);
    used[i] = 0;
    if (spelled) return true;
  }
  return false;
}

/** Key-value map of strings, partitioned per key. */
export const kvModel: Model<string, KvInput, KvOutput> = {
  name: 'kv',
  init: () => '',
  step(state, input, output: KvOutput | Unknown) {
    switch (input.f) {
      case 'get':
        return output === UNKNOWN || output === state ? state : undefined;
      case 'put':
        return input.value;
      case 'append':
        return state + input.value;
    }
  },
  hash: hashString,
  equal: (a, b) => a === b,
  partitionKey: (input) => input.key,
  operationKind: (input) => (input.f === 'get' ? 'read' : input.f === 'put' ? 'overwrite' : 'update'),
  possibleAfter(state, input, output, writes) {
    if (input.f !== 'get' || output === state || typeof output !== 'string') return true;
    // A read of `output` needs the key to hold it: `state` or a put's value, then appends, each
    // at most once, that spell out the rest.
    const read = output;
    if (used.length < writes.length) used = new Uint8Array(Math.max(2 * used.length, writes.length));
    used.fill(0, 0, writes.length);
    probes = MAX_PROBES;
    if (read.startsWith(state) && appendsSpell(read, state.length, writes)) return true;
    for (let i = 0; i < writes.length; i++) {
      const w = writes[i]!;
      if (w.f !== 'put' || !read.startsWith(w.value)) continue;
      if (appendsSpell(read, w.value.length, writes)) return true;
    }
    return probes < 0; // out of probes: unsure, so possible
  },
  describeOperation(input, output) {
    const out = output === UNKNOWN ? ' -> ?' : '';
    switch (input.f) {
      case 'get':
        return `get(${JSON.stringify(input.key)}) -> ${output === UNKNOWN ? '?' : JSON.stringify(output)}`;
      case 'put':
        return `put(${JSON.stringify(input.key)}, ${JSON.stringify(input.value)})${out}`;
      case 'append':
        return `append(${JSON.stringify(input.key)}, ${JSON.stringify(input.value)})${out}`;
    }
  },
  describeState: (s) => JSON.stringify(s),
  fromJepsen,
  source: { module: import.meta.url, exportName: 'kvModel' },
};
