/**
 * Test histories made from a real sequential execution: operations run one after another on a
 * real object (each at its linearization point, 10 time units apart), then each call's interval
 * is stretched at random around its point, so calls overlap but the history stays linearizable.
 * Corruptions then change one result so that it cannot be.
 */
import fc from 'fast-check';
import {
  UNKNOWN,
  type CasRegisterInput,
  type History,
  type KvInput,
  type Model,
  type Operation,
  type Outcome,
  type RegisterOutput,
  type RegisterValue,
} from '@synod/checker';

export interface Shape {
  /** Ops in linearization order. */
  readonly steps: readonly Step[];
  /** Per op: how far the call starts before its point, and the return ends after it (0..1 of the spread). */
  readonly before: readonly number[];
  readonly after: readonly number[];
  /** Spread of intervals, in linearization slots (1 slot = 10 time units). */
  readonly spread: number;
  /** Sort keys that shuffle the operations in the history (the checker must not rely on their order). */
  readonly shuffle?: readonly number[];
}

/** One generated call: what it does, and what became of it. */
export interface Step {
  readonly kind: number; // 0..99, picks the function
  readonly key: number; // for kv
  readonly from: number; // for cas: how far back the expected value is picked
  readonly fate: Outcome; // ok, or unknown (applied or not), or fail (not applied)
  readonly applied: boolean; // for unknown: did it take effect?
}

const step: fc.Arbitrary<Step> = fc.record({
  kind: fc.nat({ max: 99 }),
  key: fc.nat({ max: 3 }),
  from: fc.nat({ max: 3 }),
  fate: fc.oneof(
    { weight: 16, arbitrary: fc.constant<Outcome>('ok') },
    { weight: 2, arbitrary: fc.constant<Outcome>('unknown') },
    { weight: 1, arbitrary: fc.constant<Outcome>('fail') },
  ),
  applied: fc.boolean(),
});

/** Shapes of up to `maxOps` operations. */
export function shapes(maxOps: number, maxSpread: number): fc.Arbitrary<Shape> {
  return fc.integer({ min: 1, max: maxOps }).chain((n) =>
    fc.record({
      steps: fc.array(step, { minLength: n, maxLength: n }),
      before: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n }),
      after: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n }),
      spread: fc.integer({ min: 0, max: maxSpread }),
      shuffle: fc.array(fc.nat(), { minLength: n, maxLength: n }),
    }),
  );
}

interface Draft<I, O> {
  input: I;
  outcome: Outcome;
  output?: O;
  point: number;
}

/** Intervals around the points, and process ids such that a process makes one call at a time. */
function finish<I, O>(shape: Shape, drafts: Draft<I, O>[]): History<I, O> {
  const busyUntil: number[] = [];
  const ops: Operation<I, O>[] = drafts.map((d, id) => {
    // Points are 10 apart; offsets stay strictly inside (point - 10*spread - 5, point + …).
    const call = d.point - shape.before[id]! * (10 * shape.spread + 4) - 0.5;
    const ret = d.outcome === 'unknown' ? Infinity : d.point + shape.after[id]! * (10 * shape.spread + 4) + 0.5;
    let p = busyUntil.findIndex((t) => t < call);
    if (p < 0) {
      p = busyUntil.length;
      busyUntil.push(0);
    }
    busyUntil[p] = ret;
    return { id, process: p, input: d.input, outcome: d.outcome, ...(d.outcome === 'ok' ? { output: d.output as O } : {}), call, ret };
  });
  if (!shape.shuffle) return { operations: ops };
  const perm = ops.map((_, i) => i).sort((a, b) => shape.shuffle![a]! - shape.shuffle![b]! || a - b);
  return { operations: perm.map((i, id) => ({ ...ops[i]!, id })) };
}

/**
 * A cas-register history. Every write and cas writes a value never written before, so a
 * corruption that reads an overwritten value cannot be explained by a later write.
 */
export function casRegisterHistory(shape: Shape, values = Infinity): History<CasRegisterInput, RegisterOutput> {
  let state: RegisterValue = null;
  let counter = 0;
  // With a finite number of values, writes repeat (and corruptions need not be violations).
  const next = () => (values === Infinity ? ++counter : ++counter % values);
  const seen: RegisterValue[] = [null];
  const drafts = shape.steps.map((s, k): Draft<CasRegisterInput, RegisterOutput> => {
    const point = k * 10;
    let input: CasRegisterInput;
    if (s.kind < 40) input = { f: 'read' };
    else if (s.kind < 75) input = { f: 'write', value: next() };
    else input = { f: 'cas', from: seen[Math.max(0, seen.length - 1 - s.from)]!, to: next() };
    // Reads are never "fail" in these histories: failing reads constrain nothing anyway.
    const outcome = input.f === 'read' && s.fate === 'fail' ? 'ok' : s.fate;
    const applies = outcome === 'ok' || (outcome === 'unknown' && s.applied);
    let output: RegisterOutput = null;
    if (applies) {
      if (input.f === 'read') output = state;
      else if (input.f === 'write') {
        state = input.value;
        seen.push(state);
      } else {
        output = state === input.from;
        if (output) {
          state = input.to;
          seen.push(state);
        }
      }
    }
    return { input, outcome, output, point };
  });
  return finish(shape, drafts);
}

