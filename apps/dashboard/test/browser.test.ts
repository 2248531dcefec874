/**
 * The dashboard in a real browser: `synod dashboard` in a child process, Debian's chromium
 * driven by playwright-core. The page shows five replica nodes and moving throughput; a worker
 * killed with its button is restarted, and the throughput recovers; a partition shows and heals.
 *
 * Nothing here asserts how fast anything happens: each step waits (up to a generous bound) for
 * what must eventually be true.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { openBrowser, startDashboardProcess, type Browser, type RunningDashboard } from './harness.ts';

/** Longest wait for one step, ms: a liveness bound, not a speed requirement. */
const STEP_TIMEOUT_MS = 60_000;
/** Committed commands that show throughput moving (and, after the kill, recovered). */
const PROGRESS = 50;

const skip = process.env.SYNOD_SKIP_BROWSER === '1';

/**
 * Waits until a JavaScript expression is true in the page. Expressions are text: the page's
 * DOM types are not this (Node) program's.
 */
async function until(page: Page, expression: string): Promise<void> {
  await page.waitForFunction(expression, undefined, { timeout: STEP_TIMEOUT_MS, polling: 100 });
}

const node = (i: number) => `document.querySelector('.node[data-index="${i}"]')`;
const COMMITTED = `Number(document.getElementById('committed').textContent.replace(/[^0-9]/g, ''))`;
const HAS_LEADER = `document.querySelector('.node[data-leader="true"]') !== null`;

async function committed(page: Page): Promise<number> {
  return Number(((await page.textContent('#committed')) ?? '').replace(/[^0-9]/g, '')) || 0;
}

/** Waits until the page shows more than `than + PROGRESS` committed commands. */
async function progressBeyond(page: Page, than: number): Promise<void> {
  await until(page, `${COMMITTED} > ${than + PROGRESS}`);
}

(skip ? test.skip : test)('the page shows 5 replicas and moving throughput; a killed worker restarts and throughput recovers', async () => {
  let dash: RunningDashboard | undefined;
  let browser: Browser | undefined;
  try {
    dash = await startDashboardProcess(['--replicas', '5']);
    browser = await openBrowser();
    const page = browser.page;
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(dash.url);

    // Five replica nodes, each with an acceptor, a leader and a replica.
    await until(page, `document.querySelectorAll('.node').length === 5`);
    assert.is(await page.locator('.node').count(), 5);
    assert.is(await page.locator('.node .actor').count(), 15);
    // A leader, and the throughput moving.
    await until(page, HAS_LEADER);
    await progressBeyond(page, await committed(page));
    await until(page, `Number(document.getElementById('rate-now').dataset.value) > 0`);
    // The sequence diagram drew a window of messages.
    await page.waitForSelector('#sequence svg .msg', { state: 'attached', timeout: STEP_TIMEOUT_MS });

    // Kill the worker of the leader's node: the hardest case (an election follows).
    const victim = Number(await page.getAttribute('.node[data-leader="true"]', 'data-index'));
    const restartsBefore = Number(await page.getAttribute(`.node[data-index="${victim}"]`, 'data-restarts'));
    await page.click(`.node[data-index="${victim}"] button[data-action="kill"]`);
    await until(page, `/killed the worker/.test(document.getElementById('action-result').textContent)`);
    // Its three actors are restarted by supervision: the card counts them, the log says so.
    await until(page, `Number(${node(victim)}.dataset.restarts) >= ${restartsBefore + 3}`);
    await page.waitForSelector(`#events li[data-kind="worker-exited"][data-index="${victim}"]`, { state: 'attached', timeout: STEP_TIMEOUT_MS });
    await page.waitForSelector(`#events li[data-kind="restarted"][data-index="${victim}"]`, { state: 'attached', timeout: STEP_TIMEOUT_MS });
    await until(page, `${node(victim)}.dataset.up === 'true'`);

    // Throughput recovers: commands commit again, under a leader.
    await progressBeyond(page, await committed(page));
    await until(page, HAS_LEADER);

    // Partition a follower, then heal: the card shows it cut off, then back.
    const follower = Number(await page.getAttribute('.node[data-leader="false"]', 'data-index'));
    await page.click(`.node[data-index="${follower}"] button[data-action="partition"]`);
    await until(page, `${node(follower)}.dataset.isolated === 'true'`);
    await page.click('#heal');
    await until(page, `${node(follower)}.dataset.isolated === 'false'`);
    await progressBeyond(page, await committed(page));
    assert.equal(errors, [], 'no script errors on the page');
  } finally {
    await browser?.close();
    const code = await dash?.stop();
    if (dash && code !== 0) console.error(`synod dashboard exited with ${code}:\n${dash.output()}`);
  }
});

(skip ? test.skip : test)(
  '--protocol raft: each node shows its Raft node (term, commit index) and its replica; a killed leader is replaced and throughput recovers',
  async () => {
    let dash: RunningDashboard | undefined;
    let browser: Browser | undefined;
    try {
      dash = await startDashboardProcess(['--replicas', '3', '--protocol', 'raft']);
      browser = await openBrowser();
      const page = browser.page;
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(dash.url);
      await until(page, `document.querySelectorAll('.node').length === 3`);
      assert.is(await page.locator('.node .actor').count(), 6, 'a Raft node and a replica on each');
      assert.is(await page.locator('.node .actor[data-role="raft"]').count(), 3);
      await until(page, HAS_LEADER);
      await until(
        page,
        `/LEADER in term \\d+ · committed/.test(document.querySelector('.node[data-leader="true"] .actor[data-role="raft"] .state').textContent)`,
      );
      await progressBeyond(page, await committed(page));
      const victim = Number(await page.getAttribute('.node[data-leader="true"]', 'data-index'));
      await page.click(`.node[data-index="${victim}"] button[data-action="kill"]`);
      await until(page, `/killed the worker/.test(document.getElementById('action-result').textContent)`);
      await until(page, `${node(victim)}.dataset.up === 'true'`);
      await progressBeyond(page, await committed(page));
      await until(page, HAS_LEADER);
      assert.equal(errors, [], 'no script errors on the page');
    } finally {
      await browser?.close();
      const code = await dash?.stop();
      if (dash && code !== 0) console.error(`synod dashboard exited with ${code}:\n${dash.output()}`);
    }
  },
);

test.run();
