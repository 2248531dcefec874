/**
 * Development certificates for the network transport: a cluster CA, and certificates it signs for
 * nodes and clients, good for TLS 1.3 with mutual authentication in `node:tls` (each one serves and
 * connects: extendedKeyUsage serverAuth and clientAuth). ECDSA P-256 keys, made in milliseconds.
 *
 * For development and tests: the CA key sits in a file next to the others. Production clusters
 * bring certificates from their own CA.
 *
 * `@peculiar/x509` (and the Reflect polyfill it needs) is loaded on the first call, not when
 * `@synod/actors` is imported: every worker imports the package, and few ever make a certificate.
 */
import { type KeyObject, createHash, createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import { lstat, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { InvalidOptionError } from '../errors.js';

/** A certificate authority: its self-signed certificate and its private key, both PEM. */
export interface DevCa {
  /** The CA certificate (PEM): what nodes and clients are given as `ca` to trust. */
  readonly cert: string;
  /** The CA's private key (PEM, unencrypted PKCS #8): whoever holds it can issue certificates. */
  readonly key: string;
}

/** Options of {@link createDevCa}. */
export interface DevCaOptions {
  /** The CA's subject common name. Default `'Synod development CA'`. */
  readonly commonName?: string;
  /** How long the CA is valid, in days (1 to 36500). Default 3650. */
  readonly validDays?: number;
}

/** A certificate and its private key, both PEM, as `node:tls` takes them (`cert`, `key`). */
export interface DevCertificate {
  /** The certificate (PEM), signed by the CA. */
  readonly cert: string;
  /** Its private key (PEM, unencrypted PKCS #8). */
  readonly key: string;
}

/** Options of {@link issueCertificate}. */
export interface IssueCertificateOptions {
  /** The subject common name, e.g. `'node-1'` (1 to 64 characters). */
  readonly commonName: string;
  /**
   * Whether it is for a node or a client, written as the subject's organizational unit (`OU`),
   * where the receiving side of a connection can read it (`getPeerCertificate().subject.OU`).
   * Both kinds can serve and connect.
   */
  readonly role: 'node' | 'client';
  /**
   * The DNS names and IP addresses it is valid for (its subjectAltName), which a client connecting
   * to it checks. Default `['localhost', '127.0.0.1', '::1']`.
   */
  readonly hosts?: readonly string[];
  /** How long it is valid, in days (1 to 36500, and not past the CA's end). Default 825. */
  readonly validDays?: number;
}

/** Options of {@link writeDevCertificates}. */
export interface WriteDevCertificatesOptions {
  /** How many node certificates to write (1 to 1000): `node-1.pem` … (numbered like the members, from 1) */
  readonly nodes: number;
  /** How many client certificates to write (0 to 1000): `client-1.pem` … Default 0. */
  readonly clients?: number;
  /** The hosts of the node and client certificates, as in {@link IssueCertificateOptions.hosts}. */
  readonly hosts?: readonly string[];
  /**
   * Replace files already there. Default false: an existing file is refused, since nodes that
   * trust an old CA would refuse certificates of a new one.
   */
  readonly overwrite?: boolean;
}

/** Paths of a certificate file and its key file. */
export interface CertificateFiles {
  /** The certificate file (PEM). */
  readonly cert: string;
  /** Its private key file (PEM, mode 0600). */
  readonly key: string;
}

/** What {@link writeDevCertificates} wrote: file paths. */
export interface DevCertificateFiles {
  /** The CA certificate, `ca.pem`: every node and client is given it to trust. */
  readonly ca: string;
  /** The CA's private key, `ca-key.pem` (mode 0600), to issue more certificates later. */
  readonly caKey: string;
  /** `node-<i>.pem` and `node-<i>-key.pem`, for i from 1 (members are numbered from 1). */
  readonly nodes: readonly CertificateFiles[];
  /** `client-<i>.pem` and `client-<i>-key.pem`, for i from 1 (members are numbered from 1). */
  readonly clients: readonly CertificateFiles[];
}

const DEFAULT_CA_NAME = 'Synod development CA';
const DEFAULT_CA_VALID_DAYS = 3650;
const DEFAULT_VALID_DAYS = 825;
const MAX_VALID_DAYS = 36_500;
const DEFAULT_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];
/** X.520's upper bound for a common name. */
const MAX_COMMON_NAME = 64;
const MAX_HOSTS = 100;
const MAX_CERTIFICATES = 1000;
const ORGANIZATION = 'Synod development';
const DAY_MS = 86_400_000;
/** notBefore lies this far back, so a machine whose clock is a little behind accepts a fresh certificate. */
const BACKDATE_MS = 3_600_000;
const ROLES = ['node', 'client'] as const;
/** The curves a CA key may be on, by Node's name, with their WebCrypto name and signature hash. */
const CURVES: Readonly<Record<string, { namedCurve: string; hash: string }>> = {
  prime256v1: { namedCurve: 'P-256', hash: 'SHA-256' },
  secp384r1: { namedCurve: 'P-384', hash: 'SHA-384' },
};
const KEY_PARAMS = { name: 'ECDSA', namedCurve: 'P-256' } as const;

type X509 = typeof import('@peculiar/x509');
let library: Promise<X509> | undefined;

function x509(): Promise<X509> {
  library ??= (async () => {
    // tsyringe, under @peculiar/x509, throws on load without Reflect.getMetadata.
    await import('reflect-metadata');
    const lib = await import('@peculiar/x509');
    lib.cryptoProvider.set(webcrypto);
    return lib;
  })();
  return library;
}

/**
 * Makes a development certificate authority: an ECDSA P-256 key and a self-signed CA certificate
 * (basicConstraints CA, pathLength 0) to sign node and client certificates with
 * {@link issueCertificate}.
 *
 * @throws {@link InvalidOptionError} when `commonName` or `validDays` is out of range.
 */
export async function createDevCa(options: DevCaOptions = {}): Promise<DevCa> {
  const where = 'createDevCa';
  const commonName = checkCommonName(where, options.commonName ?? DEFAULT_CA_NAME);
  const validDays = checkValidDays(where, options.validDays ?? DEFAULT_CA_VALID_DAYS);
  const lib = await x509();
  const keys = await webcrypto.subtle.generateKey(KEY_PARAMS, true, ['sign', 'verify']);
  const { notBefore, notAfter } = validity(validDays);
  const cert = await lib.X509CertificateGenerator.createSelfSigned({
    name: [{ O: [ORGANIZATION] }, { CN: [commonName] }],
    keys: keys,
    notBefore,
    notAfter,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new lib.BasicConstraintsExtension(true, 0, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.keyCertSign | lib.KeyUsageFlags.cRLSign, true),
      await lib.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey) };
}

/**
 * Issues a certificate signed by `ca` for a node or a client: a new ECDSA P-256 key, the hosts as
 * subjectAltName, extendedKeyUsage serverAuth and clientAuth (so either side of a connection can
 * present it), and the role as the subject's `OU`.
 *
 * @throws {@link InvalidOptionError} when an option is out of range, when `ca` is not a CA
 * certificate with its ECDSA private key, or when the CA has expired or ends before the
 * certificate would.
 */
export async function issueCertificate(ca: DevCa, options: IssueCertificateOptions): Promise<DevCertificate> {
  const where = 'issueCertificate';
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(`${where}: options are required, e.g. { commonName: 'node-1', role: 'node' }`);
  }
  const commonName = checkCommonName(where, options.commonName);
  if (!(ROLES as readonly unknown[]).includes(options.role)) {
    throw new InvalidOptionError(`${where}: role must be 'node' or 'client', got ${describe(options.role)}`);
  }
  const hosts = checkHosts(where, options.hosts ?? DEFAULT_HOSTS);
  const validDays = checkValidDays(where, options.validDays ?? DEFAULT_VALID_DAYS);
  const lib = await x509();
  const signer = await loadCa(lib, where, ca);
  const { notBefore, notAfter } = validity(validDays);
  if (signer.cert.notAfter.getTime() < Date.now()) {
    throw new InvalidOptionError(
      `${where}: the CA expired on ${signer.cert.notAfter.toISOString()}; make a new one with createDevCa (and give it to every node)`,
    );
  }
  if (notAfter > signer.cert.notAfter) {
    throw new InvalidOptionError(
      `${where}: a certificate valid for ${validDays} days would outlive its CA, which ends on ${signer.cert.notAfter.toISOString()}; ` +
        `choose validDays of at most ${Math.floor((signer.cert.notAfter.getTime() - Date.now()) / DAY_MS)} or make a new CA`,
    );
  }
  const keys = await webcrypto.subtle.generateKey(KEY_PARAMS, true, ['sign', 'verify']);
  const publicKey = keys.publicKey;
  const cert = await lib.X509CertificateGenerator.create({
    subject: [{ O: [ORGANIZATION] }, { OU: [options.role] }, { CN: [commonName] }],
    issuer: signer.cert.subjectName,
    publicKey,
    signingKey: signer.key,
    notBefore,
    notAfter,
    signingAlgorithm: { name: 'ECDSA', hash: signer.hash },
    extensions: [
      new lib.BasicConstraintsExtension(false, undefined, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature, true),
      new lib.ExtendedKeyUsageExtension([lib.ExtendedKeyUsage.serverAuth, lib.ExtendedKeyUsage.clientAuth]),
      new lib.SubjectAlternativeNameExtension(hosts.map((h) => ({ type: isIP(h) === 0 ? 'dns' : 'ip', value: h }))),
      await lib.SubjectKeyIdentifierExtension.create(publicKey),
      await lib.AuthorityKeyIdentifierExtension.create(signer.cert),
    ],
  });
  return { cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey) };
}

