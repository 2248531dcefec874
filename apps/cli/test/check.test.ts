/**
 * `synod check` end to end: the built CLI (apps/cli/dist/main.js) in a child process, on the
 * golden histories and on broken input. Exit status 0 all linearizable, 1 some not, 2 unusable
 * input or options, 3 unknown.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { synod } from './fixtures/run-synod.ts';

const data = fileURLToPath(new URL('../../../packages/checker/test/fixtures/histories/', import.meta.url));
const kvHard = fileURLToPath(new URL('../../../packages/checker/test/fixtures/kv-hard/', import.meta.url));

/** Runs the built CLI; resolves with its exit status and output (never rejects for a non-zero exit). */
function expected(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of readFileSync(join(data, dir, 'EXPECTED.txt'), 'utf8').split('\n')) {
    const [f, v] = l.trim().split(/\s+/);
    if (f && v) m.set(join(data, dir, f), v.replace('-', ' '));
  }
  return m;
}

const etcd = expected('jepsen-etcd');
const kv = expected('kv');
const tmp = mkdtempSync(join(tmpdir(), 'synod-check-test-'));
const file = (name: string, text: string) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

test('every etcd history gets its expected verdict, one line per file, exit 1', async () => {
  const r = await synod('check', '--model', 'cas-register', '--format', 'jepsen', ...etcd.keys());
  assert.is(r.status, 1, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines.length, 60);
  for (const line of lines) {
    const m = /^(.+): (linearizable|not linearizable) \((\d+) ms\)$/.exec(line);
    assert.ok(m, `line format: ${line}`);
    assert.is(m![2], etcd.get(m![1]!), m![1]);
  }
});

test('linearizable files only: exit 0', async () => {
  const good = [...etcd]
    .filter(([, v]) => v === 'linearizable')
    .map(([f]) => f)
    .slice(0, 3);
  const r = await synod('check', '-m', 'cas-register', '-f', 'jepsen', ...good);
  assert.is(r.status, 0, r.stdout + r.stderr);
});

test('--json: kv histories with verdicts and explanations', async () => {
  const r = await synod('check', '--model', 'kv', '--format', 'edn', '--json', ...kv.keys());
  assert.is(r.status, 1, r.stderr);
  const out = JSON.parse(r.stdout) as {
    status: number;
    files: { file: string; verdict: string; elapsedMs: number; partitions: number; explanation?: { key: string; mustLinearize: { line: number } } }[];
  };
  assert.is(out.status, 1);
  assert.is(out.files.length, 4);
  for (const f of out.files) {
    assert.is(f.verdict.replace('-', ' '), kv.get(f.file), f.file);
    assert.type(f.elapsedMs, 'number');
    assert.ok(f.partitions > 1);
    if (f.verdict === 'not-linearizable') {
      assert.type(f.explanation!.key, 'string');
      assert.type(f.explanation!.mustLinearize.line, 'number');
    }
  }
});

test('--explain prints why under a violation', async () => {
  const bad = [...kv].find(([, v]) => v === 'not linearizable')![0];
  const r = await synod('check', '-m', 'kv', '-f', 'edn', '--explain', bad);
  assert.is(r.status, 1);
  assert.match(r.stdout, /not linearizable \(\d+ ms\)\n  key "\d+": the longest linearizable prefix found has \d+ operations/);
  assert.match(r.stdout, /must take effect before it returns/);
});

test('a time limit reached gives unknown and exit 3', async () => {
  const r = await synod('check', '-m', 'cas-register', '-f', 'jepsen', '--time-limit', '0.000001', join(data, 'jepsen-etcd', 'etcd_002.log'));
  assert.is(r.status, 3, r.stdout + r.stderr);
  assert.match(r.stdout, /etcd_002\.log: unknown \(\d+ ms\): the time limit of 0\.001 ms \(--time-limit\)/);
});

