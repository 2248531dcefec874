/**
 * pnpm bench — every benchmark suite, then one results file, REPORT.md and the charts.
 * Options and conventions: bench/README.md (or `pnpm bench --help`).
 */
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopCurrentChild } from './report/child.js';
import { ResultsFileError } from './report/combined.js';
import { BENCH_EXIT, BenchUsageError, parseBenchArgs } from './report/options.js';
import { runBench } from './report/runner.js';

/** bench/ of the checkout: this file runs as bench/dist/run.js. */
const benchDir = dirname(dirname(fileURLToPath(import.meta.url)));

process.on('SIGINT', () => {
  stopCurrentChild();
  process.stderr.write('\nbench: interrupted; no report written\n');
  process.exit(130);
});

try {
  const opts = parseBenchArgs(process.argv.slice(2), { cores: availableParallelism(), benchDir });
  process.exitCode = await runBench(opts, {
    // columns is read at each use: the terminal may be resized during a 20-minute run.
    out: {
      write: (s) => {
        process.stdout.write(s);
      },
      isTTY: process.stdout.isTTY === true,
      get columns() {
        return process.stdout.columns;
      },
    },
    benchDir,
  });
} catch (e) {
  if (e instanceof BenchUsageError || e instanceof ResultsFileError) {
    // BENCH_COMMAND: how the user called it (`synod bench` sets it), so the advice names that.
    const command = process.env.BENCH_COMMAND ?? 'pnpm bench';
    process.stderr.write(`${command}: ${e.message}. Run '${command} --help'.\n`);
    process.exitCode = BENCH_EXIT.usage;
  } else {
    throw e;
  }
}
