/**
 * Options of the Multi-Paxos roles: their defaults, and the rules they must satisfy, checked
 * where a cluster starts and again in each actor's `init` (as etcd's `Config.validate`). An
 * error names the option, the value and the rule, and says why the rule exists.
 */
import { InvalidOptionError } from '@synod/actors';
import { MAX_PROPOSER_ID } from '../ballot.js';
import { MAX_ACCEPTORS } from '../quorum.js';

/** Bounds and timing of a leader. Every one is named and has a default. */
export interface LeaderOptions {
  /** Slots in phase 2 at once (pipelining). Default 64. */
  window: number;
  /**
   * Commands per slot at most. Default 256, a client's request at most (`maxRequestCommands`): the
   * requests that arrive together then go in several slots, whose phases and applies overlap,
   * rather than in one that every thread handles in turn. (At 1024, 1,000 callers awaiting one
   * `set` after another through a `ReplicatedMap` in workers got 10 to 40 % fewer operations a
   * second; a saturated leader fills slots of 1024 commands about 4 % faster.)
   */
  maxBatchCommands: number;
  /** Bytes of commands per slot: a batch closes once it holds this much (encoded; estimated when not encoding). Default 1 MiB. */
  maxBatchBytes: number;
  /**
   * Slots one accept message carries at most. The slots proposed in one turn go to each acceptor
   * together, as etcd's raft sends many entries in one append, and each acceptor answers them
   * with one acceptance: per slot, a message costs its sender, its receiver and the answer more
   * than the slot itself when slots are small. Default 256.
   */
  maxAcceptSlots: number;
  /**
   * ... and bytes of slot values at most (a slot larger than this travels alone). Large slots go
   * one per message: each acceptor then answers each on its own, and the leader commits and its
   * replica applies the first while the acceptors still handle the next (one message for four
   * slots of 256 commands cost 1,000 callers in workers a fifth of their operations). Default 16 KiB.
   */
  maxAcceptBytes: number;
  /**
   * Bytes of slot values in flight (proposed, not yet committed) at most: with large commands the
   * window is bounded by bytes before slots (every slot goes to every acceptor). Default 8 MiB.
   */
  maxInflightBytes: number;
  /**
   * Bytes the acceptors keep, at most: chosen slots not yet truncated (replicas' snapshots cut
   * them) plus the slots in flight. Past it the leader proposes no more until truncation catches
   * up, so acceptors' durable data stays bounded (a `shared` store holds what its buffer allows:
   * half of `storage.sharedBytes` for all the actors of a worker, and its compaction rewrites
   * the live data, so keep this well below). At half of it the leader asks the replicas for
   * snapshots. Default 16 MiB (a replicated cluster with `file` or `memory` storage: 256 MiB, so
   * that a state of a GiB is not snapshotted every few MiB of writes).
   */
  maxAcceptorBytes: number;
  /** Commands waiting for room in the window; beyond, clients are told to retry. Default 100000. */
  maxPendingCommands: number;
  /**
   * Flow control: commands proposed but not yet applied by a majority of the replicas (as they
   * report). Past it the leader proposes no more until they catch up, so a backlog of decided
   * slots cannot build up in front of slow replicas (and delay everything queued behind it,
   * heartbeats included). Default 65536.
   */
  maxApplyLag: number;
  /** Reads waiting for a leadership confirmation. Default 10000. */
  maxPendingReads: number;
  /** How often the leader sends heartbeats. Shorter than `leaseMs`. Default 50. */
  heartbeatMs: number;
  /** A follower campaigns after this long without a leader (randomised up to 2x). Default 500. */
  electionTimeoutMs: number;
  /** Lease length promised by acceptors (must match theirs; shorter than the election timeout). Default 400. */
  leaseMs: number;
  /** Largest relative clock rate difference between nodes the lease allows for, in [0, 1). Default 0.1. */
  maxClockDrift: number;
  /**
   * A slot not chosen in time is sent again to the acceptors that did not answer. The wait is
   * the measured accept round trip plus four times its deviation (as TCP does), at least this
   * long; each further attempt waits twice as long, up to `maxRetransmitMs`. Messages between live
   * actors are not lost, so a retransmission only helps after a crash: under load, a fixed short
   * wait would flood slow acceptors with copies of every slot in flight. Default 30.
   */
  retransmitMs: number;
  /**
   * The longest wait between two sends of a slot. The doubling keeps a slow (not lost) acceptor
   * from being flooded with copies of every slot in flight, which would slow it further. Default 1000.
   */
  maxRetransmitMs: number;
  /** How often deadlines are checked (heartbeats and retransmissions go out on these ticks). Default 10. */
  tickMs: number;
  /** Rounds reserved per durable write of the ballot counter. Default 1024. */
  roundReserve: number;
  /** A replica not heard from for this long does not hold back log truncation. Default 5000. */
  replicaTimeoutMs: number;
  /** The node that campaigns first at a cold start (no need to wait an election timeout); -1: none. Default 0. */
  preferredLeader: number;
  /** Chosen slots kept for replicas that missed them (beyond, they install a peer's snapshot). Default 65536. */
  maxRetainedSlots: number;
  /** ... and their bytes at most. Default 32 MiB. */
  maxRetainedBytes: number;
  /**
   * Flexible Paxos (Howard, Malkhi, Spiegelman, 2016): promises a leader needs to be elected
   * (phase 1), as a number of acceptors, or `'majority'`. With `q2`, q1 + q2 must exceed the
   * number of acceptors: every phase-1 quorum then meets every phase-2 quorum, which is all Paxos
   * needs of them. A large q1 and a small q2 make every slot cheaper and elections rarer-but-harder
   * (with N = 5, q1 = 4, q2 = 2: a slot is chosen by two acceptors, and a leader can be elected
   * with one acceptor down). Default `'majority'`.
   */
  q1: number | 'majority';
  /** Acceptances that choose a slot (phase 2), or `'majority'`. Default `'majority'`. */
  q2: number | 'majority';
}

