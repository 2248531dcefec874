/**
 * `synod demo`: replicated state surviving crashes, in one command.
 *
 *     synod demo                      # 20 s, 5 replicas, file storage, a fault every 3 s
 *     synod demo --protocol raft      # the same on Raft
 *     synod demo --duration 5 --json  # the last line is the summary as JSON
 */
import { storageKinds, type StorageKind } from '@synod/actors';
import { DEMO_PROTOCOLS, type DemoProtocol } from '../demo/cluster.js';
import { EXIT, UsageError, oneOf, positiveNumber, type Command, type CommandContext } from '../command.js';
import { DemoSession } from '../demo/session.js';
import { MAX_DEMO_CLIENTS, MAX_DEMO_REPLICAS, defaultDemoOptions, tolerableFailures, type DemoOptions } from '../demo/options.js';
import { formatSummary, summarize } from '../demo/summary.js';
import { TerminalView, plural, seconds } from '../demo/view.js';
import { EXIT_UNKNOWN } from './check.js';

const DEFAULT_DURATION_S = 20;

/** Flags shared by `synod demo` and `synod dashboard`: the cluster and its workload. */
export const clusterFlags = {
  protocol: { type: 'string', value: 'PROTOCOL', description: `The replication protocol: ${DEMO_PROTOCOLS.join(' (default) or ')}.` },
  replicas: {
    type: 'string',
    value: 'N',
    description: `Replica nodes, one worker thread each (default ${defaultDemoOptions.replicas}; 1..${MAX_DEMO_REPLICAS}).`,
  },
  storage: {
    type: 'string',
    value: 'KIND',
    description: `Durable state: file (default; survives a process crash), shared (survives a worker crash), memory (not crash-safe).`,
  },
  dir: { type: 'string', value: 'DIR', description: 'Keep file storage in DIR (created if needed, kept afterwards) instead of a temporary folder.' },
  clients: { type: 'string', value: 'N', description: `Concurrent client sessions (default ${defaultDemoOptions.clients}; at most ${MAX_DEMO_CLIENTS}).` },
  'fault-every': { type: 'string', value: 'SECONDS', description: `Time between injected faults (default ${defaultDemoOptions.faultEveryMs / 1000}).` },
} as const satisfies Command['options'];

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Run a replicated map on worker threads under a client workload while workers are killed, then check the history.',
  usage: 'synod demo [options]',
  description: [
    'Starts a ReplicatedMap on one worker thread per replica (each runs a Multi-Paxos acceptor, a',
    'leader candidate and a replica, or with --protocol raft a Raft node and a replica), with its',
    'durable state in a fresh temporary folder. Client',
    'sessions run set, get, compare-and-set and delete on a few keys, each operation recorded.',
    'Every few seconds a replica node is hit: its worker thread is killed, or one of its actors',
    'throws; never so many at once that the others would not form a majority. Supervision restarts',
    'what crashed, from its durable state. At the end: commands committed, restarts, leader changes,',
    "and the linearizability checker's verdict on the recorded history.",
    'Exit status: 0 linearizable, 1 not linearizable (or the run failed), 2 bad options, 3 unknown.',
  ].join('\n'),
  positionals: false,
  options: {
    duration: { type: 'string', value: 'SECONDS', description: `How long the workload runs (default ${DEFAULT_DURATION_S}).` },
    ...clusterFlags,
    'no-faults': { type: 'boolean', description: 'Kill nothing: the workload alone.' },
    json: { type: 'boolean', description: 'Print the live view to stderr and the summary to stdout as one JSON object (its last line).' },
  },

  async run(ctx) {
    const options = demoOptions(ctx, ctx.values['no-faults'] !== true);
    const durationMs = positiveNumber(ctx.values, 'duration', DEFAULT_DURATION_S, false) * 1000;
    const json = ctx.values.json === true;
    return runDemo(options, durationMs, json, ctx);
  },
};

