export { ballot, nextBallot, roundOf, proposerOf, formatBallot, ZERO_BALLOT, MAX_PROPOSER_ID, type Ballot } from './ballot.js';
export { sameValue, valueKey, type Value } from './value.js';
export * from './messages.js';
export { Acceptor, type AcceptorArgs, type AcceptorState, type AcceptorRecord } from './acceptor.js';
export { Proposer, defaultProposerOptions, type ProposerArgs, type ProposerOptions, type ProposerState } from './proposer.js';
export { Learner, defaultLearnerOptions, type LearnerArgs, type LearnerOptions, type LearnerState } from './learner.js';
export { synodCodecs } from './codec.js';
export {
  SynodInvariants, checkSynodStates, isAcceptorState, isLearnerState, isProposerState,
  type ActorView, type MessageView, type ClusterView, type Violation,
} from './invariants.js';
export { createSynod, SynodError, type Synod, type SynodOptions } from './synod.js';
export { InvariantViolation } from './assert.js';
