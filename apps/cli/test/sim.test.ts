/**
 * `synod sim` end to end: the built CLI in a child process. A campaign passes; a failing plan
 * prints its seed, plan and a replay command that reproduces it; one seed replays to the same
 * fingerprint; bad options exit 2 with a message.
 */
import { exec } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { synodWith } from './fixtures/run-synod.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
/** Campaigns of many seeds, run from the repository root, where the replay commands they print are run too. */
const synod = (...args: string[]) => synodWith({ timeoutMs: 180_000, cwd: root }, ...args);

const tmp = mkdtempSync(join(tmpdir(), 'synod-sim-test-'));

test('synod sim --protocol synod --seeds 20 passes, with a progress bar on stderr', async () => {
  const r = await synod('sim', '--protocol', 'synod', '--seeds', '20');
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /scenario "synod under faults", seeds 1\.\.20/);
  assert.match(r.stdout, /passed: all 20 seeds/);
  assert.match(r.stderr, /\[[█░]+\] 20\/20 seeds, 0 failed/);
  assert.is(r.stderr.match(/20\/20 seeds/g)?.length, 1, `the final progress line once in a pipe:\n${r.stderr}`);
});

test('--json: the campaign as one JSON object', async () => {
  const r = await synod('sim', '--protocol', 'synod', '--seeds', '4', '--seed', '100', '--faults', 'crashes', '--threads', '1', '--json');
  assert.is(r.status, 0, r.stderr);
  const o = JSON.parse(r.stdout) as { passed: number; failed: number; total: number; threads: number; faults: string; scenario: string };
  assert.equal([o.passed, o.failed, o.total, o.threads, o.faults], [4, 0, 4, 1, 'crashes']);
  assert.match(o.scenario, /crashes only/);
});

test('a failing plan prints its seed, plan and a replay command that reproduces the failure', async () => {
  // A majority of acceptors down for good: nothing can be decided, and the liveness check says so.
  const plan = { faults: [0, 1, 2].map((i) => ({ atMs: 30, kind: 'crash-node', node: `acceptor-${i}`, downMs: 1e6 })) };
  const file = join(tmp, 'majority-down.json');
  writeFileSync(file, JSON.stringify(plan));
  const r = await synod('sim', '--protocol', 'synod', '--seeds', '3', '--faults', file);
  assert.is(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /FAILED: 1 of 1 seeds run/);
  assert.match(r.stdout, /simulation failed: scenario .*, seed 1/);
  assert.match(r.stdout, /liveness: instances .* not decided/);
  assert.match(r.stdout, /plan: \{"faults":\[\{"atMs":30,"kind":"crash-node","node":"acceptor-0"/);
  const replay = /replay: (.+)/.exec(r.stdout)?.[1];
  assert.ok(replay, 'a replay command');
  const again = await new Promise<{ code: number; out: string }>((resolve) => {
    exec(replay!, { cwd: root, timeout: 120_000 }, (error, stdout) => resolve({ code: error ? Number(error.code) : 0, out: stdout }));
  });
  assert.is(again.code, 1, again.out);
  assert.match(again.out, /seed 1: FAILED/);
  assert.match(again.out, /liveness: instances .* not decided/);
});

test('one seed prints its figures, and the same seed gives the same fingerprint', async () => {
  const a = await synod('sim', '--protocol', 'synod', '--seed', '7');
  const b = await synod('sim', '--protocol', 'synod', '--seed', '7');
  assert.is(a.status, 0, a.stdout + a.stderr);
  assert.match(a.stdout, /seed 7: passed\n +[\d,]+ steps, [\d.]+ ms virtual/);
  const fp = (s: string) => /fingerprint ([0-9a-f]+)/.exec(s)?.[1];
  assert.ok(fp(a.stdout));
  assert.is(fp(a.stdout), fp(b.stdout));
});

test('multipaxos: one seed of the ReplicatedMap scenario', async () => {
  const r = await synod('sim', '--protocol', 'multipaxos', '--seed', '1');
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /seed 1: passed/);
});

test('epaxos: one seed of the ReplicatedMap-on-EPaxos scenario', async () => {
  const r = await synod('sim', '--protocol', 'epaxos', '--seed', '1');
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /epaxos map under faults/);
  assert.match(r.stdout, /seed 1: passed/);
});

test('raft: a campaign of the ReplicatedMap scenario on Raft passes, and a seed replays to the same fingerprint', async () => {
  const r = await synod('sim', '--protocol', 'raft', '--seeds', '20', '--threads', '1');
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /scenario "replicated map on raft under faults", seeds 1\.\.20/);
  assert.match(r.stdout, /passed: all 20 seeds/);
  const a = await synod('sim', '--protocol', 'raft', '--seed', '5', '--faults', 'network');
  const b = await synod('sim', '--protocol', 'raft', '--seed', '5', '--faults', 'network');
  assert.is(a.status, 0, a.stdout + a.stderr);
  assert.match(a.stdout, /network faults only/);
  const fp = (s: string) => /fingerprint ([0-9a-f]+)/.exec(s)?.[1];
  assert.ok(fp(a.stdout));
  assert.is(fp(a.stdout), fp(b.stdout));
});

test('bad options exit 2 with a message that names them', async () => {
  const cases: [string[], RegExp][] = [
    [[], /--protocol is required \(one of synod, multipaxos, epaxos, raft\)/],
    [['--protocol', 'paxos'], /--protocol must be one of synod, multipaxos, epaxos, raft, got 'paxos'/],
    [['--protocol', 'synod', '--seeds', '0'], /--seeds must be a positive whole number/],
    [['--protocol', 'synod', '--seed', 'x'], /--seed must be a whole number, got 'x'/],
    [['--protocol', 'synod', '--threads', 'many'], /--threads must be a whole number/],
    [['--protocol', 'synod', '--faults', join(tmp, 'missing.json')], /no such file \(and not one of the presets plan, network, crashes, none\)/],
    [['--protocol', 'synod', '--bogus'], /Unknown option '--bogus'/],
  ];
  writeFileSync(join(tmp, 'bad.json'), '{"faults":[{"atMs":1,"kind":"boom"}]}');
  cases.push([['--protocol', 'synod', '--faults', join(tmp, 'bad.json')], /plan\.faults\[0\]\.kind must be one of/]);
  for (const [args, message] of cases) {
    const r = await synod('sim', ...args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
