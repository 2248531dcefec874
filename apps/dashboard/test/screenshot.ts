/**
 * Makes the README's picture of the dashboard (not a test): a demo cluster runs for a while, the
 * leader's worker is killed from the page, and once it has been restarted and the throughput
 * has recovered the whole page is captured.
 *
 *   node --import tsx apps/dashboard/test/screenshot.ts [docs/dashboard.png]
 *
 * Needs the build (`tsc -b`) and /usr/bin/chromium.
 */
import { fileURLToPath } from 'node:url';
import { openBrowser, startDashboardProcess } from './harness.ts';

/** Run before the kill, and after it, ms: enough for the charts to show a minute's shape. */
const BEFORE_KILL_MS = 15_000;
const AFTER_KILL_MS = 15_000;
const STEP_TIMEOUT_MS = 60_000;

const out = process.argv[2] ?? fileURLToPath(new URL('../../../docs/dashboard.png', import.meta.url));
const dash = await startDashboardProcess();
const browser = await openBrowser({ width: 1440, height: 900 });
try {
  const page = browser.page;
  await page.goto(dash.url);
  await page.waitForFunction(`document.querySelector('.node[data-leader="true"]') !== null`, undefined, { timeout: STEP_TIMEOUT_MS });
  await page.waitForTimeout(BEFORE_KILL_MS);
  const leader = await page.getAttribute('.node[data-leader="true"]', 'data-index');
  await page.click(`.node[data-index="${leader}"] button[data-action="kill"]`);
  await page.waitForTimeout(AFTER_KILL_MS);
  await page.screenshot({ path: out, fullPage: true });
  console.log(`saved ${out} (killed the worker of replica node ${leader})`);
} finally {
  await browser.close();
  await dash.stop();
}