test('malformed input: exit 2 with the file and line, and other files still checked', async () => {
  const bad = file('bad.log', 'INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\t[1\n');
  const good = [...etcd.keys()][0]!;
  const r = await synod('check', '-m', 'cas-register', '-f', 'jepsen', bad, good);
  assert.is(r.status, 2);
  assert.match(r.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: cannot read the value`));
  assert.match(r.stdout, /etcd_000\.log: not linearizable/);
  assert.not.match(r.stdout, /bad\.log/);
});

test('malformed EDN, the wrong format, an empty line mid-file, a missing file: exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [
      ['-m', 'kv', '-f', 'edn', file('bad.edn', '{:process 0, :type :invoke, :f :get, :key "a", :value nil}\n{:process 0 :type}\n')],
      /bad\.edn:2: not valid EDN|bad\.edn:2: .*even number/,
    ],
    [['-m', 'kv', '-f', 'jepsen', join(data, 'kv', 'c01-ok.txt')], /c01-ok\.txt:1: not a Jepsen log event/],
    [['-m', 'cas-register', '-f', 'edn', join(data, 'jepsen-etcd', 'etcd_001.log')], /etcd_001\.log:1: not valid EDN/],
    [['-m', 'kv', '-f', 'edn', join(tmp, 'missing.edn')], /missing\.edn: no such file/],
    [['-m', 'kv', '-f', 'edn', file('binary.edn', '\u0000\u0001\u0002garbage')], /binary\.edn:1: /],
  ];
  const runs = await Promise.all(cases.map(([args]) => synod('check', ...args)));
  for (const [k, [args, message]] of cases.entries()) {
    const r = runs[k]!;
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
    assert.not.match(r.stderr, /internal error|\n\s+at /, 'no stack trace');
  }
});

test('an empty file, a blank one, one with no completed operation: exit 2 naming the file; the others are still checked', async () => {
  const empty = file('empty.log', '');
  const blank = file('blank.edn', '\n   \n\t\n');
  const open = file('open.edn', '{:process 0, :type :invoke, :f :get, :key "a", :value nil}\n{:process 1, :type :invoke, :f :put, :key "a", :value "x"}\n');
  const good = [...etcd.keys()][0]!;
  const r = await synod('check', '-m', 'cas-register', '-f', 'jepsen', empty, good);
  assert.is(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /synod check: .*empty\.log: no operations: the file is empty or blank/);
  assert.match(r.stdout, /etcd_000\.log: not linearizable/);
  assert.not.match(r.stdout, /empty\.log/, 'no verdict for an empty file');
  const e = await synod('check', '-m', 'kv', '-f', 'edn', '--json', blank, open);
  assert.is(e.status, 2, e.stdout + e.stderr);
  const out = JSON.parse(e.stdout) as { files: { file: string; verdict: string; error?: { message: string } }[] };
  assert.equal(
    out.files.map((f) => f.verdict),
    ['error', 'error'],
  );
  assert.match(out.files[0]!.error!.message, /blank\.edn: no operations/);
  assert.match(out.files[1]!.error!.message, /open\.edn: no operation completed: 2 invoked, none with an :ok or :fail completion/);
});

test('hard generated kv histories (50 and 100 clients): their verdicts, the violation in the planted key', async () => {
  const r = await synod(
    'check',
    '-m',
    'kv',
    '-f',
    'edn',
    '--json',
    '--max-steps',
    '100000',
    join(kvHard, 'kv-c50-stale-read.edn'),
    join(kvHard, 'kv-c100-ok.edn'),
  );
  assert.is(r.status, 1, r.stdout + r.stderr);
  const out = JSON.parse(r.stdout) as { files: { verdict: string; explanation?: { key: string } }[] };
  assert.equal(
    out.files.map((f) => f.verdict),
    ['not-linearizable', 'linearizable'],
  );
  assert.is(out.files[0]!.explanation!.key, '1');
});

test('--max-steps: a step budget reached gives unknown and exit 3, the same every run', async () => {
  const f = join(data, 'jepsen-etcd', 'etcd_002.log');
  const runs = await Promise.all([1, 2].map(() => synod('check', '-m', 'cas-register', '-f', 'jepsen', '--max-steps', '50', f)));
  for (const r of runs) {
    assert.is(r.status, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /etcd_002\.log: unknown \(\d+ ms\): the step budget of 50 steps \(--max-steps\) ran out after \d+ states/);
  }
  assert.is(runs[0]!.stdout.replace(/\(\d+ ms\)/, ''), runs[1]!.stdout.replace(/\(\d+ ms\)/, ''));
  const bad = await synod('check', '-m', 'kv', '-f', 'edn', '--max-steps', '0', join(kvHard, 'kv-c50-ok.edn'));
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--max-steps must be a positive whole number, got '0'/);
});

test('a file over --max-file-mb is refused', async () => {
  const r = await synod('check', '-m', 'cas-register', '-f', 'jepsen', '--max-file-mb', '0.001', [...etcd.keys()][0]!);
  assert.is(r.status, 2);
  assert.match(r.stderr, /over the limit of .* MiB \(raise it with --max-file-mb\)/);
});

test('usage mistakes: exit 2 with what was wrong and where to look', async () => {
  const f = [...etcd.keys()][0]!;
  const cases: [string[], RegExp][] = [
    [['check', '--frob', f], /synod check: Unknown option '--frob'.*Run 'synod check --help'/],
    [['check', '--model', 'paxos', '--format', 'jepsen', f], /--model must be one of cas-register, register, kv, got 'paxos'/],
    [['check', '--format', 'jepsen', f], /--model is required/],
    [['check', '--model', 'kv', '--format', 'xml', f], /--format must be one of jepsen, edn, got 'xml'/],
    [['check', '-m', 'kv', '-f', 'edn'], /no history files given/],
    [['check', '-m', 'kv', '-f', 'edn', '--time-limit', 'soon', f], /--time-limit must be a positive number, got 'soon'/],
    [['check', '-m', 'kv', '-f', 'edn', '--threads', '1.5', f], /--threads must be a positive whole number/],
    [['check', '-m', 'kv', '-f', 'edn', '--model'], /--model/],
    [['frobnicate'], /unknown command 'frobnicate'. Commands: (\w+, )*check\b/],
  ];
  const runs = await Promise.all(cases.map(([args]) => synod(...args)));
  for (const [k, [args, message]] of cases.entries()) {
    const r = runs[k]!;
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});

test('help for the command lists every option; synod --help lists the commands', async () => {
  const r = await synod('check', '--help');
  assert.is(r.status, 0);
  for (const o of ['--model', '--format', '--json', '--explain', '--time-limit', '--max-steps', '--max-memo-mb', '--max-file-mb', '--threads', '--help']) {
    assert.match(r.stdout, new RegExp(`${o}\\b`), o);
  }
  assert.match(r.stdout, /Exit status: 0 all linearizable, 1 some not linearizable, 2 unusable input/);
  const top = await synod('--help');
  assert.is(top.status, 0);
  assert.match(top.stdout, /Commands:\n(.*\n)*\s+check\s+Check whether recorded histories are linearizable/);
  assert.is((await synod('help', 'check')).stdout, r.stdout);
  assert.is((await synod()).status, 2);
  assert.match((await synod('--version')).stdout, /^synod \d+\.\d+\.\d+/);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
