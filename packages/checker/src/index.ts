/**
 * @synod/checker — record histories of concurrent calls and decide whether they are
 * linearizable for a model (Wing & Gong's search with Lowe's memo, just-in-time candidate
 * order and early dead ends, per-key partitioning, piscina fan-out for large histories).
 */
export type { History, Operation, Outcome, ProcessId } from './history.js';
export { InvalidHistoryError, countOutcomes, validateHistory } from './history.js';
export type { AnyModel, DecodedOperation, Model, ModelSource, OperationKind, Unknown } from './model.js';
export { UNKNOWN } from './model.js';
export { canonicalJson, hashNumber, hashString, hashValue, mix32, valuesEqual } from './hash.js';
export type { CheckOptions, CheckResult, PartitionResult, Verdict } from './check.js';
export { DEFAULT_MAX_MEMO_BYTES, DEFAULT_TIME_LIMIT_MS, check } from './check.js';
export type { PartitionVerdict } from './interleave.js';
export type { Candidate, ExplainOptions, Explanation, OperationSummary } from './explain.js';
export { formatExplanation, formatPlace } from './explain.js';
export type { Partition } from './partition.js';
export { partitionHistory } from './partition.js';
export { casRegisterModel, registerModel } from './models/register.js';
export type { CasRegisterInput, RegisterInput, RegisterOutput, RegisterValue } from './models/register.js';
export { kvModel } from './models/kv.js';
export type { KvInput, KvOutput } from './models/kv.js';
export { replicatedMapModel } from './models/replicated-map.js';
export type { MapKey, ReplicatedMapInput, ReplicatedMapOutput } from './models/replicated-map.js';
export { builtinModels } from './models/index.js';
export { HistoryParseError } from './parsers/errors.js';
export { parseJepsenLog, readJepsenLogEvents } from './parsers/jepsen.js';
export { parseEdnHistory, readEdnEvents } from './parsers/edn.js';
export type { JepsenEvent, JepsenEventType, JepsenOperation } from './parsers/jepsen-ops.js';
export { historyFromJepsenEvents } from './parsers/jepsen-ops.js';
export { EdnChar, EdnSet, EdnSymbol, EdnSyntaxError, Keyword, formatEdn, readEdn } from './parsers/edn-reader.js';
export type { EdnMap, EdnValue } from './parsers/edn-reader.js';
export type { Classification, Classify, PendingOperation, RecordOptions, Recorded, RecorderOptions, Settled } from './recorder.js';
export { HistoryRecorder, RecordTimeoutError, defaultClassify } from './recorder.js';
export type { CheckerPoolOptions, ParallelCheckOptions } from './parallel.js';
export { CheckerPool, DEFAULT_MIN_OPERATIONS_FOR_THREADS, checkParallel } from './parallel.js';
export { checkSessionGuarantees, type SessionOperation, type SessionViolation } from './session.js';
