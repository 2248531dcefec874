/**
 * `synod node`: one member of a networked cluster as a process (the replicated map by default).
 *
 *     synod node --id 1 --listen 0.0.0.0:7401 --peers 2@10.0.0.2:7401,3@10.0.0.3:7401 \
 *       --dir /var/lib/synod --cluster-id prod --tls-ca ca.pem --tls-cert node-1.pem --tls-key node-1-key.pem
 *
 * Logs go to stdout, one line each. SIGTERM or SIGINT stops it cleanly (exit 0); a start that
 * fails (a port in use, a damaged log, bad flags) exits non-zero with the reason. Started with an
 * IPC channel (child_process.fork), it also takes fault-injection messages: `{ type: 'partition',
 * nodes }`, `{ type: 'faults', dropRate?, delayMs?, blockedOut?, blockedIn? }`, `{ type: 'heal' }`, and `{ type: 'status' }` (answered with the
 * replica's applied index and state digest, and the transport's counters).
 *
 * Over the network, its status actor answers `{ type: 'status' }` to any client of the cluster
 * (what `synod dashboard --members` shows); it takes the same fault commands from the network only
 * with `--allow-remote-faults`, since anyone holding a client certificate could otherwise cut the
 * cluster.
 */
import type { LogRecord } from '@synod/actors';
import type { LogLevel } from '@synod/actors';
import { mapMachine, parseMember, protocolNames, startMember, type ClusterMember } from '@synod/replicated';
import { EXIT, UsageError, oneOf, type Command } from '../command.js';
import { list, tlsFlags, tlsFromFlags } from '../net/flags.js';

