/**
 * Hard kv histories, generated deterministically from a seed: many concurrent clients run
 * get/put/append against one real key-value map, in simulated time. Each call takes effect at
 * one instant inside its interval (so the history is linearizable); a few calls are slow and
 * overlap hundreds of others; the clients still busy when the run ends never see their answer
 * (their outcome is unknown). One violation can then be planted in one key:
 *
 * - `stale-read`: a get returns the value its key had just before an acknowledged write that
 *   finished before the get was invoked;
 * - `lost-write`: an acknowledged append never takes effect, and a later get (invoked after the
 *   append returned) shows the key without it.
 *
 * Each plant is placed only where it provably cannot be linearized (see {@link provablyStale}),
 * so the expected verdict of every generated file is known without asking a checker. The output
 * is Jepsen EDN, one event per line, in the format of Porcupine's `kv` test data, so
 * `synod check --model kv --format edn FILE` reads it.
 *
 *     node --import tsx packages/checker/test/kv-hard.ts            # rewrite the fixtures
 *     node --import tsx packages/checker/test/kv-hard.ts --print 50 ok 7   # one history to stdout
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type Plant = 'none' | 'stale-read' | 'lost-write';

export interface KvHardOptions {
  /** Concurrent clients (Jepsen processes). */
  readonly clients: number;
  /** Keys, "0" … "keys-1". */
  readonly keys: number;
  /** Calls invoked in all (each is two events, or one when it never completes). */
  readonly operations: number;
  readonly seed: number;
  readonly plant: Plant;
}

/** What was planted, for messages. */
export interface Planted {
  readonly plant: Exclude<Plant, 'none'>;
  readonly key: string;
  /** 1-based line of the get whose answer cannot be explained. */
  readonly line: number;
}

export interface KvHardHistory {
  /** The EDN text, one event per line. */
  readonly text: string;
  readonly events: number;
  readonly planted?: Planted;
}

/** sfc32: small, fast, and the same numbers on every platform. */
function random(seed: number): () => number {
  let a = 0x9e3779b9,
    b = 0x243f6a88,
    c = 0xb7e15162,
    d = seed | 0;
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 16; i++) next();
  return next;
}

type F = 'get' | 'put' | 'append';

interface Call {
  readonly id: number;
  readonly process: number;
  readonly f: F;
  readonly key: string;
  /** For put and append: a token `x P N y`, unique in the history. */
  readonly value: string;
  readonly call: number;
  readonly point: number;
  /** Infinity once the run ended first (unknown outcome). */
  ret: number;
  /** For get: what it read. */
  output: string;
  /** For put and append: whether it took effect (false only for a planted lost write). */
  applied: boolean;
}

/** Mean call length, simulated time units; slow calls last up to SLOW_FACTOR times more. */
const MEAN_LENGTH = 1;
const SLOW_FACTOR = 60;
/** The share of slow calls. */
const SLOW_SHARE = 0.02;
/** Mean pause between a client's calls. */
const MEAN_THINK = 0.2;

function exponential(rnd: () => number, mean: number): number {
  return -Math.log(1 - rnd()) * mean;
}

/** A binary heap of calls by return time: the next client to call again. */
class Returns {
  private readonly ids: number[] = [];
  constructor(private readonly calls: readonly Call[]) {}
  push(id: number): void {
    const h = this.ids;
    h.push(id);
    for (let k = h.length - 1; k > 0; ) {
      const parent = (k - 1) >> 1;
      if (this.ret(h[parent]!) <= this.ret(h[k]!)) break;
      [h[parent], h[k]] = [h[k]!, h[parent]!];
      k = parent;
    }
  }
  pop(): number {
    const h = this.ids;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let k = 0; ; ) {
        const l = 2 * k + 1,
          r = l + 1;
        let m = k;
        if (l < h.length && this.ret(h[l]!) < this.ret(h[m]!)) m = l;
        if (r < h.length && this.ret(h[r]!) < this.ret(h[m]!)) m = r;
        if (m === k) break;
        [h[m], h[k]] = [h[k]!, h[m]!];
        k = m;
      }
    }
    return top;
  }
  private ret(id: number): number {
    return this.calls[id]!.ret;
  }
}