export const defaultLeaderOptions: LeaderOptions = {
  window: 64,
  maxBatchCommands: 256,
  maxBatchBytes: 1 << 20,
  maxAcceptSlots: 256,
  maxAcceptBytes: 16 << 10,
  maxInflightBytes: 8 << 20,
  maxAcceptorBytes: 16 << 20,
  maxPendingCommands: 100_000,
  maxApplyLag: 65_536,
  maxPendingReads: 10_000,
  heartbeatMs: 50,
  electionTimeoutMs: 500,
  leaseMs: 400,
  maxClockDrift: 0.1,
  retransmitMs: 30,
  maxRetransmitMs: 1_000,
  tickMs: 10,
  roundReserve: 1024,
  replicaTimeoutMs: 5_000,
  preferredLeader: 0,
  maxRetainedSlots: 65_536,
  maxRetainedBytes: 32 << 20,
  q1: 'majority',
  q2: 'majority',
};

/**
 * The leader options `configure` may change at run time: bounds on batches, the window and the
 * queues, which concern this leader alone. Timing stays as the cluster started: the lease must
 * match the acceptors' (a leader with a longer lease than they honour would serve stale lease
 * reads), and heartbeats, election timeouts and ticks must keep their order across all nodes.
 */
export type LeaderTuning = Pick<
  LeaderOptions,
  | 'window'
  | 'maxBatchCommands'
  | 'maxBatchBytes'
  | 'maxAcceptSlots'
  | 'maxAcceptBytes'
  | 'maxInflightBytes'
  | 'maxAcceptorBytes'
  | 'maxPendingCommands'
  | 'maxApplyLag'
  | 'maxPendingReads'
  | 'maxRetainedSlots'
  | 'maxRetainedBytes'
>;

const TUNABLE: readonly (keyof LeaderOptions)[] = [
  'window',
  'maxBatchCommands',
  'maxBatchBytes',
  'maxAcceptSlots',
  'maxAcceptBytes',
  'maxInflightBytes',
  'maxAcceptorBytes',
  'maxPendingCommands',
  'maxApplyLag',
  'maxPendingReads',
  'maxRetainedSlots',
  'maxRetainedBytes',
];

