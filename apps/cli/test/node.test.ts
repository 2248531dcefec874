/**
 * `synod node` through the built CLI, where it fails: bad flags are usage errors (exit status 2,
 * saying which flag), and a start that cannot happen (the port is taken, a certificate file is
 * missing) exits 1 with the reason on stderr, as a supervisor (systemd, a container runtime)
 * expects. That it serves, survives kills and stops on SIGTERM is test/net-cluster.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { synod } from './fixtures/run-synod.ts';

const tmp = mkdtempSync(join(tmpdir(), 'synod-cli-node-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('synod help lists node; bad flags are usage errors that name the flag', async () => {
  assert.match((await synod('--help')).stdout, /\n {2}node +Run one member/);
  const cases: [string[], RegExp][] = [
    [['node', '--listen', '127.0.0.1:1', '--dir', tmp, '--insecure'], /--id/],
    [['node', '--id', '1', '--dir', tmp, '--insecure'], /--listen HOST:PORT is required/],
    [['node', '--id', '1', '--listen', 'nowhere', '--dir', tmp, '--insecure'], /--listen is HOST:PORT/],
    [['node', '--id', '1', '--listen', '127.0.0.1:1', '--insecure'], /--dir DIR is required/],
    [['node', '--id', '1', '--listen', '127.0.0.1:1', '--dir', tmp], /--tls-ca FILE is required \(or --insecure/],
    [['node', '--id', '1', '--listen', '127.0.0.1:1', '--dir', tmp, '--insecure', '--peers', '2@nowhere'], /--peers: a member is "N@host:port"/],
    [['node', '--id', '1', '--listen', '127.0.0.1:1', '--dir', tmp, '--tls-ca', join(tmp, 'missing.pem'), '--tls-cert', 'x', '--tls-key', 'y'], /cannot read/],
  ];
  for (const [args, pattern] of cases) {
    const r = await synod(...args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
});

test('a port already taken: exit status 1 and the reason', async () => {
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  const port = (taken.address() as net.AddressInfo).port;
  try {
    const r = await synod(
      'node',
      '--id',
      '1',
      '--listen',
      `127.0.0.1:${port}`,
      '--peers',
      '2@127.0.0.1:1,3@127.0.0.1:2',
      '--dir',
      join(tmp, 'n1'),
      '--insecure',
    );
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, /could not start: .*EADDRINUSE/);
  } finally {
    await new Promise<void>((r) => taken.close(() => r()));
  }
});

test.run();
