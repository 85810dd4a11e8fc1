import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ensureGeneratedModel } from '../../src/inference/generate/index.js';
import { requireProgram } from '../helpers/prerequisites.js';
import { CHROMIUM, launchChromium, startLive, sleep, type LiveRun } from './helpers.js';

/** The page's stats, read together: dropped and read come from the same frame's header as the depth count. */
const stats = (page: Page) => page.evaluate(() => ({
  drawn: Number(document.body.dataset.framesDrawn ?? 0),
  dropped: Number(document.getElementById('stat-dropped')!.textContent),
  read: Number(document.getElementById('stat-read')!.textContent),
}));

/** Stats once the page has drawn at least `n` more depths. */
async function afterDepths(page: Page, n: number): Promise<{ drawn: number; dropped: number; read: number }> {
  const from = (await stats(page)).drawn;
  await page.waitForFunction((want) => Number(document.body.dataset.framesDrawn ?? 0) >= want, from + n, { timeout: 30_000 });
  return stats(page);
}

/** Waits until the run's schedule is `mode` (the page's control reached the pipeline). */
async function until(run: LiveRun, mode: 'sync' | 'async'): Promise<void> {
  const end = Date.now() + 10_000;
  while (run.control.schedule.value !== mode) {
    if (Date.now() > end) throw new Error(`the page's schedule control did not switch the run to ${mode}`);
    await sleep(50);
  }
}

requireProgram(CHROMIUM, 'apt-get install chromium').describe('the schedule control of the live page', () => {
  let browser: Browser;
  let run: LiveRun;
  let page: Page;

  beforeAll(async () => {
    // A model slower than the 30 fps camera, so async drops and sync cannot.
    await ensureGeneratedModel('analytic-slow');
    browser = await launchChromium();
    run = await startLive({ model: 'analytic-slow' });
    page = await browser.newPage();
    await page.goto(run.server.url);
    await page.waitForFunction(() => Number(document.body.dataset.framesDrawn ?? 0) >= 2, undefined, { timeout: 30_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await run?.stop().catch(() => undefined);
  });

  it('switches the running pipeline to sync (nothing dropped) and back to async (dropping again)', async () => {
    expect(await page.inputValue('#schedule')).toBe('async');
    await page.selectOption('#schedule', 'sync');
    await until(run, 'sync');
    // The frames dropped before the switch go out with the second depth after it at the latest (the one in
    // flight, then the one that was waiting). The page's stats are redrawn at most every 200 ms, so the
    // count it shows can lag a depth or two behind: start the window 4 depths on.
    const first = await afterDepths(page, 4);
    const later = await afterDepths(page, 3);
    expect(later.read).toBeGreaterThan(first.read);
    expect(later.dropped, 'frames dropped while the page said sync').toBe(first.dropped);

    await page.selectOption('#schedule', 'async');
    await until(run, 'async');
    await page.waitForFunction((d) => Number(document.getElementById('stat-dropped')!.textContent) > d, later.dropped, { timeout: 15_000 });
    // Another page opened now is told the current mode.
    const other = await browser.newPage();
    await other.goto(run.server.url);
    await other.waitForFunction(() => (document.getElementById('schedule') as HTMLSelectElement).value === 'async');
    await page.selectOption('#schedule', 'sync');
    await other.waitForFunction(() => (document.getElementById('schedule') as HTMLSelectElement).value === 'sync', undefined, { timeout: 10_000 });
    await other.close();
  });
});
