/**
 * Development certificates work with `node:tls` as the network transport uses it: TLS 1.3, the
 * server asks every peer for a certificate and refuses those its CA did not sign. A node or client
 * certificate of the same CA connects and exchanges bytes; one of another CA, or none, is refused
 * before the server's `secureConnection` handler sees the connection. Also what
 * `writeDevCertificates` writes, and the options refused at the edge.
 */
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InvalidOptionError, createDevCa, issueCertificate, writeDevCertificates, type DevCertificate } from '@synod/actors';

const ca = await createDevCa();
const otherCa = await createDevCa({ commonName: 'another cluster' });
const node0 = await issueCertificate(ca, { commonName: 'node-0', role: 'node' });
const node1 = await issueCertificate(ca, { commonName: 'node-1', role: 'node' });
const client = await issueCertificate(ca, { commonName: 'client-0', role: 'client' });
const stranger = await issueCertificate(otherCa, { commonName: 'node-0', role: 'node' });

/** A TLS 1.3 server on 127.0.0.1 requiring a client certificate of `trust`; echoes what it gets. */
async function serve(trust: string, own: DevCertificate) {
  const accepted: { cn: string; ou: string }[] = [];
  const received: string[] = [];
  const server = tls.createServer({ ca: trust, ...own, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (socket) => {
    const peer = socket.getPeerCertificate();
    accepted.push({ cn: String(peer.subject.CN), ou: String(peer.subject.OU) });
    socket.on('data', (d: Buffer) => {
      received.push(d.toString());
      socket.write(`echo:${d.toString()}`);
    });
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    port,
    accepted,
    received,
    /**
     * Resolves with the next connection the server refused: the error, and the socket's
     * verification result (`authorizationError`), which is where a refused certificate's reason is.
     */
    refusal: () =>
      once(server, 'tlsClientError').then(([e, socket]) => ({
        code: (e as NodeJS.ErrnoException).code,
        authorizationError: String((socket as tls.TLSSocket).authorizationError),
      })),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * Connects, sends `text` once the handshake is done, and resolves when the connection closes, with
 * what came back and the error, if any. Under TLS 1.3 the client finishes its handshake before the
 * server has checked the client's certificate, so a refused client learns it on its first read.
 */
function exchange(port: number, options: tls.ConnectionOptions, text: string): Promise<{ reply: string; error: Error | null; handshake: boolean }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, minVersion: 'TLSv1.3', ...options });
    let reply = '';
    let error: Error | null = null;
    let handshake = false;
    socket.on('secureConnect', () => {
      handshake = true;
      socket.write(text);
    });
    socket.on('data', (d: Buffer) => {
      reply += d.toString();
      if (reply === `echo:${text}`) socket.end();
    });
    socket.on('error', (e) => {
      error = e;
    });
    socket.on('close', () => resolve({ reply, error, handshake }));
  });
}

test('a node certificate of the same CA connects to a node over TLS 1.3 and exchanges bytes both ways', async () => {
  const server = await serve(ca.cert, node0);
  try {
    // The client checks the server's certificate for 127.0.0.1 (its subjectAltName) against the CA.
    const r = await exchange(server.port, { ca: ca.cert, ...node1 }, 'ping');
    assert.is(r.error, null, String(r.error));
    assert.is(r.reply, 'echo:ping');
    assert.equal(server.received, ['ping']);
    assert.equal(server.accepted, [{ cn: 'node-1', ou: 'node' }]);
  } finally {
    await server.close();
  }
});

test('a client certificate of the same CA connects, and the server reads its role', async () => {
  const server = await serve(ca.cert, node0);
  try {
    const r = await exchange(server.port, { ca: ca.cert, ...client, servername: 'localhost' }, 'hello');
    assert.is(r.error, null, String(r.error));
    assert.is(r.reply, 'echo:hello');
    assert.equal(server.accepted, [{ cn: 'client-0', ou: 'client' }]);
  } finally {
    await server.close();
  }
});

