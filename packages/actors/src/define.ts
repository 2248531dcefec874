import type { ActorDefinition, DefineOptions } from './context.js';

export type { ActorDefinition, Behavior, DefineOptions, SpawnOptions } from './context.js';

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
