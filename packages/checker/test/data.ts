/** The golden histories in test/fixtures/histories (Porcupine's test data), with their expected verdicts. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const historiesDir = fileURLToPath(new URL('./fixtures/histories/', import.meta.url));

export interface Golden {
  readonly dir: 'jepsen-etcd' | 'kv';
  readonly file: string;
  readonly path: string;
  readonly expected: 'linearizable' | 'not-linearizable';
}

/** Every file listed in each folder's EXPECTED.txt. */
export function goldenHistories(dir: Golden['dir']): Golden[] {
  if (!existsSync(`${historiesDir}${dir}/EXPECTED.txt`)) {
    throw new Error(
      `no golden histories at ${historiesDir}${dir}: they are part of the repository (packages/checker/test/fixtures/histories); is the checkout complete?`,
    );
  }
  const lines = readFileSync(`${historiesDir}${dir}/EXPECTED.txt`, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  return lines.map((l) => {
    const [file, expected] = l.trim().split(/\s+/);
    if (expected !== 'linearizable' && expected !== 'not-linearizable') throw new Error(`${dir}/EXPECTED.txt: bad line ${JSON.stringify(l)}`);
    return { dir, file: file!, path: `${historiesDir}${dir}/${file}`, expected };
  });
}