/**
 * Makes a development CA and writes it with certificates for `nodes` nodes and `clients` clients
 * into `dir` (created if missing): `ca.pem`, `ca-key.pem`, `node-<i>.pem`, `node-<i>-key.pem`,
 * `client-<i>.pem`, `client-<i>-key.pem`, for i from 1 (as members are numbered). Key files get mode 0600.
 *
 * @returns the paths it wrote.
 * @throws {@link InvalidOptionError} when a count is out of range, or when a file is already
 * there and `overwrite` is not set (then nothing is written).
 */
export async function writeDevCertificates(dir: string, options: WriteDevCertificatesOptions): Promise<DevCertificateFiles> {
  const where = 'writeDevCertificates';
  if (typeof dir !== 'string' || dir === '') throw new InvalidOptionError(`${where}: dir must be a directory path, got ${describe(dir)}`);
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError(`${where}: options are required, e.g. { nodes: 3 }`);
  const nodes = checkCount(where, 'nodes', options.nodes, 1);
  const clients = checkCount(where, 'clients', options.clients ?? 0, 0);
  const hosts = checkHosts(where, options.hosts ?? DEFAULT_HOSTS);

  const pair = (name: string): CertificateFiles => ({ cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) });
  const files: DevCertificateFiles = {
    ca: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca-key.pem'),
    nodes: Array.from({ length: nodes }, (_, i) => pair(`node-${i + 1}`)),
    clients: Array.from({ length: clients }, (_, i) => pair(`client-${i + 1}`)),
  };
  const all = [files.ca, files.caKey, ...[...files.nodes, ...files.clients].flatMap((f) => [f.cert, f.key])];
  await makeDirectory(dir);
  if (!(await stat(dir)).isDirectory()) throw new InvalidOptionError(`${where}: ${dir} is not a directory; give a directory to write the certificates into`);
  if (options.overwrite === true) {
    // Removed rather than truncated, so each key file is created anew with mode 0600.
    await Promise.all(all.map((f) => rm(f, { force: true })));
  } else {
    const present = (await Promise.all(all.map(async (f) => ((await exists(f)) ? f : null)))).filter((f) => f !== null);
    if (present.length > 0) {
      throw new InvalidOptionError(
        `${where}: ${listed(present)} already ${present.length === 1 ? 'exists' : 'exist'}; nothing was written. ` +
          `Choose another directory, remove them, or overwrite them (option overwrite, or synod certs --force): nodes that trust the old CA will refuse the new certificates`,
      );
    }
  }

  const ca = await createDevCa();
  await write(files.ca, ca.cert, false);
  await write(files.caKey, ca.key, true);
  const issued: [CertificateFiles, IssueCertificateOptions][] = [
    ...files.nodes.map((f, i): [CertificateFiles, IssueCertificateOptions] => [f, { commonName: `node-${i + 1}`, role: 'node', hosts }]),
    ...files.clients.map((f, i): [CertificateFiles, IssueCertificateOptions] => [f, { commonName: `client-${i + 1}`, role: 'client', hosts }]),
  ];
  for (const [f, o] of issued) {
    const c = await issueCertificate(ca, o);
    await write(f.cert, c.cert, false);
    await write(f.key, c.key, true);
  }
  return files;
}