/** Bounds and timing of a replica. Every one is named and has a default. */
export interface ReplicaOptions {
  /**
   * A snapshot is taken every this many applied slots. Default 8192 (etcd's default is 10,000
   * entries): a snapshot writes the whole state and session table, and at 1024, slots of one
   * command each paid for it (with 512 sessions: 130-169 k commands/s against 166-183 k).
   */
  snapshotEvery: number;
  /**
   * ... or once the slots applied since the last one hold this many bytes, if sooner; with a large
   * state, not before they hold a quarter of the state's bytes (so writing snapshots costs at most
   * about four times what is applied), or more: see `maxSnapshotLagBytes`. Logs are cut at
   * snapshots: this bounds what acceptors and replicas keep.
   * A snapshot writes the whole state and session table, so a small bound makes small commands
   * pay for it (at 2 MiB, 256-byte commands paid about 1 us each). Default 8 MiB.
   */
  snapshotEveryBytes: number;
  /**
   * How long a snapshot of a large state may wait: until the slots applied since the last one hold
   * as many bytes as the state (writing snapshots then costs about one byte per byte applied), but
   * no longer than this many bytes, nor less than a quarter of the state. The acceptors keep every
   * slot since the replicas' snapshots, and the leader asks for snapshots once they hold half its
   * `maxAcceptorBytes`: keep this at most that half. A `ReplicatedMap` or
   * `ReplicatedStateMachine` cluster sets it to that half (128 MiB with `file` or `memory`
   * storage). Default 0: a quarter of the state.
   */
  maxSnapshotLagBytes: number;
  /**
   * Snapshots of changes only (for a machine that offers them: `MachineCore.snapshotChanges`, as
   * the `ReplicatedMap`'s does) written on top of a whole snapshot before the next whole one, at
   * most; and no more once together they hold as many bytes as the whole one. A snapshot of a
   * large state then costs about what changed since the last, not the whole state: about 1.6
   * bytes written per byte applied, where whole snapshots of a state four times the snapshot
   * interval wrote four. The price: a restart or a peer reads up to twice the state's bytes, and
   * the store holds up to three times the state while a whole snapshot is written (`shared`:
   * see `sharedSnapshotBytes`). 0: whole snapshots only. Default 8.
   */
  maxSnapshotChanges: number;
  /** A snapshot is written and sent in chunks of about this many bytes. Default 1 MiB. */
  snapshotChunkBytes: number;
  /** Chunks of a snapshot written (or restored) per turn: the rest waits, so other messages and timers get their turn. Default 4. */
  snapshotChunksPerTurn: number;
  /**
   * Commands applied per turn at most (a slot is never split: at least one slot per turn): the
   * rest of what is ready is applied in the next turns, so the worker's other actors (its leader's
   * heartbeats), its timers and its supervision heartbeats get their turn. A decide can carry a
   * whole window of full slots (64 x 1024 commands); applied in one turn on a loaded machine that
   * took over 2 s, and the runtime took the silent worker for hung and restarted it. Default 2048.
   */
  maxApplyCommandsPerTurn: number;
  /** Slots sent per catch-up answer at most. Default 512. */
  maxFetchSlots: number;
  /** A missing slot is asked of a peer again after this long. Default 50. */
  fetchRetryMs: number;
  /** A session read waits this long for the replica to catch up, then is answered "unavailable" (the client tries elsewhere). Default 2000. */
  readTimeoutMs: number;
  /** Read messages waiting at once. Default 10000. */
  maxWaitingReads: number;
  /** Client sessions remembered (for exactly-once); the least recently used is forgotten beyond. Default 100000. */
  maxSessions: number;
  /**
   * Results kept per session until its client acknowledges them: at least the client's
   * `maxInflightPerSession`. Default 4096.
   */
  sessionWindow: number;
  /**
   * Past this many bytes of state, commands are refused with QuotaExceededError (deletes go on).
   * Default 4 GiB.
   */
  maxStateBytes: number;
  /** Change subscribers (and, apart, progress watchers); one more is refused. Default 16. */
  maxSubscribers: number;
  /** Replicas send each other the digest of what they applied every this many slots, and compare. Default 1024. */
  digestEverySlots: number;
  /**
   * A replica that died this many times in a row while applying the same slot stops applying
   * (it reports the slot and its commands) instead of dying again forever. Default 3.
   */
  maxApplyAttempts: number;
  /** How often deadlines are checked. Default 20. */
  tickMs: number;
  /**
   * The leaders hear how far this replica applied every this many slots (and at each tick when
   * it moved): their flow control (`maxApplyLag`) waits for a majority of the replicas. Default 16.
   */
  reportEverySlots: number;
}