/** The clients' calls, in simulated time; each takes effect at its `point` (see {@link applyAll}). */
function simulate(o: KvHardOptions, rnd: () => number): Call[] {
  const calls: Call[] = [];
  const returns = new Returns(calls);
  const seq = new Array<number>(o.clients).fill(0);
  const start = (process: number, at: number) => {
    const r = rnd();
    const f: F = r < 0.45 ? 'get' : r < 0.9 ? 'append' : 'put';
    const key = String(Math.floor(rnd() * o.keys));
    const slow = rnd() < SLOW_SHARE;
    const length = exponential(rnd, MEAN_LENGTH) * (slow ? SLOW_FACTOR * (0.5 + rnd()) : 1) + 0.01;
    const call = at + exponential(rnd, MEAN_THINK) + 0.001;
    const value = f === 'get' ? '' : `x ${process} ${seq[process]!++} y`;
    calls.push({ id: calls.length, process, f, key, value, call, point: call + length * rnd(), ret: call + length, output: '', applied: true });
    returns.push(calls.length - 1);
  };
  for (let p = 0; p < o.clients && calls.length < o.operations; p++) start(p, 0);
  // A client calls again once its call returns (one call at a time per process).
  while (calls.length < o.operations) {
    const done = calls[returns.pop()]!;
    start(done.process, done.ret);
  }
  // The run ends soon after the last invoke: calls still running then never get an answer, and
  // those whose point is past the end never took effect.
  const end = Math.max(...calls.map((c) => c.call)) + MEAN_LENGTH;
  for (const c of calls) {
    if (c.ret > end) c.ret = Infinity;
    if (c.point > end) c.applied = false;
  }
  return calls;
}

/** Applies the calls at their points to a real map and records what each get read. */
function applyAll(calls: readonly Call[], lost: number): void {
  const state = new Map<string, string>();
  const byPoint = [...calls].sort((a, b) => a.point - b.point);
  for (const c of byPoint) {
    const cur = state.get(c.key) ?? '';
    if (c.f === 'get') c.output = cur;
    else if (c.applied && c.id !== lost) state.set(c.key, c.f === 'put' ? c.value : cur + c.value);
  }
}

const TOKEN = /x \d+ \d+ y/g;

/**
 * Whether a get `g` that read `value` cannot be linearized, given an acknowledged write `w` of its
 * key that returned before `g` was invoked. After `w` the key's value holds `w`'s token, unless
 * a later put replaced it, and then it starts with that put's token (tokens are unique and no
 * call empties a key). So `value` is impossible if it lacks `w`'s token and does not start with
 * the token of a put that may take effect after `w`: either it starts with an append's token (a
 * key empty after `w`), or with a put that returned before `w` was invoked, or it is empty.
 */
function provablyStale(value: string, w: Call, byToken: ReadonlyMap<string, Call>): boolean {
  if (value.includes(w.value)) return false;
  const first = value.match(TOKEN)?.[0];
  if (first === undefined) return true;
  const p = byToken.get(first);
  if (!p) throw new Error(`token ${first} was never written`);
  return p.f === 'append' || p.ret < w.call;
}

/** Generates one history (the same options give the same text). */
export function generateKvHard(o: KvHardOptions): KvHardHistory {
  const rnd = random(o.seed);
  const calls = simulate(o, rnd);
  const byToken = new Map(calls.filter((c) => c.f !== 'get').map((c) => [c.value, c]));
  const done = (c: Call) => c.ret !== Infinity;
  let planted: { plant: Exclude<Plant, 'none'>; get: Call } | undefined;
  let lost = -1;
  applyAll(calls, lost);
  // Plants go in the second half, where each key has a long past to search.
  const late = calls.filter((c) => done(c) && c.id >= calls.length / 2);
  if (o.plant === 'stale-read') {
    // A get, and the value its key had just before the last write that returned before the get began.
    const candidates: { get: Call; value: string }[] = [];
    for (const g of late) {
      if (g.f !== 'get') continue;
      const writes = calls.filter((w) => w.f !== 'get' && w.key === g.key && done(w) && w.ret < g.call);
      if (writes.length === 0) continue;
      const w = writes.reduce((a, b) => (b.point > a.point ? b : a));
      const before = valueBefore(calls, w);
      if (provablyStale(before, w, byToken)) candidates.push({ get: g, value: before });
    }
    if (candidates.length === 0) throw new Error(`seed ${o.seed}: no get where a stale read can be planted`);
    const pick = candidates[Math.floor(rnd() * candidates.length)]!;
    pick.get.output = pick.value;
    planted = { plant: 'stale-read', get: pick.get };
  } else if (o.plant === 'lost-write') {
    // An append that never takes effect, and the first later get that provably misses it.
    const appends = late.filter((c) => c.f === 'append' && c.applied);
    for (let tries = 0; tries < appends.length && !planted; tries++) {
      const w = appends[Math.floor(rnd() * appends.length)]!;
      applyAll(calls, w.id);
      const g = calls.find((c) => c.f === 'get' && c.key === w.key && done(c) && c.call > w.ret && provablyStale(c.output, w, byToken));
      if (g) {
        lost = w.id;
        planted = { plant: 'lost-write', get: g };
      }
    }
    if (!planted) throw new Error(`seed ${o.seed}: no append whose loss a later get shows`);
    applyAll(calls, lost);
  }
  const { text, lineOf } = toEdn(calls);
  return {
    text,
    events: lineOf.size,
    ...(planted ? { planted: { plant: planted.plant, key: planted.get.key, line: lineOf.get(`${planted.get.id}:ret`)! } } : {}),
  };
}

