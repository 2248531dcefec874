/**
 * Parsers: well-formed Jepsen logs and EDN histories become the right operations; malformed ones
 * give a HistoryParseError naming the file and line, never a history with a line skipped.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  EdnSet,
  EdnSymbol,
  EdnSyntaxError,
  HistoryParseError,
  Keyword,
  casRegisterModel,
  check,
  kvModel,
  parseEdnHistory,
  parseJepsenLog,
  readEdn,
  registerModel,
} from '@synod/checker';

const log = (...lines: string[]) => lines.join('\n') + '\n';
const ev = (p: number | string, type: string, f: string, v: string) => `INFO  jepsen.util - ${p}\t:${type}\t:${f}\t${v}`;

function parseError(fn: () => unknown): HistoryParseError {
  try {
    fn();
  } catch (e) {
    if (e instanceof HistoryParseError) return e;
    throw new Error(`expected a HistoryParseError, got ${String(e)}`);
  }
  throw new Error('expected a HistoryParseError, got a history');
}

test('jepsen: a small log becomes operations with lines, outcomes and outputs', () => {
  const h = parseJepsenLog(
    log(
      ev(0, 'invoke', 'write', '1'),
      ev(1, 'invoke', 'read', 'nil'),
      ev(0, 'ok', 'write', '1'),
      ev(1, 'ok', 'read', '1'),
      '',
      ev(2, 'invoke', 'cas', '[2 3]'),
      ev(2, 'fail', 'cas', '[2 3]'),
      ev(3, 'invoke', 'cas', '[1 3]'),
      ev(3, 'info', 'cas', ':timed-out'),
      ev(4, 'invoke', 'read', 'nil'),
      ev(4, 'fail', 'read', ':timed-out'),
      ev(5, 'invoke', 'write', '7'),
    ),
    casRegisterModel,
    'small.log',
  );
  const ops = h.operations;
  assert.is(ops.length, 6);
  assert.equal(ops[0], { id: 0, process: 0, input: { f: 'write', value: 1 }, outcome: 'ok', output: null, call: 1, ret: 3, line: 1, returnLine: 3 });
  assert.equal(ops[1]!.output, 1);
  assert.is(ops[2]!.line, 6, 'line numbers count blank lines');
  assert.equal([ops[2]!.outcome, ops[2]!.output], ['ok', false], 'a :fail cas that echoes [old new] observed a different value');
  assert.equal([ops[3]!.outcome, ops[3]!.ret, ops[3]!.returnLine], ['unknown', Infinity, 9], ':info is unknown and stays open');
  assert.is(ops[4]!.outcome, 'fail', 'a timed-out read that failed did not happen');
  assert.equal([ops[5]!.outcome, ops[5]!.ret], ['unknown', Infinity], 'a call never completed is unknown');
  assert.is(check(h, casRegisterModel).verdict, 'linearizable');
});

test('jepsen: CRLF line endings and nemesis events are fine', () => {
  const text = [ev(0, 'invoke', 'read', 'nil'), 'INFO  jepsen.util - :nemesis\t:info\t:start\tnil', ev(0, 'ok', 'read', 'nil')].join('\r\n');
  const h = parseJepsenLog(text, casRegisterModel, 'crlf.log');
  assert.is(h.operations.length, 1);
  assert.is(h.operations[0]!.returnLine, 3);
});

const badLogs: [string, string[], number, RegExp][] = [
  ['a line that is not an event', [ev(0, 'invoke', 'read', 'nil'), 'hello world'], 2, /not a Jepsen log event/],
  ['an unknown event type', [ev(0, 'crashed', 'read', 'nil')], 1, /unknown event type :crashed/],
  ['a process that is not an integer', [ev('x', 'invoke', 'read', 'nil')], 1, /process must be an integer/],
  ['an event without a value', ['INFO  jepsen.util - 0\t:invoke\t:read'], 1, /has no value/],
  ['a value that is not EDN', [ev(0, 'invoke', 'cas', '[1 2')], 1, /cannot read the value/],
  ['a completion without an invoke', [ev(0, 'ok', 'read', '3')], 1, /no pending invoke/],
  ['two invokes by one process', [ev(0, 'invoke', 'read', 'nil'), ev(0, 'invoke', 'write', '1')], 2, /has not completed/],
  ['a completion of another function', [ev(0, 'invoke', 'write', '1'), ev(0, 'ok', 'read', '1')], 2, /invoked :write at line 1/],
  ['an ok write of another value', [ev(0, 'invoke', 'write', '1'), ev(0, 'ok', 'write', '2')], 2, /differs from the value invoked/],
  ['a cas without [old new]', [ev(0, 'invoke', 'cas', '[1]'), ev(0, 'ok', 'cas', '[1]')], 2, /needs \[old new\]/],
  ['a read of a keyword', [ev(0, 'invoke', 'read', 'nil'), ev(0, 'ok', 'read', ':foo')], 2, /must be nil, a number or a string/],
  ['a function the model does not have', [ev(0, 'invoke', 'delete', 'nil'), ev(0, 'ok', 'delete', 'nil')], 2, /unknown function :delete/],
];

for (const [what, lines, line, message] of badLogs) {
  test(`jepsen: ${what} is an error at line ${line}`, () => {
    const e = parseError(() => parseJepsenLog(log(...lines), casRegisterModel, 'bad.log'));
    assert.is(e.file, 'bad.log');
    assert.is(e.line, line);
    assert.match(e.message, message);
    assert.ok(e.message.startsWith(`bad.log:${line}: `), e.message);
  });
}

test('jepsen: the plain register refuses cas', () => {
  const e = parseError(() => parseJepsenLog(log(ev(0, 'invoke', 'cas', '[1 2]'), ev(0, 'ok', 'cas', '[1 2]')), registerModel, 'r.log'));
  assert.match(e.message, /unknown function :cas for the register model/);
});

const edn = (...lines: string[]) => lines.join('\n') + '\n';

test('edn: a small kv history becomes operations; comments, extra fields and nemesis are skipped', () => {
  const h = parseEdnHistory(
    edn(
      '; a comment',
      '{:process 0, :type :invoke, :f :put, :key "a", :value "x", :time 1}',
      '{:process :nemesis, :type :info, :f :start, :value nil}',
      '{:process 1, :type :invoke, :f :get, :key "a", :value nil}',
      '{:process 0, :type :ok, :f :put, :key "a", :value "x"}',
      '{:process 1, :type :ok, :f :get, :key "a", :value "x"}',
      '{:process 2, :type :invoke, :f :append, :key "b", :value "y"}',
      '{:process 2, :type :info, :f :append, :key "b", :value "y"}',
      '{:process 3, :type :invoke, :f :get, :key "c"}',
      '{:process 3, :type :ok, :f :get, :key "c", :value nil}',
    ),
    kvModel,
    'small.edn',
  );
  const ops = h.operations;
  assert.is(ops.length, 4);
  assert.equal(ops[0], { id: 0, process: 0, input: { f: 'put', key: 'a', value: 'x' }, outcome: 'ok', output: null, call: 2, ret: 5, line: 2, returnLine: 5 });
  assert.equal(ops[1]!.output, 'x');
  assert.is(ops[2]!.outcome, 'unknown');
  assert.is(ops[3]!.output, '', 'nil reads as an absent key, ""');
  assert.is(check(h, kvModel).verdict, 'linearizable');
});

test('a file with no operation, or none completed, is refused as a whole (line 0), naming the file', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['an empty log', () => parseJepsenLog('', casRegisterModel, 'empty.log'), /^empty\.log: no operations: the file is empty or blank/],
    ['a blank log', () => parseJepsenLog('\n  \r\n\t\n', casRegisterModel, 'blank.log'), /^blank\.log: no operations/],
    [
      'only nemesis events',
      () => parseJepsenLog('INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n', casRegisterModel, 'n.log'),
      /^n\.log: no operations: .*only nemesis events/,
    ],
    ['an empty EDN file', () => parseEdnHistory('', kvModel, 'empty.edn'), /^empty\.edn: no operations/],
    ['EDN comments only', () => parseEdnHistory('; nothing\n\n', kvModel, 'c.edn'), /^c\.edn: no operations/],
    [
      'invokes only',
      () => parseJepsenLog(log(ev(0, 'invoke', 'read', 'nil'), ev(1, 'invoke', 'write', '1')), casRegisterModel, 'open.log'),
      /^open\.log: no operation completed: 2 invoked, none with an :ok or :fail completion/,
    ],
    [
      'only :info completions',
      () =>
        parseEdnHistory(
          edn('{:process 0, :type :invoke, :f :put, :key "a", :value "x"}', '{:process 0, :type :info, :f :put, :key "a", :value "x"}'),
          kvModel,
          'info.edn',
        ),
      /^info\.edn: no operation completed: 1 invoked/,
    ],
  ];
  for (const [what, parse, message] of cases) {
    const e = parseError(parse);
    assert.is(e.line, 0, what);
    assert.match(e.message, message, what);
  }
  // One completed operation is enough, failed ones included.
  assert.is(parseJepsenLog(log(ev(0, 'invoke', 'read', 'nil'), ev(0, 'fail', 'read', ':timed-out')), casRegisterModel, 'f.log').operations.length, 1);
});

const badEdn: [string, string[], number, RegExp][] = [
  ['a line that is not EDN', ['{:process 0, :type :invoke'], 1, /not valid EDN/],
  ['a vector instead of a map', ['[:process 0]'], 1, /expected an event map/],
  ['an event without :process', ['{:type :invoke, :f :get, :key "a"}'], 1, /no :process/],
  ['a bad :type', ['{:process 0, :type :started, :f :get, :key "a"}'], 1, /:type must be/],
  ['an :f that is not a keyword', ['{:process 0, :type :invoke, :f "get", :key "a"}'], 1, /:f must be a keyword/],
  ['an unterminated string', ['{:process 0, :type :invoke, :f :get, :key "a}'], 1, /unterminated string/],
  ['a duplicate key', ['{:process 0, :process 1, :type :invoke, :f :get, :key "a"}'], 1, /duplicate map key/],
  ['a get of a number', ['{:process 0, :type :invoke, :f :get, :key "a"}', '{:process 0, :type :ok, :f :get, :key "a", :value 3}'], 2, /must be a string/],
  ['an event without a key', ['{:process 0, :type :invoke, :f :get}', '{:process 0, :type :ok, :f :get, :value ""}'], 2, /:key must be/],
  [
    'a completion of another key',
    ['{:process 0, :type :invoke, :f :get, :key "a"}', '{:process 0, :type :ok, :f :get, :key "b", :value ""}'],
    2,
    /completes key "b" but invoked key "a"/,
  ],
  ['a function the model does not have', ['{:process 0, :type :invoke, :f :cas, :key "a", :value ["" "x"]}'], 1, /unknown function :cas for the kv model/],
];

for (const [what, lines, line, message] of badEdn) {
  test(`edn: ${what} is an error at line ${line}`, () => {
    const e = parseError(() => parseEdnHistory(edn(...lines), kvModel, 'bad.edn'));
    assert.is(e.line, line, e.message);
    assert.match(e.message, message);
    assert.ok(e.message.startsWith(`bad.edn:${line}: `), e.message);
  });
}

test('edn: the wrong format for the file is an error at line 1, not a verdict', () => {
  const e = parseError(() => parseJepsenLog('{:process 0, :type :invoke, :f :get, :key "a", :value nil}\n', kvModel, 'kv.txt'));
  assert.is(e.line, 1);
  const e2 = parseError(() => parseEdnHistory(log(ev(0, 'invoke', 'read', 'nil')), casRegisterModel, 'etcd.log'));
  assert.is(e2.line, 1);
});

test('edn reader: values', () => {
  assert.is(readEdn('nil'), null);
  assert.is(readEdn(' true ; comment'), true);
  assert.is(readEdn('-12'), -12);
  assert.is(readEdn('1.5e3'), 1500);
  assert.is(readEdn('12345678901234567890N'), 12345678901234567890n);
  assert.is(readEdn('"a\\"b\\n\\u0041"'), 'a"b\nA');
  assert.is(readEdn(':timed-out'), Keyword.of('timed-out'));
  assert.ok(readEdn('foo/bar') instanceof EdnSymbol);
  assert.equal(readEdn('[1 (2 3) #_ 4 5]'), [1, [2, 3], 5]);
  const s = readEdn('#{1 2}');
  assert.ok(s instanceof EdnSet && s.items.length === 2);
  const m = readEdn('{:a 1, "b" [nil]}') as Map<unknown, unknown>;
  assert.is(m.get(Keyword.of('a')), 1);
  assert.equal(m.get('b'), [null]);
});

test('edn reader: malformed input and the depth bound', () => {
  for (const bad of ['', '[1 2', '{:a}', ')', '1 2', '#inst "2020"', '"\\q"', '12abc', ':']) {
    assert.throws(
      () => readEdn(bad),
      (e: unknown) => e instanceof EdnSyntaxError,
      `refuses ${JSON.stringify(bad)}`,
    );
  }
  assert.throws(() => readEdn('['.repeat(100) + ']'.repeat(100)), /nested deeper than 64/);
  assert.equal(readEdn('[[[1]]]', { maxDepth: 3 }), [[[1]]]);
});

test.run();