/** A kv history over keys "0".."3"; every put and append uses a value never used before. */
export function kvHistory(shape: Shape): History<KvInput, string | null> {
  const state = new Map<string, string>();
  let fresh = 0;
  const drafts = shape.steps.map((s, k): Draft<KvInput, string | null> => {
    const point = k * 10;
    const key = String(s.key);
    let input: KvInput;
    if (s.kind < 40) input = { f: 'get', key };
    else if (s.kind < 60) input = { f: 'put', key, value: `p${++fresh};` };
    else input = { f: 'append', key, value: `a${++fresh};` };
    const outcome = input.f === 'get' && s.fate === 'fail' ? 'ok' : s.fate;
    const applies = outcome === 'ok' || (outcome === 'unknown' && s.applied);
    let output: string | null = null;
    if (applies) {
      const cur = state.get(key) ?? '';
      if (input.f === 'get') output = cur;
      else state.set(key, input.f === 'put' ? input.value : cur + input.value);
    }
    return { input, outcome, output, point };
  });
  return finish(shape, drafts);
}

function replaceOutput<I, O>(h: History<I, O>, id: number, output: O): History<I, O> {
  return { operations: h.operations.map((op) => (op.id === id ? { ...op, output } : op)) };
}

/** Makes the `pick`-th successful read return a value nobody wrote. Undefined if no read is ok. */
export function corruptReadNeverWritten<I extends { f: string }, O>(h: History<I, O>, pick: number, never: O): History<I, O> | undefined {
  const reads = h.operations.filter((op) => op.outcome === 'ok' && (op.input.f === 'read' || op.input.f === 'get'));
  if (reads.length === 0) return undefined;
  return replaceOutput(h, reads[pick % reads.length]!.id, never);
}

const writes = (f: string) => f === 'write' || f === 'put';

/**
 * Loses an acknowledged write: a read r returns what an earlier acknowledged write w' wrote
 * (or the initial value), although another acknowledged write w ran wholly after w' and wholly
 * before r. Values are never written twice, so no order of the calls explains it.
 * Undefined if the history has no such triple.
 */
export function corruptLostWrite<I extends { f: string; key?: string; value?: unknown }, O>(
  h: History<I, O>,
  pick: number,
  initial: O,
): History<I, O> | undefined {
  const ops = h.operations;
  const sameKey = (a: Operation<I, O>, b: Operation<I, O>) => a.input.key === b.input.key;
  const triples: [number, O][] = [];
  for (const r of ops) {
    if (r.outcome !== 'ok' || writes(r.input.f) || !(r.input.f === 'read' || r.input.f === 'get')) continue;
    for (const w of ops) {
      if (w.outcome !== 'ok' || !writes(w.input.f) || !sameKey(w, r) || !(w.ret < r.call)) continue;
      // The initial value, overwritten by w before r began.
      triples.push([r.id, initial]);
      for (const w0 of ops) {
        if (w0.outcome === 'ok' && writes(w0.input.f) && sameKey(w0, r) && w0.ret < w.call) triples.push([r.id, w0.input.value as O]);
      }
    }
  }
  // Keep only the corruptions that actually change the read.
  const real = triples.filter(([id, v]) => ops[id]!.output !== v);
  if (real.length === 0) return undefined;
  const [id, v] = real[pick % real.length]!;
  return replaceOutput(h, id, v);
}

/**
 * Small random cas-register histories, not from any execution: random intervals, random outputs
 * from a small set of values, some outcomes unknown or failed. Some are linearizable, most not.
 */
export function randomCasRegisterHistories(maxOps: number): fc.Arbitrary<History<CasRegisterInput, RegisterOutput>> {
  const value = fc.integer({ min: 0, max: 2 });
  const input: fc.Arbitrary<CasRegisterInput> = fc.oneof(
    fc.constant<CasRegisterInput>({ f: 'read' }),
    value.map((v): CasRegisterInput => ({ f: 'write', value: v })),
    fc.tuple(value, value).map(([from, to]): CasRegisterInput => ({ f: 'cas', from, to })),
  );
  const op = fc.record({
    input,
    readValue: fc.option(value, { nil: null }),
    swapped: fc.boolean(),
    fate: fc.oneof(
      { weight: 5, arbitrary: fc.constant<Outcome>('ok') },
      { weight: 3, arbitrary: fc.constant<Outcome>('unknown') },
      { weight: 1, arbitrary: fc.constant<Outcome>('fail') },
    ),
    call: fc.integer({ min: 0, max: 30 }),
    length: fc.integer({ min: 0, max: 6 }),
  });
  return fc.array(op, { minLength: 1, maxLength: maxOps }).map((ops) => ({
    operations: ops.map((o, id): Operation<CasRegisterInput, RegisterOutput> => {
      const output: RegisterOutput = o.input.f === 'read' ? o.readValue : o.input.f === 'cas' ? o.swapped : null;
      const ret = o.fate === 'unknown' ? Infinity : o.call + o.length;
      return { id, process: id, input: o.input, outcome: o.fate, ...(o.fate === 'ok' ? { output } : {}), call: o.call, ret };
    }),
  }));
}

