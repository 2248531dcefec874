/**
 * The raw baseline the latency figures are compared with: ping-pong over a plain MessagePort
 * between two fresh worker threads (bench/transport/raw-peer.ts), p50 round trip in microseconds
 * after dropping the first tenth as warm-up.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { median } from './results.js';

const rawUrl = new URL('../transport/raw-peer.js', import.meta.url);

export async function rawPingPong(pings: number): Promise<number> {
  const { port1, port2 } = new MessageChannel();
  const a = new Worker(rawUrl, { workerData: { role: 'ping', port: port1 }, transferList: [port1] });
  const b = new Worker(rawUrl, { workerData: { role: 'pong', port: port2 }, transferList: [port2] });
  try {
    await new Promise((r) => setTimeout(r, 30));
    a.postMessage({ count: pings });
    const { rtts } = await new Promise<{ rtts: Float64Array }>((res) => a.once('message', res));
    return median([...rtts].slice(Math.floor(pings / 10))) * 1000;
  } finally {
    await a.terminate();
    await b.terminate();
  }
}
