/**
 * `synod dashboard --members …`: the dashboard of a cluster of member processes (`synod node`),
 * seen from this process as a client. See network-source.ts.
 */
import { startDashboard } from '@synod/dashboard';
import { parseMember, protocolNames } from '@synod/replicated';
import { EXIT, UsageError, oneOf, positiveNumber, type CommandContext } from '../command.js';
import { seconds } from '../demo/view.js';
import { list, tlsFromFlags } from './flags.js';
import { NetworkDashboardSource, type NetworkSourceOptions } from './network-source.js';

/** Client sessions of `--load` unless `--clients` says otherwise: a light load. */
export const DEFAULT_LOAD_CLIENTS = 2;
/** Keys the `--load` workload spreads over. */
export const LOAD_KEYS = 8;

/** Flags of the in-process demo cluster that mean nothing for member processes. */
const DEMO_ONLY = ['replicas', 'storage', 'dir', 'faults', 'fault-every'] as const;

/** The network source's options from the flags; throws a UsageError naming a bad one. */
export function networkSourceOptions(values: CommandContext['values']): NetworkSourceOptions {
  for (const f of DEMO_ONLY) {
    if (values[f] !== undefined) throw new UsageError(`--${f} is about the in-process demo cluster; with --members the cluster is the processes listed`);
  }
  if (values.clients !== undefined && values.load !== true) throw new UsageError('--clients sets the sessions of --load; add --load to drive a workload');
  let members;
  try {
    members = list(values.members).map(parseMember);
  } catch (e) {
    throw new UsageError(`--members: ${(e as Error).message}`);
  }
  if (members.length === 0) throw new UsageError('--members lists every member: N@HOST:PORT,... (N = 1..n)');
  const protocol = oneOf(values, 'protocol', protocolNames(), false) ?? 'multipaxos';
  const clients = positiveNumber(values, 'clients', DEFAULT_LOAD_CLIENTS);
  return {
    members,
    clusterId: String(values['cluster-id'] ?? 'synod'),
    tls: tlsFromFlags(values),
    name: String(values.name ?? 'map'),
    protocol,
    load: values.load === true ? { clients, keys: LOAD_KEYS } : null,
  };
}

/** Connects to the members and serves the page until Ctrl-C (or `durationMs`). */
export async function runNetworkDashboard(
  { values, stdout, stderr }: Pick<CommandContext, 'values' | 'stdout' | 'stderr'>,
  port: number,
  durationMs: number | null,
): Promise<number> {
  const options = networkSourceOptions(values);
  let source: NetworkDashboardSource;
  try {
    source = new NetworkDashboardSource(options);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  stdout(`connecting to ${options.members.length} members of cluster ${JSON.stringify(options.clusterId)}...\n`);
  let dashboard: Awaited<ReturnType<typeof startDashboard>> | null = null;
  let finish = () => {};
  const ended = new Promise<void>((resolve) => {
    finish = resolve;
  });
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(130);
    finish();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    try {
      await source.start();
    } catch (e) {
      stderr(`synod dashboard: could not connect to the cluster: ${(e as Error).message}\n`);
      return EXIT.failed;
    }
    try {
      dashboard = await startDashboard({ source, port });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new UsageError(`port ${port} is in use; choose another with --port, or leave it out for a free one`);
      throw e;
    }
    stdout(`dashboard: ${dashboard.url}\n`);
    stdout(durationMs === null ? 'Press Ctrl-C to stop.\n' : `Stopping in ${seconds(durationMs)} (or on Ctrl-C).\n`);
    if (durationMs !== null) setTimeout(finish, durationMs).unref();
    await ended;
    stdout('stopping...\n');
    return EXIT.ok;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    stderr(`synod dashboard: ${(e as Error).message}\n`);
    return EXIT.failed;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await dashboard?.close();
    await source.stop().catch(() => {});
  }
}
