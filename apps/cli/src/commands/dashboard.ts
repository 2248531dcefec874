/**
 * `synod dashboard`: a demo cluster behind a live web page.
 *
 *     synod dashboard              # prints http://127.0.0.1:<free port>/ and runs until Ctrl-C
 *     synod dashboard --port 8080 --faults
 *     synod dashboard --protocol raft
 *     synod dashboard --members 1@10.0.0.1:7401,2@10.0.0.2:7401,3@10.0.0.3:7401 --cluster-id prod \
 *       --tls-ca ca.pem --tls-cert client-0.pem --tls-key client-0-key.pem [--load]
 */
import { EXIT, UsageError, positiveNumber, type Command } from '../command.js';
import { DemoDashboardSource } from '../demo/dashboard-source.js';
import { DemoSession } from '../demo/session.js';
import { dashboardTitle } from '../demo/view.js';
import { serveDashboard } from '../serve-dashboard.js';
import { tlsFlags } from '../net/flags.js';
import { runNetworkDashboard } from '../net/network-dashboard.js';
import { clusterFlags, demoOptions } from './demo.js';

export const dashboardCommand: Command = {
  name: 'dashboard',
  summary:
    'Run a demo cluster (or connect to synod node processes) and show it live in a web page: actors, Paxos state, messages, throughput; kill, partition, heal.',
  usage: 'synod dashboard [options]   |   synod dashboard --members N@HOST:PORT,... (--tls-ca F --tls-cert F --tls-key F | --insecure) [options]',
  description: [
    'Starts the same cluster and client workload as `synod demo` and serves a page on this machine',
    '(127.0.0.1): every worker and its actors with their protocol state (promised and accepted ballots,',
    'the leader, applied slots; or with --protocol raft terms, logs and commit indexes), every message sent during 5 ms once a second as a sequence diagram,',
    'commands per second and latency, restarts and dead letters as they happen, and buttons that kill',
    'a worker, partition a replica node, and heal. Runs until Ctrl-C (or --duration).',
    '',
    'With --members, it shows a cluster of `synod node` processes instead, as a client of it: every',
    "member's leader candidate, applied index and digest, connections and traffic, read from its status",
    'actor twice a second (a member that does not answer is shown down). Partition and heal are sent to',
    'the members, which carry them out only if started with --allow-remote-faults; a member process',
    'cannot be killed from the page. --load also drives a light client workload and charts it.',
  ].join('\n'),
  positionals: false,
  options: {
    port: { type: 'string', value: 'PORT', description: 'TCP port on 127.0.0.1 (default: a free one; the URL is printed).' },
    ...clusterFlags,
    faults: { type: 'boolean', description: 'Also inject faults by themselves, as `synod demo` does (default: only the buttons).' },
    duration: { type: 'string', value: 'SECONDS', description: 'Stop after this long (default: run until Ctrl-C).' },
    members: { type: 'string', multiple: true, value: 'N@HOST:PORT,...', description: 'Show these member processes (synod node) instead of a demo cluster.' },
    'cluster-id': { type: 'string', value: 'ID', description: "With --members: the cluster's id (default synod)." },
    name: { type: 'string', value: 'NAME', description: 'With --members: prefix of actor names, as given to synod node (default map).' },
    ...tlsFlags("With --members: this client's"),
    load: { type: 'boolean', description: 'With --members: also drive a light client workload (--clients sessions, default 2).' },
  },

  async run({ values, stdout, stderr }) {
    let port = 0;
    if (values.port !== undefined) {
      const raw = String(values.port);
      port = Number(raw);
      if (!/^\d+$/.test(raw) || port > 65535) throw new UsageError(`--port must be a whole number within 0..65535 (0: a free one), got '${raw}'`);
    }
    const durationMs = values.duration === undefined ? null : positiveNumber(values, 'duration', 1, false) * 1000;
    if (values.members !== undefined) return runNetworkDashboard({ values, stdout, stderr }, port, durationMs);
    for (const f of ['cluster-id', 'name', 'tls-ca', 'tls-cert', 'tls-key', 'insecure', 'load'] as const) {
      if (values[f] !== undefined) throw new UsageError(`--${f} is about member processes: give --members too`);
    }
    // Open for as long as one likes: nothing is recorded for a check (the history would only grow).
    const options = { ...demoOptions({ values }, values.faults === true), maxRecorded: 0 };

    stdout(`starting ${options.replicas} replica workers (${options.protocol}, ${options.storage} storage)...\n`);
    let session: DemoSession;
    try {
      session = await DemoSession.start(options);
    } catch (e) {
      stderr(`synod dashboard: could not start the cluster: ${(e as Error).message}\n`);
      return EXIT.failed;
    }
    const title = dashboardTitle(options, session.faults?.possible ? options.faultEveryMs : null);
    const source = new DemoDashboardSource(session, title);
    try {
      return await serveDashboard(source, { stdout, stderr, port, durationMs, serving: () => session.startFaults() });
    } finally {
      await session.shutdown();
    }
  },
};