/**
 * The definition, checked by brute force: some order of the operations that may have happened
 * (every ok one, any subset of the unknown ones) respects real time and the register's rules.
 * No memo, no pruning: a reference for small histories only.
 */
export function bruteForceLinearizable(h: History<CasRegisterInput, RegisterOutput>): boolean {
  const ops = h.operations.filter((o) => o.outcome !== 'fail');
  const placed = new Array<boolean>(ops.length).fill(false);
  const stepOf = (s: RegisterValue, o: Operation<CasRegisterInput, RegisterOutput>): RegisterValue | undefined => {
    const known = o.outcome === 'ok';
    switch (o.input.f) {
      case 'read':
        return !known || o.output === s ? s : undefined;
      case 'write':
        return o.input.value;
      case 'cas': {
        const match = s === o.input.from;
        if (!known) return match ? o.input.to : s;
        if (o.output === true) return match ? o.input.to : undefined;
        return match ? undefined : s;
      }
    }
  };
  const go = (s: RegisterValue): boolean => {
    if (ops.every((o, i) => placed[i] || o.outcome !== 'ok')) return true;
    for (let i = 0; i < ops.length; i++) {
      if (placed[i]) continue;
      const o = ops[i]!;
      // o can go next only if nothing unplaced had to finish before it began.
      if (ops.some((x, j) => !placed[j] && x.ret < o.call)) continue;
      const t = stepOf(s, o);
      if (t === undefined) continue;
      placed[i] = true;
      const found = go(t);
      placed[i] = false;
      if (found) return true;
    }
    return false;
  };
  return go(null);
}

/**
 * Small random kv histories on one key, not from any execution: puts and appends of one-letter
 * values, gets returning short strings of those letters (so different orders can explain the same
 * read), random intervals, some outcomes unknown or failed.
 */
export function randomKvHistories(maxOps: number): fc.Arbitrary<History<KvInput, string | null>> {
  const letter = fc.constantFrom('a', 'b');
  const input: fc.Arbitrary<KvInput> = fc.oneof(
    fc.constant<KvInput>({ f: 'get', key: 'k' }),
    letter.map((value): KvInput => ({ f: 'put', key: 'k', value })),
    letter.map((value): KvInput => ({ f: 'append', key: 'k', value })),
  );
  const op = fc.record({
    input,
    read: fc.constantFrom('', 'a', 'b', 'ab', 'ba', 'aa', 'bb', 'aab', 'abb'),
    fate: fc.oneof(
      { weight: 6, arbitrary: fc.constant<Outcome>('ok') },
      { weight: 2, arbitrary: fc.constant<Outcome>('unknown') },
      { weight: 1, arbitrary: fc.constant<Outcome>('fail') },
    ),
    call: fc.integer({ min: 0, max: 30 }),
    length: fc.integer({ min: 0, max: 8 }),
  });
  return fc.array(op, { minLength: 1, maxLength: maxOps }).map((ops) => ({
    operations: ops.map((o, id): Operation<KvInput, string | null> => {
      const output = o.input.f === 'get' ? o.read : null;
      const ret = o.fate === 'unknown' ? Infinity : o.call + o.length;
      return { id, process: id, input: o.input, outcome: o.fate, ...(o.fate === 'ok' ? { output } : {}), call: o.call, ret };
    }),
  }));
}

/**
 * The definition, checked by brute force with any unpartitioned model's `step` (for a
 * partitioned one, give it one key's operations): some order of the operations that may have
 * happened respects real time and the model. Small histories only.
 */
export function bruteForce<S, I, O>(model: Model<S, I, O>, h: History<I, O>): boolean {
  const ops = h.operations.filter((o) => o.outcome !== 'fail');
  const placed = new Array<boolean>(ops.length).fill(false);
  const go = (s: S): boolean => {
    if (ops.every((o, i) => placed[i] || o.outcome !== 'ok')) return true;
    for (let i = 0; i < ops.length; i++) {
      if (placed[i]) continue;
      const o = ops[i]!;
      if (ops.some((x, j) => !placed[j] && x.ret < o.call)) continue;
      const t = model.step(s, o.input, o.outcome === 'ok' ? (o.output as O) : UNKNOWN);
      if (t === undefined) continue;
      placed[i] = true;
      const found = go(t);
      placed[i] = false;
      if (found) return true;
    }
    return false;
  };
  return go(model.init());
}

/** The same model without the optional speed-ups (`operationKind`, `possibleAfter`). */
export function plain<S, I, O>(model: Model<S, I, O>): Model<S, I, O> {
  const { operationKind: _k, possibleAfter: _p, source: _s, ...rest } = model;
  return { ...rest, name: `${model.name} (plain)` };
}
