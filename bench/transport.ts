/**
 * pnpm bench:transport — what the actor runtime adds on top of raw MessagePorts.
 *
 * Measured side by side in each run (RUNS, default 5):
 *  - raw MessagePort ping-pong between two workers (round trip, p50) and one-way throughput,
 *    unbatched (one postMessage per message) and batched (arrays of BATCH);
 *  - the same through Synod actors in two workers (binary codec for the hot message), on the
 *    shared-memory rings (`actors.workers.*`, the default transport) and on the MessagePort
 *    transport they replaced (`actors.ports.*`: the "before" of the same workloads);
 *  - large values (64 KiB Uint8Arrays) one way: raw postMessage (a clone per message), actors on
 *    rings (through the shared arenas), actors on ports;
 *  - one-way through embedded actors (one thread, no workers).
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { ActorSystem } from '@synod/actors';
import { benchEnv, sized } from './lib/env.js';
import { Results, median } from './lib/results.js';
import { ChunkRelay, ChunkSink, ChunkSource, Ping, Pong, Sink, Source, chunkCodecs, transportCodecs } from './transport/actors.js';

const env = benchEnv();
const RUNS = env.runs;
const PINGS = Number(process.env.PINGS ?? sized(5_000, 500));
const ONEWAY = Number(process.env.ONEWAY ?? sized(2_000_000, 100_000));
const EMBEDDED = Number(process.env.EMBEDDED ?? sized(10_000_000, 500_000));
const BATCH = 1_000;
/** Large values: CHUNKS of CHUNK_BYTES each, one way. */
const CHUNK_BYTES = 64 * 1024;
const CHUNKS = Number(process.env.CHUNKS ?? sized(4_000, 400));
type TransportKind = 'rings' | 'ports';
/** Flow control of the actor source: messages in flight, sends per turn, acknowledgement period. */
const FLOW = {
  workers: { window: 200_000, chunk: 8_192, ackEvery: 16_384 },
  // On one thread a big window only fills the sink's mailbox (and the old generation of the heap).
  embedded: { window: 1_024, chunk: 128, ackEvery: 256 },
};

const peerUrl = new URL('./transport/raw-peer.js', import.meta.url);

function rawPair(roleA: string, roleB: string) {
  const { port1, port2 } = new MessageChannel();
  const a = new Worker(peerUrl, { workerData: { role: roleA, port: port1 }, transferList: [port1] });
  const b = new Worker(peerUrl, { workerData: { role: roleB, port: port2 }, transferList: [port2] });
  return {
    a,
    b,
    close: async () => {
      await a.terminate();
      await b.terminate();
    },
  };
}

function once<T>(w: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
}

async function rawPingPong(): Promise<number> {
  const { a, close } = rawPair('ping', 'pong');
  await new Promise((r) => setTimeout(r, 50));
  a.postMessage({ count: PINGS });
  const { rtts } = await once<{ rtts: Float64Array }>(a);
  await close();
  return median([...rtts].slice(PINGS / 10)) * 1000; // us, skipping warm-up
}

async function rawOneWay(batch: number): Promise<number> {
  const { a, b, close } = rawPair('source', 'sink');
  await new Promise((r) => setTimeout(r, 50));
  b.postMessage({ count: ONEWAY });
  await new Promise((r) => setTimeout(r, 20));
  const t0 = performance.now();
  const done = once(b);
  a.postMessage({ count: ONEWAY, batch });
  await done;
  const s = (performance.now() - t0) / 1000;
  await close();
  return ONEWAY / s;
}

async function rawChunks(): Promise<number> {
  const { a, b, close } = rawPair('chunk-source', 'sink');
  await new Promise((r) => setTimeout(r, 50));
  b.postMessage({ count: CHUNKS });
  await new Promise((r) => setTimeout(r, 20));
  const t0 = performance.now();
  const done = once(b);
  a.postMessage({ count: CHUNKS, size: CHUNK_BYTES });
  await done;
  const s = (performance.now() - t0) / 1000;
  await close();
  return (CHUNKS * CHUNK_BYTES) / s / 1e6;
}