/**
 * `mkdir -p`, by hand: Node 20's `mkdir(…, { recursive: true })` spins forever where a parent exists
 * but refuses children with ENOENT (e.g. `/proc/x`); here the second ENOENT is thrown.
 */
async function makeDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw e;
    await makeDirectory(parent);
    await mkdir(dir, { mode: 0o700 }).catch((again: NodeJS.ErrnoException) => {
      if (again.code !== 'EEXIST') throw again;
    });
  }
}

/** Creates the file (never follows or reuses an existing one), private when it holds a key. */
async function write(path: string, text: string, secret: boolean): Promise<void> {
  await writeFile(path, text, { flag: 'wx', mode: secret ? 0o600 : 0o644 });
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

interface Signer {
  cert: InstanceType<X509['X509Certificate']>;
  key: webcrypto.CryptoKey;
  hash: string;
}

/** Reads the CA, refusing anything {@link issueCertificate} could not sign with. */
async function loadCa(lib: X509, where: string, ca: DevCa): Promise<Signer> {
  if (typeof ca !== 'object' || ca === null || typeof ca.cert !== 'string' || typeof ca.key !== 'string') {
    throw new InvalidOptionError(`${where}: ca must be { cert, key } as PEM strings (what createDevCa returns), got ${describe(ca)}`);
  }
  let cert: Signer['cert'];
  try {
    cert = new lib.X509Certificate(ca.cert);
  } catch (e) {
    throw new InvalidOptionError(`${where}: ca.cert is not a PEM certificate (${(e as Error).message}); pass the cert of createDevCa`);
  }
  const constraints = cert.getExtension(lib.BasicConstraintsExtension);
  if (!constraints?.ca) {
    throw new InvalidOptionError(`${where}: ca.cert (${cert.subject}) is not a CA certificate (no basicConstraints CA); pass the cert of createDevCa`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(ca.key);
  } catch (e) {
    throw new InvalidOptionError(`${where}: ca.key is not an unencrypted PEM private key (${(e as Error).message}); pass the key of createDevCa`);
  }
  const curve = key.asymmetricKeyType === 'ec' ? CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''] : undefined;
  if (!curve) {
    const kind = key.asymmetricKeyType === 'ec' ? `EC ${key.asymmetricKeyDetails?.namedCurve}` : key.asymmetricKeyType;
    throw new InvalidOptionError(`${where}: ca.key is a ${kind} key; only ECDSA P-256 and P-384 CA keys are supported (createDevCa makes P-256)`);
  }
  const spki = (k: KeyObject) =>
    createHash('sha256')
      .update(k.export({ type: 'spki', format: 'der' }))
      .digest('hex');
  if (spki(createPublicKey(key)) !== spki(createPublicKey(ca.cert))) {
    throw new InvalidOptionError(`${where}: ca.key is not the private key of ca.cert (${cert.subject}); pass the cert and key of the same createDevCa`);
  }
  const der = key.export({ type: 'pkcs8', format: 'der' });
  const signing = await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: curve.namedCurve }, false, ['sign']);
  return { cert, key: signing, hash: curve.hash };
}

