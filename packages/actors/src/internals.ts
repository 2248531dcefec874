/**
 * `@synod/actors/internals`: building blocks of the runtime that protocol authors may need (the
 * binary wire format their codecs write, an integer-keyed map for hot per-instance state, the
 * seeded generator behind `ctx.random`, the bounded FIFO of mailboxes, the stores' backends).
 * Not the actor API (that is the package root): these follow the runtime's needs, and may change
 * between minor versions.
 *
 * ```ts
 * import { IntMap, WireReader, WireWriter } from '@synod/actors/internals';
 * ```
 *
 * @module @synod/actors/internals
 */
export { WireWriter, WireReader } from './wire.js';
export { copySharedBytes, uninitializedBytes } from './shared-copy.js';
export { freshBytes } from './small-bytes.js';
export { clearArray, setLength } from './arrays.js';
export { uvarBytes, runBytes, putUvar, putUvarOf, putRun, alignedRunPrefix, maxAlignedRunBytes, putAlignedRun } from './byte-runs.js';
export { IntMap } from './int-map.js';
export { Mailbox } from './mailbox.js';
export { Prng, hashString, deriveSeed } from './random.js';
export { SharedStore, type SharedStoreOptions } from './stores/shared-store.js';
export { FileSnapshots, type SnapshotRecovery } from './stores/file-snapshots.js';
export { SharedSnapshots } from './stores/shared-snapshots.js';
export type { SnapshotBackend } from './snapshots.js';
export type { ActorStore, PersistOp } from './store.js';
export { storageDefaults } from './stores/defaults.js';
