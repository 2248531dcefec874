/**
 * `synod bench` end to end through the built CLI: it passes its options to the checkout's
 * benchmark runner and returns the runner's exit status (2 for a bad option, with the message
 * naming `synod bench`). Nothing is measured here: only --help, bad options and --report.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { synod } from './fixtures/run-synod.ts';

const fixture = fileURLToPath(new URL('../../../bench/test/fixtures/results.json', import.meta.url));

test('synod help lists bench; synod bench --help lists its options', async () => {
  const h = await synod('--help');
  assert.match(h.stdout, /\n {2}bench +Run every benchmark suite/);
  const b = await synod('bench', '--help');
  assert.is(b.status, 0);
  for (const o of ['--quick', '--compare FILE', '--workers N', '--suite NAME', '--runs N', '--no-scaling', '--out DIR', '--report FILE'])
    assert.ok(b.stdout.includes(o), o);
});

test('a bad option or value: exit 2 and a message naming synod bench', async () => {
  const unknown = await synod('bench', '--fast');
  assert.is(unknown.status, 2);
  assert.match(unknown.stderr, /^synod bench: Unknown option '--fast'\. Run 'synod bench --help'\./);
  const workers = await synod('bench', '--workers', '0');
  assert.is(workers.status, 2);
  assert.is(workers.stderr, "synod bench: --workers must be a positive whole number, got '0'. Run 'synod bench --help'.\n");
  const compare = await synod('bench', '--compare', '/nonexistent/old.json');
  assert.is(compare.status, 2);
  assert.match(compare.stderr, /--compare \/nonexistent\/old\.json: no such file/);
});

test('--report writes the report from a results file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'synod-cli-bench-'));
  try {
    const r = await synod('bench', '--report', fixture, '--out', dir);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /bench: wrote .*REPORT\.md and 14 charts/);
    assert.match(readFileSync(join(dir, 'REPORT.md'), 'utf8'), /## Scaling from 1 to 2 cores/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
