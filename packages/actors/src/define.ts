import type { ActorContext } from './context.js';
import type { StorageKind } from './store.js';

/**
 * A behaviour: how an actor starts and how it handles each message.
 *
 * `receive` may mutate `state` in place and return nothing, or return the next state.
 */
export interface Behavior<S, M, A, D> {
  /**
   * Builds the initial state. `recovered` is what the actor persisted last before it
   * crashed or was restarted (undefined on a first start or with memory storage).
   */
  init(args: A, ctx: ActorContext<M, D>, recovered: D | undefined): S;
  /** Handles one message. Throwing crashes the actor; its supervisor decides what follows. */
  receive(state: S, message: M, ctx: ActorContext<M, D>): S | void;
  /** Called once when the actor stops normally (not on a crash). */
  onStop?(state: S, ctx: ActorContext<M, D>): void;
  /**
   * What `system.inspect` (and dashboards) show of the state: plain data. Default: the state
   * itself. Give one when the state holds class instances that would not survive a copy.
   */
  inspect?(state: S): unknown;
}

export interface DefineOptions<S, M, A, D> extends Behavior<S, M, A, D> {
  /**
   * The URL of the module that exports this definition: pass `import.meta.url`. Workers
   * import it to run the actor. Not needed for embedded-only or simulated actors.
   */
  module?: string;
  /** A readable name for logs and errors; defaults to the export name. */
  label?: string;
  /** Default storage for actors of this kind; a spawn can override it. */
  storage?: StorageKind;
}

/** The result of {@link defineActor}: export it from its module. */
export interface ActorDefinition<S, M, A = void, D = S> extends Behavior<S, M, A, D> {
  readonly kind: 'synod.actor';
  readonly module: string | undefined;
  readonly label: string | undefined;
  readonly storage: StorageKind | undefined;
}

/** Options of `system.spawn` and `ctx.spawn`. */
export interface SpawnOptions<A> {
  /** Unique among live actors (for `ctx.spawn`, among the parent's children). */
  name: string;
  /** Passed to `init`. Must be plain data in workers mode. */
  args?: A;
  /** Where durable state lives. Default: the definition's `storage`, else `memory`. */
  storage?: StorageKind;
  /**
   * Workers mode: actors given the same `worker` key share one worker thread. Default: each
   * actor gets its own worker. Ignored in embedded mode.
   */
  worker?: string;
  /**
   * Module URLs imported before the actor starts (in its worker, or in this thread), for code its
   * `init` looks up synchronously (e.g. a replicated state machine registered by its module).
   */
  preload?: string[];
}

/**
 * Defines an actor kind. Put it in its own module and export it, so a worker can load it:
 *
 * ```ts
 * export const Counter = defineActor<{ n: number }, { type: 'inc' } | { type: 'get' }>({
 *   module: import.meta.url,
 *   init: () => ({ n: 0 }),
 *   receive(state, msg, ctx) {
 *     if (msg.type === 'inc') state.n++;
 *     else ctx.reply(state.n);
 *   },
 * });
 * ```
 */
export function defineActor<S, M, A = void, D = S>(options: DefineOptions<S, M, A, D>): ActorDefinition<S, M, A, D> {
  if (typeof options.init !== 'function' || typeof options.receive !== 'function') {
    throw new TypeError('defineActor needs `init` and `receive` functions');
  }
  if (options.module !== undefined && typeof options.module !== 'string') {
    throw new TypeError('defineActor: `module` must be a URL string; pass import.meta.url');
  }
  return Object.freeze({
    kind: 'synod.actor' as const,
    module: options.module,
    label: options.label,
    storage: options.storage,
    init: options.init,
    receive: options.receive,
    onStop: options.onStop,
    inspect: options.inspect,
  });
}

export function isActorDefinition(v: unknown): v is ActorDefinition<unknown, unknown, unknown, unknown> {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'synod.actor';
}
