import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ensureGeneratedModel } from '../../src/inference/generate/index.js';
import { requireOrSkip, requireProgram, sharedDir } from '../helpers/prerequisites.js';
import { CHROMIUM, launchChromium, startLive, sleep, type LiveRun } from './helpers.js';

const chromiumPresent = requireProgram(CHROMIUM, 'apt-get install chromium');
const MEDIA = sharedDir('media');
// The smallest real photo: this run's upload limit is small on purpose.
const photo = existsSync(MEDIA) ? readdirSync(MEDIA).filter((f) => f.endsWith('.jpg')).sort((a, b) => statSync(join(MEDIA, a)).size - statSync(join(MEDIA, b)).size)[0] : undefined;
const photoPresent = requireOrSkip(`a .jpg photo in ${MEDIA}`, photo !== undefined);

/** Mean colour and a coarse fingerprint of the depth canvas. */
async function depthPixels(page: Page): Promise<{ mean: [number, number, number]; sig: number[]; nonBlank: number }> {
  return page.evaluate(() => {
    const c = document.getElementById('depth-canvas') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const mean: [number, number, number] = [0, 0, 0];
    const sig: number[] = [];
    let nonBlank = 0;
    const n = d.length / 4;
    for (let i = 0; i < n; i++) {
      mean[0] += d[i * 4]!; mean[1] += d[i * 4 + 1]!; mean[2] += d[i * 4 + 2]!;
      if (d[i * 4]! + d[i * 4 + 1]! + d[i * 4 + 2]! > 30) nonBlank++;
      if (i % 997 === 0) sig.push(d[i * 4]!, d[i * 4 + 1]!, d[i * 4 + 2]!);
    }
    return { mean: mean.map((v) => v / n) as [number, number, number], sig, nonBlank: nonBlank / n };
  });
}

chromiumPresent.describe('preview page in Chromium', () => {
  let browser: Browser;
  let run: LiveRun;
  let page: Page;
  const UPLOAD_LIMIT = 2 * 1024 * 1024;

  beforeAll(async () => {
    await ensureGeneratedModel('analytic');
    browser = await launchChromium();
    run = await startLive({ model: 'analytic', photoModel: 'analytic', uploadLimit: UPLOAD_LIMIT });
    page = await browser.newPage();
    await page.goto(run.server.url);
  });

  afterAll(async () => {
    await browser?.close();
    await run?.stop().catch(() => undefined);
  });

  it('shows changing, non-blank depth and live stats', async () => {
    await page.waitForFunction(() => Number(document.body.dataset.framesDrawn ?? 0) >= 3, undefined, { timeout: 30_000 });
    const a = await depthPixels(page);
    await sleep(1500);
    const b = await depthPixels(page);
    expect(a.nonBlank).toBeGreaterThan(0.3);
    expect(b.sig).not.toEqual(a.sig); // testsrc2 moves, so its depth changes
    // The input picture travels on its own (JPEG): it is drawn too, and it is not the depth.
    const input = await page.evaluate(() => {
      const c = document.getElementById('input-canvas') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let colourful = 0;
      for (let i = 0; i < d.length; i += 4) if (Math.max(d[i]!, d[i + 1]!, d[i + 2]!) - Math.min(d[i]!, d[i + 1]!, d[i + 2]!) > 60) colourful++;
      const depth = document.getElementById('depth-canvas') as HTMLCanvasElement;
      return { w: c.width, h: c.height, depthW: depth.width, depthH: depth.height, colourful: colourful / (d.length / 4) };
    });
    expect([input.w, input.h]).toEqual([input.depthW, input.depthH]);
    expect(input.w).toBeGreaterThan(100);
    expect(input.colourful).toBeGreaterThan(0.2); // testsrc2's saturated bars, which the analytic depth (a grey level per pixel, coloured by inferno) does not have to this extent
    const stats = await page.evaluate(() => ({
      capture: Number(document.getElementById('stat-capture-fps')!.textContent),
      read: Number(document.getElementById('stat-read')!.textContent),
      latency: Number(document.getElementById('stat-latency')!.textContent),
    }));
    expect(stats.capture).toBeGreaterThan(5);
    expect(stats.read).toBeGreaterThan(10);
    expect(stats.latency).toBeGreaterThan(0);
    await sleep(600);
    const later = Number(await page.textContent('#stat-read'));
    expect(later).toBeGreaterThan(stats.read);
    // The analytic model is a test model: the page must say so loudly.
    expect(await page.isVisible('#untrained')).toBe(true);
    expect(await page.textContent('#untrained')).toMatch(/UNTRAINED TEST MODEL/);
    // Where the model runs (the library's default device is the CPU).
    expect(await page.textContent('#stat-device')).toBe('cpu');
  });

  it('a colormap click changes the rendered colours', async () => {
    const before = await depthPixels(page);
    await page.click('button[data-colormap="gray"]');
    // gray has R = G = B; inferno is red-heavy: wait until the frames show it.
    await page.waitForFunction(() => {
      const c = document.getElementById('depth-canvas') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let diff = 0;
      for (let i = 0; i < d.length; i += 4 * 101) diff += Math.abs(d[i]! - d[i + 2]!);
      return diff / (d.length / (4 * 101)) < 12;
    }, undefined, { timeout: 20_000 });
    const after = await depthPixels(page);
    expect(Math.abs(before.mean[0] - before.mean[2])).toBeGreaterThan(20);
    expect(Math.abs(after.mean[0] - after.mean[2])).toBeLessThan(12);
  });

  photoPresent.it('a real photo gives a depth image of the same aspect', async () => {
    const file = join(MEDIA, photo!);
    expect(statSync(file).size).toBeLessThan(UPLOAD_LIMIT);
    await page.setInputFiles('#file', file);
    await page.waitForSelector('#photo-result:not([hidden])', { timeout: 60_000 });
    const dims = await page.evaluate(async () => {
      const img = document.getElementById('photo-depth') as HTMLImageElement;
      await img.decode();
      const gray16 = document.getElementById('download-gray16') as HTMLAnchorElement;
      const color = document.getElementById('download-color') as HTMLAnchorElement;
      return { w: img.naturalWidth, h: img.naturalHeight, gray: gray16.href, names: [color.download, gray16.download] };
    });
    const { execFileSync } = await import('node:child_process');
    const size = /(\d+)x(\d+), components/.exec(execFileSync('file', [file]).toString());
    expect(size).not.toBeNull();
    expect(dims.w / dims.h).toBeCloseTo(Number(size![1]) / Number(size![2]), 2);
    expect(dims.gray).toMatch(/^blob:/);
    // The photo model (analytic) is untrained: the downloads say so in their names.
    const stem = photo!.replace(/\.[^.]*$/, '');
    expect(dims.names).toEqual([`${stem}-UNTRAINED-depth.png`, `${stem}-UNTRAINED-depth16.png`]);
    expect(await page.isHidden('#message')).toBe(true);
  });

  it('rejects an oversized file and a non-image with a message on the page', async () => {
    await page.setInputFiles('#file', { name: 'huge.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(UPLOAD_LIMIT + 1024, 0xff) });
    await page.waitForSelector('#message:not([hidden])');
    expect(await page.textContent('#message')).toMatch(/at most 2 MiB/);
    await page.setInputFiles('#file', { name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('these are my notes, not a picture\n'.repeat(10)) });
    await page.waitForFunction(() => /not an image/.test(document.getElementById('message')!.textContent ?? ''));
    expect(await page.textContent('#message')).toMatch(/notes\.jpg.*rejected.*not an image/);
  });
});
