/**
 * State machines as replicas run them: on bytes. A command arrives as the bytes its client wrote
 * (and that were checked against `maxCommandBytes` there); its result and a query's answer leave
 * as bytes. `defineStateMachine` (state-machine.ts) builds one from plain-data functions with the
 * canonical encoding; a machine that knows its own format (the ReplicatedMap's) implements this
 * interface directly and skips decoding what it only stores.
 */

/** What `apply` returns: the next state (the same object if changed in place) and the result's bytes. */
export interface AppliedBytes<S> {
  state: S;
  result: Uint8Array;
}

/**
 * A state's snapshot, read in chunks. Taken at one log index, it must not change when the state
 * changes afterwards (copy what you must, or hand out immutable parts), so a replica can write
 * or send it over many turns while it goes on applying commands.
 */
export interface SnapshotSource {
  /**
   * The next chunk of at most about `maxBytes` bytes (one item may make a chunk bigger), or null at
   * the end. The chunk may be valid only until the next call to `next` of any snapshot source in
   * this thread (a source may write every chunk into one buffer): copy what you keep, as
   * `SnapshotWriter.append` does.
   *
   * `space`, when given, offers room for a chunk of `n` bytes that appending copies nothing into
   * (`SnapshotWriter.reserve`): a source that knows its chunk's size first may write it there and
   * return it; when `space` gives null, or the source does not use it, nothing changes.
   */
  next(maxBytes: number, space?: (n: number) => Uint8Array | null): Uint8Array | null;
  /**
   * Called when the reader stops before the end (a source read to its end may let go of what it
   * held by itself): what the snapshot held for itself can go. Calling it again does nothing.
   */
  close?(): void;
}

/** Rebuilds a state from a snapshot's chunks, in order. */
export interface SnapshotSink<S> {
  /**
   * The next chunk: a view valid only during the call (a replica reads its own snapshot through
   * one buffer, for speed), so copy what the state keeps.
   */
  add(chunk: Uint8Array): void;
  /** The state, once every chunk was added. */
  finish(): S;
}

/** The replica side of a state machine. Every function must be deterministic. */
export interface MachineCore<S = any> {
  /** The initial state (a fresh object each call). */
  initial(): S;
  /**
   * Applies one command. A throw fails just this command, with the same error result on every
   * replica; what the state machine changed before throwing stays changed (identically
   * everywhere), unless it is atomic (the map is). `command` is a view of the slot's bytes, which
   * belong to this replica and are never changed or reused (unless `copiesCommands`): the state
   * may keep views of them (`subarray`) rather than copies, knowing that a view keeps the whole
   * slot's buffer alive.
   * The object returned is read at once: a machine may return the same object every call.
   */
  apply(state: S, command: Uint8Array): AppliedBytes<S>;
  /**
   * The same as `apply(state, source.subarray(start, end))`, for a machine that reads its commands
   * in place: the executor then makes no view per command. Optional.
   */
  applyRange?(state: S, source: Uint8Array, start: number, end: number): AppliedBytes<S>;
  /**
   * True when `apply` keeps nothing of `command` past the call (it copies what it keeps): the
   * executor then hands it views of the slot where the slot lies, shared memory included, and
   * spares every replica a copy of every slot. `command` may then be a view of shared memory.
   */
  copiesCommands?: boolean;
  /** Answers a read; must not change the state. A throw fails just this read. */
  query(state: S, query: Uint8Array): Uint8Array;
  /** A snapshot of the state as it is now (see `SnapshotSource`). */
  snapshot(state: S): SnapshotSource;
  /**
   * A snapshot of only what changed since the state's last `snapshot` or `snapshotChanges` (or
   * since `restore` made it), or null when the machine no longer knows (a whole one is taken then).
   * Its chunks, added to one sink after those of the snapshots before it (the last whole one, then
   * each of changes in order), rebuild the state as it is now. Optional: without it a replica
   * writes whole snapshots only. With it, a large state of which commands change a part costs
   * each snapshot that part, not the whole state.
   */
  snapshotChanges?(state: S): SnapshotSource | null;
  /** Rebuilds a state from snapshot chunks. */
  restore(): SnapshotSink<S>;
  /**
   * Bytes the state holds, for the `maxStateBytes` quota. Without it the quota counts the last
   * snapshot's bytes plus the commands applied since (an upper bound).
   */
  size?(state: S): number;
  /**
   * Whether a command frees space (it goes on past the quota: deletes must work when the state is
   * full). Default: none does.
   */
  frees?(command: Uint8Array): boolean;
  /**
   * The keys a command reads or writes, for protocols that order only commands that interfere
   * (EPaxos): two commands interfere when they share a key. Null (or no `keys`): it interferes
   * with every command.
   */
  keys?(command: Uint8Array): readonly string[] | null;
  /**
   * A digest of the state, kept up to date cheaply (replicas compare them to catch a
   * non-deterministic machine). Without it replicas compare the digests of their snapshots.
   */
  digest?(state: S): number;
}

