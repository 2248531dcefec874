/**
 * What the browser test and the screenshot script share: `synod dashboard` in a child process
 * (its URL read from its output), and Debian's chromium driven by playwright-core.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Where CI installs the browser (`apt-get install -y chromium`). */
export const CHROMIUM = '/usr/bin/chromium';
/** How long the dashboard may take to print its URL (workers start, a leader is elected), ms. */
export const START_TIMEOUT_MS = 60_000;

const cli = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));

export interface RunningDashboard {
  url: string;
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** Ctrl-C, then its exit code. */
  stop(): Promise<number | null>;
}

/** Starts `synod dashboard --port 0 …` and resolves with its URL once it prints it. */
export function startDashboardProcess(args: string[] = []): Promise<RunningDashboard> {
  const child = spawn(process.execPath, [cli, 'dashboard', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`synod dashboard printed no URL within ${START_TIMEOUT_MS} ms:\n${out}`));
    }, START_TIMEOUT_MS);
    const look = () => {
      const m = /dashboard: (http:\/\/\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', look);
      resolve({
        url: m[1]!,
        child,
        output: () => out,
        stop: async () => {
          if (child.exitCode === null) child.kill('SIGINT');
          return exited;
        },
      });
    };
    child.stdout!.on('data', look);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`synod dashboard exited (${code}) before printing its URL:\n${out}`));
    });
  });
}

export interface Browser {
  page: Page;
  close(): Promise<void>;
}

/**
 * Chromium, headless, with a fresh profile that is removed on close. Fails with what to do when
 * the browser is not installed.
 */
export async function openBrowser(viewport = { width: 1440, height: 1100 }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: the dashboard's browser test needs Debian's chromium (apt-get install -y chromium); set SYNOD_SKIP_BROWSER=1 to skip it`,
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'synod-chromium-'));
  let context: BrowserContext;
  try {
    // A persistent context is how playwright takes a --user-data-dir: a fresh one per run.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport,
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
