/**
 * A real etcd cluster for `pnpm bench:net`: N member processes of the installed `etcd` binary on
 * 127.0.0.1, in a fresh temporary directory, each with its own data directory and free ports chosen
 * at run time, with etcd's defaults otherwise (its WAL is fsynced before a commit is acknowledged,
 * as Synod's `file` storage syncs before its messages leave; heartbeat 100 ms, election timeout 1 s).
 *
 * The benchmark installs nothing: {@link findEtcd} finds `$ETCD_BIN` or `etcd` on PATH, and
 * {@link ETCD_HOWTO} says how to get it when neither is there.
 *
 * Every member process is SIGKILLed and every temporary directory removed when this Node process
 * exits, however it exits (a `process.on('exit')` handler), so a benchmark that throws leaves no
 * etcd behind. A member that is not healthy within `healthyTimeoutMs` fails the start with the tail
 * of its stderr.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { noop } from 'cockatiel';
import { Etcd3, type IOptions } from 'etcd3';
import type { KilledMember, KvCluster, KvTarget } from './workload.js';

/** What to tell a user who has no etcd. */
export const ETCD_HOWTO =
  'etcd is not installed (no $ETCD_BIN, no `etcd` on PATH). The benchmark installs nothing itself; get etcd 3.4 with ' +
  '`sudo apt-get install etcd-server` (Debian/Ubuntu: 3.4.23), or unpack the release tarball from ' +
  'https://github.com/etcd-io/etcd/releases (etcd-v3.4.x-linux-amd64.tar.gz) and set ETCD_BIN=/path/to/etcd';

/** The etcd binary: `$ETCD_BIN` if set (it must be executable), else `etcd` on PATH; undefined when there is none. */
export function findEtcd(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const executable = (p: string): boolean => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (env.ETCD_BIN) {
    if (!executable(env.ETCD_BIN)) throw new Error(`ETCD_BIN=${env.ETCD_BIN} is not an executable file; unset it to use etcd from PATH`);
    return env.ETCD_BIN;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'etcd'))) return join(dir, 'etcd');
  }
  return undefined;
}

/** `3.4.23` from `etcd --version`. */
export function etcdVersion(bin: string): string {
  const out = execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const m = /etcd Version:\s*(\S+)/.exec(out);
  if (!m) throw new Error(`${bin} --version printed no 'etcd Version:' line: ${out.slice(0, 200)}`);
  return m[1]!;
}

/** Options of {@link EtcdCluster.start}; every bound has a default. */
export interface EtcdClusterOptions {
  /** The etcd binary (see {@link findEtcd}). */
  readonly bin: string;
  /** Members (default 3). */
  readonly members?: number;
  /** Where the temporary directory is made (default the OS's temporary directory). */
  readonly baseDir?: string;
  /** A start or restart must see every member healthy within this (default 20 s). */
  readonly healthyTimeoutMs?: number;
  /** `stop` waits this long after SIGTERM before SIGKILL (default 5 s). */
  readonly stopTimeoutMs?: number;
  /** Bytes of each member's stderr kept for error messages (default 8 KiB). */
  readonly stderrTailBytes?: number;
}

const DEFAULT_MEMBERS = 3;
const DEFAULT_HEALTHY_TIMEOUT_MS = 20_000;
const DEFAULT_STOP_TIMEOUT_MS = 5_000;
const DEFAULT_STDERR_TAIL_BYTES = 8 * 1024;
/** Health is polled this often while waiting. */
const POLL_MS = 50;
/** An admin call (status, a health put) gives up after this long. */
const ADMIN_CALL_MS = 2_000;

// Children and directories to clean up however the process exits.
const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of liveChildren) c.kill('SIGKILL');
    for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
  });
}

/** `n` distinct ports that were free on 127.0.0.1 a moment ago (bound, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function exited(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => p.once('exit', () => resolve()));
}

interface Member {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  proc: ChildProcess | undefined;
  stderr: string;
}

/**
 * How the benchmark's etcd3 clients handle faults: the client's default retry (3 attempts, each on
 * another member), but no per-member circuit breaker. The default breaker refuses a member for 5 s
 * after 3 failures in a row; while a leader is being elected every member fails 3 times, so the
 * leader-kill cell would time that 5 s pause of the client library rather than etcd's failover, as
 * etcd's own Go client (which has no breaker) would see it.
 */
