/**
 * The Synod side of `pnpm bench:net`: three `synod node` processes (the built CLI) with `file`
 * storage and mutual TLS on 127.0.0.1, reached through `ReplicatedMap.connect`, as a {@link KvCluster}.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDevCertificates } from '@synod/actors';
import { ReplicatedMap } from '@synod/replicated';
import type { KilledMember, KvCluster, KvTarget } from './workload.js';

const cli = fileURLToPath(new URL('../../../apps/cli/dist/main.js', import.meta.url));
const CLUSTER_ID = 'bench';

/** Where and how large a cluster {@link startSynodTarget} starts. */
export interface SynodTargetOptions {
  /** A fresh temporary directory for the nodes' data is made under this. */
  readonly baseDir: string;
  /** Node processes (the benchmark uses 3). */
  readonly members: number;
}

async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    servers.push(s);
    ports.push((s.address() as net.AddressInfo).port);
  }
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
  return ports;
}

/** Every child this module started, killed if the benchmark exits. */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** Starts the node processes and resolves once every one serves. */
export async function startSynodTarget(options: SynodTargetOptions): Promise<KvCluster> {
  const root = mkdtempSync(join(options.baseDir, 'synod-bench-net-'));
  const certs = await writeDevCertificates(join(root, 'certs'), { nodes: options.members, clients: 1 });
  const ports = await freePorts(options.members);
  const members = ports.map((p, i) => `${i + 1}@127.0.0.1:${p}`);
  const procs: (ChildProcess | null)[] = ports.map(() => null);
  const tls = { ca: readFileSync(certs.ca), cert: readFileSync(certs.clients[0]!.cert), key: readFileSync(certs.clients[0]!.key) };

  const start = (i: number): Promise<void> => {
    const args = [
      'node',
      '--id',
      String(i + 1),
      '--listen',
      `127.0.0.1:${ports[i]}`,
      '--peers',
      members.filter((_, j) => j !== i).join(','),
      '--dir',
      join(root, `node-${i + 1}`),
      '--cluster-id',
      CLUSTER_ID,
      '--tls-ca',
      certs.ca,
      '--tls-cert',
      certs.nodes[i]!.cert,
      '--tls-key',
      certs.nodes[i]!.key,
      '--log-level',
      'warn',
    ];
    const child = fork(cli, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    children.add(child);
    child.once('exit', () => children.delete(child));
    procs[i] = child;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`synod node ${i + 1} did not start within 30 s`)), 30_000);
      child.on('message', (m: { type?: string }) => {
        if (m?.type === 'ready') {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`synod node ${i + 1} exited (${code}) while starting`));
      });
    });
  };
  const kill = async (i: number): Promise<void> => {
    const child = procs[i];
    procs[i] = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };

  try {
    await Promise.all(ports.map((_, i) => start(i)));
  } catch (e) {
    for (let i = 0; i < procs.length; i++) await kill(i);
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  // A client that tells where the leader is (after a write, its leaderIndex is the one that answered).
  const probe = await ReplicatedMap.connect<string>({ members, clusterId: CLUSTER_ID, tls });
  let stopped = false;
  return {
    system: 'synod',
    description: `${options.members} synod node processes (Multi-Paxos, file storage: fsync before acknowledging), mutual TLS 1.3, clients via ReplicatedMap.connect`,
    async connect(): Promise<KvTarget> {
      const map = await ReplicatedMap.connect<string>({ members, clusterId: CLUSTER_ID, tls });
      return {
        put: async (key, value, o) => {
          await map.set(key, value, o?.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : undefined);
        },
        close: () => map.shutdown(),
      };
    },
    async killLeader(onKill: () => void): Promise<KilledMember> {
      await probe.set('leader-probe', String(Date.now()));
      const i = probe.rsm.leaderIndex;
      onKill();
      await kill(i);
      return { name: `synod node ${i + 1}`, restart: () => start(i) };
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await probe.shutdown().catch(() => {});
      for (let i = 0; i < procs.length; i++) await kill(i);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
