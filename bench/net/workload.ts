/**
 * The workload of `pnpm bench:net`, independent of the system under test: what a system must offer
 * ({@link KvCluster}, {@link KvTarget}) and the drivers that measure it. etcd and Synod implement the
 * same two interfaces, so both are driven by the same code, from the same Node process, with the
 * same keys, values and concurrency.
 *
 *  - {@link batched}: one client with `inFlight` puts outstanding at all times (a server that
 *    batches has something to batch) → commands/s;
 *  - {@link unbatched}: `clients` clients, each awaiting its put before sending the next (one
 *    outstanding put per client; the server may still group concurrent clients' puts) → commands/s;
 *  - {@link singleClient}: one client, one put after another → latency percentiles in microseconds;
 *  - {@link leaderKillToCommit}: the leader's process SIGKILLed, a put issued at once and retried
 *    until it commits → milliseconds from the kill to that commit.
 *
 * Each throughput window follows an unmeasured warm-up on the same clients; every wait is bounded.
 */
import { performance } from 'node:perf_hooks';

/** A client of a replicated key-value store: what the drivers call. */
export interface KvTarget {
  /**
   * Writes `value` at `key`; resolves once the write is committed (durable on a majority).
   * With `timeoutMs`, an attempt that has not committed by then is abandoned and rejects, so the
   * caller can try again (the leader-kill cell relies on it); without, the client's own default.
   */
  put(key: string, value: string, options?: { timeoutMs?: number }): Promise<void>;
  /** Closes the client's connections. */
  close(): Promise<void>;
}

/** A running cluster of the system under test, its members being separate OS processes. */
export interface KvCluster {
  /** The prefix of its figures: `net.<system>.r3.…` (`etcd`, `synod`). */
  readonly system: string;
  /** One line for the table: members, storage, sync policy, versions. */
  readonly description: string;
  /** A new client connected to every member (it finds the leader, or is forwarded, by itself). */
  connect(): Promise<KvTarget>;
  /**
   * Finds the member that leads now and SIGKILLs its process. `onKill` is called synchronously
   * right before the signal is sent, so the caller can start its clock and its first put at once.
   * Resolves once the process has exited, with a way to start it again (same data directory).
   */
  killLeader(onKill: () => void): Promise<KilledMember>;
  /** Stops every member and removes its files. Safe to call twice. */
  stop(): Promise<void>;
}

/** A member killed by {@link KvCluster.killLeader}. */
export interface KilledMember {
  /** Which member it was, for the log. */
  readonly name: string;
  /** Starts it again from its data directory; resolves once it serves as a member again. */
  restart(): Promise<void>;
}

/** The shape of the workload; the same for every system. */
export interface WorkloadOptions {
  /** Distinct keys the puts spread over. */
  readonly keyspace: number;
  /** Bytes of every value (ASCII). */
  readonly valueBytes: number;
  /** Unmeasured time before each measured window, on the same clients. */
  readonly warmupMs: number;
  /** Length of each throughput window. */
  readonly measureMs: number;
}

export const DEFAULT_WORKLOAD: WorkloadOptions = { keyspace: 1000, valueBytes: 64, warmupMs: 1000, measureMs: 5000 };

/** A value of `bytes` ASCII characters that differs from put to put (so no layer can skip an unchanged write). */
function valueOf(i: number, bytes: number): string {
  const head = `${i}:`;
  return head.length >= bytes ? head.slice(0, bytes) : head + 'v'.repeat(bytes - head.length);
}

/** Key `i` of the keyspace, spread over it by a multiplicative step so consecutive puts touch different keys. */
function keyOf(i: number, keyspace: number): string {
  return `k${(i * 7919) % keyspace}`;
}

/**
 * Runs `loops` put loops for warm-up + window and counts the puts that complete inside the window.
 * A failed put stops the cell: a throughput of a cluster that refuses writes would be a made-up number.
 */
async function closedLoop(targets: readonly KvTarget[], loopsPerTarget: number, w: WorkloadOptions): Promise<number> {
  let seq = 0;
  let counted = 0;
  const t0 = performance.now();
  const start = t0 + w.warmupMs;
  const end = start + w.measureMs;
  const loop = async (t: KvTarget): Promise<void> => {
    for (;;) {
      const now = performance.now();
      if (now >= end) return;
      const i = seq++;
      await t.put(keyOf(i, w.keyspace), valueOf(i, w.valueBytes));
      const done = performance.now();
      if (done >= start && done < end) counted++;
    }
  };
  await Promise.all(targets.flatMap((t) => Array.from({ length: loopsPerTarget }, () => loop(t))));
  return counted / (w.measureMs / 1000);
}

