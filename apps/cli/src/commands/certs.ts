/**
 * `synod certs`: a development CA and certificates for the nodes and clients of a cluster, for
 * the network transport's TLS with mutual authentication.
 *
 *     synod certs --dir certs --nodes 3 --clients 1
 *     synod certs --dir certs --nodes 3 --host node1.example.org --host 10.0.0.5
 */
import { InvalidOptionError, writeDevCertificates } from '@synod/actors';
import { EXIT, UsageError, positiveNumber, type Command } from '../command.js';

const DEFAULT_HOSTS = ['localhost', '127.0.0.1', '::1'];

export const certsCommand: Command = {
  name: 'certs',
  summary: 'Make a development CA and TLS certificates for the nodes and clients of a cluster.',
  usage: 'synod certs --dir DIR --nodes N [--clients M] [--host HOST]... [--force]',
  description: [
    'Writes into DIR (created if missing) ca.pem and ca-key.pem, node-<i>.pem and node-<i>-key.pem for',
    'i = 0 … N-1, and client-<i>.pem and client-<i>-key.pem for i = 0 … M-1. Keys are ECDSA P-256, their',
    'files mode 0600. Every certificate serves and connects (TLS server and client authentication) and is',
    'valid for the hosts given. For development: the CA key lies next to the others; bring your own',
    'certificates in production. Refuses to replace files already there unless --force.',
    'Exit status: 0 written, 1 could not write, 2 bad options or files already there.',
  ].join('\n'),
  positionals: false,
  options: {
    dir: { type: 'string', short: 'd', value: 'DIR', description: 'Directory to write into (required).' },
    nodes: { type: 'string', short: 'n', value: 'N', description: 'Node certificates to make, 1 to 1000 (required).' },
    clients: { type: 'string', short: 'c', value: 'M', description: 'Client certificates to make, 0 to 1000 (default 0).' },
    host: {
      type: 'string',
      multiple: true,
      value: 'HOST',
      description: `DNS name or IP address the certificates are valid for (repeat, or a comma list; default ${DEFAULT_HOSTS.join(', ')}).`,
    },
    force: { type: 'boolean', description: 'Replace files already in DIR (nodes that trust the old CA will refuse the new certificates).' },
  },

  async run({ values, stdout, stderr }) {
    if (values.dir === undefined || String(values.dir) === '') throw new UsageError('--dir is required: the directory to write the certificates into');
    if (values.nodes === undefined) throw new UsageError('--nodes is required: how many node certificates to make');
    const dir = String(values.dir);
    const nodes = positiveNumber(values, 'nodes', 1);
    const clients = wholeNumber(values, 'clients');
    const hostValues = values.host === undefined ? [] : (values.host as string[]).flatMap((h) => h.split(',')).map((h) => h.trim());
    const hosts = hostValues.length === 0 ? DEFAULT_HOSTS : hostValues;

    let files: Awaited<ReturnType<typeof writeDevCertificates>>;
    try {
      files = await writeDevCertificates(dir, { nodes, clients, hosts, overwrite: values.force === true });
    } catch (e) {
      // Bad hosts, counts out of range, or files already there: the message says which.
      if (e instanceof InvalidOptionError) throw new UsageError(e.message.replace(/^writeDevCertificates: /, ''));
      stderr(`synod certs: could not write the certificates: ${(e as Error).message}\n`);
      return EXIT.failed;
    }
    const rows: [string, string][] = [
      ['CA', `${files.ca}  (its key ${files.caKey} signs certificates: keep it private)`],
      ...files.nodes.map((f, i): [string, string] => [`node ${i}`, `${f.cert}  ${f.key}`]),
      ...files.clients.map((f, i): [string, string] => [`client ${i}`, `${f.cert}  ${f.key}`]),
    ];
    const width = Math.max(...rows.map(([a]) => a.length));
    stdout(`Wrote a development CA, ${plural(nodes, 'node certificate')} and ${plural(clients, 'client certificate')} for ${hosts.join(', ')}:\n`);
    for (const [a, b] of rows) stdout(`  ${a.padEnd(width)}  ${b}\n`);
    const at = (name: string) => files.ca.slice(0, files.ca.length - 'ca.pem'.length) + name;
    stdout(`Node <i> takes: --tls-ca ${files.ca} --tls-cert ${at('node-<i>.pem')} --tls-key ${at('node-<i>-key.pem')}\n`);
    return EXIT.ok;
  },
};

/** Reads a whole number option that may be 0 (default 0). */
function wholeNumber(values: Record<string, unknown>, name: string): number {
  const raw = values[name];
  if (raw === undefined) return 0;
  const s = String(raw);
  if (!/^\d+$/.test(s)) throw new UsageError(`--${name} must be a whole number (0 or more), got '${s}'`);
  return Number(s);
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}
