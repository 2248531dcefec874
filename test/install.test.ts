/**
 * The install story, as a user meets it: every publishable package is packed (`pnpm -r pack`,
 * which runs each `prepack` and turns `workspace:^` into real ranges), the tarballs are installed
 * with npm into an empty project outside the workspace, and there the README's actor example and
 * `ReplicatedMap` example are type-checked against the installed types and run, in `workers` and
 * `embedded` modes, and the installed `synod` bin answers. The examples are read from the root
 * README itself, so the README stays true.
 *
 * npm may fetch the third-party dependencies from the registry (the newest versions within the
 * packages' ranges, as a user gets them). SYNOD_KEEP_INSTALL=1 keeps the tarballs and the
 * project in their temporary folder, and prints where.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('..', import.meta.url));
const pnpmVersion = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { packageManager: string }).packageManager;

/** What a user installs; the test fails if a publishable package is added without being listed here. */
const PUBLISHED = [
  '@synod/actors',
  '@synod/canonical',
  '@synod/checker',
  '@synod/cli',
  '@synod/dashboard',
  '@synod/epaxos',
  '@synod/errors',
  '@synod/paxos',
  '@synod/raft',
  '@synod/replicated',
  '@synod/smr',
];
const MODES = ['workers', 'embedded'] as const;

const work = mkdtempSync(join(tmpdir(), 'synod-install-'));
// Inside the workspace, node would find the workspace's own node_modules and prove nothing.
if (work.startsWith(root)) throw new Error(`the temporary folder ${work} is inside the repository; set TMPDIR elsewhere`);
const tarballs = join(work, 'tarballs');
const project = join(work, 'project');

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}): ${r.error.message}`);
  return r;
}

function ok(cmd: string, args: string[], cwd: string, timeoutMs = 60_000): string {
  const r = run(cmd, args, cwd, timeoutMs);
  assert.is(r.status, 0, `${cmd} ${args.join(' ')} (in ${cwd}) exited with ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

interface Manifest {
  name: string;
  license?: string;
  engines?: { node?: string };
  sideEffects?: boolean | string[];
  bin?: Record<string, string>;
  exports?: Record<string, string | Record<string, string>>;
  dependencies?: Record<string, string>;
}

/** Whether `path` (may hold one `*`, as in `exports`) names a file of the tarball. */
function present(files: Set<string>, path: string): boolean {
  const p = `package/${path.replace(/^\.\//, '')}`;
  if (!p.includes('*')) return files.has(p);
  const [head, tail] = p.split('*') as [string, string];
  return [...files].some((f) => f.startsWith(head) && f.endsWith(tail));
}

// ---------------------------------------------------------------- the README's examples

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

function block(what: string, test: (b: string) => boolean): string {
  const b = blocks.find(test);
  if (!b) throw new Error(`the README has no \`\`\`ts block with ${what}: this test runs it from an install; keep it, or change this test with it`);
  return b;
}

const counterTs = block('the actor definition (`// counter.ts`)', (b) => b.startsWith('// counter.ts\n'));
const actorMainTs = block('the actor system (`// main.ts` with ActorSystem.start)', (b) => b.startsWith('// main.ts\n') && b.includes('ActorSystem.start'));
const mapTs = block('ReplicatedMap.start', (b) => b.includes('ReplicatedMap.start'));

/**
 * The README states results in comments (`await map.compareAndSet(...); // true`): such a line
 * becomes an assertion, so a wrong comment fails here.
 */
function assertStatedResults(source: string): { code: string; count: number } {
  let count = 0;
  const code = source.replace(/^(\s*)await (.+?);\s*\/\/ (true|false|-?\d+)\b.*$/gm, (_all, indent: string, expr: string, value: string) => {
    count++;
    return `${indent}expectResult(await ${expr}, ${value}, ${JSON.stringify(expr)});`;
  });
  const helper = [
    '',
    'function expectResult(actual: unknown, expected: unknown, what: string): void {',
    '  if (!Object.is(actual, expected)) throw new Error(`README example: ${what} gave ${String(actual)}, the README says ${String(expected)}`);',
    '}',
    '',
  ].join('\n');
  return { code: code + helper, count };
}

/** Sets the `mode` of the system an example starts; fails if the README's call no longer looks as expected. */
function withMode(source: string, call: string, mode: string): string {
  const at = source.indexOf(`${call}(`);
  assert.ok(at >= 0, `the README example no longer calls ${call}(`);
  const open = source.indexOf('{', at);
  assert.ok(open > at && open - at <= call.length + 12, `the README example calls ${call} without an options object`);
  const rest = source.slice(open + 1).replace(/^\s*mode: '[a-z]+',?/, '');
  return `${source.slice(0, open + 1)} mode: '${mode}',${rest}`;
}

// ---------------------------------------------------------------- tests

test.before(() => {
  mkdirSync(tarballs);
  mkdirSync(project);
});

test.after(() => {
  if (process.env.SYNOD_KEEP_INSTALL) console.log(`SYNOD_KEEP_INSTALL: the packed tarballs and the project are in ${work}`);
  else rmSync(work, { recursive: true, force: true });
});

