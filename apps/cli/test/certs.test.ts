/**
 * `synod certs` end to end through the built CLI: it writes a CA, node and client certificates
 * into a directory, prints them with the TLS flags a node takes, refuses to replace them without
 * --force, and refuses bad options with exit status 2. That the certificates work with TLS is
 * packages/actors/test/dev-certificates.test.ts.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { synod } from './fixtures/run-synod.ts';

const tmp = mkdtempSync(join(tmpdir(), 'synod-cli-certs-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('synod help lists certs; synod certs --help lists its options', async () => {
  assert.match((await synod('--help')).stdout, /\n {2}certs +Make a development CA/);
  const h = await synod('certs', '--help');
  assert.is(h.status, 0);
  for (const o of ['--dir DIR', '--nodes N', '--clients M', '--host HOST', '--force']) assert.ok(h.stdout.includes(o), o);
});

test('writes the CA, node and client certificates for the hosts given, and prints the flags a node takes', async () => {
  const dir = join(tmp, 'a');
  const r = await synod('certs', '--dir', dir, '--nodes', '2', '--clients', '1', '--host', 'node1.example.org,10.0.0.5');
  assert.is(r.status, 0, r.stderr);
  const names = ['ca', 'node-1', 'node-2', 'client-1'];
  for (const n of names) {
    assert.ok(existsSync(join(dir, `${n}.pem`)), n);
    if (process.platform !== 'win32') assert.is(statSync(join(dir, `${n}-key.pem`)).mode & 0o777, 0o600, `${n}-key.pem`);
    assert.ok(r.stdout.includes(join(dir, `${n}.pem`)), `${n}.pem printed`);
  }
  assert.ok(r.stdout.includes(`--tls-ca ${join(dir, 'ca.pem')} --tls-cert ${join(dir, 'node-<i>.pem')} --tls-key ${join(dir, 'node-<i>-key.pem')}`), r.stdout);
  const node1 = new X509Certificate(readFileSync(join(dir, 'node-1.pem')));
  assert.is(node1.subjectAltName, 'DNS:node1.example.org, IP Address:10.0.0.5');
  assert.ok(node1.verify(new X509Certificate(readFileSync(join(dir, 'ca.pem'))).publicKey), 'signed by the CA written');
});

test('refuses to replace certificates already there (exit 2, nothing changed) unless --force', async () => {
  const dir = join(tmp, 'b');
  assert.is((await synod('certs', '--dir', dir, '--nodes', '1')).status, 0);
  const ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
  const again = await synod('certs', '--dir', dir, '--nodes', '1');
  assert.is(again.status, 2);
  assert.match(again.stderr, /^synod certs: .*ca\.pem.* already exist; nothing was written\..*--force/);
  assert.is(readFileSync(join(dir, 'ca.pem'), 'utf8'), ca);
  const forced = await synod('certs', '--dir', dir, '--nodes', '1', '--force');
  assert.is(forced.status, 0, forced.stderr);
  assert.is.not(readFileSync(join(dir, 'ca.pem'), 'utf8'), ca);
});

test('bad options: exit 2 and a message saying what is wrong', async () => {
  const cases: [string[], RegExp][] = [
    [['--nodes', '1'], /--dir is required/],
    [['--dir', join(tmp, 'c')], /--nodes is required/],
    [['--dir', join(tmp, 'c'), '--nodes', '0'], /--nodes must be a positive whole number, got '0'/],
    [['--dir', join(tmp, 'c'), '--nodes', '1', '--clients', 'x'], /--clients must be a whole number \(0 or more\), got 'x'/],
    [['--dir', join(tmp, 'c'), '--nodes', '1', '--host', 'bad host'], /'bad host' is neither a DNS name nor an IP address/],
  ];
  for (const [args, message] of cases) {
    const r = await synod('certs', ...args);
    assert.is(r.status, 2, args.join(' '));
    assert.match(r.stderr, message);
  }
  assert.not.ok(existsSync(join(tmp, 'c', 'ca.pem')), 'nothing written');
});

test.run();
