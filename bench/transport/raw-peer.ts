/**
 * The no-framework baseline: plain MessagePorts between two workers, the same message shape.
 * Roles: pong (echo), ping (timed round trips), source (posts messages), sink (counts them).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';

interface Job {
  role: 'pong' | 'ping' | 'source' | 'sink' | 'chunk-source';
  port: MessagePort;
}
const { role, port } = workerData as Job;
const control = parentPort!;

if (role === 'pong') {
  port.on('message', (m) => port.postMessage(m));
} else if (role === 'ping') {
  control.on('message', ({ count }: { count: number }) => {
    const rtts = new Float64Array(count);
    let i = 0;
    let t0 = 0;
    const msg = { type: 'accept', ballot: 7, slot: 0, value: 'v' };
    port.on('message', () => {
      rtts[i] = performance.now() - t0;
      if (++i === count) {
        port.removeAllListeners('message');
        control.postMessage({ rtts });
        return;
      }
      t0 = performance.now();
      msg.slot = i;
      port.postMessage(msg);
    });
    t0 = performance.now();
    port.postMessage(msg);
  });
} else if (role === 'chunk-source') {
  // Large values the plain way: each one cloned (copied) by postMessage.
  control.on('message', ({ count, size }: { count: number; size: number }) => {
    const value = new Uint8Array(size).fill(7);
    for (let i = 0; i < count; i++) port.postMessage({ type: 'chunk', seq: i, bytes: value.slice() });
  });
} else if (role === 'source') {
  control.on('message', ({ count, batch }: { count: number; batch: number }) => {
    if (batch <= 1) {
      for (let i = 0; i < count; i++) port.postMessage({ type: 'accept', ballot: 7, slot: i, value: 'v' });
    } else {
      for (let i = 0; i < count; i += batch) {
        const arr = [];
        for (let j = i; j < Math.min(count, i + batch); j++) arr.push({ type: 'accept', ballot: 7, slot: j, value: 'v' });
        port.postMessage(arr);
      }
    }
  });
} else {
  let expected = 0;
  let got = 0;
  control.on('message', ({ count }: { count: number }) => {
    expected = count;
    got = 0;
  });
  port.on('message', (m) => {
    got += Array.isArray(m) ? m.length : 1;
    if (got === expected) control.postMessage({ done: got });
  });
}
