/** The ABD atomic register of docs/writing-a-protocol.md. */
export { AbdReplica, type ReplicaState } from './replica.js';
export { AbdClient, type ClientArgs, type ClientState } from './client.js';
export { abdCodecs } from './codecs.js';
export { abdInvariant } from './invariants.js';
export { abdScenario, abdControlScenario } from './scenario.js';
export { measureAbd, abdCell, type AbdBenchOptions, type AbdFigures, type FigureSink } from './bench.js';
export { newer, ZERO, type Tag, type ReplicaMsg, type ClientMsg } from './messages.js';