/** The demo's options from the flags; throws a UsageError naming a bad one. `faults`: whether to inject them. */
export function demoOptions({ values }: Pick<CommandContext, 'values'>, faults: boolean): DemoOptions {
  const protocol = oneOf<DemoProtocol>(values, 'protocol', DEMO_PROTOCOLS, false) ?? defaultDemoOptions.protocol;
  const replicas = positiveNumber(values, 'replicas', defaultDemoOptions.replicas);
  if (replicas > MAX_DEMO_REPLICAS) throw new UsageError(`--replicas must be at most ${MAX_DEMO_REPLICAS} (one worker thread each), got ${replicas}`);
  const clients = positiveNumber(values, 'clients', defaultDemoOptions.clients);
  if (clients > MAX_DEMO_CLIENTS) throw new UsageError(`--clients must be at most ${MAX_DEMO_CLIENTS}, got ${clients}`);
  const storage = oneOf<StorageKind>(values, 'storage', storageKinds, false) ?? defaultDemoOptions.storage;
  const dir = values.dir === undefined ? undefined : String(values.dir);
  if (dir !== undefined && dir.trim() === '') throw new UsageError('--dir must name a folder');
  if (dir !== undefined && storage !== 'file') throw new UsageError(`--dir is where file storage goes; with --storage ${storage} nothing is written there`);
  const faultEveryMs = positiveNumber(values, 'fault-every', defaultDemoOptions.faultEveryMs / 1000, false) * 1000;
  return { ...defaultDemoOptions, protocol, replicas, clients, storage, ...(dir !== undefined ? { dir } : {}), faults, faultEveryMs };
}

async function runDemo(options: DemoOptions, durationMs: number, json: boolean, { stdout, stderr }: CommandContext): Promise<number> {
  // With --json, stdout carries the JSON alone; the live view goes to stderr.
  const stream = json ? process.stderr : process.stdout;
  const viewOut = { write: json ? stderr : stdout, isTTY: stream.isTTY === true, columns: stream.columns };
  if (options.faults && tolerableFailures(options.replicas) === 0) {
    viewOut.write(
      `note: with ${options.replicas} replica${options.replicas === 1 ? '' : 's'} no node can fail and leave a majority: no faults are injected.\n`,
    );
  }
  if (options.faults && options.storage === 'memory') {
    const forgets = options.protocol === 'raft' ? 'a restarted Raft node forgets its term, vote and log' : 'a restarted acceptor forgets what it promised';
    viewOut.write(`warning: memory storage is not crash-safe: ${forgets}, so the checker may find violations.\n`);
  }
  viewOut.write(`starting ${options.replicas} replica workers (${options.protocol}, ${options.storage} storage)...\n`);
  let session: DemoSession;
  try {
    session = await DemoSession.start(options);
  } catch (e) {
    stderr(`synod demo: could not start the cluster: ${(e as Error).message}\n`);
    return EXIT.failed;
  }
  const faultText = !session.faults?.possible ? 'no faults' : `a fault every ${seconds(options.faultEveryMs)}`;
  const view = new TerminalView(viewOut, {
    header:
      `synod demo: ${plural(options.replicas, 'replica')} on ${options.protocol}, ${options.storage} storage${options.storage === 'file' ? ` in ${session.cluster.dir}` : ''}, ` +
      `${plural(options.clients, 'client')}, ${faultText}, ${seconds(durationMs)}`,
    durationMs,
    metrics: session.metrics,
    observer: session.observer,
    faults: session.faults,
  });

  // Ctrl-C ends the run early (with its summary); a second one leaves at once.
  let interrupted = false;
  let wake = () => {};
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    wake();
  };
  process.on('SIGINT', onSigint);
  try {
    view.start();
    session.startFaults();
    const started = Date.now();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, durationMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    await session.stopWorkload();
    const elapsedMs = Date.now() - started;
    view.stop();
    if (interrupted) viewOut.write('interrupted: stopping early.\n');
    viewOut.write('waiting for every replica to apply the same slots, then checking the history...\n');
    const settled = await session.settle();
    const result = session.check(options.checkTimeLimitMs);
    await session.shutdown();
    const summary = summarize(session, elapsedMs, settled, result);
    if (json) stdout(`${JSON.stringify(summary)}\n`);
    else stdout(formatSummary(summary));
    return result.verdict === 'linearizable' ? EXIT.ok : result.verdict === 'unknown' ? EXIT_UNKNOWN : EXIT.failed;
  } finally {
    process.off('SIGINT', onSigint);
    view.stop();
    await session.shutdown();
  }
}
