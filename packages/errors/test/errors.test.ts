import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SynodError, deserializeError, isSynodError, registerErrors, serializeError } from '../src/index.ts';

class TooLateError extends SynodError {
  override name = 'TooLateError';
  override readonly code = 'too-late';
  constructor(readonly deadlineMs: number) {
    super(`missed the deadline of ${deadlineMs} ms`);
  }
}
registerErrors({ TooLateError });

/** What a thread boundary does to plain data. */
const cross = <T>(v: T): T => structuredClone(v);

test('a registered error crosses as an instance of its class, with its code and fields', () => {
  const back = deserializeError(cross(serializeError(new TooLateError(250))));
  assert.ok(back instanceof TooLateError);
  assert.ok(back instanceof SynodError);
  assert.ok(back instanceof Error);
  const e = back as TooLateError;
  assert.is(e.code, 'too-late');
  assert.is(e.name, 'TooLateError');
  assert.is(e.deadlineMs, 250);
  assert.is(e.message, 'missed the deadline of 250 ms');
  assert.ok(isSynodError(e, 'too-late'));
  assert.not.ok(isSynodError(e, 'other'));
});

test('causes cross too, and built-in classes come back as themselves', () => {
  const e = new SynodError('outer', { cause: new TypeError('inner') });
  const back = deserializeError(cross(serializeError(e)));
  assert.ok(back instanceof SynodError);
  assert.ok(back.cause instanceof TypeError);
  assert.is((back.cause as Error).message, 'inner');
});

test('an unknown class with a code comes back as a SynodError keeping name and code; without one as an Error', () => {
  const a = deserializeError({ name: 'ElsewhereError', message: 'x', code: 'elsewhere' });
  assert.ok(a instanceof SynodError);
  assert.is((a as SynodError).code, 'elsewhere');
  assert.is(a.name, 'ElsewhereError');
  const b = deserializeError({ name: 'Weird', message: 'y' });
  assert.ok(b instanceof Error);
  assert.not.ok(b instanceof SynodError);
  assert.is(b.name, 'Weird');
});

test('any thrown value serializes without throwing', () => {
  assert.is(serializeError('plain text').message, 'plain text');
  assert.is(serializeError({ a: 1 }).message, '{"a":1}');
  const hostile = new Error('h');
  Object.defineProperty(hostile, 'cause', {
    get() {
      throw new Error('no');
    },
  });
  assert.is(serializeError(hostile).message, 'h');
});

test('a name cannot be registered for two classes', () => {
  class Other extends SynodError {}
  assert.throws(() => registerErrors({ TooLateError: Other }), /another class/);
});

test.run();
