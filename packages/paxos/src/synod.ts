/**
 * `createSynod`: a ready cluster of acceptors, proposers and learners under one supervisor,
 * and a client API to propose and learn values of many independent instances.
 */
import {
  ActorSystem,
  AskTimeoutError,
  InvalidOptionError,
  SynodError,
  registerErrors,
  type ActorRef,
  type StorageKind,
  type SupervisionOptions,
  type Supervisor,
} from '@synod/actors';
import { Acceptor, type AcceptorArgs, type AcceptorState } from './acceptor.js';
import { synodCodecs } from './codec.js';
import { checkSynodStates } from './invariants.js';
import { Learner, type LearnerArgs, type LearnerOptions, type LearnerState } from './learner.js';
import { checkInstance, type AcceptorMsg, type Chosen, type Decided, type LearnerMsg, type ProposeFailed, type ProposerMsg } from './messages.js';
import { Proposer, type ProposerArgs, type ProposerOptions, type ProposerState } from './proposer.js';
import type { Value } from './value.js';

export interface SynodOptions {
  /** Default 3. At most 31. */
  acceptors?: number;
  /** Default 2. */
  proposers?: number;
  /** Default 2. */
  learners?: number;
  /**
   * Where acceptors and proposers keep their durable state. Default `shared` in workers mode
   * (survives a worker crash) and `memory` embedded. `memory` in workers mode forgets promises
   * when a worker dies: unsafe, for benchmarks only.
   */
  storage?: StorageKind;
  /** Default `workers`. Ignored when `system` is given. */
  mode?: 'workers' | 'embedded';
  /** Run in this system instead of starting one (it is not shut down by `shutdown`). */
  system?: ActorSystem;
  /** Prefix of actor names. Default `synod`. */
  name?: string;
  /** Learners each acceptance is reported to (6.6). Default 1. */
  reportTo?: number;
  /**
   * Workers mode: `spread` (default) gives every actor its own worker; `roles` one worker per
   * role; `single` puts the whole cluster in one worker; a function names the worker (a
   * `worker` key, see spawn) of each actor, undefined for a worker of its own.
   */
  placement?: 'spread' | 'roles' | 'single' | ((role: 'acceptor' | 'proposer' | 'learner', index: number) => string | undefined);
  proposer?: Partial<ProposerOptions>;
  learner?: Partial<LearnerOptions>;
  /** The cluster's supervisor (one-for-one by default). */
  supervision?: SupervisionOptions;
  /**
   * Messages in one batch from one actor to another (acceptors, proposers and learners carry many
   * instances per message; see outbox.ts). 1 sends every message alone. Default 1024.
   */
  maxBatchMessages?: number;
  /** How long one propose attempt may take before another proposer is tried. Default 5000. */
  proposeTimeoutMs?: number;
  /** Proposers tried per propose before giving up. Default 3. */
  proposeAttempts?: number;
}

/** A running Synod cluster. */
export interface Synod {
  readonly system: ActorSystem;
  readonly supervisor: Supervisor;
  readonly acceptors: ActorRef<AcceptorMsg>[];
  readonly proposers: ActorRef<ProposerMsg>[];
  readonly learners: ActorRef<LearnerMsg>[];
  /**
   * Gets `value` chosen for `instance`, or learns the value already chosen: resolves with the
   * chosen value, which is `value` unless another proposal won.
   */
  propose(instance: number, value: Value, options?: { timeoutMs?: number }): Promise<Value>;
  /** The value chosen for `instance` (running a recovery proposal if no learner knows it). */
  learn(instance: number, options?: { timeoutMs?: number }): Promise<Value>;
  /** Every actor's state (a copy), for inspection and invariant checks. */
  states(): Promise<{ acceptors: AcceptorState[]; proposers: ProposerState[]; learners: LearnerState[] }>;
  /** Checks the safety properties over the current states; returns the violations (none: []). */
  check(): Promise<string[]>;
  /** Stops the cluster (and the system, unless it was given). */
  shutdown(): Promise<void>;
}

/**
 * A `propose` or `learn` call of a Synod cluster that could not complete: `failure` says why (the
 * code of the last answer, or `timeout` when no proposer answered in time), the message for people.
 */
export class ProposalFailedError extends SynodError {
  override name = 'ProposalFailedError';
  override readonly code: string = 'proposal-failed';
  constructor(
    message: string,
    readonly failure: ProposeFailed['code'] | 'timeout',
  ) {
    super(message);
  }
}

registerErrors({ ProposalFailedError });

/**
 * Starts a Synod cluster.
 *
 * ```ts
 * const synod = await createSynod({ acceptors: 3, proposers: 2, learners: 2 });
 * await synod.propose(1, 'apple');   // 'apple'
 * await synod.propose(1, 'pear');    // still 'apple': instance 1 is decided
 * await synod.shutdown();
 * ```
 */