function validity(validDays: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + validDays * DAY_MS) };
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }) as string;
}

function checkCommonName(where: string, name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_COMMON_NAME) {
    throw new InvalidOptionError(`${where}: commonName must be a non-blank string of at most ${MAX_COMMON_NAME} characters, got ${describe(name)}`);
  }
  return name;
}

function checkValidDays(where: string, days: unknown): number {
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > MAX_VALID_DAYS) {
    throw new InvalidOptionError(`${where}: validDays must be a whole number from 1 to ${MAX_VALID_DAYS}, got ${describe(days)}`);
  }
  return days;
}

function checkCount(where: string, name: string, n: unknown, min: number): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > MAX_CERTIFICATES) {
    throw new InvalidOptionError(`${where}: ${name} must be a whole number from ${min} to ${MAX_CERTIFICATES}, got ${describe(n)}`);
  }
  return n;
}

/** DNS labels of letters, digits and hyphens (a leading `*.` for a wildcard), or an IP address. */
const DNS_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

function checkHosts(where: string, hosts: unknown): string[] {
  if (!Array.isArray(hosts) || hosts.length === 0 || hosts.length > MAX_HOSTS) {
    throw new InvalidOptionError(`${where}: hosts must be a list of 1 to ${MAX_HOSTS} DNS names or IP addresses, got ${describe(hosts)}`);
  }
  for (const h of hosts) {
    if (typeof h !== 'string' || (isIP(h) === 0 && (h.length > 253 || !DNS_NAME.test(h)))) {
      throw new InvalidOptionError(`${where}: hosts: ${describe(h)} is neither a DNS name nor an IP address (e.g. 'node1.example.org', '10.0.0.5', '::1')`);
    }
  }
  return [...new Set(hosts as string[])];
}

/** The first few paths, and how many more: a thousand names help no one. */
function listed(paths: readonly string[]): string {
  const shown = paths.slice(0, 3).join(', ');
  return paths.length > 3 ? `${shown} and ${paths.length - 3} more files` : shown;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v === null || v === undefined) return String(v);
  return typeof v === 'object' ? 'an object' : String(v);
}
