/**
 * Registers: one value, read and written whole; the compare-and-set register adds `cas`.
 * Values are primitives compared with `===`; `null` is "no value yet" (Jepsen's `nil`).
 */
import { hashValue } from '../hash.js';
import type { DecodedOperation, Model, OperationKind } from '../model.js';
import { UNKNOWN, type Unknown } from '../model.js';
import { formatEdn } from '../parsers/edn-reader.js';
import type { JepsenOperation } from '../parsers/jepsen-ops.js';

/** A register value. */
export type RegisterValue = number | string | boolean | null;

/** `read` returns the value; `write` replaces it (its output is ignored). */
export type RegisterInput = { readonly f: 'read' } | { readonly f: 'write'; readonly value: RegisterValue };
/** Adds `cas`: if the value is `from`, set it to `to`; the output says whether it did. */
export type CasRegisterInput = RegisterInput | { readonly f: 'cas'; readonly from: RegisterValue; readonly to: RegisterValue };
/** For `read` the value read; for `cas` `true` (swapped) or `false` (value was not `from`); for `write` anything. */
export type RegisterOutput = RegisterValue;

function describeValue(v: RegisterValue): string {
  return v === null ? 'nil' : typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function step(state: RegisterValue, input: CasRegisterInput, output: RegisterOutput | Unknown): RegisterValue | undefined {
  switch (input.f) {
    case 'read':
      return output === UNKNOWN || output === state ? state : undefined;
    case 'write':
      return input.value;
    case 'cas':
      if (output === UNKNOWN) return state === input.from ? input.to : state;
      if (output === true) return state === input.from ? input.to : undefined;
      return state !== input.from ? state : undefined;
  }
}

function describeOperation(input: CasRegisterInput, output: RegisterOutput | Unknown): string {
  const out = output === UNKNOWN ? '?' : undefined;
  switch (input.f) {
    case 'read':
      return `read() -> ${out ?? describeValue(output as RegisterValue)}`;
    case 'write':
      return `write(${describeValue(input.value)})${out ? ' -> ?' : ''}`;
    case 'cas':
      return `cas(${describeValue(input.from)}, ${describeValue(input.to)}) -> ${out ?? (output ? 'ok' : 'fail')}`;
  }
}

function jepsenValue(v: unknown, what: string): RegisterValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return v;
  throw new Error(`${what} must be nil, a number or a string, got ${v === undefined ? 'nothing' : formatEdn(v as never)}`);
}

function fromJepsen(op: JepsenOperation, withCas: boolean): DecodedOperation<CasRegisterInput, RegisterOutput> {
  const open = op.type === 'info' || op.type === 'open';
  switch (op.f) {
    case 'read': {
      const input: CasRegisterInput = { f: 'read' };
      if (open) return { input, outcome: 'unknown' };
      if (op.type === 'fail') return { input, outcome: 'fail' };
      return { input, outcome: 'ok', output: jepsenValue(op.value, 'the value read') };
    }
    case 'write': {
      const input: CasRegisterInput = { f: 'write', value: jepsenValue(op.invokeValue, 'the value written') };
      if (open) return { input, outcome: 'unknown' };
      if (op.type === 'fail') return { input, outcome: 'fail' };
      if (jepsenValue(op.value, 'the value written') !== input.value) {
        throw new Error(`the :ok value ${formatEdn(op.value!)} differs from the value invoked ${formatEdn(op.invokeValue)}`);
      }
      return { input, outcome: 'ok', output: null };
    }
    case 'cas': {
      if (!withCas) break;
      const pair = op.invokeValue;
      if (!Array.isArray(pair) || pair.length !== 2) throw new Error(`a :cas needs [old new], got ${formatEdn(pair)}`);
      const input: CasRegisterInput = { f: 'cas', from: jepsenValue(pair[0], 'cas old'), to: jepsenValue(pair[1], 'cas new') };
      if (open) return { input, outcome: 'unknown' };
      const v = op.value;
      const echoed = Array.isArray(v) && v.length === 2 && v[0] === pair[0] && v[1] === pair[1];
      if (op.type === 'ok') {
        if (!echoed) throw new Error(`the :ok value ${formatEdn(v!)} differs from the [old new] invoked ${formatEdn(pair)}`);
        return { input, outcome: 'ok', output: true };
      }
      // A :fail that echoes [old new] is the answer "the value was not old": an observation.
      // Any other :fail (e.g. :timed-out) only says the cas did not happen.
      return echoed ? { input, outcome: 'ok', output: false } : { input, outcome: 'fail' };
    }
  }
  throw new Error(`unknown function :${op.f} for the ${withCas ? 'cas-register' : 'register'} model (expected :read, :write${withCas ? ', :cas' : ''})`);
}

/** A read, or a cas that did not swap, changes nothing; a write sets the value whatever it was. */
function operationKind(input: CasRegisterInput, output: RegisterOutput | Unknown): OperationKind {
  if (input.f === 'read' || (input.f === 'cas' && output === false)) return 'read';
  return input.f === 'write' ? 'overwrite' : 'other';
}

/** Reads and swapping cas need one value: the present one, or one that a write or cas could set. */
function possibleAfter(state: RegisterValue, input: CasRegisterInput, output: RegisterOutput, writes: readonly CasRegisterInput[]): boolean {
  let needed: RegisterValue;
  if (input.f === 'read') needed = output;
  else if (input.f === 'cas' && output === true) needed = input.from;
  else return true;
  if (state === needed) return true;
  for (const w of writes) if ((w.f === 'write' && w.value === needed) || (w.f === 'cas' && w.to === needed)) return true;
  return false;
}

const common = {
  init: (): RegisterValue => null,
  step,
  hash: hashValue,
  equal: (a: RegisterValue, b: RegisterValue) => a === b,
  operationKind,
  possibleAfter,
  describeOperation,
  describeState: describeValue,
};

/** A read/write register starting at `null`. */
export const registerModel: Model<RegisterValue, RegisterInput, RegisterOutput> = {
  name: 'register',
  ...common,
  step: (s, input, output) => (input.f === 'read' || input.f === 'write' ? step(s, input, output) : undefined),
  fromJepsen: (op) => fromJepsen(op, false) as DecodedOperation<RegisterInput, RegisterOutput>,
  source: { module: import.meta.url, exportName: 'registerModel' },
};

/** A compare-and-set register starting at `null` (Jepsen's cas-register). */
export const casRegisterModel: Model<RegisterValue, CasRegisterInput, RegisterOutput> = {
  name: 'cas-register',
  ...common,
  fromJepsen: (op) => fromJepsen(op, true),
  source: { module: import.meta.url, exportName: 'casRegisterModel' },
};
