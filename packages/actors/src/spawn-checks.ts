/**
 * The checks of what callers of `spawn`, `send` and `ask` pass in, the same for an actor system
 * and a simulation: each refusal says which argument is wrong and what it takes.
 */
import type { ActorDefinition, SpawnOptions } from './context.js';
import { InvalidOptionError } from './errors.js';
import type { ActorRef } from './ref.js';
import { storageKinds } from './storage-kind.js';

/** Checks a spawn: a definition made with `defineActor`, a usable name, a known storage kind. */
export function checkSpawn(def: ActorDefinition<any, any, any, any>, options: SpawnOptions<any>): void {
  if (!def || (def as { kind?: unknown }).kind !== 'synod.actor') {
    throw new InvalidOptionError('spawn: the first argument must be a definition made with defineActor()');
  }
  if (!options || typeof options.name !== 'string' || options.name.length === 0 || options.name.startsWith('$') || options.name.includes('/')) {
    throw new InvalidOptionError(`spawn: options.name must be a non-empty string without "/" and not starting with "$", got ${JSON.stringify(options?.name)}`);
  }
  if (options.storage !== undefined && !storageKinds.includes(options.storage)) {
    throw new InvalidOptionError(`spawn "${options.name}": storage must be one of ${storageKinds.join(', ')}, got ${String(options.storage)}`);
  }
}

/** Checks that a send, ask or control call names a ref. */
export function checkTarget(to: ActorRef<any>, op: string): void {
  if (!to || typeof to !== 'object' || !Number.isInteger(to.node) || !Number.isInteger(to.id)) {
    throw new InvalidOptionError(`${op}: the target must be an ActorRef returned by spawn, got ${String(to)}`);
  }
}

/** Checks that a signal given to an awaitable call is an AbortSignal. */
export function checkSignal(signal: unknown, op: string): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidOptionError(`${op}: signal must be an AbortSignal, got ${String(signal)}`);
  }
}