export const defaultReplicaOptions: ReplicaOptions = {
  snapshotEvery: 8192,
  snapshotEveryBytes: 8 << 20,
  maxSnapshotLagBytes: 0,
  maxSnapshotChanges: 8,
  snapshotChunkBytes: 1 << 20,
  snapshotChunksPerTurn: 4,
  maxApplyCommandsPerTurn: 2048,
  maxFetchSlots: 512,
  fetchRetryMs: 50,
  readTimeoutMs: 2_000,
  maxWaitingReads: 10_000,
  maxSessions: 100_000,
  sessionWindow: 4096,
  maxStateBytes: 4 * 1024 ** 3,
  maxSubscribers: 16,
  digestEverySlots: 1024,
  maxApplyAttempts: 3,
  tickMs: 20,
  reportEverySlots: 16,
};

// ------------------------------------------------------------------ rules

type Kind = 'count' | 'countOrZero' | 'ms' | 'fraction' | 'flag' | 'node' | 'quorum';

/** What each value must be, by kind (the first half of every check). */
const KIND_RULE: Record<Kind, [test: (v: unknown) => boolean, rule: string]> = {
  count: [(v) => Number.isSafeInteger(v) && (v as number) > 0, 'a positive integer'],
  countOrZero: [(v) => Number.isSafeInteger(v) && (v as number) >= 0, 'a non-negative integer'],
  ms: [(v) => typeof v === 'number' && Number.isFinite(v) && v > 0, 'a positive, finite number of milliseconds'],
  fraction: [(v) => typeof v === 'number' && v >= 0 && v < 1, 'a number in [0, 1)'],
  flag: [(v) => typeof v === 'boolean', 'true or false'],
  node: [(v) => Number.isSafeInteger(v) && (v as number) >= -1, 'a node number, or -1 for none'],
  quorum: [(v) => v === 'majority' || (Number.isSafeInteger(v) && (v as number) > 0), "a positive number of acceptors, or 'majority'"],
};

const LEADER_KINDS: Record<keyof LeaderOptions, Kind> = {
  window: 'count',
  maxBatchCommands: 'count',
  maxBatchBytes: 'count',
  maxAcceptSlots: 'count',
  maxAcceptBytes: 'count',
  maxInflightBytes: 'count',
  maxAcceptorBytes: 'count',
  maxPendingCommands: 'count',
  maxApplyLag: 'count',
  maxPendingReads: 'count',
  heartbeatMs: 'ms',
  electionTimeoutMs: 'ms',
  leaseMs: 'ms',
  maxClockDrift: 'fraction',
  retransmitMs: 'ms',
  maxRetransmitMs: 'ms',
  tickMs: 'ms',
  roundReserve: 'count',
  replicaTimeoutMs: 'ms',
  preferredLeader: 'node',
  maxRetainedSlots: 'count',
  maxRetainedBytes: 'count',
  q1: 'quorum',
  q2: 'quorum',
};

const REPLICA_KINDS: Record<keyof ReplicaOptions, Kind> = {
  snapshotEvery: 'count',
  snapshotEveryBytes: 'count',
  maxSnapshotLagBytes: 'count',
  maxSnapshotChanges: 'countOrZero',
  snapshotChunkBytes: 'count',
  snapshotChunksPerTurn: 'count',
  maxApplyCommandsPerTurn: 'count',
  maxFetchSlots: 'count',
  fetchRetryMs: 'ms',
  readTimeoutMs: 'ms',
  maxWaitingReads: 'count',
  maxSessions: 'count',
  sessionWindow: 'count',
  maxStateBytes: 'count',
  maxSubscribers: 'count',
  digestEverySlots: 'count',
  maxApplyAttempts: 'count',
  tickMs: 'ms',
  reportEverySlots: 'count',
};