/** Options of the batched cell. */
export interface BatchedOptions extends WorkloadOptions {
  /** Puts outstanding at all times from the one client. */
  readonly inFlight: number;
}

/** One client keeping `inFlight` puts outstanding → commands/s over the window. */
export async function batched(cluster: KvCluster, o: BatchedOptions): Promise<number> {
  const client = await cluster.connect();
  try {
    return await closedLoop([client], o.inFlight, o);
  } finally {
    await client.close();
  }
}

/** Options of the unbatched cell. */
export interface UnbatchedOptions extends WorkloadOptions {
  /** Clients, each with its own connections and one put outstanding. */
  readonly clients: number;
}

/** `clients` clients, each with one put outstanding at a time → commands/s over the window. */
export async function unbatched(cluster: KvCluster, o: UnbatchedOptions): Promise<number> {
  const clients = await Promise.all(Array.from({ length: o.clients }, () => cluster.connect()));
  try {
    return await closedLoop(clients, 1, o);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

/** Options of the one-client latency cell. */
export interface SingleClientOptions {
  readonly keyspace: number;
  readonly valueBytes: number;
  /** Puts before the measured ones, not recorded. */
  readonly warmupOps: number;
  /** Puts recorded. */
  readonly ops: number;
}

/** One client, one put after another → each put's latency in microseconds, in order. */
export async function singleClient(cluster: KvCluster, o: SingleClientOptions): Promise<number[]> {
  const client = await cluster.connect();
  const latenciesUs: number[] = [];
  try {
    for (let i = 0; i < o.warmupOps + o.ops; i++) {
      const t = performance.now();
      await client.put(keyOf(i, o.keyspace), valueOf(i, o.valueBytes));
      if (i >= o.warmupOps) latenciesUs.push((performance.now() - t) * 1000);
    }
    return latenciesUs;
  } finally {
    await client.close();
  }
}

/** Options of the leader-kill cell. */
export interface LeaderKillOptions {
  readonly valueBytes: number;
  /** Each put attempt is abandoned after this long, and tried again at once. */
  readonly attemptTimeoutMs: number;
  /** After a refused attempt (no leader yet, connection refused), wait this long before the next. */
  readonly retryPauseMs: number;
  /** The whole failover must commit within this, or the cell fails. */
  readonly timeoutMs: number;
  /** The killed member must be back within this. */
  readonly restartTimeoutMs: number;
}

/**
 * Kills the leader's process and times, from just before the signal, until a put issued at that
 * moment (retried on every refusal or attempt timeout) commits. Then restarts the killed member and
 * waits until it serves again, so the cluster is whole for whatever follows.
 */
export async function leaderKillToCommit(cluster: KvCluster, o: LeaderKillOptions): Promise<{ ms: number; attempts: number; killed: string }> {
  const client = await cluster.connect();
  try {
    // A connected, warm client: the first put after the kill should not also pay for connecting.
    await client.put('failover', valueOf(0, o.valueBytes));
    let t0 = 0;
    let attempts = 0;
    let committed: Promise<number> | undefined;
    const putUntilCommitted = async (): Promise<number> => {
      const deadline = t0 + o.timeoutMs;
      let last: unknown;
      while (performance.now() < deadline) {
        attempts++;
        try {
          await client.put('failover', valueOf(attempts, o.valueBytes), { timeoutMs: o.attemptTimeoutMs });
          return performance.now() - t0;
        } catch (e) {
          last = e;
          await new Promise((r) => setTimeout(r, o.retryPauseMs));
        }
      }
      throw new Error(`no put committed within ${o.timeoutMs} ms of killing the leader (${attempts} attempts; last error: ${(last as Error)?.message})`);
    };
    const killed = await cluster.killLeader(() => {
      t0 = performance.now();
      committed = putUntilCommitted();
      // Awaited below; this keeps it from counting as unhandled should killLeader reject first.
      committed.catch(() => {});
    });
    if (!committed) throw new Error(`${cluster.system}: killLeader did not call onKill`);
    const ms = await committed;
    await withTimeout(killed.restart(), o.restartTimeoutMs, `${cluster.system}: restarting ${killed.name} after the kill`);
    return { ms, attempts, killed: killed.name };
  } finally {
    await client.close();
  }
}

/** `p`, or a rejection naming `what` after `ms`. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
