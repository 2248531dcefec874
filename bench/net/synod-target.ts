/**
 * The Synod side of `pnpm bench:net`: three `synod node` processes with `file` storage on
 * 127.0.0.1, reached through `ReplicatedMap.connect`, as a {@link KvCluster}.
 *
 * Not built yet (issue 20: the network transport and node processes come first). Until then
 * {@link startSynodTarget} throws, and bench/net.ts reports the Synod cells as skipped with this
 * reason while it still measures etcd.
 */
import type { KvCluster } from './workload.js';

/** Where and how large a cluster {@link startSynodTarget} starts. */
export interface SynodTargetOptions {
  /** A fresh temporary directory for the nodes' data is made under this. */
  readonly baseDir: string;
  /** Node processes (the benchmark uses 3). */
  readonly members: number;
}

/**
 * Starts the node processes and resolves once every one serves.
 * @throws Error always, for now: the Synod side of the benchmark is not built yet.
 */
export async function startSynodTarget(_options: SynodTargetOptions): Promise<KvCluster> {
  throw new Error('synod side not yet built');
}
