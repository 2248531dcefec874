/**
 * Runs fast-check properties so that a failure says how to replay it: the seed and the path of
 * the shrunk counterexample, and the one command that runs exactly that case again.
 *
 *   FC_SEED=123 FC_PATH="4:1:0" node --import tsx packages/checker/test/properties.test.ts
 */
import fc from 'fast-check';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The seed of this run: FC_SEED if given, else a fresh one. Printed once per file. */
export function runSeed(testFile: string): number {
  const given = process.env.FC_SEED;
  const seed = given !== undefined ? Number(given) : (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
  console.log(`seed ${seed} (replay: FC_SEED=${seed} node --import tsx ${relativeTest(testFile)})`);
  return seed;
}

function relativeTest(testFile: string): string {
  return relative(process.cwd(), fileURLToPath(testFile)) || testFile;
}

/** `fc.assert` with the replay command in the failure message. */
export function assertProperty<T>(testFile: string, seed: number, property: fc.IProperty<T>, numRuns: number): void {
  const path = process.env.FC_PATH;
  const details = fc.check(property, { seed, numRuns, ...(path ? { path, endOnFailure: true } : {}) });
  if (details.failed) {
    const message = fc.defaultReportMessage(details) ?? 'property failed';
    throw new Error(`${message}\n\nreplay: FC_SEED=${details.seed} FC_PATH="${details.counterexamplePath ?? ''}" node --import tsx ${relativeTest(testFile)}`);
  }
}
