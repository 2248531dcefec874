/**
 * pnpm bench:synod — full Synod rounds (phase 1 and phase 2, learned by a learner) per second.
 *
 * Topology, the same for every mode: a client node (the load generator, one proposer, one
 * learner and acceptor 0 — the seed's 6.1: a node may play every role) and one node per other
 * acceptor. `workers`: one worker thread per node on the shared-memory rings, the Synod carrying
 * many instances per message (the design now). `ports`: the same on the MessagePort transport;
 * `ports_unbatched`: MessagePorts and one instance per message (`maxBatchMessages` 1), the
 * design before: the same workloads before and after, in one run (3 acceptors). `embedded`: the
 * same actors on the calling thread (the in-thread ceiling). `bare`: the same message pattern
 * written by hand between plain worker threads with binary batched messages (the baseline).
 * Storage `memory` (no disk in the round; `bench:persist` measures storage).
 *
 * Cells: instances in flight 1, 16, 64, 256; acceptors 3, 5, 7. With one instance in flight,
 * the round's latency distribution; and in the same run the raw MessagePort ping-pong, since a
 * round is two round trips.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { ActorSystem } from '@synod/actors';
import { createSynod, synodCodecs } from '@synod/paxos';
import { benchEnv, progress, sized } from './lib/env.js';
import { LatencyRecorder } from './lib/latency.js';
import { Results, median } from './lib/results.js';
import { rawPingPong } from './lib/raw-pingpong.js';
import { Driver, type DriverResult } from './synod/driver.js';

const env = benchEnv();
const ACCEPTORS = env.scaling ? [3] : env.quick ? [3, 5] : [3, 5, 7];
const INFLIGHT = env.scaling ? [256] : env.quick ? [1, 64, 256] : [1, 16, 64, 256];
const WARMUP_MS = sized(200, 60);
const MEASURE_MS = sized(700, 150);
const PINGS = sized(4_000, 800);
type Mode = 'workers' | 'embedded' | 'ports' | 'ports_unbatched';
const MODES: readonly Mode[] = env.scaling ? ['workers'] : ['workers', 'embedded'];
/** The design before (MessagePorts; and one instance per message), measured with 3 acceptors only. */
const BEFORE: readonly Mode[] = env.scaling ? [] : ['ports', 'ports_unbatched'];

const results = new Results('synod', {
  topology: 'client node (load generator, proposer, learner, acceptor 0) + one node per other acceptor; workers: a worker thread per node',
  modes:
    'workers (actors in worker threads, shared-memory rings, many instances per message), ports (the same on MessagePorts), ports_unbatched (MessagePorts, one instance per message: before), embedded (actors on one thread), bare (same message pattern, plain workers, binary batched, no framework)',
  acceptors: ACCEPTORS.join(', '),
  'instances in flight': INFLIGHT.join(', '),
  measurement: `${WARMUP_MS} ms warm-up, then ${MEASURE_MS} ms counted, per cell`,
  storage: 'memory',
  runs: env.runs,
});

/** One cell's rounds per second, and its round latency distribution `withLatency` (one in flight). */
function recordCell(
  name: string,
  r: { rounds: number; ms: number; latenciesUs: number[] },
  withLatency: boolean,
  run: Record<string, number>,
  lat: LatencyRecorder,
): void {
  run[`${name}.rounds_per_s`] = (r.rounds / r.ms) * 1000;
  results.add(`${name}.rounds_per_s`, 'rounds/s', run[`${name}.rounds_per_s`]!);
  if (withLatency) {
    lat.reset();
    lat.recordAll(r.latenciesUs);
    lat.addTo(results, `${name}.round_us`);
  }
}

async function actorCells(mode: Mode, acceptors: number, run: Record<string, number>, lat: LatencyRecorder): Promise<void> {
  const system = await ActorSystem.start({
    mode: mode === 'embedded' ? 'embedded' : 'workers',
    transport: mode === 'workers' ? 'rings' : 'ports',
    codecs: [synodCodecs],
    statsIntervalMs: 0,
    logLevel: 'warn',
    mailboxCapacity: 1 << 16,
  });
  const maxBatchMessages = mode === 'ports_unbatched' ? 1 : undefined;
  const synod = await createSynod({
    system,
    acceptors,
    proposers: 1,
    learners: 1,
    storage: 'memory',
    placement: (_role, i) => (i === 0 ? 'client' : `acceptor-node-${i}`),
    proposer: { maxInFlight: 1024 },
    maxBatchMessages,
  });
  try {
    const driver = await system.spawn(Driver, { name: 'driver', worker: 'client' });
    let first = 0;
    for (const inflight of INFLIGHT) {
      const r = await system.ask<DriverResult>(
        driver,
        {
          type: 'run',
          proposer: synod.proposers[0]!,
          learner: synod.learners[0]!,
          acceptors: synod.acceptors,
          inflight,
          firstInstance: first,
          warmupMs: WARMUP_MS,
          measureMs: MEASURE_MS,
          latencies: inflight === 1,
          batch: maxBatchMessages !== 1,
        },
        { timeoutMs: 60_000 },
      );
      first = r.nextInstance;
      const name = `${mode}.a${acceptors}.inflight${inflight}`;
      recordCell(name, r, inflight === 1, run, lat);
      if (inflight === 1) run[`${name}.round_us_p50`] = median(r.latenciesUs);
    }
  } finally {
    await system.shutdown();
  }
}