function checkKinds<O extends object>(given: unknown, kinds: Record<keyof O & string, Kind>, where: string): void {
  if (given === undefined) return;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new InvalidOptionError(`${where} must be an object of options, got ${given === null ? 'null' : Array.isArray(given) ? 'an array' : typeof given}`);
  }
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    const kind = kinds[key as keyof O & string];
    if (kind === undefined) {
      throw new InvalidOptionError(`${where}: unknown option "${key}" (the options are ${Object.keys(kinds).join(', ')})`);
    }
    const [ok, rule] = KIND_RULE[kind];
    if (!ok(value)) throw new InvalidOptionError(`${where}: ${key} must be ${rule}, got ${describe(value)}`);
  }
}

function describe(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** `a` must be below `b`, for the reason given. */
function below<O>(o: O, a: keyof O & string, b: keyof O & string, why: string, where: string): void {
  if (!((o[a] as number) < (o[b] as number))) {
    throw new InvalidOptionError(`${where}: ${a} (${String(o[a])}) must be shorter than ${b} (${String(o[b])}): ${why}`);
  }
}

/**
 * A leader's options, defaults filled in, checked: every value of its kind, and the timing in
 * order (heartbeats renew the lease before it runs out; the lease runs out before a follower
 * campaigns). Throws {@link InvalidOptionError} naming the option and the rule.
 */
export function leaderOptions(given: Partial<LeaderOptions> | undefined, where = 'leader options'): LeaderOptions {
  checkKinds<LeaderOptions>(given, LEADER_KINDS, where);
  const o: LeaderOptions = { ...defaultLeaderOptions, ...stripUndefined(given) };
  below(o, 'heartbeatMs', 'leaseMs', 'heartbeats renew the lease; a lease that runs out between two of them is no lease', where);
  below(
    o,
    'leaseMs',
    'electionTimeoutMs',
    'a follower that stops hearing the leader campaigns after electionTimeoutMs, and the acceptors refuse it until the lease they granted runs out',
    where,
  );
  if (o.tickMs > o.heartbeatMs) {
    throw new InvalidOptionError(`${where}: tickMs (${o.tickMs}) must not exceed heartbeatMs (${o.heartbeatMs}): heartbeats go out on ticks`);
  }
  if (o.retransmitMs > o.maxRetransmitMs) {
    throw new InvalidOptionError(
      `${where}: retransmitMs (${o.retransmitMs}) must not exceed maxRetransmitMs (${o.maxRetransmitMs}): it is the first wait of a doubling bounded by the other`,
    );
  }
  return o;
}

/**
 * Checks what `configure` gives a running leader: only {@link LeaderTuning} options, each of its
 * kind. Timing is refused with the reason (see `LeaderTuning`).
 */
export function checkLeaderTuning(given: unknown, where = 'configure'): asserts given is Partial<LeaderTuning> {
  checkKinds<LeaderOptions>(given, LEADER_KINDS, where);
  for (const [key, value] of Object.entries(given as object)) {
    if (value !== undefined && !TUNABLE.includes(key as keyof LeaderOptions)) {
      throw new InvalidOptionError(
        `${where}: ${key} cannot change while the cluster runs (only ${TUNABLE.join(', ')} can): ` +
          'timing must agree across the leaders and the acceptors, whose leases were granted for the old values; start the cluster with it instead',
      );
    }
  }
}

/** A replica's options, defaults filled in, each checked. Throws {@link InvalidOptionError}. */
export function replicaOptions(given: Partial<ReplicaOptions> | undefined, where = 'replica options'): ReplicaOptions {
  checkKinds<ReplicaOptions>(given, REPLICA_KINDS, where);
  return { ...defaultReplicaOptions, ...stripUndefined(given) };
}

/** Checks a node's number among `count` nodes, for the role named. */
export function checkNodeIndex(index: unknown, where: string, count = MAX_ACCEPTORS): asserts index is number {
  if (!(Number.isSafeInteger(index) && (index as number) >= 0 && (index as number) < count)) {
    throw new InvalidOptionError(`${where}: index must be an integer in 0..${count - 1}, got ${describe(index)}`);
  }
}

/** Checks an acceptor's arguments: its number (a bit of the leaders' tallies) and its lease. */
export function checkAcceptorArgs(args: { index: unknown; leaseMs?: unknown; forgetful?: unknown }, where = 'multi-acceptor'): void {
  checkNodeIndex(args.index, where);
  if (args.leaseMs !== undefined && !(typeof args.leaseMs === 'number' && Number.isFinite(args.leaseMs) && args.leaseMs >= 0)) {
    throw new InvalidOptionError(`${where}: leaseMs must be a finite number of milliseconds >= 0 (0: no leases), got ${describe(args.leaseMs)}`);
  }
}

/** Checks a leader's place: its number (its ballots carry number + 1) and its acceptors. */
export function checkLeaderArgs(args: { index: unknown; acceptors: unknown }, where = 'leader'): void {
  checkNodeIndex(args.index, where, MAX_PROPOSER_ID);
  const n = Array.isArray(args.acceptors) ? args.acceptors.length : -1;
  if (!(n >= 1 && n <= MAX_ACCEPTORS)) {
    throw new InvalidOptionError(
      `${where}: acceptors must be a list of 1..${MAX_ACCEPTORS} refs (one bit each in a quorum tally), got ${n < 0 ? describe(args.acceptors) : n}`,
    );
  }
}

/** The quorum sizes of a leader with `acceptors` acceptors (see LeaderOptions.q1, q2). */
export interface LeaderQuorums {
  /** Promises that elect a leader (phase 1). */
  q1: number;
  /** Acceptances that choose a slot (phase 2). */
  q2: number;
  /**
   * Acknowledgements of a heartbeat round that confirm leadership (linearizable reads) and renew
   * the lease: enough to meet every phase-1 quorum (acceptors − q1 + 1), so no other leader can
   * have been elected, or be elected within the lease, without one of them. At most q2.
   */
  confirm: number;
}

/**
 * The quorums of `acceptors` acceptors under these options, checked: each in 1..acceptors, and
 * q1 + q2 > acceptors (Flexible Paxos). Throws {@link InvalidOptionError} naming both and the rule.
 */
export function leaderQuorums(o: Pick<LeaderOptions, 'q1' | 'q2'>, acceptors: number, where = 'leader options'): LeaderQuorums {
  const majority = Math.floor(acceptors / 2) + 1;
  const q1 = o.q1 === 'majority' ? majority : o.q1;
  const q2 = o.q2 === 'majority' ? majority : o.q2;
  for (const [name, q] of [
    ['q1', q1],
    ['q2', q2],
  ] as const) {
    if (!(Number.isSafeInteger(q) && q >= 1 && q <= acceptors)) {
      throw new InvalidOptionError(`${where}: ${name} (${q}) must be a number of acceptors in 1..${acceptors}, or 'majority'`);
    }
  }
  if (q1 + q2 <= acceptors) {
    throw new InvalidOptionError(
      `${where}: q1 (${q1}) + q2 (${q2}) must exceed the number of acceptors (${acceptors}): ` +
        'a leader elected by a phase-1 quorum must hear of every value a phase-2 quorum may have chosen (Flexible Paxos), so every two of them must share an acceptor',
    );
  }
  return { q1, q2, confirm: acceptors - q1 + 1 };
}

/**
 * Checks the options of a whole cluster before any of its actors starts: each role's options,
 * the leader's `preferredLeader` among the `nodes`, and its quorums (one acceptor per node).
 */
export function checkClusterOptions(
  o: { nodes: number; leader?: Partial<LeaderOptions>; replica?: Partial<ReplicaOptions> },
  where = 'cluster',
): { leader: LeaderOptions; replica: ReplicaOptions } {
  const leader = leaderOptions(o.leader, `${where}: leader options`);
  const replica = replicaOptions(o.replica, `${where}: replica options`);
  if (leader.preferredLeader >= o.nodes) {
    throw new InvalidOptionError(
      `${where}: leader options: preferredLeader (${leader.preferredLeader}) must be a node of the cluster (0..${o.nodes - 1}), or -1 for none`,
    );
  }
  leaderQuorums(leader, o.nodes, `${where}: leader options`);
  return { leader, replica };
}

function stripUndefined<T extends object>(o: T | undefined): Partial<T> {
  if (!o) return {};
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
