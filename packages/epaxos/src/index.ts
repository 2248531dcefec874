/**
 * `@synod/epaxos`: Egalitarian Paxos (Moraru et al., SOSP 2013, with the corrections of Tollman et
 * al., NSDI 2021, and Sutra) as a pure actor behaviour: every replica leads the commands its
 * clients send it, commits commands that do not interfere in one round trip (fast path) and the
 * others in two (slow path), recovers the instances of a failed leader by explicit prepare, and
 * executes the dependency graph by strongly connected components into the executor of
 * @synod/smr. Plugs into @synod/replicated as `protocol: 'epaxos'`.
 */
export { EPaxosReplica, type EPaxosArgs } from './replica.js';
export { epaxosOptions, defaultEPaxosOptions, type EPaxosOptions } from './options.js';
export { quorumsOf, type Quorums } from './quorums.js';
export { epaxosCodecs } from './codec.js';
export { EPaxosInvariants, type EPaxosViolation } from './invariants.js';
export { instanceKey, leaderOf, numberOf, formatInstance, MAX_REPLICAS } from './ids.js';
export { Status, isBarrier, isNoop, type Instance, type InstanceRecord } from './instance.js';
export type { EPaxosState, EPaxosMsg, Journal } from './state.js';
export { JOURNAL_SIZE } from './state.js';
export type * from './messages.js';