const bareUrl = new URL('./synod/bare-node.js', import.meta.url);

async function bareCells(acceptors: number, run: Record<string, number>, lat: LatencyRecorder): Promise<void> {
  const clientPorts: MessagePort[] = [];
  const workers: Worker[] = [];
  for (let i = 1; i < acceptors; i++) {
    const { port1, port2 } = new MessageChannel();
    clientPorts.push(port1);
    workers.push(new Worker(bareUrl, { workerData: { role: 'acceptor', index: i, acceptors, ports: [port2] }, transferList: [port2] }));
  }
  const client = new Worker(bareUrl, { workerData: { role: 'client', index: 0, acceptors, ports: clientPorts }, transferList: clientPorts });
  workers.push(client);
  try {
    for (const inflight of INFLIGHT) {
      client.postMessage({ inflight, warmupMs: WARMUP_MS, measureMs: MEASURE_MS, latencies: inflight === 1 });
      const r = await new Promise<{ rounds: number; ms: number; latenciesUs: number[] }>((res, rej) => {
        client.once('message', res);
        client.once('error', rej);
      });
      recordCell(`bare.a${acceptors}.inflight${inflight}`, r, inflight === 1, run, lat);
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

const lat = new LatencyRecorder();
for (let k = 1; k <= env.runs; k++) {
  const run: Record<string, number> = {};
  const rtt = env.scaling ? 0 : await rawPingPong(PINGS);
  if (!env.scaling) results.add('raw.pingpong.rtt_us_p50', 'us', rtt);
  for (const a of ACCEPTORS) {
    for (const mode of MODES) await actorCells(mode, a, run, lat);
    if (a === 3) for (const mode of BEFORE) await actorCells(mode, a, run, lat);
    if (!env.scaling) await bareCells(a, run, lat);
  }
  if (!env.scaling) {
    results.addRatio('inflight1_round_vs_two_raw_rtt', run['workers.a3.inflight1.round_us_p50']! / (2 * rtt));
    results.addRatio('before_inflight1_round_vs_two_raw_rtt', run['ports_unbatched.a3.inflight1.round_us_p50']! / (2 * rtt));
    for (const a of ACCEPTORS) {
      for (const n of INFLIGHT) {
        const cell = `a${a}.inflight${n}`;
        const w = run[`workers.${cell}.rounds_per_s`];
        if (w === undefined) continue;
        results.addRatio(`workers_vs_bare.${cell}`, w / run[`bare.${cell}.rounds_per_s`]!);
        results.addRatio(`workers_vs_embedded.${cell}`, w / run[`embedded.${cell}.rounds_per_s`]!);
        const before = run[`ports_unbatched.${cell}.rounds_per_s`];
        if (before !== undefined) {
          results.addRatio(`workers_vs_ports.${cell}`, w / run[`ports.${cell}.rounds_per_s`]!);
          results.addRatio(`workers_vs_before.${cell}`, w / before);
        }
      }
    }
  }
  const w64 = run['workers.a3.inflight64.rounds_per_s'];
  progress(
    k,
    env.runs,
    `workers a3/64: ${((w64 ?? run['workers.a3.inflight256.rounds_per_s']!) / 1000).toFixed(1)} k rounds/s` +
      (env.scaling
        ? ''
        : `, embedded a3/64: ${(run['embedded.a3.inflight64.rounds_per_s']! / 1000).toFixed(1)} k, bare a3/64: ${(run['bare.a3.inflight64.rounds_per_s']! / 1000).toFixed(1)} k, ` +
          `before (ports, unbatched) a3/64: ${(run['ports_unbatched.a3.inflight64.rounds_per_s']! / 1000).toFixed(1)} k, ports a3/64: ${(run['ports.a3.inflight64.rounds_per_s']! / 1000).toFixed(1)} k, ` +
          `a3/1 round p50 ${run['workers.a3.inflight1.round_us_p50']!.toFixed(0)} us vs raw rtt ${rtt.toFixed(0)} us`),
  );
}
results.write();
