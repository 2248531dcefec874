/**
 * `pnpm test`: builds and type-checks everything, runs every uvu suite (each file in its own
 * process, so worker threads and timers of one file cannot disturb another), and ends with one
 * line: `N passed, N failed`.
 *
 *   pnpm test                 every suite
 *   pnpm test actors paxos    only files whose path contains one of the words
 *   pnpm test --jobs 1        run files one at a time (default 2)
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
let jobs = 2;
let fileTimeoutMs = 8 * 60_000;
const filters: string[] = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === '--jobs') jobs = Math.max(1, Number(args[++i]));
  else if (a === '--timeout') fileTimeoutMs = Number(args[++i]) * 1000;
  else filters.push(a);
}

function step(title: string, cmd: string, cmdArgs: string[]): void {
  const started = Date.now();
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\n${title} failed.`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  console.log(`${title}: ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

const tsc = join(root, 'node_modules', '.bin', 'tsc');
step('build (tsc -b)', tsc, ['-b']);
step('type-check tests (tsc -p tsconfig.test.json)', tsc, ['-p', 'tsconfig.test.json']);

function findTests(dir: string, out: string[]): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) findTests(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
}

const files: string[] = [];
for (const base of ['packages', 'apps']) {
  let names: string[] = [];
  try {
    names = readdirSync(join(root, base));
  } catch {
    /* none */
  }
  for (const pkg of names) findTests(join(root, base, pkg, 'test'), files);
}
findTests(join(root, 'test'), files);
findTests(join(root, 'bench', 'test'), files);
findTests(join(root, 'examples', 'test'), files);
const selected = files.filter((f) => filters.length === 0 || filters.some((w) => relative(root, f).includes(w))).sort();

interface Result {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  ms: number;
  output: string;
  code: number | null;
}

function runFile(file: string): Promise<Result> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const timer = setTimeout(() => {
      output += `\n[run-tests] ${relative(root, file)} did not finish within ${fileTimeoutMs / 1000} s; killed.\n`;
      child.kill('SIGKILL');
    }, fileTimeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const total = Number(/Total:\s+(\d+)/.exec(output)?.[1] ?? NaN);
      const passed = Number(/Passed:\s+(\d+)/.exec(output)?.[1] ?? NaN);
      const skipped = Number(/Skipped:\s+(\d+)/.exec(output)?.[1] ?? 0);
      let p = Number.isFinite(passed) ? passed : 0;
      let f = Number.isFinite(total) ? total - passed - skipped : 1;
      // A process that crashed or exited non-zero after its summary still counts as a failure.
      if (code !== 0 && f === 0) f = 1;
      if (!Number.isFinite(total)) p = 0;
      resolve({ file, passed: p, failed: f, skipped, ms: Date.now() - started, output, code });
    });
  });
}

const results: Result[] = [];
const queue = [...selected];
const startedAll = Date.now();
async function worker(): Promise<void> {
  for (let file = queue.shift(); file; file = queue.shift()) {
    const r = await runFile(file);
    results.push(r);
    const mark = r.failed > 0 ? 'FAIL' : 'ok  ';
    console.log(`${mark} ${relative(root, file)}  ${r.passed} passed, ${r.failed} failed  (${(r.ms / 1000).toFixed(1)} s)`);
    if (r.failed > 0)
      console.log(
        r.output
          .split('\n')
          .map((l) => `     | ${l}`)
          .join('\n'),
      );
  }
}
await Promise.all(Array.from({ length: Math.min(jobs, Math.max(1, selected.length)) }, worker));

const passed = results.reduce((s, r) => s + r.passed, 0);
const failed = results.reduce((s, r) => s + r.failed, 0);
console.log(`\n${selected.length} test files in ${((Date.now() - startedAll) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || selected.length === 0 ? 1 : 0);
