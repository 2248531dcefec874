/**
 * State machines replicated by Multi-Paxos: a deterministic `apply(state, command)` and a
 * read-only `query(state, query)`. Defined in their own module and exported, like actors, so
 * every replica (in any worker) runs the same code.
 */

/** What `apply` returns: the next state (the same object if mutated in place) and the command's result. */
export interface Applied<S, R> { state: S; result: R }

export interface StateMachineOptions<S, C, R, Q, A> {
  /** The URL of the module that exports this machine: pass `import.meta.url`. */
  module?: string;
  /** Unique among state machines (the registry key within its module). */
  name: string;
  /** The initial state (a fresh object each call). */
  initial(): S;
  /** Applies a command. Must be deterministic: same state and command, same result, on every replica. Throwing fails just this command. */
  apply(state: S, command: C): Applied<S, R>;
  /** Answers a read. Must not change the state. */
  query(state: S, query: Q): A;
  /** Refuses a malformed command where it enters (throw an Error saying what is wrong). */
  validateCommand?(command: unknown): void;
  /** Refuses a malformed query where it enters. */
  validateQuery?(query: unknown): void;
  /** A plain-data copy of the state for snapshots. Default: structuredClone. */
  snapshot?(state: S): unknown;
  /** The state from a snapshot (a copy the machine may keep). Default: the snapshot itself. */
  restore?(snapshot: unknown): S;
}

export interface StateMachine<S = any, C = any, R = any, Q = any, A = any> extends StateMachineOptions<S, C, R, Q, A> {
  readonly kind: 'synod.state-machine';
  /** `module#name`: how a replica in any thread finds it. */
  readonly key: string;
}

const registry = new Map<string, StateMachine>();

/**
 * Defines (and registers, in this thread) a state machine. Export it from its module.
 *
 * ```ts
 * export const Counter = defineStateMachine({
 *   module: import.meta.url, name: 'counter',
 *   initial: () => ({ n: 0 }),
 *   apply: (s, by: number) => { s.n += by; return { state: s, result: s.n }; },
 *   query: (s) => s.n,
 * });
 * ```
 */
export function defineStateMachine<S, C, R, Q, A>(options: StateMachineOptions<S, C, R, Q, A>): StateMachine<S, C, R, Q, A> {
  if (typeof options.name !== 'string' || !options.name) throw new TypeError('defineStateMachine needs a `name`');
  for (const f of ['initial', 'apply', 'query'] as const) {
    if (typeof options[f] !== 'function') throw new TypeError(`defineStateMachine "${options.name}" needs an \`${f}\` function`);
  }
  const key = `${options.module ?? 'local:'}#${options.name}`;
  const machine = Object.freeze({ ...options, kind: 'synod.state-machine' as const, key });
  // A key already registered is replaced: the same module evaluated again (tests, hot reload).
  registry.set(key, machine);
  return machine;
}

/** The machine registered under `key` in this thread (its module must have been imported). */
export function stateMachineByKey(key: string): StateMachine {
  const m = registry.get(key);
  if (!m) {
    throw new Error(`no state machine "${key}" in this thread: export it with defineStateMachine from its module, and list that module in the replica's preload`);
  }
  return m;
}

export function isStateMachine(v: unknown): v is StateMachine {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'synod.state-machine';
}