/** 64 KiB values one way, directly (1 hop) or through a relay actor in a third worker (2 hops). */
async function actorChunks(transport: TransportKind, hops: 1 | 2 = 1): Promise<number> {
  const sys = await ActorSystem.start({ mode: 'workers', transport, statsIntervalMs: 0, codecs: [chunkCodecs] });
  try {
    const sink = await sys.spawn(ChunkSink, { name: 'sink' });
    const source = await sys.spawn(ChunkSource, { name: 'source' });
    let first: typeof sink = sink;
    if (hops === 2) {
      const relay = await sys.spawn(ChunkRelay, { name: 'relay' });
      await sys.ask(relay, { type: 'route', to: sink, back: source });
      first = relay as typeof sink;
    }
    await sys.ask(sink, { type: 'expect', total: CHUNKS, ackEvery: 64 });
    const t0 = performance.now();
    await sys.ask(source, { type: 'run', sink: first, count: CHUNKS, size: CHUNK_BYTES, window: 256 }, { timeoutMs: 120_000 });
    return (CHUNKS * CHUNK_BYTES) / ((performance.now() - t0) / 1000) / 1e6;
  } finally {
    await sys.shutdown();
  }
}

async function actorPingPong(transport: TransportKind): Promise<number> {
  const sys = await ActorSystem.start({ mode: 'workers', transport, statsIntervalMs: 0, codecs: [transportCodecs] });
  try {
    const pong = await sys.spawn(Pong, { name: 'pong' });
    const ping = await sys.spawn(Ping, { name: 'ping' });
    const rtts = await sys.ask<number[]>(ping, { type: 'run', peer: pong, count: PINGS }, { timeoutMs: 60_000 });
    return median(rtts.slice(PINGS / 10));
  } finally {
    await sys.shutdown();
  }
}

async function actorOneWay(mode: 'workers' | 'embedded', count: number, transport: TransportKind = 'rings'): Promise<number> {
  const sys = await ActorSystem.start({ mode, transport, statsIntervalMs: 0, codecs: [transportCodecs], mailboxCapacity: 1 << 20 });
  try {
    const sink = await sys.spawn(Sink, { name: 'sink' });
    const source = await sys.spawn(Source, { name: 'source' });
    const { window, chunk, ackEvery } = FLOW[mode];
    await sys.ask(sink, { type: 'expect', total: count, ackEvery });
    const t0 = performance.now();
    await sys.ask(source, { type: 'run', sink, count, window, chunk }, { timeoutMs: 120_000 });
    return count / ((performance.now() - t0) / 1000);
  } finally {
    await sys.shutdown();
  }
}

const results = new Results('transport', {
  messages: '{type:"accept", ballot, slot, value:"v"} (binary codec between actor workers; structured clone for raw)',
  'ping-pong': `${PINGS} round trips, p50 of all but the first 10%`,
  'one-way': `${ONEWAY} messages between two workers; raw batched in arrays of ${BATCH}; actors: window ${FLOW.workers.window}, ${FLOW.workers.chunk} sends per turn, ack every ${FLOW.workers.ackEvery}`,
  embedded: `${EMBEDDED} messages between two actors on one thread; window ${FLOW.embedded.window}, ${FLOW.embedded.chunk} sends per turn, ack every ${FLOW.embedded.ackEvery}`,
  'large values': `${CHUNKS} values of ${CHUNK_BYTES} bytes one way (a fresh Uint8Array each); actors: 256 in flight, ack every 64; relay: the same through an actor in a third worker that passes each message on`,
  transports: 'actors.workers.*: shared-memory rings (the default); actors.ports.*: the MessagePort transport (before)',
  defaults: 'message validation on, mailbox capacity 2^20, storage memory',
  runs: RUNS,
});

