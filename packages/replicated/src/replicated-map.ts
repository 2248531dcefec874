/**
 * `ReplicatedMap`: a key-value map replicated with Multi-Paxos. Survives the crash of any
 * minority of its replica workers; reads are linearizable by default.
 */
import { EventEmitter } from 'eventemitter3';
import type { ActorSystem } from '@synod/actors';
import type { ConnectOptions } from './network.js';
import { mapMachine, type MapCommand, type MapQuery, type MapState } from './map-machine.js';
import { ReplicatedStateMachine, type ExecuteOptions, type ReadOptions, type ReplicatedOptions, type Session } from './replicated-state-machine.js';

/** A change, as every replica applies it (in log order). */
export type MapChange = { type: 'set'; key: string; value: unknown; slot: number } | { type: 'delete'; key: string; slot: number };

export interface MapEvents {
  change: (change: MapChange) => void;
  /** The replica refused the watcher (it has `maxSubscribers` already): no `change` events will come. */
  'watch-refused': (reason: string) => void;
}

export type ReplicatedMapOptions = Omit<ReplicatedOptions, 'machine'>;

/** Options of `ReplicatedMap.connect`: where the members are, and the client's bounds. */
export type ReplicatedMapConnectOptions = ConnectOptions &
  Pick<ReplicatedOptions, 'operationTimeoutMs' | 'attemptTimeoutMs' | 'maxCommandBytes' | 'maxQueryBytes' | 'maxInflightPerSession' | 'maxQueued'>;

/**
 * ```ts
 * const map = await ReplicatedMap.start({ replicas: 3, storage: 'file', dir: './data' });
 * await map.set('apple', 3);
 * await map.compareAndSet('apple', 3, 4);   // true
 * await map.get('apple');                    // 4 (linearizable)
 * await map.get('apple', { consistency: 'eventual' });
 * await map.shutdown();
 * ```
 */
export class ReplicatedMap<V = unknown> {
  /** `change` events (call `watch()` first). */
  readonly events = new EventEmitter<MapEvents>();
  private watching = false;

  private constructor(
    readonly rsm: ReplicatedStateMachine<MapState, MapCommand, boolean, MapQuery, unknown>,
    private readonly session: Session,
  ) {}

  static async start<V = unknown>(options: ReplicatedMapOptions = {}): Promise<ReplicatedMap<V>> {
    const rsm = await ReplicatedStateMachine.start({ ...options, name: options.name ?? 'map', machine: mapMachine });
    return new ReplicatedMap<V>(rsm as never, rsm.session);
  }

  /**
   * A client of a map whose members are other processes (`synod node`): the same operations,
   * read consistencies and errors as `start`.
   *
   * ```ts
   * const map = await ReplicatedMap.connect({
   *   clusterId: 'prod', members: ['1@10.0.0.1:7401', '2@10.0.0.2:7401', '3@10.0.0.3:7401'],
   *   tls: { ca: readFileSync('ca.pem'), cert: readFileSync('client-1.pem'), key: readFileSync('client-1-key.pem') },
   * });
   * await map.set('apple', 3);
   * ```
   */
  static async connect<V = unknown>(options: ReplicatedMapConnectOptions): Promise<ReplicatedMap<V>> {
    const rsm = await ReplicatedStateMachine.connect({ ...options, machine: mapMachine });
    return new ReplicatedMap<V>(rsm as never, rsm.session);
  }

  /** The same map seen through another client session (its own read-your-writes point). */
  withSession(session: Session = this.rsm.newSession()): ReplicatedMap<V> {
    const m = new ReplicatedMap<V>(this.rsm, session);
    return m;
  }

  get system(): ActorSystem {
    return this.rsm.system;
  }

  /** This map's client session (command numbering, read-your-writes point, last index). */
  get clientSession(): Session {
    return this.session;
  }

  /** The value of `key`, or undefined. */
  get(key: string, options?: ReadOptions): Promise<V | undefined> {
    return this.session.query({ op: 'get', key }, options) as Promise<V | undefined>;
  }

  has(key: string, options?: ReadOptions): Promise<boolean> {
    return this.session.query({ op: 'has', key }, options) as Promise<boolean>;
  }

  size(options?: ReadOptions): Promise<number> {
    return this.session.query({ op: 'size' }, options) as Promise<number>;
  }

  /** Entries sorted by key (optionally those whose key starts with `prefix`, at most `limit`). */
  async entries(options: ReadOptions & { prefix?: string; limit?: number } = {}): Promise<[string, V][]> {
    const { prefix, limit, ...read } = options;
    return (await this.session.query({ op: 'entries', prefix, limit }, read)) as [string, V][];
  }

  /** Sets `key`; resolves with whether it existed before. */
  // Not `async`: the session's promise is returned as it is (an async wrapper costs a promise and
  // a turn of the microtask queue per operation); it never throws, it rejects.
  set(key: string, value: V, options?: ExecuteOptions): Promise<boolean> {
    return this.session.execute({ op: 'set', key, value }, options) as Promise<boolean>;
  }

  /** Deletes `key`; resolves with whether it existed. */
  delete(key: string, options?: ExecuteOptions): Promise<boolean> {
    return this.session.execute({ op: 'delete', key }, options) as Promise<boolean>;
  }

  /**
   * Sets `key` to `value` only if its current value equals `expected` (`null` for "absent").
   * Resolves with whether it did.
   */
  compareAndSet(key: string, expected: V | null, value: V, options?: ExecuteOptions): Promise<boolean> {
    return this.session.execute({ op: 'cas', key, expected, value }, options) as Promise<boolean>;
  }

  /** Starts `change` events (as applied by one replica, in log order, each once, across its restarts). */
  watch(): this {
    if (this.watching) return this;
    this.watching = true;
    this.rsm.events.on('subscription-refused', (reason) => this.events.emit('watch-refused', reason));
    this.rsm.events.on('applied', (changes) => {
      for (const c of changes) {
        if (!c.ok) continue;
        const op = c.command as MapCommand;
        if (op.op === 'set') this.events.emit('change', { type: 'set', key: op.key, value: op.value, slot: c.slot });
        else if (op.op === 'delete' && c.result === true) this.events.emit('change', { type: 'delete', key: op.key, slot: c.slot });
        else if (op.op === 'cas' && c.result === true) this.events.emit('change', { type: 'set', key: op.key, value: op.value, slot: c.slot });
      }
    });
    this.rsm.subscribe();
    return this;
  }

  /** A causal token of this map's session: what it has seen (see `ReadOptions.after`). */
  token(): string {
    return this.session.token();
  }

  shutdown(): Promise<void> {
    return this.rsm.shutdown();
  }

  /** `await using map = await ReplicatedMap.start(…)`: shuts down at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.rsm.shutdown();
  }
}
