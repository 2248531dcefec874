// examples/src/abd/bench.ts
import { ActorSystem, type ActorRef, type StorageKind } from '@synod/actors';
import { AbdClient, type ClientIn } from './client.js';
import { abdCodecs } from './codecs.js';
import { AbdReplica } from './replica.js';

export interface AbdBenchOptions {
  mode: 'workers' | 'embedded';
  replicas: number;
  clients: number;
  /** Operations are counted over this long, after `warmupMs`. */
  durationMs: number;
  warmupMs: number;
  storage: StorageKind;
  /** For `file` storage. */
  dir?: string;
}

export interface AbdFigures { opsPerSecond: number; p50Ms: number; p99Ms: number }

/**
 * One measurement: a register of `replicas` replicas (a worker each in `workers` mode) and
 * `clients` clients (one worker for all), each running reads and writes back to back.
 */
export async function measureAbd(o: AbdBenchOptions): Promise<AbdFigures> {
  const system = await ActorSystem.start({ mode: o.mode, codecs: [abdCodecs], logLevel: 'warn', ...(o.dir ? { storage: { dir: o.dir } } : {}) });
  try {
    const replicas: ActorRef<any>[] = [];
    for (let i = 0; i < o.replicas; i++) replicas.push(await system.spawn(AbdReplica, { name: `abd-replica-${i}`, args: { index: i }, storage: o.storage }));
    const clients: ActorRef<ClientIn>[] = [];
    for (let c = 0; c < o.clients; c++) {
      clients.push(await system.spawn(AbdClient, {
        name: `abd-client-${c}`, worker: 'clients',
        args: { id: c + 1, replicas, ops: -1, writeBack: true, retryMs: 100, opTimeoutMs: 5_000, record: false },
      }));
    }
    const stats = async () => Promise.all(clients.map((c) => system.ask<{ done: number; latencies: number[] }>(c, { type: 'stats' }, { timeoutMs: 10_000 })));
    await new Promise((r) => setTimeout(r, o.warmupMs));
    const start = await stats();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, o.durationMs));
    const end = await stats();
    const seconds = (performance.now() - t0) / 1000;
    const ops = end.reduce((a, s) => a + s.done, 0) - start.reduce((a, s) => a + s.done, 0);
    const latencies = end.flatMap((s) => s.latencies).sort((a, b) => a - b);
    const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
    return { opsPerSecond: ops / seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
  } finally {
    await system.shutdown();
  }
}

/** What a bench suite's results collect (bench/lib/results.ts `Results` has this shape). */
export interface FigureSink { add(name: string, unit: string, value: number): void }

/** The benchmark cell: one run of the register's figures, under names a suite reports. */
export async function abdCell(results: FigureSink, o: AbdBenchOptions): Promise<void> {
  const f = await measureAbd(o);
  const cell = `abd.${o.mode}.r${o.replicas}.c${o.clients}`;
  results.add(`${cell}.ops_per_s`, 'ops/s', f.opsPerSecond);
  results.add(`${cell}.p50_ms`, 'ms', f.p50Ms);
  results.add(`${cell}.p99_ms`, 'ms', f.p99Ms);
}
