/**
 * The network transport between processes (here: two embedded systems of one process, over
 * 127.0.0.1): asks and per-pair order across the wire; handshakes that refuse another cluster, an
 * impostor member and mismatched codecs, saying why; garbage and oversized frames close only their
 * connection; a partition loses messages until it heals; a restarted peer is dialed again.
 */
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSystem, defineActor, type ActorRef, type LogRecord, type NetworkOptions } from '@synod/actors';

export const Echo = defineActor<null, { type: 'ping'; n: number }>({
  init: () => null,
  receive: (_s, m, ctx) => {
    ctx.reply({ type: 'pong', n: m.n });
  },
});

export const Recorder = defineActor<number[], { type: 'n'; n: number } | { type: 'get' }>({
  init: () => [],
  receive: (seen, m, ctx) => {
    if (m.type === 'n') seen.push(m.n);
    else ctx.reply(seen.slice());
    return seen;
  },
});

type Net = Omit<NetworkOptions, 'node'>;

async function system(node: number, network: Net, logs: LogRecord[] = [], askTimeoutMs?: number): Promise<ActorSystem> {
  return ActorSystem.start({
    mode: 'embedded',
    statsIntervalMs: 0,
    logLevel: 'info',
    logSink: (r) => logs.push(r),
    network: { node, ...network },
    ...(askTimeoutMs ? { askTimeoutMs } : {}),
  });
}

async function member(logs: LogRecord[] = [], port = 0): Promise<ActorSystem> {
  return system(1, { clusterId: 'c', listen: { host: '127.0.0.1', port }, peers: [], tls: 'insecure' }, logs);
}

async function client(port: number, o: Partial<Net> = {}, node = 2000): Promise<ActorSystem> {
  return system(node, { clusterId: 'c', peers: [{ node: 1, host: '127.0.0.1', port }], tls: 'insecure', ...o }, [], 300);
}

function up(s: ActorSystem, node = 1): Promise<void> {
  if (s.net!.stats().connected.includes(node)) return Promise.resolve();
  return new Promise((r) => s.net!.events.once('peer:up', () => r()));
}

const until = async (what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** Resolves when `fn` rejects with an error whose message matches `pattern`; fails otherwise. */
async function rejects(fn: () => Promise<unknown>, pattern: RegExp, message?: string): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.match(String((e as Error)?.message ?? e), pattern, message);
    return;
  }
  assert.unreachable(message ?? `expected a rejection matching ${pattern}`);
}

