/**
 * Flags shared by the commands that speak to a networked cluster (`synod node`, `synod dashboard
 * --members`): lists of members, TLS files or `--insecure`.
 */
import { readFileSync } from 'node:fs';
import type { NetTlsOptions } from '@synod/actors';
import { UsageError, type CommandContext, type OptionSpec } from '../command.js';

/** `--tls-ca`, `--tls-cert`, `--tls-key` and `--insecure`; `who` is whose certificate it is (`This member's`). */
export function tlsFlags(who: string): Record<'tls-ca' | 'tls-cert' | 'tls-key' | 'insecure', OptionSpec> {
  return {
    'tls-ca': { type: 'string', value: 'FILE', description: 'The cluster CA certificate (PEM).' },
    'tls-cert': { type: 'string', value: 'FILE', description: `${who} certificate (PEM), signed by the CA.` },
    'tls-key': { type: 'string', value: 'FILE', description: 'Its private key (PEM).' },
    insecure: { type: 'boolean', description: 'Plain TCP without authentication (closed test networks only).' },
  };
}

/** A comma-separated or repeated option as a list. */
export function list(v: unknown): string[] {
  const items = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return items
    .flatMap((s) => String(s).split(','))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UsageError(`--${flag}: cannot read ${path} (${(e as Error).message})`);
  }
}

/** The TLS option from `--tls-*` (all three) or `--insecure`; throws a UsageError naming what is missing. */
export function tlsFromFlags(values: CommandContext['values']): NetTlsOptions | 'insecure' {
  if (values.insecure === true) {
    if (values['tls-ca'] || values['tls-cert'] || values['tls-key']) throw new UsageError('--insecure and --tls-* exclude each other');
    return 'insecure';
  }
  for (const f of ['tls-ca', 'tls-cert', 'tls-key'] as const)
    if (values[f] === undefined) throw new UsageError(`--${f} FILE is required (or --insecure on a closed test network)`);
  return {
    ca: readPem(String(values['tls-ca']), 'tls-ca'),
    cert: readPem(String(values['tls-cert']), 'tls-cert'),
    key: readPem(String(values['tls-key']), 'tls-key'),
  };
}