export async function createSynod(options: SynodOptions = {}): Promise<Synod> {
  const nA = options.acceptors ?? 3;
  const nP = options.proposers ?? 2;
  const nL = options.learners ?? 2;
  for (const [k, v, max] of [
    ['acceptors', nA, 31],
    ['proposers', nP, 1000],
    ['learners', nL, 1000],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > max) throw new InvalidOptionError(`createSynod: ${k} must be an integer in 1..${max}, got ${String(v)}`);
  }
  const ownSystem = !options.system;
  const system = options.system ?? (await ActorSystem.start({ mode: options.mode ?? 'workers', codecs: [synodCodecs] }));
  if (!ownSystem) await system.registerCodecs(synodCodecs);
  const storage = options.storage ?? (system.mode === 'workers' ? 'shared' : 'memory');
  const prefix = options.name ?? 'synod';
  const placement = options.placement ?? 'spread';
  const worker = (role: 'acceptor' | 'proposer' | 'learner', index: number) =>
    system.mode !== 'workers' || placement === 'spread'
      ? undefined
      : typeof placement === 'function'
        ? placement(role, index)
        : placement === 'single'
          ? `${prefix}`
          : `${prefix}-${role}s`;

  const batch = options.maxBatchMessages;
  const proposerOptions = batch === undefined ? options.proposer : { maxBatchMessages: batch, ...options.proposer };
  const learnerOptions = batch === undefined ? options.learner : { maxBatchMessages: batch, ...options.learner };
  const supervisor = await system.supervise({ name: prefix, ...options.supervision });
  try {
    // Learners first, then acceptors (they report to learners), then proposers; then everyone
    // gets the refs of the peers that did not exist yet (and keeps them across restarts).
    const learners: ActorRef<LearnerMsg>[] = [];
    for (let i = 0; i < nL; i++) {
      learners.push(
        (await supervisor.startChild({
          actor: Learner,
          name: `${prefix}-learner-${i}`,
          worker: worker('learner', i),
          args: { index: i, acceptorCount: nA, options: learnerOptions } satisfies LearnerArgs,
        })) as ActorRef<LearnerMsg>,
      );
    }
    const acceptors: ActorRef<AcceptorMsg>[] = [];
    for (let i = 0; i < nA; i++) {
      acceptors.push(
        (await supervisor.startChild({
          actor: Acceptor,
          name: `${prefix}-acceptor-${i}`,
          storage,
          worker: worker('acceptor', i),
          args: { index: i, learners, reportTo: options.reportTo, maxBatchMessages: options.maxBatchMessages } satisfies AcceptorArgs,
        })) as ActorRef<AcceptorMsg>,
      );
    }
    const proposers: ActorRef<ProposerMsg>[] = [];
    for (let i = 0; i < nP; i++) {
      proposers.push(
        (await supervisor.startChild({
          actor: Proposer,
          name: `${prefix}-proposer-${i}`,
          storage,
          worker: worker('proposer', i),
          args: { id: i + 1, acceptors, options: proposerOptions } satisfies ProposerArgs,
        })) as ActorRef<ProposerMsg>,
      );
    }
    proposers.forEach((ref, i) => {
      supervisor.setChildArgs(ref, { id: i + 1, acceptors, proposers, options: proposerOptions } satisfies ProposerArgs);
      system.send(ref, { type: 'configure', proposers });
    });
    learners.forEach((ref, i) => {
      supervisor.setChildArgs(ref, { index: i, acceptorCount: nA, learners, proposers, options: learnerOptions } satisfies LearnerArgs);
      system.send(ref, { type: 'configure', learners, proposers });
    });
    return makeClient(system, supervisor, acceptors, proposers, learners, options, ownSystem);
  } catch (e) {
    await supervisor.shutdown().catch(() => {});
    if (ownSystem) await system.shutdown();
    throw e;
  }
}

function makeClient(
  system: ActorSystem,
  supervisor: Supervisor,
  acceptors: ActorRef<AcceptorMsg>[],
  proposers: ActorRef<ProposerMsg>[],
  learners: ActorRef<LearnerMsg>[],
  options: SynodOptions,
  ownSystem: boolean,
): Synod {
  const attempts = options.proposeAttempts ?? 3;
  const defaultTimeout = options.proposeTimeoutMs ?? 5_000;
  let next = 0;

  async function propose(instance: number, value: Value, o: { timeoutMs?: number } = {}): Promise<Value> {
    checkInstance(instance, 'propose');
    const timeoutMs = o.timeoutMs ?? defaultTimeout;
    let lastError = '';
    let lastFailure: ProposeFailed['code'] | 'timeout' = 'timeout';
    for (let a = 0; a < attempts; a++) {
      const to = proposers[next++ % proposers.length]!;
      try {
        const answer = await system.ask<Chosen | ProposeFailed>(to, { type: 'propose', instance, value }, { timeoutMs });
        if (answer.type === 'chosen') return answer.value;
        lastError = answer.reason;
        lastFailure = answer.code;
        if (answer.code === 'compacted') return learn(instance, o);
      } catch (e) {
        if (!(e instanceof AskTimeoutError)) throw e;
        lastError = e.message;
      }
    }
    throw new ProposalFailedError(`propose(${instance}) failed after ${attempts} attempts on different proposers: ${lastError}`, lastFailure);
  }

  async function learn(instance: number, o: { timeoutMs?: number } = {}): Promise<Value> {
    checkInstance(instance, 'learn');
    const to = learners[instance % learners.length]!;
    const answer = await system.ask<Decided | ProposeFailed>(to, { type: 'learn', instance }, { timeoutMs: o.timeoutMs ?? defaultTimeout });
    if (answer.type === 'decided') return answer.value;
    throw new ProposalFailedError(`learn(${instance}) failed: ${answer.reason}`, answer.code);
  }

  async function states() {
    const get = async <S>(refs: ActorRef<any>[]) => Promise.all(refs.map(async (r) => (await system.inspect(r)).state as S));
    return { acceptors: await get<AcceptorState>(acceptors), proposers: await get<ProposerState>(proposers), learners: await get<LearnerState>(learners) };
  }

  return {
    system,
    supervisor,
    acceptors,
    proposers,
    learners,
    propose,
    learn,
    states,
    async check() {
      const s = await states();
      return checkSynodStates(s.acceptors, s.learners);
    },
    async shutdown() {
      if (ownSystem) await system.shutdown();
      else await supervisor.shutdown();
    },
  };
}