test("asks cross the network, and one sender's messages arrive in order", async () => {
  const a = await member();
  const b = await client(a.net!.port!);
  try {
    const echo = await a.spawn(Echo, { name: 'echo' });
    const rec = await a.spawn(Recorder, { name: 'rec' });
    await up(b);
    const remoteEcho: ActorRef<any> = { name: 'echo', node: 1, id: echo.id };
    assert.equal(await b.ask(remoteEcho, { type: 'ping', n: 7 }), { type: 'pong', n: 7 });
    const remoteRec: ActorRef<any> = { name: 'rec', node: 1, id: rec.id };
    for (let i = 0; i < 5000; i++) b.send(remoteRec, { type: 'n', n: i });
    let seen: number[] = [];
    for (let i = 0; i < 500 && seen.length < 5000; i++) {
      seen = (await b.ask(remoteRec, { type: 'get' })) as number[];
      if (seen.length < 5000) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(
      seen,
      Array.from({ length: 5000 }, (_, i) => i),
    );
  } finally {
    await b.shutdown();
    await a.shutdown();
  }
});

test('another cluster, an impostor member and other codecs are refused, and told why', async () => {
  const logs: LogRecord[] = [];
  const a = await member(logs);
  const port = a.net!.port!;
  const refusedWith = async (b: ActorSystem, pattern: RegExp): Promise<void> => {
    await until('the refusal', () => b.net!.lastRefusal.has(1));
    assert.match(b.net!.lastRefusal.get(1)!, pattern);
    assert.equal(b.net!.stats().connected, []);
    await b.shutdown();
  };
  await refusedWith(await client(port, { clusterId: 'other' }), /wrong cluster id "other"/);
  // A member not listed is refused.
  const five = await system(5, { clusterId: 'c', listen: { host: '127.0.0.1', port: 0 }, peers: [], tls: 'insecure' });
  const impostor = await system(2, { clusterId: 'c', peers: [{ node: 5, host: '127.0.0.1', port: five.net!.port! }], tls: 'insecure' });
  await until('the refusal', () => impostor.net!.lastRefusal.has(5));
  assert.match(impostor.net!.lastRefusal.get(5)!, /node 2 is not a member/);
  await impostor.shutdown();
  await five.shutdown();
  await refusedWith(await client(port, { layout: 'raft/map/3' }), /codecs or the cluster's layout/);
  assert.ok(
    logs.some((l) => /wrong cluster id/.test(l.message)),
    'the member logs what it refused',
  );
  await a.shutdown();
});

test('garbage, an oversized frame and a silent connection close only themselves', async () => {
  const logs: LogRecord[] = [];
  const a = await system(1, { clusterId: 'c', listen: { host: '127.0.0.1', port: 0 }, peers: [], tls: 'insecure', handshakeTimeoutMs: 300 }, logs);
  const port = a.net!.port!;
  const raw = async (bytes: Buffer | null): Promise<void> => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.resume(); // read (and drop) what comes back, so the close is seen
    await new Promise((r) => s.once('connect', r));
    if (bytes) s.write(bytes);
    await new Promise((r) => s.once('close', r));
  };
  try {
    await raw(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    const huge = Buffer.alloc(8);
    huge.writeUInt32LE(1 << 30, 0);
    huge[4] = 1;
    await raw(huge);
    await raw(null);
    assert.ok(
      logs.some((l) => /over the limit/.test(l.message)),
      'an oversized frame is refused by name',
    );
    assert.ok(
      logs.some((l) => /no handshake within 300 ms/.test(l.message)),
      'a silent connection is closed after handshakeTimeoutMs',
    );
    const b = await client(port);
    const echo = await a.spawn(Echo, { name: 'echo' });
    await up(b);
    assert.equal(await b.ask({ name: 'echo', node: 1, id: echo.id } as ActorRef<any>, { type: 'ping', n: 1 }), { type: 'pong', n: 1 }, 'the node still serves');
    await b.shutdown();
  } finally {
    await a.shutdown();
  }
});

test('a partition loses messages until it heals; a restarted member is dialed again', async () => {
  const a = await member();
  const port = a.net!.port!;
  const b = await client(port, { minReconnectDelayMs: 20, maxReconnectDelayMs: 100 });
  let a2: ActorSystem | null = null;
  try {
    const echo = await a.spawn(Echo, { name: 'echo' });
    const ref: ActorRef<any> = { name: 'echo', node: 1, id: echo.id };
    await up(b);
    b.net!.partition([1]);
    await rejects(() => b.ask(ref, { type: 'ping', n: 1 }, { timeoutMs: 300 }), /timed out|no answer|within/);
    b.net!.heal();
    assert.equal(await b.ask(ref, { type: 'ping', n: 2 }), { type: 'pong', n: 2 });
    await a.shutdown();
    await until('the client saw the member go', () => !b.net!.stats().connected.includes(1));
    a2 = await member([], port);
    const echo2 = await a2.spawn(Echo, { name: 'echo' });
    await up(b);
    assert.equal(await b.ask({ ...ref, id: echo2.id }, { type: 'ping', n: 3 }), { type: 'pong', n: 3 });
  } finally {
    await b.shutdown();
    await a2?.shutdown();
    await a.shutdown();
  }
});

test('a one-way cut loses one direction only; dropped and delayed frames are what the faults say', async () => {
  const a = await member();
  const b = await client(a.net!.port!);
  try {
    const rec = await a.spawn(Recorder, { name: 'rec' });
    const remote: ActorRef<any> = { name: 'rec', node: 1, id: rec.id };
    await up(b);
    const seen = async (): Promise<number[]> => (await b.ask(remote, { type: 'get' })) as number[];
    // Cut a's side towards b: b's messages still reach a, a's answers do not.
    a.net!.setFaults({ blockedOut: [2000] });
    b.send(remote, { type: 'n', n: 1 });
    await rejects(() => seen(), /timed out|within/, 'the answer is lost');
    a.net!.heal();
    assert.equal(await seen(), [1], 'the message that crossed the cut was delivered');
    b.net!.setFaults({ dropRate: 1 });
    b.send(remote, { type: 'n', n: 2 });
    await new Promise((r) => setImmediate(r)); // faults act on the wire: let the frame leave first
    b.net!.setFaults({ dropRate: 0, delayMs: 50 });
    const t0 = Date.now();
    b.send(remote, { type: 'n', n: 3 });
    assert.equal(await seen(), [1, 3], 'a dropped frame is lost; a delayed one arrives, in order');
    assert.ok(Date.now() - t0 >= 50, 'the delay was applied');
    assert.throws(() => b.net!.setFaults({ dropRate: 2 }), /dropRate/);
  } finally {
    await b.shutdown();
    await a.shutdown();
  }
});

test('network options are checked where they enter', async () => {
  await rejects(() => ActorSystem.start({ mode: 'workers', network: { node: 1, clusterId: 'c', peers: [], tls: 'insecure' } }), /mode 'embedded'/);
  await rejects(() => ActorSystem.start({ mode: 'embedded', network: { node: 0, clusterId: 'c', peers: [], tls: 'insecure' } }), /network.node/);
  await rejects(() => ActorSystem.start({ mode: 'embedded', network: { node: 1, clusterId: 'c', peers: [], tls: {} as never } }), /network.tls/);
  await rejects(
    () => ActorSystem.start({ mode: 'embedded', network: { node: 1, clusterId: 'c', peers: [{ node: 1, host: 'h', port: 1 }], tls: 'insecure' } }),
    /itself/,
  );
});

test.run();
