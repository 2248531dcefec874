/**
 * `synod bench`: the same as `pnpm bench` — every benchmark suite, then one results file,
 * bench/REPORT.md and the charts. Only from a checkout: the suites live in the repository's
 * bench/ and are not published (they measure the checkout's own build, and write their report
 * and charts into it), so this runs the checkout's built runner, bench/dist/run.js, in a child
 * process and passes the options through; the runner checks their values and exits with 2 for a
 * bad one, which becomes this command's status. From an install it says so and exits with 1.
 *
 *     synod bench --quick
 *     synod bench --compare bench/results/2026-11-27-abc1234.json
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EXIT, type Command } from '../command.js';

/** The checkout this command was built in, if it was: apps/cli/dist/commands → the repository root. */
const checkoutRoot = new URL('../../../../', import.meta.url);
const runner = fileURLToPath(new URL('bench/dist/run.js', checkoutRoot));

/**
 * Whether this command runs from a Synod checkout (its bench/ is the `@synod/bench` workspace
 * package) rather than from an installed package, where four folders up is some node_modules.
 */
function inCheckout(): boolean {
  try {
    const pkg = JSON.parse(readFileSync(new URL('bench/package.json', checkoutRoot), 'utf8')) as { name?: unknown };
    return pkg.name === '@synod/bench';
  } catch {
    return false;
  }
}

/** Rebuilds the arguments from parsed options, so the runner sees exactly what was given. */
function forward(values: Record<string, string | boolean | (string | boolean)[] | undefined>): string[] {
  const args: string[] = [];
  for (const [name, v] of Object.entries(values)) {
    if (v === undefined || v === false) continue;
    for (const one of Array.isArray(v) ? v : [v]) args.push(one === true ? `--${name}` : `--${name}=${String(one)}`);
  }
  return args;
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'Run every benchmark suite and write the performance report with charts (in a checkout only).',
  usage: 'synod bench [options]',
  description: [
    'Only in a checkout of the Synod repository: the suites are not part of the installed command.',
    'Runs the suites of bench/ one after the other with a progress display, then the scaling step, and',
    'writes bench/results/<date>-<commit>.json, bench/REPORT.md and bench/charts/*.svg (quick runs: bench/quick/).',
    'Same as `npx -y pnpm@12.4.2 bench`; conventions for suites are in bench/README.md.',
    'Exit status: 0 every suite present ran, 1 a suite failed or ran out of time, 2 bad options.',
  ].join('\n'),
  positionals: false,
  options: {
    quick: { type: 'boolean', description: 'Fewer runs, shorter measurements, fewer cells (about 2 minutes); writes under bench/quick/.' },
    compare: { type: 'string', value: 'FILE', description: 'Mark every figure that moved beyond the run-to-run spread since this results file.' },
    workers: { type: 'string', value: 'N', description: 'Measure scaling on 1, 2, 4, … N cores (default: all cores).' },
    suite: { type: 'string', multiple: true, value: 'NAME', description: 'Only this suite (repeat, or a comma list).' },
    runs: { type: 'string', value: 'N', description: 'Runs per figure (default 5, quick 3).' },
    'no-scaling': { type: 'boolean', description: 'Skip the scaling step.' },
    out: { type: 'string', value: 'DIR', description: 'Write REPORT.md, charts/ and results/ under DIR.' },
    report: { type: 'string', value: 'FILE', description: 'Run nothing: write the report and charts again from a results file.' },
  },

  async run({ values, stderr }) {
    if (!inCheckout()) {
      stderr(
        [
          'synod bench: the benchmark suites are not part of the installed command; they run only in a checkout of',
          'the Synod repository (they measure that build and write bench/REPORT.md and bench/charts there).',
          'In a checkout: `npx -y pnpm@12.4.2 install && npx -y pnpm@12.4.2 bench --quick`.',
        ].join('\n') + '\n',
      );
      return EXIT.failed;
    }
    if (!existsSync(runner)) {
      stderr(
        `synod bench: the benchmark runner is not at ${runner}. It is part of a Synod checkout: build it with \`npx tsc -b\` there, or run \`npx -y pnpm@12.4.2 bench\`.\n`,
      );
      return EXIT.failed;
    }
    // The runner writes its progress straight to this terminal (stdio inherited).
    const child = spawn(process.execPath, [runner, ...forward(values)], { stdio: 'inherit', env: { ...process.env, BENCH_COMMAND: 'synod bench' } });
    const stop = () => child.kill('SIGINT');
    process.once('SIGINT', stop);
    try {
      return await new Promise<number>((resolve) => {
        child.on('error', (e) => {
          stderr(`synod bench: could not start the runner: ${e.message}\n`);
          resolve(EXIT.failed);
        });
        child.on('close', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : EXIT.failed)));
      });
    } finally {
      process.off('SIGINT', stop);
    }
  },
};