// Scaling mode (pnpm bench pins the process to 1, 2, … cores): one-way throughput only, once.
if (env.scaling) {
  results.add('raw.oneway.batched.msgs_per_s', 'msgs/s', await rawOneWay(BATCH));
  results.add('actors.workers.oneway.msgs_per_s', 'msgs/s', await actorOneWay('workers', ONEWAY));
} else {
  for (let run = 1; run <= RUNS; run++) {
    const rawRtt = await rawPingPong();
    const rawUnbatched = await rawOneWay(1);
    const rawBatched = await rawOneWay(BATCH);
    const actRtt = await actorPingPong('rings');
    const portRtt = await actorPingPong('ports');
    const actOneWay = await actorOneWay('workers', ONEWAY, 'rings');
    const portOneWay = await actorOneWay('workers', ONEWAY, 'ports');
    const embOneWay = await actorOneWay('embedded', EMBEDDED);
    const rawBig = await rawChunks();
    const actBig = await actorChunks('rings');
    const portBig = await actorChunks('ports');
    const actBig2 = await actorChunks('rings', 2);
    const portBig2 = await actorChunks('ports', 2);
    results.add('raw.pingpong.rtt_us_p50', 'us', rawRtt);
    results.add('raw.oneway.unbatched.msgs_per_s', 'msgs/s', rawUnbatched);
    results.add('raw.oneway.batched.msgs_per_s', 'msgs/s', rawBatched);
    results.add(`raw.oneway.size${CHUNK_BYTES}.mb_per_s`, 'MB/s', rawBig);
    results.add('actors.workers.pingpong.rtt_us_p50', 'us', actRtt);
    results.add('actors.workers.oneway.msgs_per_s', 'msgs/s', actOneWay);
    results.add(`actors.workers.oneway.size${CHUNK_BYTES}.mb_per_s`, 'MB/s', actBig);
    results.add('actors.ports.pingpong.rtt_us_p50', 'us', portRtt);
    results.add('actors.ports.oneway.msgs_per_s', 'msgs/s', portOneWay);
    results.add(`actors.ports.oneway.size${CHUNK_BYTES}.mb_per_s`, 'MB/s', portBig);
    results.add(`actors.workers.relay.size${CHUNK_BYTES}.mb_per_s`, 'MB/s', actBig2);
    results.add(`actors.ports.relay.size${CHUNK_BYTES}.mb_per_s`, 'MB/s', portBig2);
    results.add('actors.embedded.oneway.msgs_per_s', 'msgs/s', embOneWay);
    results.addRatio('actors_vs_raw.pingpong_rtt', actRtt / rawRtt);
    results.addRatio('actors_vs_raw.oneway_throughput', actOneWay / rawUnbatched);
    results.addRatio(`actors_vs_raw.size${CHUNK_BYTES}_throughput`, actBig / rawBig);
    results.addRatio('ports_vs_raw.pingpong_rtt', portRtt / rawRtt);
    results.addRatio('ports_vs_raw.oneway_throughput', portOneWay / rawUnbatched);
    results.addRatio('workers_vs_ports.pingpong_rtt', actRtt / portRtt);
    results.addRatio(`workers_vs_ports.size${CHUNK_BYTES}_throughput`, actBig / portBig);
    results.addRatio(`workers_vs_ports.relay_size${CHUNK_BYTES}_throughput`, actBig2 / portBig2);
    console.log(
      `run ${run}/${RUNS}: rtt raw ${rawRtt.toFixed(1)} us, rings ${actRtt.toFixed(1)} us, ports ${portRtt.toFixed(1)} us; ` +
        `one-way raw ${(rawUnbatched / 1e6).toFixed(2)} M/s, raw batched ${(rawBatched / 1e6).toFixed(2)} M/s, ` +
        `rings ${(actOneWay / 1e6).toFixed(2)} M/s, ports ${(portOneWay / 1e6).toFixed(2)} M/s, embedded ${(embOneWay / 1e6).toFixed(2)} M/s; ` +
        `64 KiB values raw ${rawBig.toFixed(0)} MB/s, rings ${actBig.toFixed(0)} MB/s, ports ${portBig.toFixed(0)} MB/s; ` +
        `through a relay rings ${actBig2.toFixed(0)} MB/s, ports ${portBig2.toFixed(0)} MB/s`,
    );
  }
}
results.write();