function hostPort(s: string, flag: string): { host: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new UsageError(`--${flag} is HOST:PORT, got '${s}'`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

export const nodeCommand: Command = {
  name: 'node',
  summary: 'Run one member of a networked cluster (a replicated map) as this process.',
  usage: 'synod node --id N --listen HOST:PORT --peers N@HOST:PORT,... --dir DIR (--tls-ca F --tls-cert F --tls-key F | --insecure) [options]',
  description: [
    'Members are numbered 1..n; --peers lists the others (where they listen). Every member and',
    'client must present a certificate of the cluster CA (make development ones with `synod certs`).',
    'Clients connect with ReplicatedMap.connect({ members, clusterId, tls }). Logs go to stdout;',
    'SIGTERM stops cleanly. Exit status: 0 stopped by a signal, 1 failed (the reason is printed).',
  ].join('\n'),
  options: {
    id: { type: 'string', value: 'N', description: "This member's node number (1..n)." },
    listen: { type: 'string', value: 'HOST:PORT', description: 'Where to accept connections from members and clients.' },
    peers: { type: 'string', multiple: true, value: 'N@HOST:PORT,...', description: 'The other members (comma-separated or repeated).' },
    dir: { type: 'string', value: 'DIR', description: "Directory of this member's logs and snapshots (file storage)." },
    storage: { type: 'string', value: 'KIND', description: 'file (default: survives a crash) or memory (benchmarks only: NOT crash-safe).' },
    'cluster-id': { type: 'string', value: 'ID', description: "The cluster's id; connections from another are refused. Default synod." },
    name: { type: 'string', value: 'NAME', description: 'Prefix of actor names, the same on every member and client. Default map.' },
    protocol: { type: 'string', value: 'P', description: 'multipaxos (default), raft or epaxos: the same everywhere.' },
    ...tlsFlags("This member's"),
    'log-level': { type: 'string', value: 'LEVEL', description: 'debug, info (default), warn, error or silent.' },
    'allow-remote-faults': {
      type: 'boolean',
      description: 'Take partition, heal and fault commands from clients over the network (synod dashboard --members); off by default.',
    },
  },
  positionals: false,
  async run({ values, stdout, stderr }) {
    const id = Number(values.id);
    if (!(Number.isInteger(id) && id >= 1)) throw new UsageError(`--id must be a node number 1..n, got '${String(values.id ?? '')}'`);
    if (values.listen === undefined) throw new UsageError('--listen HOST:PORT is required');
    const listen = hostPort(String(values.listen), 'listen');
    let peers;
    try {
      peers = list(values.peers).map(parseMember);
    } catch (e) {
      throw new UsageError(`--peers: ${(e as Error).message}`);
    }
    const storage = oneOf(values, 'storage', ['file', 'memory'] as const, false) ?? 'file';
    const dir = values.dir === undefined ? undefined : String(values.dir);
    if (storage === 'file' && !dir) throw new UsageError('--dir DIR is required with file storage');
    const protocol = oneOf(values, 'protocol', protocolNames(), false) ?? 'multipaxos';
    const logLevel = (values['log-level'] ?? 'info') as LogLevel;
    if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel))
      throw new UsageError(`--log-level must be debug, info, warn, error or silent, got '${String(logLevel)}'`);
    const tls = tlsFromFlags(values);
    const clusterId = String(values['cluster-id'] ?? 'synod');
    const logSink = (r: LogRecord): void => {
      stdout(`${new Date(r.time).toISOString()} ${r.level.padEnd(5)} ${r.actor}: ${r.message}\n`);
    };
    let member: ClusterMember;
    try {
      member = await startMember({
        machine: mapMachine,
        node: id,
        members: [{ node: id, host: listen.host, port: listen.port }, ...peers],
        listen,
        clusterId,
        tls,
        storage,
        ...(dir ? { dir } : {}),
        name: String(values.name ?? 'map'),
        protocol,
        logLevel,
        logSink,
        allowRemoteFaults: values['allow-remote-faults'] === true,
      });
    } catch (e) {
      stderr(`synod node ${id}: could not start: ${(e as Error)?.message ?? String(e)}\n`);
      return EXIT.failed;
    }
    stdout(
      `synod node ${id} listening on ${listen.host}:${member.port} (cluster ${JSON.stringify(clusterId)}, ${peers.length + 1} members, ${protocol}, ${storage} storage${dir ? ` in ${dir}` : ''}${values['allow-remote-faults'] === true ? ', remote fault injection ALLOWED' : ''})\n`,
    );
    const net = member.system.net!;
    const onMessage = (m: unknown): void => {
      const msg = m as { type?: string; nodes?: number[] } & Record<string, unknown>;
      try {
        if (msg?.type === 'partition') net.partition(msg.nodes ?? []);
        else if (msg?.type === 'heal') net.heal();
        else if (msg?.type === 'faults') net.setFaults(msg as never);
        else if (msg?.type === 'status') {
          const replica = member.cluster.replicas[id - 1]!;
          member.system.inspect(replica).then(
            (snap) => {
              const st = snap.state as { appliedUpTo?: number; digest?: number };
              process.send?.({ type: 'status', node: id, appliedUpTo: st.appliedUpTo, digest: st.digest, net: net.stats() });
            },
            (e: unknown) => process.send?.({ type: 'error', of: 'status', message: (e as Error).message }),
          );
          return;
        } else return;
        process.send?.({ type: 'ok', of: msg.type });
      } catch (e) {
        process.send?.({ type: 'error', of: msg?.type, message: (e as Error).message });
      }
    };
    if (process.send) {
      process.on('message', onMessage);
      process.send({ type: 'ready', node: id, port: member.port });
    }
    return new Promise<number>((resolve) => {
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        stdout(`synod node ${id}: ${signal}, stopping\n`);
        process.off('message', onMessage);
        member.shutdown().then(
          () => {
            // The IPC channel (if any) would keep the process alive.
            if (process.connected) process.disconnect();
            resolve(EXIT.ok);
          },
          (e) => {
            stderr(`synod node ${id}: shutdown failed: ${(e as Error)?.message ?? String(e)}\n`);
            resolve(EXIT.failed);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      member.system.events.once('system:failed', ({ reason }) => {
        stderr(`synod node ${id}: failed: ${reason}\n`);
        stop('failure');
      });
    });
  },
};
