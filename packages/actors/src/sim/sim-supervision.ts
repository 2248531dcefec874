/**
 * The bridge between the runtime's {@link Supervisor} and a simulation: the same OTP logic
 * (strategies, restart types, intensity, escalation, backoff) runs over simulated nodes, with
 * the virtual clock for its windows and delays and a seeded generator for its jitter.
 */
import type { ActorRef } from '../ref.js';
import type { ActorChildSpec, Supervisor, SupervisionRuntime } from '../supervisor.js';
import type { Prng } from '../random.js';

/** What the supervision bridge needs from the simulation. */
export interface SupervisedWorld {
  readonly now: number;
  startActor(spec: ActorChildSpec, incarnation: number, ref: ActorRef<any> | undefined, owner: Supervisor): Promise<ActorRef<any>>;
  terminateActor(ref: ActorRef<any>): void;
  stopActor(ref: ActorRef<any>): void;
  forget(ref: ActorRef<any>): void;
  /** Resolves after `ms` of virtual time. */
  sleep(ms: number): Promise<void>;
  restarted(ref: ActorRef<any>, attempt: number, delayMs: number): void;
  restartFailed(ref: ActorRef<any>, error: Error): void;
  escalated(supervisor: string, reason: string): void;
  rootFailed(reason: string): void;
}

/** A {@link SupervisionRuntime} over a simulated world. */
export function simSupervisionRuntime(world: SupervisedWorld, rng: Prng): SupervisionRuntime {
  return {
    startActor: (spec, incarnation, ref, owner) => world.startActor(spec, incarnation, ref, owner),
    terminateActor: async (ref) => {
      world.terminateActor(ref);
    },
    stopActor: async (ref) => {
      world.stopActor(ref);
    },
    forgotten: (ref) => world.forget(ref),
    now: () => world.now,
    random: () => rng.next(),
    delay: (ms) => world.sleep(ms),
    restarted: (ref, attempt, delayMs) => world.restarted(ref, attempt, delayMs),
    restartFailed: (ref, error) => world.restartFailed(ref, error),
    escalated: (supervisor, reason) => world.escalated(supervisor, reason),
    rootFailed: (reason) => world.rootFailed(reason),
  };
}
