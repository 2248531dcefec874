/**
 * `defineStateMachine`: a replicated state machine from plain-data functions. Commands, results,
 * queries, answers and snapshots travel in the canonical encoding (@synod/canonical): the client
 * encodes a command once where it enters, replicas decode those bytes into fresh objects for
 * `apply`, and the result goes back encoded. Defined in its own module and exported, like actors,
 * so every replica (in any worker) runs the same code.
 */
import { CanonicalError, decode, encode, hashBytes } from '@synod/canonical';
import { bytesSink, bytesSource, registerMachine, type MachineCore, type StateMachine } from './machine.js';
import { SynodError, registerErrors } from '@synod/actors';

/** What `apply` returns: the next state (the same object if mutated in place) and the command's result. */
export interface Applied<S, R> {
  state: S;
  result: R;
}

export interface StateMachineOptions<S, C, R, Q, A> {
  /** The URL of the module that exports this machine: pass `import.meta.url`. */
  module?: string;
  /** Unique among state machines (the registry key within its module). */
  name: string;
  /** The initial state (a fresh object each call). */
  initial(): S;
  /**
   * Applies a command (a fresh copy, decoded from the bytes the client sent). Must be
   * deterministic: same state and command, same result, on every replica. Throwing fails just
   * this command, with the same error on every replica; what `apply` changed before it threw
   * stays changed (identically on every replica), so change the state only once nothing can fail.
   * The result must be plain data (else the command fails with an error saying so).
   */
  apply(state: S, command: C): Applied<S, R>;
  /** Answers a read. Must not change the state. The answer must be plain data. */
  query(state: S, query: Q): A;
  /** Refuses a malformed command where it enters (throw an Error saying what is wrong). */
  validateCommand?(command: unknown): void;
  /** Refuses a malformed query where it enters. */
  validateQuery?(query: unknown): void;
  /** The plain data a snapshot holds. Default: the state itself (it is encoded at once). */
  snapshot?(state: S): unknown;
  /** The state from a snapshot's plain data (a fresh copy the machine may keep). Default: the data itself. */
  restore?(snapshot: unknown): S;
  /** Bytes the state holds, for the `maxStateBytes` quota (see MachineCore.size). */
  size?(state: S): number;
  /** Whether a command frees space (it is applied even past the quota). */
  frees?(command: C): boolean;
  /** The keys a command touches (see MachineCore.keys); without it every command interferes with every other. */
  keys?(command: C): readonly string[] | null;
}

/** Largest encoded snapshot of a machine defined here (one encoding); bigger states implement MachineCore. */
const MAX_SNAPSHOT_BYTES = 1 << 30;
/** States encoding to more than this are not digested at checkpoints (see `digest` below). */
const MAX_DIGESTED_BYTES = 16 << 20;

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
  const o = options;
  const core: MachineCore<S> = {
    initial: () => o.initial(),
    apply(state, command) {
      const out = o.apply(state, decode(command) as C);
      if (typeof out !== 'object' || out === null || !('state' in out)) {
        throw new TypeError(`apply of "${o.name}" must return { state, result }`);
      }
      let result: Uint8Array;
      try {
        result = encode(out.result);
      } catch (e) {
        // The state was applied; only the result cannot travel. Keep the state, fail the command.
        throw new ResultNotPlainDataError(out.state, e as CanonicalError);
      }
      return { state: out.state, result };
    },
    query: (state, query) => encode(o.query(state, decode(query) as Q)),
    snapshot: (state) => bytesSource(encode(o.snapshot ? o.snapshot(state) : state, { maxBytes: MAX_SNAPSHOT_BYTES, maxDepth: 1024 })),
    restore: () =>
      bytesSink((bytes) => {
        const data = decode(bytes);
        return o.restore ? o.restore(data) : (data as S);
      }),
  };
  // Replicas compare state digests at checkpoints: the hash of the state's canonical encoding,
  // for states small enough to encode that often (larger ones are compared through their
  // commands' outcomes only; a machine that wants more implements MachineCore.digest).
  core.digest = (state) => {
    try {
      return hashBytes(encode(o.snapshot ? o.snapshot(state) : state, { maxBytes: MAX_DIGESTED_BYTES, maxDepth: 1024 }));
    } catch {
      return 0;
    }
  };
  if (o.size) core.size = (s) => o.size!(s);
  if (o.frees) core.frees = (c) => o.frees!(decode(c) as C);
  if (o.keys) core.keys = (c) => o.keys!(decode(c) as C);
  return registerMachine<S, C, R, Q, A>({
    module: o.module,
    name: o.name,
    core,
    client: {
      encodeCommand(command, maxBytes) {
        o.validateCommand?.(command);
        return encode(command, { maxBytes });
      },
      decodeResult: (bytes) => decode(bytes) as R,
      encodeQuery(query, maxBytes) {
        o.validateQuery?.(query);
        return encode(query, { maxBytes });
      },
      decodeAnswer: (bytes) => decode(bytes) as A,
      decodeCommand: (bytes) => decode(bytes) as C,
    },
  });
}

/**
 * `apply` changed the state and returned a result that is not plain data: the command fails,
 * and the new state stays (the executor keeps `state`).
 */
export class ResultNotPlainDataError extends SynodError {
  override name = 'ResultNotPlainDataError';
  override readonly code: string = 'result-not-plain-data';
  constructor(
    readonly state: unknown,
    cause: CanonicalError,
  ) {
    super(`apply returned a result that is not plain data (${cause.message}); the state it changed is kept`);
  }
}

registerErrors({ ResultNotPlainDataError });