test('a certificate of another dev CA is refused: the handshake fails and no data reaches the server', async () => {
  const server = await serve(ca.cert, node0);
  try {
    const refused = server.refusal();
    const r = await exchange(server.port, { ca: ca.cert, ...stranger }, 'intruder');
    // Node's server completes the TLS handshake, finds the chain unverified and destroys the socket
    // (no alert: the client may have seen its handshake end, then the connection closes).
    const refusal = await refused;
    assert.is(refusal.authorizationError, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    assert.is(r.reply, '', 'nothing came back');
    assert.equal(server.accepted, [], 'secureConnection never fired');
    assert.equal(server.received, []);
  } finally {
    await server.close();
  }
});

test('a client without a certificate is refused: the handshake fails and no data reaches the server', async () => {
  const server = await serve(ca.cert, node0);
  try {
    const refused = server.refusal();
    const r = await exchange(server.port, { ca: ca.cert }, 'anonymous');
    const refusal = await refused;
    assert.is(refusal.code, 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
    assert.is((r.error as NodeJS.ErrnoException | null)?.code, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    assert.is(r.reply, '');
    assert.equal(server.accepted, []);
    assert.equal(server.received, []);
  } finally {
    await server.close();
  }
});

test('a client refuses a server whose certificate another CA signed, or that is not for the host it dialled', async () => {
  const foreign = await serve(ca.cert, stranger);
  try {
    const r = await exchange(foreign.port, { ca: ca.cert, ...client }, 'x');
    assert.is(r.handshake, false);
    assert.match(String((r.error as NodeJS.ErrnoException | null)?.code), /UNABLE_TO_VERIFY|SELF_SIGNED|CERT/);
    assert.equal(foreign.accepted, []);
  } finally {
    await foreign.close();
  }
  const elsewhere = await serve(ca.cert, await issueCertificate(ca, { commonName: 'node-9', role: 'node', hosts: ['node9.example.org', '10.9.9.9'] }));
  try {
    const r = await exchange(elsewhere.port, { ca: ca.cert, ...client }, 'x');
    assert.is(r.handshake, false);
    assert.is((r.error as NodeJS.ErrnoException | null)?.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  } finally {
    await elsewhere.close();
  }
});

test('writeDevCertificates writes a CA, node and client certificates that work, with private key files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'synod-certs-'));
  try {
    const files = await writeDevCertificates(join(dir, 'certs'), { nodes: 2, clients: 1 });
    assert.is(files.ca, join(dir, 'certs', 'ca.pem'));
    assert.is(files.caKey, join(dir, 'certs', 'ca-key.pem'));
    assert.equal(
      files.nodes,
      [1, 2].map((i) => ({ cert: join(dir, 'certs', `node-${i}.pem`), key: join(dir, 'certs', `node-${i}-key.pem`) })),
    );
    assert.equal(files.clients, [{ cert: join(dir, 'certs', 'client-1.pem'), key: join(dir, 'certs', 'client-1-key.pem') }]);
    if (process.platform !== 'win32') {
      for (const key of [files.caKey, ...files.nodes.map((f) => f.key), files.clients[0]!.key]) {
        assert.is(statSync(key).mode & 0o777, 0o600, key);
      }
    }
    const read = (f: { cert: string; key: string }) => ({ cert: readFileSync(f.cert, 'utf8'), key: readFileSync(f.key, 'utf8') });
    const trust = readFileSync(files.ca, 'utf8');
    const server = await serve(trust, read(files.nodes[0]!));
    try {
      const r = await exchange(server.port, { ca: trust, ...read(files.clients[0]!) }, 'from disk');
      assert.is(r.error, null, String(r.error));
      assert.is(r.reply, 'echo:from disk');
    } finally {
      await server.close();
    }
    // The CA key written is the CA's: it issues more certificates later.
    const more = await issueCertificate({ cert: trust, key: readFileSync(files.caKey, 'utf8') }, { commonName: 'node-2', role: 'node' });
    assert.match(more.cert, /^-----BEGIN CERTIFICATE-----/);

    // A second run into the same directory would make a new CA the nodes do not trust: refused,
    // and nothing is changed, unless asked to overwrite.
    const e = await writeDevCertificates(join(dir, 'certs'), { nodes: 1 }).catch((x: unknown) => x);
    assert.ok(e instanceof InvalidOptionError, String(e));
    assert.match((e as Error).message, /already exist.*nothing was written/);
    assert.is(readFileSync(files.ca, 'utf8'), trust);
    await writeDevCertificates(join(dir, 'certs'), { nodes: 1, overwrite: true });
    assert.is.not(readFileSync(files.ca, 'utf8'), trust);
    if (process.platform !== 'win32') assert.is(statSync(files.caKey).mode & 0o777, 0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad options are refused with InvalidOptionError saying what is wrong', async () => {
  const refused = async (what: RegExp, p: Promise<unknown>) => {
    const e = await p.then(
      () => null,
      (x: unknown) => x,
    );
    assert.ok(e instanceof InvalidOptionError, `expected InvalidOptionError matching ${what}, got ${String(e)}`);
    assert.match((e as Error).message, what);
  };
  await refused(/validDays must be a whole number/, createDevCa({ validDays: 0 }));
  await refused(/commonName must be a non-blank string/, createDevCa({ commonName: ' ' }));
  await refused(/role must be 'node' or 'client', got 'peer'/, issueCertificate(ca, { commonName: 'x', role: 'peer' as 'node' }));
  await refused(/'not a host' is neither a DNS name nor an IP address/, issueCertificate(ca, { commonName: 'x', role: 'node', hosts: ['not a host'] }));
  await refused(/hosts must be a list of 1 to/, issueCertificate(ca, { commonName: 'x', role: 'node', hosts: [] }));
  await refused(/would outlive its CA/, issueCertificate(ca, { commonName: 'x', role: 'node', validDays: 36_500 }));
  await refused(/ca.key is not the private key of ca.cert/, issueCertificate({ cert: ca.cert, key: otherCa.key }, { commonName: 'x', role: 'node' }));
  await refused(/is not a CA certificate/, issueCertificate(node0, { commonName: 'x', role: 'node' }));
  await refused(/ca.cert is not a PEM certificate/, issueCertificate({ cert: 'garbage', key: ca.key }, { commonName: 'x', role: 'node' }));
  await refused(/nodes must be a whole number from 1 to 1000, got 0/, writeDevCertificates(join(tmpdir(), 'never-written'), { nodes: 0 }));
  await refused(/clients must be a whole number from 0 to 1000, got 1.5/, writeDevCertificates(join(tmpdir(), 'never-written'), { nodes: 1, clients: 1.5 }));
});

test.run();
