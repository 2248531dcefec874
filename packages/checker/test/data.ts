/** The golden histories in shared/data/histories, with their expected verdicts. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const historiesDir = fileURLToPath(new URL('../../../../shared/data/histories/', import.meta.url));

export interface Golden { readonly dir: 'jepsen-etcd' | 'kv'; readonly file: string; readonly path: string; readonly expected: 'linearizable' | 'not-linearizable' }

/** Every file listed in each folder's EXPECTED.txt. */
export function goldenHistories(dir: Golden['dir']): Golden[] {
  if (!existsSync(`${historiesDir}${dir}/EXPECTED.txt`)) {
    throw new Error(`no golden histories at ${historiesDir}${dir}: these tests read shared/data/histories beside the repository (../shared from its root)`);
  }
  const lines = readFileSync(`${historiesDir}${dir}/EXPECTED.txt`, 'utf8').split('\n').filter((l) => l.trim() !== '');
  return lines.map((l) => {
    const [file, expected] = l.trim().split(/\s+/);
    if (expected !== 'linearizable' && expected !== 'not-linearizable') throw new Error(`${dir}/EXPECTED.txt: bad line ${JSON.stringify(l)}`);
    return { dir, file: file!, path: `${historiesDir}${dir}/${file}`, expected };
  });
}
