/**
 * Runs one suite as a child process (`node bench/dist/<suite>.js`), optionally pinned to the
 * first N cores with `taskset`, with a time limit, its output kept in a log file and each line
 * handed to the caller (for the progress display).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export interface ChildOptions {
  script: string;
  env: Record<string, string>;
  /** Stop the child (SIGTERM, then SIGKILL after {@link KILL_GRACE_MS}) after this long. */
  timeoutMs: number;
  /** Pin to the first `pinCores` allowed CPUs with taskset (only when {@link hasTaskset} is true). */
  pinCores?: number;
  /** Everything the child prints goes here too. */
  logFile: string;
  /** Called with each line the child prints on stdout. */
  onLine?: (line: string) => void;
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  seconds: number;
  /** The reason after `skipped:` when the suite said it cannot run here. */
  skipped?: string;
  /** The last lines of stderr, for the report when the child failed. */
  errorTail: string[];
}

/** How long a stopped child gets between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 2_000;
/** Lines of stderr kept for a failure's reason (an error, its stack and Node's dump of its fields). */
const ERROR_TAIL_LINES = 40;

let tasksetChecked: boolean | undefined;

/** Expands a CPU list such as `0-3,8,10-11`. */
export function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    for (let c = Number(m[1]); c <= Number(m[2] ?? m[1]); c++) out.push(c);
  }
  return out;
}

/**
 * The CPUs this process may run on (Linux: Cpus_allowed_list), in order: a container or a
 * cgroup may allow 4-7 rather than 0-3, and pinning must pick from what is allowed.
 */
export function allowedCpus(): number[] {
  try {
    const m = /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    const cpus = m ? parseCpuList(m[1]!) : [];
    if (cpus.length > 0) return cpus;
  } catch {
    /* not Linux: taskset is absent there too */
  }
  return Array.from({ length: availableParallelism() }, (_, i) => i);
}

/** Whether `taskset` (util-linux) can pin a process to cores on this machine. */
export function hasTaskset(): boolean {
  if (tasksetChecked === undefined) {
    const r = spawnSync('taskset', ['-c', String(allowedCpus()[0] ?? 0), 'true'], { stdio: 'ignore' });
    tasksetChecked = r.status === 0;
  }
  return tasksetChecked;
}

/** The child currently running, so Ctrl-C can stop it before the runner exits. */
let current: import('node:child_process').ChildProcess | undefined;

/** Stops the running child, if any (used on SIGINT). */
export function stopCurrentChild(): void {
  current?.kill('SIGKILL');
}

/** Splits a stream into lines, calling `each` per complete line. */
function lines(each: (line: string) => void): { push(chunk: string): void; end(): void } {
  let rest = '';
  return {
    push(chunk) {
      rest += chunk;
      let i: number;
      while ((i = rest.indexOf('\n')) >= 0) {
        each(rest.slice(0, i));
        rest = rest.slice(i + 1);
      }
    },
    end() {
      if (rest) each(rest);
      rest = '';
    },
  };
}

/** Runs the child to its end (or its time limit). Never rejects for the child's own failure. */
export function runChild(o: ChildOptions): Promise<ChildResult> {
  const started = performance.now();
  const cmd = o.pinCores !== undefined ? 'taskset' : process.execPath;
  const args = o.pinCores !== undefined ? ['-c', allowedCpus().slice(0, o.pinCores).join(','), process.execPath, o.script] : [o.script];
  const log = createWriteStream(o.logFile);
  log.write(
    `$ ${Object.entries(o.env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')} ${cmd} ${args.join(' ')}\n`,
  );
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    current = child;
    let skipped: string | undefined;
    const errorTail: string[] = [];
    const out = lines((line) => {
      const m = /^skipped: (.*)$/.exec(line);
      if (m) skipped = m[1];
      o.onLine?.(line);
    });
    const err = lines((line) => {
      errorTail.push(line);
      if (errorTail.length > ERROR_TAIL_LINES) errorTail.shift();
    });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      log.write(d);
      out.push(d);
    });
    child.stderr.on('data', (d: string) => {
      log.write(d);
      err.push(d);
    });
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    }, o.timeoutMs);
    let finished = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      // 'error' (could not spawn) may be followed by 'close'; report once.
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (killer) clearTimeout(killer);
      if (current === child) current = undefined;
      out.end();
      err.end();
      if (spawnError) errorTail.push(`could not start ${cmd}: ${spawnError.message}`);
      log.end(`\n[bench] exit ${code ?? signal}${timedOut ? ' (stopped at its time limit)' : ''}\n`);
      resolve({ code, signal, timedOut, seconds: (performance.now() - started) / 1000, skipped, errorTail });
    };
    child.on('error', (e) => finish(null, null, e));
    child.on('close', (code, signal) => finish(code, signal));
  });
}
