/**
 * `synod dashboard --members …`: the dashboard of a cluster of member processes (`synod node`),
 * seen from this process as a client. See network-source.ts.
 */
import { parseMember, protocolNames } from '@synod/replicated';
import { UsageError, oneOf, positiveNumber, type CommandContext } from '../command.js';
import { serveDashboard } from '../serve-dashboard.js';
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
  return serveDashboard(source, { stdout, stderr, port, durationMs, startFailure: 'could not connect to the cluster' });
}
