/**
 * The bare baseline of the Synod benchmark: the same message pattern as the actors' Synod, by
 * hand, between plain worker threads, with binary batched messages (one Float64Array per
 * destination per incoming batch) and no framework at all: no mailboxes, no turns, no codecs, no
 * supervision, no persistence. Thread 0 is the client node (client, proposer, learner and
 * acceptor 0, as in the actors' topology); threads 1.. are the other acceptors.
 *
 * Records are 6 float64: [type, instance, ballot, acceptor, acceptedBallot|value, acceptedValue].
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';

const PREPARE = 1,
  PROMISE = 2,
  ACCEPT = 3,
  ACCEPTED = 4;
const REC = 6;

interface Boot {
  role: 'client' | 'acceptor';
  index: number;
  acceptors: number;
  ports: MessagePort[];
}
const boot = workerData as Boot;
const control = parentPort!;

/** Outgoing records per destination, posted as one buffer at the end of each incoming batch. */
class Out {
  buf = new Float64Array(REC * 256);
  n = 0;
  constructor(readonly port: MessagePort) {}
  push(a: number, b: number, c: number, d: number, e: number, f: number): void {
    if ((this.n + 1) * REC > this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    const o = this.n++ * REC;
    const buf = this.buf;
    buf[o] = a;
    buf[o + 1] = b;
    buf[o + 2] = c;
    buf[o + 3] = d;
    buf[o + 4] = e;
    buf[o + 5] = f;
  }
  flush(): void {
    if (this.n === 0) return;
    const b = this.buf.slice(0, this.n * REC).buffer;
    this.n = 0;
    this.port.postMessage(b, [b]);
  }
}

/** An acceptor's three variables per instance (6.5 ②). */
class AcceptorCore {
  promised = new Map<number, number>();
  acceptedBallot = new Map<number, number>();
  acceptedValue = new Map<number, number>();
  prepare(instance: number, ballot: number): [ok: boolean, ab: number, av: number] {
    const p = this.promised.get(instance) ?? 0;
    if (ballot < p) return [false, 0, 0];
    this.promised.set(instance, ballot);
    return [true, this.acceptedBallot.get(instance) ?? 0, this.acceptedValue.get(instance) ?? 0];
  }
  accept(instance: number, ballot: number, value: number): boolean {
    const p = this.promised.get(instance) ?? 0;
    if (ballot < p) return false;
    this.promised.set(instance, ballot);
    this.acceptedBallot.set(instance, ballot);
    this.acceptedValue.set(instance, value);
    return true;
  }
  forget(below: number): void {
    for (const m of [this.promised, this.acceptedBallot, this.acceptedValue]) for (const k of m.keys()) if (k < below) m.delete(k);
  }
}

if (boot.role === 'acceptor') {
  const core = new AcceptorCore();
  const toClient = new Out(boot.ports[0]!);
  let handled = 0;
  boot.ports[0]!.on('message', (data: ArrayBuffer) => {
    const r = new Float64Array(data);
    for (let o = 0; o < r.length; o += REC) {
      const type = r[o],
        instance = r[o + 1]!,
        ballot = r[o + 2]!;
      if (type === PREPARE) {
        const [ok, ab, av] = core.prepare(instance, ballot);
        if (ok) toClient.push(PROMISE, instance, ballot, boot.index, ab, av);
      } else if (type === ACCEPT) {
        if (core.accept(instance, ballot, r[o + 3]!)) toClient.push(ACCEPTED, instance, ballot, boot.index, r[o + 3]!, 0);
      } else if (type === 0) {
        core.forget(instance);
      }
      if ((++handled & 0xfff) === 0) {
        /* keep the loop small */
      }
    }
    toClient.flush();
  });
} else {
  // The client node: proposer, learner and acceptor 0 in one thread, and the load generator.
  const n = boot.acceptors;
  const majority = (n >> 1) + 1;
  const outs = boot.ports.map((p) => new Out(p)); // outs[i] to acceptor i+1
  const local = new AcceptorCore();
  const BALLOT = 65536 + 1;
  interface Round {
    promises: number;
    highestBallot: number;
    highestValue: number;
    accepts: number;
    learned: number;
    sentAt: number;
  }
  const rounds = new Map<number, Round>();
  let next = 0;
  let inflight = 0;
  let measuring = false;
  let stopAt = 0;
  let measureFrom = 0;
  let count = 0;
  let t0 = 0;
  let latencies: number[] = [];
  let wantLatency = false;
  let done: ((r: { rounds: number; ms: number; latenciesUs: number[] }) => void) | null = null;

  const propose = () => {
    const instance = next++;
    rounds.set(instance, { promises: 0, highestBallot: 0, highestValue: 0, accepts: 0, learned: 0, sentAt: performance.now() });
    for (const o of outs) o.push(PREPARE, instance, BALLOT, 0, 0, 0);
    const [ok, ab, av] = local.prepare(instance, BALLOT);
    if (ok) onPromise(instance, BALLOT, ab, av);
  };
  const onPromise = (instance: number, ballot: number, ab: number, av: number) => {
    const r = rounds.get(instance);
    if (!r || ballot !== BALLOT) return;
    if (ab > r.highestBallot) {
      r.highestBallot = ab;
      r.highestValue = av;
    }
    if (++r.promises !== majority) return;
    const value = r.highestBallot > 0 ? r.highestValue : instance;
    for (const o of outs) o.push(ACCEPT, instance, BALLOT, value, 0, 0);
    if (local.accept(instance, BALLOT, value)) onAccepted(instance, BALLOT);
  };
  const onAccepted = (instance: number, ballot: number) => {
    const r = rounds.get(instance);
    if (!r || ballot !== BALLOT) return;
    r.accepts++;
    // The learner counts the same acceptances: a majority in one ballot decides (6.5 ⑥).
    if (++r.learned !== majority) return;
    rounds.delete(instance);
    inflight--;
    const now = performance.now();
    if (measuring) {
      count++;
      if (wantLatency) latencies.push((now - r.sentAt) * 1000);
    } else if (now >= measureFrom) {
      measuring = true;
      t0 = now;
    }
    if ((instance & 0x3ff) === 0) {
      local.forget(instance - 1024);
      for (const o of outs) o.push(0, instance - 1024, 0, 0, 0, 0);
    }
    if (measuring && now >= stopAt) {
      if (inflight === 0 && done) {
        const d = done;
        done = null;
        d({ rounds: count, ms: now - t0, latenciesUs: latencies });
      }
      return;
    }
    inflight++;
    propose();
  };
  const flushAll = () => {
    for (const o of outs) o.flush();
  };
  for (const p of boot.ports) {
    p.on('message', (data: ArrayBuffer) => {
      const r = new Float64Array(data);
      for (let o = 0; o < r.length; o += REC) {
        if (r[o] === PROMISE) onPromise(r[o + 1]!, r[o + 2]!, r[o + 4]!, r[o + 5]!);
        else if (r[o] === ACCEPTED) onAccepted(r[o + 1]!, r[o + 2]!);
      }
      flushAll();
    });
  }
  control.on('message', (m: { inflight: number; warmupMs: number; measureMs: number; latencies: boolean }) => {
    const now = performance.now();
    measuring = false;
    count = 0;
    latencies = [];
    wantLatency = m.latencies;
    measureFrom = now + m.warmupMs;
    stopAt = now + m.warmupMs + m.measureMs;
    done = (res) => control.postMessage(res);
    for (let i = 0; i < m.inflight; i++) {
      inflight++;
      propose();
    }
    flushAll();
  });
}
