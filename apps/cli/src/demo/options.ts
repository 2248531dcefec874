/**
 * The options of a demo cluster and its workload, with their defaults. `synod demo` and
 * `synod dashboard` set them from flags; everything else has a named default here.
 */
import type { StorageKind } from '@synod/actors';
import type { DemoProtocol } from './cluster.js';

export interface DemoOptions {
  /** The replication protocol. */
  protocol: DemoProtocol;
  /** Replica nodes (one worker each: Multi-Paxos's acceptor, leader candidate and replica, or Raft's node and replica). */
  replicas: number;
  /** Durable state of the Paxos actors. */
  storage: StorageKind;
  /** Folder for `file` storage; kept afterwards. Default: a fresh temporary folder, removed at the end. */
  dir?: string;
  /** Client sessions running operations concurrently (each one at a time). */
  clients: number;
  /** Keys the workload spreads over. */
  keys: number;
  /** Whether the fault injector kills workers and crashes actors. */
  faults: boolean;
  /** A fault every this many ms. */
  faultEveryMs: number;
  /** One operation (with its retries across leaders) gives up after this long. */
  operationTimeoutMs: number;
  /** Restart intensity of the cluster's supervisor: more restarts than this in `restartWindowMs` and it gives up. */
  maxRestarts: number;
  restartWindowMs: number;
  /** How often actor states are inspected (leader, ballots, applied slots). */
  inspectEveryMs: number;
  /** Throughput and latency are counted in buckets this long. */
  bucketMs: number;
  /** Buckets of history kept (for charts). */
  keepBuckets: number;
  /** Latency samples kept per bucket (a uniform reservoir). */
  latencySamplesPerBucket: number;
  /** The linearizability check of the recorded history gives up (verdict unknown) after this long. */
  checkTimeLimitMs: number;
  /** Operations recorded for that check at most (later ones run unrecorded); 0 records none. */
  maxRecorded: number;
}

export const defaultDemoOptions: DemoOptions = {
  protocol: 'multipaxos',
  replicas: 5,
  storage: 'file',
  clients: 8,
  keys: 8,
  faults: true,
  faultEveryMs: 3_000,
  operationTimeoutMs: 5_000,
  maxRestarts: 200,
  restartWindowMs: 10_000,
  inspectEveryMs: 250,
  bucketMs: 250,
  keepBuckets: 480,
  latencySamplesPerBucket: 256,
  checkTimeLimitMs: 60_000,
  maxRecorded: 1_000_000,
};

/** The most replicas the demo starts (one worker thread each). */
export const MAX_DEMO_REPLICAS = 15;
/** The most client sessions. */
export const MAX_DEMO_CLIENTS = 256;

/** How many replica nodes may be down at once and the rest still form a majority. */
export function tolerableFailures(replicas: number): number {
  return Math.floor((replicas - 1) / 2);
}
