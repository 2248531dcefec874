/**
 * The bounds and timing of a Raft node. Every queue, window, batch and retry has a named bound
 * with a default; units come last in the names.
 */
import { InvalidOptionError } from '@synod/actors';

export interface RaftOptions {
  /**
   * A follower that hears no leader for this long campaigns; each wait is drawn anew in
   * [electionTimeoutMs, 2 x electionTimeoutMs) (§5.2). It is also the lease: a node that heard
   * the leader less than this long ago refuses to vote for anyone else. Default 500.
   */
  electionTimeoutMs: number;
  /** How often the leader sends heartbeats (much shorter than the election timeout). Default 50. */
  heartbeatMs: number;
  /** How often deadlines are checked. Default 10. */
  tickMs: number;
  /** Ask "would you vote for me?" before raising the term (dissertation §9.6), so a partitioned node cannot disrupt the cluster when it returns. Default true. */
  preVote: boolean;
  /** A leader that has not heard from a majority within an election timeout steps down (dissertation §6.2). Default true. */
  checkQuorum: boolean;
  /** Largest relative clock rate difference between nodes that lease reads allow for. Default 0.1. */
  maxClockDrift: number;
  /** Entries a leader has appended and not yet committed, at most (the pipeline's depth). Default 64. */
  window: number;
  /** AppendEntries messages in flight to one follower at most (etcd's MaxInflightMsgs). Default 64. */
  maxInflightMsgs: number;
  /** Bytes of entries in flight to one follower at most (etcd's MaxInflightBytes). Default 8 MiB. */
  maxInflightBytes: number;
  /** Bytes of entries in one AppendEntries message (at least one entry goes). Default 1 MiB. */
  maxAppendBytes: number;
  /** Client commands per entry at most. Default 1024. */
  maxBatchCommands: number;
  /** Bytes of commands per entry: a batch closes once it holds this much. Default 1 MiB. */
  maxBatchBytes: number;
  /** Bytes of appended, uncommitted entries at most (etcd's MaxUncommittedEntriesSize). Default 8 MiB. */
  maxUncommittedBytes: number;
  /** Commands waiting at the leader for room in the window; beyond, clients are told to retry. Default 100000. */
  maxPendingCommands: number;
  /** Reads waiting for a leadership confirmation. Default 10000. */
  maxPendingReads: number;
  /**
   * Flow control: commands appended but not yet applied by a majority of the replicas (as they
   * report). Past it the leader appends no more until they catch up. Default 65536.
   */
  maxApplyLag: number;
  /** A replica not heard from for this long does not hold the leader back. Default 5000. */
  replicaTimeoutMs: number;
  /** Entries in one m-decide or m-entries message to a replica. Default 512. */
  maxDecideEntries: number;
  /**
   * Entries kept below the local replica's snapshot point when the log is compacted, so a
   * follower a little behind catches up from the log rather than by a snapshot (etcd's
   * SnapshotCatchUpEntries). Default 1024.
   */
  snapshotCatchUpEntries: number;
  /** ... and at most this many bytes of them. Default 2 MiB. */
  snapshotCatchUpBytes: number;
  /** The node that campaigns at once at a cold start (no need to wait an election timeout); -1: none. Default 0. */
  preferredLeader: number;
}

export const defaultRaftOptions: RaftOptions = {
  electionTimeoutMs: 500,
  heartbeatMs: 50,
  tickMs: 10,
  preVote: true,
  checkQuorum: true,
  maxClockDrift: 0.1,
  window: 64,
  maxInflightMsgs: 64,
  maxInflightBytes: 8 << 20,
  maxAppendBytes: 1 << 20,
  maxBatchCommands: 1024,
  maxBatchBytes: 1 << 20,
  maxUncommittedBytes: 8 << 20,
  maxPendingCommands: 100_000,
  maxPendingReads: 10_000,
  maxApplyLag: 65_536,
  replicaTimeoutMs: 5_000,
  maxDecideEntries: 512,
  snapshotCatchUpEntries: 1024,
  snapshotCatchUpBytes: 2 << 20,
  preferredLeader: 0,
};

/**
 * The options `configure` may change on a running node: bounds on entries, the pipeline and the
 * queues, which concern this node alone. Timing stays as the cluster started (heartbeats,
 * election timeouts and leases must keep their order across all nodes), and so do the
 * per-follower in-flight bounds (each follower's window is made when a reign begins).
 */
export type RaftTuning = Pick<
  RaftOptions,
  | 'window'
  | 'maxBatchCommands'
  | 'maxBatchBytes'
  | 'maxUncommittedBytes'
  | 'maxPendingCommands'
  | 'maxPendingReads'
  | 'maxApplyLag'
  | 'maxAppendBytes'
  | 'maxDecideEntries'