test('every publishable package packs what a user needs: built dist, types, LICENSE, README; no build info or tests', () => {
  // -r pack packs every workspace package that is not private, each after its `prepack` (tsc -b).
  ok('npx', ['-y', pnpmVersion, '-r', 'pack', '--pack-destination', tarballs], root, 120_000);
  const names: string[] = [];
  for (const file of readdirSync(tarballs).sort()) {
    const files = new Set(
      ok('tar', ['-tzf', join(tarballs, file)], work)
        .split('\n')
        .filter(Boolean),
    );
    const m = JSON.parse(ok('tar', ['-xzOf', join(tarballs, file), 'package/package.json'], work)) as Manifest;
    names.push(m.name);
    const where = `${m.name} (${file})`;
    for (const f of ['package.json', 'LICENSE', 'README.md']) assert.ok(files.has(`package/${f}`), `${where} has no ${f}`);
    assert.is(m.license, 'MIT', `${where}: license`);
    assert.ok(m.engines?.node, `${where}: engines.node`);
    assert.ok(m.sideEffects === false || Array.isArray(m.sideEffects), `${where}: sideEffects must be false or a list of files`);
    for (const s of Array.isArray(m.sideEffects) ? m.sideEffects : [])
      assert.ok(present(files, s), `${where}: sideEffects names ${s}, which is not in the tarball`);
    for (const [sub, target] of Object.entries(m.exports ?? {})) {
      for (const path of typeof target === 'string' ? [target] : Object.values(target)) {
        assert.ok(present(files, path), `${where}: export ${sub} points at ${path}, which is not in the tarball`);
      }
    }
    assert.ok(m.exports === undefined || Object.values(m.exports).every((t) => typeof t === 'string' || 'types' in t), `${where}: an export without types`);
    for (const path of Object.values(m.bin ?? {})) assert.ok(present(files, path), `${where}: bin ${path} is not in the tarball`);
    for (const f of files) {
      assert.not.ok(f.endsWith('.tsbuildinfo'), `${where} ships build info: ${f}`);
      assert.not.ok(/(^|\/)test\/|\.test\.[jt]s$/.test(f.replace(/^package\//, '')), `${where} ships a test: ${f}`);
    }
    for (const [dep, range] of Object.entries(m.dependencies ?? {})) {
      assert.ok(/^\^\d+\.\d+\.\d+$/.test(range), `${where}: dependency ${dep} is "${range}"; a caret range lets users' installs share one copy`);
    }
  }
  assert.equal(names.sort(), PUBLISHED);
});

test('npm installs the tarballs into an empty project outside the workspace', () => {
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'synod-install-check', private: true, type: 'module' }, null, 2));
  const files = readdirSync(tarballs).map((f) => join(tarballs, f));
  ok('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...files], project, 120_000);
});

test("the README's actor and ReplicatedMap examples type-check against the installed types", () => {
  const map = assertStatedResults(mapTs);
  assert.ok(map.count >= 2, `expected the ReplicatedMap example to state results in comments (// true, // 4), found ${map.count}`);
  writeFileSync(join(project, 'counter.ts'), counterTs);
  for (const mode of MODES) {
    writeFileSync(join(project, `actors-${mode}.ts`), withMode(actorMainTs, 'ActorSystem.start', mode));
    writeFileSync(join(project, `map-${mode}.ts`), withMode(map.code, 'ReplicatedMap.start<number>', mode));
  }
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'es2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          outDir: 'dist',
          // The user's own @types/node; here the workspace's, to need nothing more from the registry.
          types: ['node'],
          typeRoots: [join(root, 'node_modules', '@types')],
        },
        include: ['*.ts'],
      },
      null,
      2,
    ),
  );
  ok(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], project);
});

for (const mode of MODES) {
  test(`the actor example runs from the install (${mode})`, () => {
    const out = ok(process.execPath, [join(project, 'dist', `actors-${mode}.js`)], project);
    // `console.log(await system.ask(a, { type: 'get' }, ...)); // 2`
    assert.equal(out.trim().split('\n'), ['2']);
  });

  test(`the ReplicatedMap example runs from the install (${mode}, file storage)`, () => {
    const cwd = join(project, `run-${mode}`); // its own ./data
    mkdirSync(cwd);
    ok(process.execPath, [join(project, 'dist', `map-${mode}.js`)], cwd);
    assert.ok(
      readdirSync(join(cwd, 'data')).some((f) => f.endsWith('.log')),
      'file storage wrote no log under ./data',
    );
  });
}

test('npx synod demo runs from the install: its workers load the installed packages', () => {
  const out = ok('npx', ['--no', '--', 'synod', 'demo', '--duration', '2', '--no-faults', '--replicas', '3', '--json'], project);
  const summary = JSON.parse(out.trim().split('\n').pop()!) as { verdict: string; committed: number };
  assert.is(summary.verdict, 'linearizable');
  assert.ok(summary.committed > 0, 'the demo committed commands');
});

test('the installed synod bin runs; bench says it needs a checkout', () => {
  const help = ok('npx', ['--no', '--', 'synod', '--help'], project);
  assert.match(help, /^Usage: synod <command> \[options\]/);
  for (const c of ['demo', 'sim', 'bench', 'check', 'dashboard']) assert.match(help, new RegExp(`\\n {2}${c} +\\S`));
  const bench = run(join(project, 'node_modules', '.bin', 'synod'), ['bench', '--quick'], project, 30_000);
  assert.is(bench.status, 1);
  assert.match(bench.stderr, /^synod bench: the benchmark suites are not part of the installed command; they run only in a checkout/);
});

test.run();