/** The value of `w`'s key just before `w` took effect. */
function valueBefore(calls: readonly Call[], w: Call): string {
  let v = '';
  const writes = calls.filter((c) => c.f !== 'get' && c.key === w.key && c.applied && c.point < w.point).sort((a, b) => a.point - b.point);
  for (const c of writes) v = c.f === 'put' ? c.value : v + c.value;
  return v;
}

/** Events in time order as EDN lines; `lineOf` maps `id:call` / `id:ret` to 1-based lines. */
function toEdn(calls: readonly Call[]): { text: string; lineOf: Map<string, number> } {
  const events: { t: number; c: Call; ret: boolean }[] = [];
  for (const c of calls) {
    events.push({ t: c.call, c, ret: false });
    if (c.ret !== Infinity) events.push({ t: c.ret, c, ret: true });
  }
  events.sort((a, b) => a.t - b.t);
  const lineOf = new Map<string, number>();
  const lines = events.map((e, i) => {
    lineOf.set(`${e.c.id}:${e.ret ? 'ret' : 'call'}`, i + 1);
    const value = e.c.f === 'get' ? (e.ret ? JSON.stringify(e.c.output) : 'nil') : JSON.stringify(e.c.value);
    return `{:process ${e.c.process}, :type ${e.ret ? ':ok' : ':invoke'}, :f :${e.c.f}, :key ${JSON.stringify(e.c.key)}, :value ${value}}`;
  });
  return { text: lines.join('\n') + '\n', lineOf };
}

/** The committed fixtures: name, options, expected verdict. */
export const KV_HARD_FIXTURES: readonly { readonly file: string; readonly options: KvHardOptions }[] = [
  { file: 'kv-c50-ok.edn', options: { clients: 50, keys: 10, operations: 2000, seed: 50, plant: 'none' } },
  { file: 'kv-c50-stale-read.edn', options: { clients: 50, keys: 10, operations: 2000, seed: 51, plant: 'stale-read' } },
  { file: 'kv-c100-ok.edn', options: { clients: 100, keys: 10, operations: 2000, seed: 100, plant: 'none' } },
  { file: 'kv-c100-lost-write.edn', options: { clients: 100, keys: 10, operations: 2000, seed: 101, plant: 'lost-write' } },
];

export const kvHardDir = fileURLToPath(new URL('./fixtures/kv-hard/', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  if (args[0] === '--print') {
    const [clients, plant, seed] = [Number(args[1] ?? 50), (args[2] ?? 'none') as Plant, Number(args[3] ?? 1)];
    const h = generateKvHard({ clients, keys: 10, operations: 2000, seed, plant });
    process.stdout.write(h.text);
    if (h.planted) console.error(`planted ${h.planted.plant} in key ${h.planted.key} at line ${h.planted.line}`);
  } else {
    const expected: string[] = [];
    for (const f of KV_HARD_FIXTURES) {
      const h = generateKvHard(f.options);
      writeFileSync(kvHardDir + f.file, h.text);
      expected.push(`${f.file} ${h.planted ? 'not-linearizable' : 'linearizable'}`);
      console.log(`${f.file}: ${h.events} events${h.planted ? `, ${h.planted.plant} in key ${h.planted.key} at line ${h.planted.line}` : ''}`);
    }
    writeFileSync(kvHardDir + 'EXPECTED.txt', expected.join('\n') + '\n');
  }
}
