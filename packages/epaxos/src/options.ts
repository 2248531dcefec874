/**
 * Options of an EPaxos replica: the protocol's own bounds and timing (`EPaxosOptions`) beside
 * the replica options every protocol shares (`ReplicaOptions` of @synod/paxos: snapshots,
 * sessions, reads, quota). Each has a default and a rule, checked where a cluster starts and
 * again in the actor's `init`; an error names the option, the value and the rule.
 */
import { InvalidOptionError } from '@synod/actors';

export interface EPaxosOptions {
  /** Own instances being decided at once (pre-accept, accept, not yet committed). Default 64. */
  window: number;
  /** Commands per instance at most (requests received in one turn share an instance). Default 1024. */
  maxBatchCommands: number;
  /** Bytes of requests per instance at most (a larger request gets an instance of its own). Default 1 MiB. */
  maxBatchBytes: number;
  /** Commands waiting for room in the window; beyond, clients are told to retry. Default 100000. */
  maxPendingCommands: number;
  /** Linearizable reads waiting for their barrier. Default 10000. */
  maxPendingReads: number;
  /**
   * A phase (pre-accept, accept, prepare) unanswered by some replicas is sent to them again after
   * this long, then twice as long each time, up to `maxRetransmitMs`. Default 30.
   */
  retransmitMs: number;
  /** The longest wait between two sends of one phase. Default 1000. */
  maxRetransmitMs: number;
  /**
   * With a majority of pre-accept replies in hand but not yet the fast quorum, the leader waits
   * this long for the rest before it takes the slow path. Default 20.
   */
  fastPathWaitMs: number;
  /** An instance this replica needs that is still not committed after this long is asked of its peers. Default 50. */
  askAfterMs: number;
  /**
   * ... and after this long (randomised up to twice as long) this replica recovers it: explicit
   * prepare with a higher ballot. Default 400.
   */
  recoveryTimeoutMs: number;
  /** How often deadlines are checked (retransmissions, recoveries, reads). Default 10. */
  tickMs: number;
  /** How often a replica tells its peers how far it has executed and snapshotted (liveness and log cutting). Default 50. */
  frontierMs: number;
  /** A replica not heard from for this long does not hold back cutting the log (it catches up from a snapshot). Default 5000. */
  replicaTimeoutMs: number;
  /**
   * A replica proposes a barrier (an instance that interferes with every command) after leading
   * this many instances: the points where replicas compare digests and decide the state quota.
   * Default 4096.
   */
  barrierEveryInstances: number;
  /** Recovery rounds reserved per durable write. Default 1024. */
  roundReserve: number;
  /** Instances sent per catch-up answer at most. Default 256. */
  maxFetchInstances: number;
  /**
   * For campaigns that prove they catch bugs: a replica that recovers an instance decides from
   * what it holds alone, skipping the quorum of replies (NOT EPaxos: never set it outside such a test).
   */
  unsafeRecoveryWithoutQuorum: boolean;
  /** For simulations: keep the latest changed and executed instances, so invariant checkers look at each once. Default false. */
  keepJournal: boolean;
}

export const defaultEPaxosOptions: EPaxosOptions = {
  window: 64,
  maxBatchCommands: 1024,
  maxBatchBytes: 1 << 20,
  maxPendingCommands: 100_000,
  maxPendingReads: 10_000,
  retransmitMs: 30,
  maxRetransmitMs: 1_000,
  fastPathWaitMs: 20,
  askAfterMs: 50,
  recoveryTimeoutMs: 400,
  tickMs: 10,
  frontierMs: 50,
  replicaTimeoutMs: 5_000,
  barrierEveryInstances: 4096,
  roundReserve: 1024,
  maxFetchInstances: 256,
  unsafeRecoveryWithoutQuorum: false,
  keepJournal: false,
};

type Kind = 'count' | 'ms' | 'flag';

const KINDS: Record<keyof EPaxosOptions, Kind> = {
  window: 'count',
  maxBatchCommands: 'count',
  maxBatchBytes: 'count',
  maxPendingCommands: 'count',
  maxPendingReads: 'count',
  retransmitMs: 'ms',
  maxRetransmitMs: 'ms',
  fastPathWaitMs: 'ms',
  askAfterMs: 'ms',
  recoveryTimeoutMs: 'ms',
  tickMs: 'ms',
  frontierMs: 'ms',
  replicaTimeoutMs: 'ms',
  barrierEveryInstances: 'count',
  roundReserve: 'count',
  maxFetchInstances: 'count',
  unsafeRecoveryWithoutQuorum: 'flag',
  keepJournal: 'flag',
};

const RULES: Record<Kind, [test: (v: unknown) => boolean, rule: string]> = {
  count: [(v) => Number.isSafeInteger(v) && (v as number) > 0, 'a positive integer'],
  ms: [(v) => typeof v === 'number' && Number.isFinite(v) && v > 0, 'a positive, finite number of milliseconds'],
  flag: [(v) => typeof v === 'boolean', 'true or false'],
};

/**
 * EPaxos options, defaults filled in, checked: each of its kind, and the timing in order (a
 * replica asks its peers before it recovers; it retransmits before it gives up on the fast path).
 * Throws {@link InvalidOptionError} naming the option and the rule.
 */
export function epaxosOptions(given: unknown, where = 'epaxos options'): EPaxosOptions {
  if (given !== undefined) {
    if (typeof given !== 'object' || given === null || Array.isArray(given)) {
      throw new InvalidOptionError(`${where} must be an object of options, got ${given === null ? 'null' : Array.isArray(given) ? 'an array' : typeof given}`);
    }
    for (const [key, value] of Object.entries(given)) {
      if (value === undefined) continue;
      const kind = KINDS[key as keyof EPaxosOptions];
      if (kind === undefined) throw new InvalidOptionError(`${where}: unknown option "${key}" (the options are ${Object.keys(KINDS).join(', ')})`);
      const [ok, rule] = RULES[kind];
      if (!ok(value))
        throw new InvalidOptionError(`${where}: ${key} must be ${rule}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
    }
  }
  const o: EPaxosOptions = { ...defaultEPaxosOptions };
  for (const [k, v] of Object.entries((given ?? {}) as object)) if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  if (o.askAfterMs >= o.recoveryTimeoutMs) {
    throw new InvalidOptionError(
      `${where}: askAfterMs (${o.askAfterMs}) must be shorter than recoveryTimeoutMs (${o.recoveryTimeoutMs}): a replica asks its peers for a commit before it takes the instance over`,
    );
  }
  if (o.retransmitMs > o.maxRetransmitMs) {
    throw new InvalidOptionError(
      `${where}: retransmitMs (${o.retransmitMs}) must not exceed maxRetransmitMs (${o.maxRetransmitMs}): it is the first wait of a doubling bounded by the other`,
    );
  }
  if (o.tickMs > o.retransmitMs || o.tickMs > o.frontierMs) {
    throw new InvalidOptionError(
      `${where}: tickMs (${o.tickMs}) must not exceed retransmitMs (${o.retransmitMs}) or frontierMs (${o.frontierMs}): they are checked on ticks`,
    );
  }
  if (o.frontierMs * 4 > o.replicaTimeoutMs) {
    throw new InvalidOptionError(
      `${where}: replicaTimeoutMs (${o.replicaTimeoutMs}) must be at least four times frontierMs (${o.frontierMs}): a live replica is heard from every frontierMs`,
    );
  }
  return o;
}