>;

export const RAFT_TUNABLE: readonly (keyof RaftOptions)[] = [
  'window',
  'maxBatchCommands',
  'maxBatchBytes',
  'maxUncommittedBytes',
  'maxPendingCommands',
  'maxPendingReads',
  'maxApplyLag',
  'maxAppendBytes',
  'maxDecideEntries',
];

/** A running node's options with `tuning` applied; refuses what cannot change (InvalidOptionError, naming it). */
export function tunedRaftOptions(current: RaftOptions, tuning: unknown, where = 'raft configure'): RaftOptions {
  if (typeof tuning !== 'object' || tuning === null || Array.isArray(tuning)) throw new InvalidOptionError(`${where}: options must be an object of options`);
  for (const [key, value] of Object.entries(tuning)) {
    if (value !== undefined && !RAFT_TUNABLE.includes(key as keyof RaftOptions)) {
      throw new InvalidOptionError(
        `${where}: ${key} cannot change while the cluster runs (only ${RAFT_TUNABLE.join(', ')} can); start the cluster with it instead`,
      );
    }
  }
  return resolveRaftOptions({ ...current, ...(tuning as Partial<RaftOptions>) }, where);
}

type Kind = 'count' | 'ms' | 'fraction' | 'flag' | 'node' | 'size';

const KIND_RULE: Record<Kind, [test: (v: unknown) => boolean, rule: string]> = {
  count: [(v) => Number.isSafeInteger(v) && (v as number) > 0, 'a positive integer'],
  size: [(v) => Number.isSafeInteger(v) && (v as number) >= 0, 'an integer >= 0'],
  ms: [(v) => typeof v === 'number' && Number.isFinite(v) && v > 0, 'a positive, finite number of milliseconds'],
  fraction: [(v) => typeof v === 'number' && v >= 0 && v < 1, 'a number in [0, 1)'],
  flag: [(v) => typeof v === 'boolean', 'true or false'],
  node: [(v) => Number.isSafeInteger(v) && (v as number) >= -1, 'a node number, or -1 for none'],
};

const KINDS: Record<keyof RaftOptions, Kind> = {
  electionTimeoutMs: 'ms',
  heartbeatMs: 'ms',
  tickMs: 'ms',
  preVote: 'flag',
  checkQuorum: 'flag',
  maxClockDrift: 'fraction',
  window: 'count',
  maxInflightMsgs: 'count',
  maxInflightBytes: 'count',
  maxAppendBytes: 'count',
  maxBatchCommands: 'count',
  maxBatchBytes: 'count',
  maxUncommittedBytes: 'count',
  maxPendingCommands: 'count',
  maxPendingReads: 'count',
  maxApplyLag: 'count',
  replicaTimeoutMs: 'ms',
  maxDecideEntries: 'count',
  snapshotCatchUpEntries: 'size',
  snapshotCatchUpBytes: 'size',
  preferredLeader: 'node',
};

/** The names of every Raft option. */
export const raftOptionNames = Object.keys(KINDS) as (keyof RaftOptions)[];

/**
 * The options with defaults filled in; refuses values that cannot work, naming the option, the
 * value and the rule ({@link InvalidOptionError}).
 */
export function resolveRaftOptions(given: Partial<RaftOptions> | undefined, where = 'raft options'): RaftOptions {
  if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) {
    throw new InvalidOptionError(`${where} must be an object of options, got ${given === null ? 'null' : Array.isArray(given) ? 'an array' : typeof given}`);
  }
  const r: RaftOptions = { ...defaultRaftOptions };
  for (const [key, value] of Object.entries(given ?? {})) {
    if (value === undefined) continue;
    const kind = KINDS[key as keyof RaftOptions];
    if (kind === undefined) throw new InvalidOptionError(`${where}: unknown option "${key}" (the options are ${raftOptionNames.join(', ')})`);
    const [ok, rule] = KIND_RULE[kind];
    if (!ok(value)) throw new InvalidOptionError(`${where}: ${key} must be ${rule}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
    (r as unknown as Record<string, unknown>)[key] = value;
  }
  if (!(r.heartbeatMs < r.electionTimeoutMs)) {
    throw new InvalidOptionError(
      `${where}: heartbeatMs (${r.heartbeatMs}) must be shorter than electionTimeoutMs (${r.electionTimeoutMs}), or followers campaign between heartbeats`,
    );
  }
  if (r.tickMs > r.heartbeatMs) {
    throw new InvalidOptionError(`${where}: tickMs (${r.tickMs}) must not exceed heartbeatMs (${r.heartbeatMs}): heartbeats go out on ticks`);
  }
  return r;
}
