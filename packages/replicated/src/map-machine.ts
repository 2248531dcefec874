/**
 * The state machine behind `ReplicatedMap`: string keys, plain-data values; set, delete and
 * compare-and-set commands; get, has, size and entries queries.
 */
import { defineStateMachine, sameValue } from '@synod/paxos';

export type MapCommand =
  | { op: 'set'; key: string; value: unknown }
  | { op: 'delete'; key: string }
  | { op: 'cas'; key: string; expected: unknown; value: unknown };

export type MapQuery =
  | { op: 'get'; key: string }
  | { op: 'has'; key: string }
  | { op: 'size' }
  | { op: 'entries'; prefix?: string; limit?: number };

/** Bounds a map command must respect, checked where it enters. */
export const mapLimits = {
  /** Longest key, in UTF-16 code units. */
  maxKeyLength: 1024,
};

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new TypeError(`keys must be strings, got ${typeof key}`);
  if (key.length === 0) throw new TypeError('keys must not be empty');
  if (key.length > mapLimits.maxKeyLength) throw new TypeError(`keys must be at most ${mapLimits.maxKeyLength} characters, got ${key.length}`);
}

function checkValue(value: unknown): void {
  if (value === undefined) throw new TypeError('a value must not be undefined (use delete to remove a key)');
}

export const mapMachine = defineStateMachine<Map<string, unknown>, MapCommand, unknown, MapQuery, unknown>({
  module: import.meta.url,
  name: 'replicated-map',
  initial: () => new Map(),
  apply(state, c) {
    switch (c.op) {
      case 'set': {
        const had = state.has(c.key);
        state.set(c.key, c.value);
        return { state, result: had };
      }
      case 'delete':
        return { state, result: state.delete(c.key) };
      case 'cas': {
        const current = state.has(c.key) ? state.get(c.key) : null;
        if (!sameValue(current, c.expected)) return { state, result: false };
        state.set(c.key, c.value);
        return { state, result: true };
      }
    }
    throw new TypeError(`unknown map command ${JSON.stringify((c as { op?: unknown }).op)}`);
  },
  query(state, q) {
    switch (q.op) {
      case 'get': return state.has(q.key) ? state.get(q.key) : undefined;
      case 'has': return state.has(q.key);
      case 'size': return state.size;
      case 'entries': {
        const out: [string, unknown][] = [];
        const limit = q.limit ?? Infinity;
        for (const [k, v] of state) {
          if (q.prefix !== undefined && !k.startsWith(q.prefix)) continue;
          out.push([k, v]);
          if (out.length >= limit) break;
        }
        return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      }
    }
    throw new TypeError(`unknown map query ${JSON.stringify((q as { op?: unknown }).op)}`);
  },
  validateCommand(c) {
    if (typeof c !== 'object' || c === null) throw new TypeError('a map command must be an object');
    const cmd = c as Record<string, unknown>;
    switch (cmd.op) {
      case 'set': checkKey(cmd.key); checkValue(cmd.value); return;
      case 'delete': checkKey(cmd.key); return;
      case 'cas': checkKey(cmd.key); checkValue(cmd.value); if (cmd.expected === undefined) throw new TypeError('compareAndSet: expected must not be undefined (use null for "absent")'); return;
    }
    throw new TypeError(`unknown map command ${JSON.stringify(cmd.op)} (set, delete, cas)`);
  },
  validateQuery(q) {
    if (typeof q !== 'object' || q === null) throw new TypeError('a map query must be an object');
    const query = q as Record<string, unknown>;
    switch (query.op) {
      case 'get': case 'has': checkKey(query.key); return;
      case 'size': return;
      case 'entries':
        if (query.prefix !== undefined && typeof query.prefix !== 'string') throw new TypeError('entries: prefix must be a string');
        if (query.limit !== undefined && !(Number.isInteger(query.limit) && (query.limit as number) > 0)) throw new TypeError('entries: limit must be a positive integer');
        return;
    }
    throw new TypeError(`unknown map query ${JSON.stringify(query.op)} (get, has, size, entries)`);
  },
});
