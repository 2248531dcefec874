/**
 * `synod demo` end to end: the built CLI in a child process. A short run ends with its summary
 * and a linearizable verdict; the storage folder is removed (or kept with --dir); bad options
 * exit 2 with a message. No timing is asserted.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { synodWith } from './fixtures/run-synod.ts';

/** A demo run starts a cluster in workers: more than the default minute on a loaded machine. */
const DEMO = { timeoutMs: 120_000 };

interface Summary {
  protocol: string;
  committed: number;
  restarts: number;
  linearizable: boolean;
  leaderChanges: number;
  verdict: string;
  operationsChecked: number;
  replicas: number;
  storage: string;
  dir: string;
  dirKept: boolean;
  appliedUpTo: number[];
}

test('--duration 3 --json: runs to its summary, whose last line is JSON with a linearizable verdict', async () => {
  const r = await synodWith(DEMO, 'demo', '--duration', '3', '--fault-every', '1', '--json');
  assert.is(r.status, 0, r.stdout + r.stderr);
  const lines = r.stdout.trim().split('\n');
  const s = JSON.parse(lines[lines.length - 1]!) as Summary;
  assert.is(s.linearizable, true);
  assert.is(s.verdict, 'linearizable');
  assert.ok(s.committed > 0, 'commands were committed');
  assert.type(s.restarts, 'number');
  assert.type(s.leaderChanges, 'number');
  assert.is(s.replicas, 5);
  assert.is(s.storage, 'file');
  assert.ok(s.operationsChecked >= s.committed);
  assert.is(s.dirKept, false);
  assert.not.ok(existsSync(s.dir), 'the temporary folder is removed');
  // The live view went to stderr, so stdout is the JSON alone.
  assert.is(lines.length, 1);
  assert.match(r.stderr, /synod demo: 5 replicas on multipaxos/);
  assert.is(s.protocol, 'multipaxos');
});

test('--protocol raft: the same run on Raft (RaftNodes and replicas), killed workers and all, ends linearizable', async () => {
  const r = await synodWith(DEMO, 'demo', '--protocol', 'raft', '--duration', '3', '--fault-every', '1', '--replicas', '3', '--json');
  assert.is(r.status, 0, r.stdout + r.stderr);
  const s = JSON.parse(r.stdout.trim().split('\n').pop()!) as Summary;
  assert.is(s.protocol, 'raft');
  assert.is(s.verdict, 'linearizable');
  assert.ok(s.committed > 0, 'commands were committed');
  assert.match(r.stderr, /synod demo: 3 replicas on raft/);
  assert.match(r.stderr, /replica node \d leads in term \d+/);
});

test('plain output: a header, status lines and the summary; --no-faults restarts nothing', async () => {
  const r = await synodWith(DEMO, 'demo', '--duration', '2', '--no-faults', '--replicas', '3', '--storage', 'shared', '--clients', '3');
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /synod demo: 3 replicas on multipaxos, shared storage, 3 clients, no faults/);
  assert.match(r.stdout, /Summary of [\d.]+ s with 3 replicas on multipaxos \(shared storage\), 3 clients/);
  assert.match(r.stdout, /commands committed +[\d,]+/);
  assert.match(r.stdout, /0 actor restarts by supervision/);
  assert.match(r.stdout, /linearizability +linearizable: [\d,]+ operations/);
});

test('--dir keeps the file storage', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'synod-demo-test-'));
  try {
    const r = await synodWith(DEMO, 'demo', '--duration', '1', '--no-faults', '--replicas', '3', '--dir', dir, '--json');
    assert.is(r.status, 0, r.stdout + r.stderr);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!) as Summary;
    assert.is(s.dirKept, true);
    assert.ok(
      readdirSync(dir).some((f) => f.endsWith('.log')),
      'logs are kept',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad options exit 2 with a message that names them', async () => {
  const cases: [string[], RegExp][] = [
    [['--replicas', '0'], /--replicas must be a positive whole number/],
    [['--replicas', '99'], /--replicas must be at most 15/],
    [['--duration', 'soon'], /--duration must be a positive number/],
    [['--storage', 'disk'], /--storage must be one of memory, shared, file|--storage must be one of/],
    [['--clients', '1.5'], /--clients must be a positive whole number/],
    [['--dir', '/tmp/x', '--storage', 'memory'], /--dir is where file storage goes/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--protocol', 'epaxos'], /--protocol must be one of multipaxos, raft, got 'epaxos'/],
    [['extra'], /Unexpected argument|positional/i],
  ];
  for (const [args, message] of cases) {
    const r = await synodWith(DEMO, 'demo', ...args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.match(r.stderr, /synod demo --help/);
  }
});

test('--help lists every option', async () => {
  const r = await synodWith(DEMO, 'demo', '--help');
  assert.is(r.status, 0);
  for (const o of ['--replicas', '--duration', '--storage', '--dir', '--clients', '--fault-every', '--no-faults', '--json']) assert.match(r.stdout, o);
});

test.run();