/** The client side: turns typed commands and queries into bytes where they enter, and answers back. */
export interface MachineClient<C, R, Q, A> {
  /** Bytes of a command; throws (an Error saying what is wrong) for one this machine refuses. */
  encodeCommand(command: C, maxBytes: number): Uint8Array;
  decodeResult(bytes: Uint8Array): R;
  /** Bytes of a query; throws for one this machine refuses. */
  encodeQuery(query: Q, maxBytes: number): Uint8Array;
  /** The answer to `query` from its bytes. */
  decodeAnswer(bytes: Uint8Array, query: Q): A;
  /** The command from its bytes (for change watchers, who get the bytes the replicas applied). */
  decodeCommand?(bytes: Uint8Array): C;
}

/** A state machine: how replicas run it and how clients talk to it. */
export interface StateMachine<S = any, C = any, R = any, Q = any, A = any> {
  readonly kind: 'synod.state-machine';
  /** The URL of the module that exports it (so replicas in any worker can load it). */
  readonly module: string | undefined;
  /** Unique among the state machines of its module. */
  readonly name: string;
  /** `module#name`: how a replica in any thread finds it. */
  readonly key: string;
  readonly core: MachineCore<S>;
  readonly client: MachineClient<C, R, Q, A>;
}

const registry = new Map<string, StateMachine>();

/** Registers a machine in this thread (done by `defineStateMachine` and `defineMachine`). */
export function registerMachine<S, C, R, Q, A>(m: Omit<StateMachine<S, C, R, Q, A>, 'kind' | 'key'>): StateMachine<S, C, R, Q, A> {
  if (typeof m.name !== 'string' || !m.name) throw new TypeError('a state machine needs a `name`');
  const key = `${m.module ?? 'local:'}#${m.name}`;
  const machine: StateMachine<S, C, R, Q, A> = Object.freeze({ ...m, kind: 'synod.state-machine' as const, key });
  // Re-evaluating the same module (tests, hot reload) replaces it.
  registry.set(key, machine);
  return machine;
}

/** The machine registered under `key` in this thread (its module must have been imported). */
export function stateMachineByKey(key: string): StateMachine {
  const m = registry.get(key);
  if (!m) {
    throw new Error(
      `no state machine "${key}" in this thread: export it with defineStateMachine from its module, and list that module in the replica's preload`,
    );
  }
  return m;
}

export function isStateMachine(v: unknown): v is StateMachine {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'synod.state-machine';
}

/** Chunks of one byte array (for machines whose snapshot is a single encoding). */
export function bytesSource(bytes: Uint8Array): SnapshotSource {
  let pos = 0;
  return {
    next(maxBytes) {
      if (pos >= bytes.length && !(pos === 0 && bytes.length === 0)) return null;
      const end = Math.min(bytes.length, pos + Math.max(1, maxBytes));
      const chunk = bytes.subarray(pos, end);
      pos = end === 0 ? 1 : end;
      return chunk;
    },
  };
}

/** Concatenates chunks back into one byte array. */
export function bytesSink<S>(finish: (bytes: Uint8Array) => S): SnapshotSink<S> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  return {
    add(chunk) {
      chunks.push(chunk.slice()); // a view valid during the call only
      total += chunk.length;
    },
    finish() {
      const out = new Uint8Array(total);
      let p = 0;
      for (const c of chunks) {
        out.set(c, p);
        p += c.length;
      }
      return finish(out);
    },
  };
}