const FAULT_HANDLING: IOptions['faultHandling'] = { host: () => noop };

/** One client connected to every member, as an application would use etcd. */
class EtcdTarget implements KvTarget {
  private readonly client: Etcd3;
  constructor(hosts: string[]) {
    this.client = new Etcd3({ hosts, faultHandling: FAULT_HANDLING });
  }
  async put(key: string, value: string, options?: { timeoutMs?: number }): Promise<void> {
    const b = this.client.put(key).value(value);
    if (options?.timeoutMs !== undefined) b.options({ deadline: Date.now() + options.timeoutMs });
    await b.exec();
  }
  async close(): Promise<void> {
    this.client.close();
  }
}

/** A running etcd cluster on 127.0.0.1. */
export class EtcdCluster implements KvCluster {
  readonly system = 'etcd';
  readonly description: string;
  private stopped = false;
  /** The same for every member (it goes into the cluster id), different from any other cluster's. */
  private readonly token = `synod-bench-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

  private constructor(
    private readonly o: Required<EtcdClusterOptions>,
    readonly version: string,
    readonly dir: string,
    private readonly members: Member[],
  ) {
    this.description =
      `${members.length} etcd ${version} members, each its own process, on 127.0.0.1 (client and peer URLs over plain TCP); ` +
      `etcd's defaults: WAL fsynced before a commit is acknowledged, heartbeat 100 ms, election timeout 1000 ms, snapshot every 100000 entries`;
  }

  /**
   * Starts the members in a fresh temporary directory and waits until every one is healthy.
   * @throws Error with the members' stderr tails when they are not healthy within `healthyTimeoutMs`.
   */
  static async start(options: EtcdClusterOptions): Promise<EtcdCluster> {
    const o: Required<EtcdClusterOptions> = {
      members: DEFAULT_MEMBERS,
      baseDir: tmpdir(),
      healthyTimeoutMs: DEFAULT_HEALTHY_TIMEOUT_MS,
      stopTimeoutMs: DEFAULT_STOP_TIMEOUT_MS,
      stderrTailBytes: DEFAULT_STDERR_TAIL_BYTES,
      ...options,
    };
    if (!Number.isInteger(o.members) || o.members < 1) throw new RangeError(`EtcdCluster: members must be a positive whole number, got ${o.members}`);
    installExitHook();
    const version = etcdVersion(o.bin);
    const dir = mkdtempSync(join(o.baseDir, 'synod-bench-etcd-'));
    liveDirs.add(dir);
    const ports = await freePorts(2 * o.members);
    const members: Member[] = Array.from({ length: o.members }, (_, i) => ({
      name: `m${i}`,
      clientUrl: `http://127.0.0.1:${ports[2 * i]}`,
      peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
      dataDir: join(dir, `m${i}`),
      proc: undefined,
      stderr: '',
    }));
    const cluster = new EtcdCluster(o, version, dir, members);
    try {
      for (const m of members) {
        mkdirSync(m.dataDir, { mode: 0o700 });
        cluster.spawnMember(m);
      }
      await cluster.waitHealthy();
      return cluster;
    } catch (e) {
      await cluster.stop();
      throw e;
    }
  }

  private spawnMember(m: Member): void {
    const initialCluster = this.members.map((x) => `${x.name}=${x.peerUrl}`).join(',');
    const args = [
      `--name=${m.name}`,
      `--data-dir=${m.dataDir}`,
      `--listen-client-urls=${m.clientUrl}`,
      `--advertise-client-urls=${m.clientUrl}`,
      `--listen-peer-urls=${m.peerUrl}`,
      `--initial-advertise-peer-urls=${m.peerUrl}`,
      `--initial-cluster=${initialCluster}`,
      // Ignored by a member that restarts from its data directory, as a restarted member should.
      '--initial-cluster-state=new',
      `--initial-cluster-token=${this.token}`,
      '--logger=zap',
      '--log-outputs=stderr',
    ];
    m.stderr = '';
    const p = spawn(this.o.bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    m.proc = p;
    liveChildren.add(p);
    // Always read stderr (a full pipe would block etcd); keep only its tail.
    p.stderr!.setEncoding('utf8');
    p.stderr!.on('data', (s: string) => {
      m.stderr = (m.stderr + s).slice(-this.o.stderrTailBytes);
    });
    p.on('error', (e) => {
      m.stderr += `\n(spawn error: ${e.message})`;
    });
    p.once('exit', () => liveChildren.delete(p));
  }

  private running(m: Member): boolean {
    return m.proc !== undefined && m.proc.exitCode === null && m.proc.signalCode === null;
  }

  /** The member's status, asked of it alone; undefined when it does not answer within ADMIN_CALL_MS. */
  private async status(m: Member): Promise<{ memberId: string; leader: string } | undefined> {
    const c = new Etcd3({ hosts: m.clientUrl, faultHandling: FAULT_HANDLING });
    try {
      const s = await c.maintenance.status({ deadline: Date.now() + ADMIN_CALL_MS });
      return { memberId: s.header.member_id, leader: s.leader };
    } catch {
      return undefined;
    } finally {
      c.close();
    }
  }

  /** Every running member answers with the same leader, and a put through all of them commits. */
  private async healthy(): Promise<boolean> {
    const live = this.members.filter((m) => this.running(m));
    if (live.length !== this.members.length) return false;
    const st = await Promise.all(live.map((m) => this.status(m)));
    if (st.some((s) => !s || s.leader === '0') || new Set(st.map((s) => s!.leader)).size !== 1) return false;
    const c = new EtcdTarget(this.members.map((m) => m.clientUrl));
    try {
      await c.put('synod-bench-health', String(Date.now()), { timeoutMs: ADMIN_CALL_MS });
      return true;
    } catch {
      return false;
    } finally {
      await c.close();
    }
  }

  private async waitHealthy(): Promise<void> {
    const deadline = Date.now() + this.o.healthyTimeoutMs;
    for (;;) {
      const dead = this.members.find((m) => !this.running(m));
      if (dead) {
        const how = dead.proc ? `exited (code ${dead.proc.exitCode}, signal ${dead.proc.signalCode})` : 'was not started';
        throw new Error(`etcd member ${dead.name} ${how} before the cluster was healthy; its stderr ends:\n${dead.stderr}`);
      }
      if (await this.healthy()) return;
      if (Date.now() > deadline) {
        const tails = this.members.map((m) => `--- ${m.name} (${m.clientUrl}) stderr ends:\n${m.stderr}`).join('\n');
        throw new Error(`etcd cluster in ${this.dir} not healthy within ${this.o.healthyTimeoutMs} ms\n${tails}`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  async connect(): Promise<KvTarget> {
    return new EtcdTarget(this.members.map((m) => m.clientUrl));
  }

  /** The member every running member names as leader (its own status says it is), if they agree. */
  private async leader(): Promise<Member | undefined> {
    const live = this.members.filter((m) => this.running(m));
    const st = await Promise.all(live.map((m) => this.status(m)));
    const i = st.findIndex((s) => s !== undefined && s.leader !== '0' && s.memberId === s.leader);
    return i < 0 ? undefined : live[i];
  }

  async killLeader(onKill: () => void): Promise<KilledMember> {
    const deadline = Date.now() + this.o.healthyTimeoutMs;
    let m = await this.leader();
    while (!m) {
      if (Date.now() > deadline) throw new Error(`etcd cluster in ${this.dir}: no member reports itself leader within ${this.o.healthyTimeoutMs} ms`);
      await new Promise((r) => setTimeout(r, POLL_MS));
      m = await this.leader();
    }
    const proc = m.proc!;
    const gone = exited(proc);
    onKill();
    proc.kill('SIGKILL');
    await gone;
    const member = m;
    return {
      name: member.name,
      restart: async () => {
        this.spawnMember(member);
        await this.waitHealthy();
      },
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(
      this.members.map(async (m) => {
        const p = m.proc;
        if (!p || !this.running(m)) return;
        const gone = exited(p);
        p.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), this.o.stopTimeoutMs)));
        if ((await Promise.race([gone, late])) === 'late') {
          p.kill('SIGKILL');
          await gone;
        }
        clearTimeout(timer);
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
    liveDirs.delete(this.dir);
  }
}
