/**
 * `@synod/canonical`: one byte string per plain-data value. Commands and state of
 * `@synod/replicated` are these bytes; `compareAndSet` and the checker's `replicatedMapModel`
 * compare values by them.
 */
export { CanonicalWriter, encode, defaultMaxBytes, defaultMaxDepth, type EncodeOptions } from './encode.js';
export { CanonicalReader, decode } from './decode.js';
export { bytesEqual, compareBytes, equal, hash, hashBytes } from './compare.js';
export { CanonicalError, type CanonicalProblem } from './errors.js';
