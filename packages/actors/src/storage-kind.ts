/** Where an actor's durable state lives. */
export type StorageKind = 'memory' | 'shared' | 'file';

/** Every storage kind, for checks of what callers pass in. */
export const storageKinds: readonly StorageKind[] = ['memory', 'shared', 'file'];
