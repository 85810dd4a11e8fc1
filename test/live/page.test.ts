import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page, Request } from 'playwright-core';
import { ensureGeneratedModel } from '../../src/inference/generate/index.js';
import { encodePngRgb8 } from '../../src/preview/photo.js';
import { FFMPEG, tempDir } from '../helpers/media.js';
import { requireProgram } from '../helpers/prerequisites.js';
import { CHROMIUM, launchChromium, startLive, sleep, type LiveRun } from './helpers.js';

const chromiumPresent = requireProgram(CHROMIUM, 'apt-get install chromium');

interface Pixels { readonly width: number; readonly height: number; readonly data: number[] }

/** A canvas's pixels (WebGL ones too: the view keeps its drawing buffer), scaled to w x h. */
function canvasPixels(page: Page, id: string, w?: number, h?: number): Promise<Pixels> {
  return page.evaluate(([id, w, h]) => {
    const c = document.getElementById(id as string) as HTMLCanvasElement;
    const t = document.createElement('canvas');
    t.width = (w as number | undefined) ?? c.width;
    t.height = (h as number | undefined) ?? c.height;
    const ctx = t.getContext('2d')!;
    ctx.drawImage(c, 0, 0, t.width, t.height);
    return { width: t.width, height: t.height, data: Array.from(ctx.getImageData(0, 0, t.width, t.height).data) };
  }, [id, w, h] as const);
}

/** Share of pixels that are not (near) black. */
function nonBlank(p: Pixels): number {
  let n = 0;
  for (let i = 0; i < p.data.length; i += 4) if (p.data[i]! + p.data[i + 1]! + p.data[i + 2]! > 24) n++;
  return n / (p.data.length / 4);
}

/** Mean absolute difference per channel (RGB), 0..255. */
function meanDiff(a: Pixels, b: Pixels): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let s = 0;
  for (let i = 0; i < a.data.length; i += 4) for (let k = 0; k < 3; k++) s += Math.abs(a.data[i + k]! - b.data[i + k]!);
  return s / ((a.data.length / 4) * 3);
}

const frames3d = (page: Page, id: string) => page.evaluate((id) => Number(document.getElementById(id)!.dataset.frames ?? 0), id);

async function drag(page: Page, id: string, dx: number, dy: number): Promise<void> {
  const box = (await page.locator(`#${id}`).boundingBox())!;
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + dx, y + dy, { steps: 6 });
  await page.mouse.up();
}

/** RGBA of a PNG file, decoded by ffmpeg (not by the browser that wrote it). */
function decodePng(path: string): Pixels {
  const probe = spawnSync(FFMPEG, ['-hide_banner', '-i', path], { encoding: 'utf8' });
  const m = /Video: png.*?, (\d+)x(\d+)/.exec(probe.stderr);
  expect(m, probe.stderr).not.toBeNull();
  const r = spawnSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgba', '-'], { maxBuffer: 1 << 26 });
  expect(r.status).toBe(0);
  return { width: Number(m![1]), height: Number(m![2]), data: Array.from(r.stdout) };
}

chromiumPresent.describe('the live page in Chromium: 3D view, photos, stop', () => {
  let browser: Browser;
  let run: LiveRun;
  let page: Page;
  const requests: Request[] = [];
  const failures: string[] = [];
  const UPLOAD_LIMIT = 1024 * 1024;
  // The depth is flipped (near <-> far) while this is set: the picture stays, the geometry changes.
  let flipDepth = false;
  // While this is set the depth is a left-to-right ramp: smooth, with more columns than 8-bit levels.
  let rampDepth = false;
  const dir = tempDir('dv-page-');

  beforeAll(async () => {
    await ensureGeneratedModel('analytic');
    browser = await launchChromium();
    // SMPTE bars stand still, so the picture (the texture) never changes by itself.
    run = await startLive({
      model: 'analytic',
      photoModel: 'analytic',
      uploadLimit: UPLOAD_LIMIT,
      graph: 'smptebars=size=320x180:rate=15',
      recordButton: true,
      wrapInfer: (infer) => async (f) => {
        const r = await infer(f);
        if (flipDepth) for (let i = 0; i < r.depth.data.length; i++) r.depth.data[i] = 1 - r.depth.data[i]!;
        if (rampDepth) for (let i = 0; i < r.depth.data.length; i++) r.depth.data[i] = (i % r.depth.width) / (r.depth.width - 1);
        return r;
      },
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    page.on('request', (r) => requests.push(r));
    page.on('response', (r) => { if (r.status() >= 400) failures.push(`${r.status()} ${r.url()}`); });
    page.on('requestfailed', (r) => failures.push(`failed ${r.url()}`));
    await page.goto(run.server.url);
    // The camera picture is the 3D view's texture: wait until one was drawn (the input canvas takes the
    // camera's size), then for 3D frames drawn after it. Depth can come first on a busy machine.
    await page.waitForFunction(() => (document.getElementById('input-canvas') as HTMLCanvasElement).width === 320, undefined, { timeout: 60_000 });
    const drawn = await frames3d(page, 'view3d-canvas');
    await page.waitForFunction((n) => Number(document.getElementById('view3d-canvas')!.dataset.frames ?? 0) >= n + 3, drawn, { timeout: 60_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await run?.stop().catch(() => undefined);
  });

  it('serves a favicon and everything the page asks for (no 404s, nothing from elsewhere)', async () => {
    expect(failures).toEqual([]);
    const icon = requests.find((r) => /\/favicon\.(svg|ico)$/.test(r.url()));
    expect(icon, 'the page names its icon').toBeDefined();
    const res = await icon!.response();
    expect(res!.status()).toBe(200);
    expect(res!.headers()['content-type']).toBe('image/svg+xml');
    expect((await fetch(`${run.server.url}favicon.ico`)).status).toBe(200);
    // three.js comes from this server (the page works offline).
    expect(requests.some((r) => r.url() === `${run.server.url}vendor/three.module.js`)).toBe(true);
    expect(requests.every((r) => r.url().startsWith(run.server.url) || r.url().startsWith('blob:'))).toBe(true);
  });

  it('the 3D view shows the camera picture at rest and changes when the depth changes and when turned', async () => {
    // At rest the view is the camera's own, so it shows the picture itself.
    const rest = await canvasPixels(page, 'view3d-canvas', 64, 36);
    const input = await canvasPixels(page, 'input-canvas', 64, 36);
    expect(nonBlank(rest)).toBeGreaterThan(0.6);
    expect(nonBlank(rest)).toBeGreaterThan(nonBlank(input) - 0.05);
    expect(meanDiff(rest, input)).toBeLessThan(12);

    // Turned, the geometry shows: different pixels, still mostly covered.
    await drag(page, 'view3d-canvas', 140, 50);
    await page.waitForTimeout(300);
    const turned = await canvasPixels(page, 'view3d-canvas', 64, 36);
    expect(meanDiff(turned, rest)).toBeGreaterThan(15);
    expect(nonBlank(turned)).toBeGreaterThan(0.3);

    // Same view, same still picture: new depth frames of the same scene change nothing...
    let n = await frames3d(page, 'view3d-canvas');
    await page.waitForFunction((n) => Number(document.getElementById('view3d-canvas')!.dataset.frames) > n + 3, n);
    const again = await canvasPixels(page, 'view3d-canvas', 64, 36);
    expect(meanDiff(again, turned)).toBeLessThan(3);
    // ...and a different depth changes the picture of the same view.
    flipDepth = true;
    await sleep(500);
    n = await frames3d(page, 'view3d-canvas');
    await page.waitForFunction((n) => Number(document.getElementById('view3d-canvas')!.dataset.frames) > n + 3, n);
    const flipped = await canvasPixels(page, 'view3d-canvas', 64, 36);
    expect(meanDiff(flipped, again)).toBeGreaterThan(15);
    flipDepth = false;
  });

  it('the near/far controls reshape the view and "s" saves it as a PNG of what is on screen', async () => {
    const before = await canvasPixels(page, 'view3d-canvas', 64, 36);
    await page.fill('#d-max', '3');
    await page.waitForTimeout(400);
    expect(meanDiff(await canvasPixels(page, 'view3d-canvas', 64, 36), before)).toBeGreaterThan(5);
    await page.locator('#view3d-canvas').hover();
    const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('s')]);
    // The run's model (analytic) is untrained: the saved file says so in its name.
    expect(download.suggestedFilename()).toBe('depth-UNTRAINED-3d.png');
    const file = join(dir, 'saved.png');
    await download.saveAs(file);
    expect(readFileSync(file).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const png = decodePng(file);
    const shown = await canvasPixels(page, 'view3d-canvas');
    expect([png.width, png.height]).toEqual([shown.width, shown.height]);
    expect(nonBlank(png)).toBeGreaterThan(0.3);
    // The still scene keeps the same view: the file is the canvas.
    expect(meanDiff(png, shown)).toBeLessThan(3);
  });

  it('the 3D view gets the depth finer than its 256 colour levels: a smooth ramp is not terraced', async () => {
    rampDepth = true;
    try {
      // The page asked for fractions when its 3D view opened (on by default); the 320 mesh columns of a ramp then all differ.
      await page.waitForFunction(() => Number(document.getElementById('view3d-canvas')!.dataset.levels ?? 0) > 300, undefined, { timeout: 30_000 });
      // Closed and opened again: indices alone while closed, and the fractions again once open.
      await page.uncheck('#show3d');
      await page.check('#show3d');
      const n = await frames3d(page, 'view3d-canvas');
      await page.waitForFunction((n) => Number(document.getElementById('view3d-canvas')!.dataset.frames) > n + 2, n);
      expect(Number(await page.evaluate(() => document.getElementById('view3d-canvas')!.dataset.levels))).toBeGreaterThan(300);
    } finally {
      rampDepth = false;
    }
  });

  /** A 400x240 photo: red grows to the right, green downwards. */
  async function rampPhoto(): Promise<{ name: string; mimeType: string; buffer: Buffer }> {
    const w = 400;
    const h = 240;
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([(x * 255) / w, (y * 255) / h, 128 + 100 * Math.sin(x / 20)], (y * w + x) * 3);
    return { name: 'ramp.png', mimeType: 'image/png', buffer: await encodePngRgb8({ width: w, height: h, data }) };
  }

  it('a photo gets a 3D view too, and says the live depth slows while it works', async () => {
    // The notice may come and go faster than a poll: a watcher notes it.
    await page.evaluate(() => {
      const el = document.getElementById('photo-busy')!;
      new MutationObserver(() => { if (!el.hidden) document.body.dataset.busyShown = 'yes'; }).observe(el, { attributes: true });
    });
    await page.setInputFiles('#file', await rampPhoto());
    await page.waitForSelector('#photo-result:not([hidden])', { timeout: 60_000 });
    expect(await page.evaluate(() => document.body.dataset.busyShown)).toBe('yes');
    await page.waitForFunction(() => Number(document.getElementById('photo3d-canvas')!.dataset.frames ?? 0) >= 1);
    await sleep(500);
    expect(await page.isHidden('#photo-busy')).toBe(true);
    const view = await canvasPixels(page, 'photo3d-canvas', 40, 24);
    expect([view.width, view.height]).toEqual([40, 24]);
    expect(nonBlank(view)).toBeGreaterThan(0.9);
    // At rest: the photo itself, the right way up (red grows to the right, green downwards).
    const at = (x: number, y: number, k: number) => view.data[(y * 40 + x) * 4 + k]!;
    expect(at(36, 12, 0) - at(3, 12, 0)).toBeGreaterThan(150);
    expect(at(20, 21, 1) - at(20, 2, 1)).toBeGreaterThan(150);
  });

  it('a photo refused by size clears the previous one, and a colour click re-sends nothing', async () => {
    await page.setInputFiles('#file', await rampPhoto());
    await page.waitForFunction(() => /ms$/.test(document.getElementById('photo-info')!.textContent ?? ''), undefined, { timeout: 60_000 });
    expect(await page.isVisible('#photo-result')).toBe(true);
    await page.setInputFiles('#file', { name: 'huge.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(UPLOAD_LIMIT + 1024, 0xff) });
    await page.waitForSelector('#message:not([hidden])');
    expect(await page.textContent('#message')).toMatch(/huge\.jpg.*at most 1 MiB/);
    expect(await page.isHidden('#photo-result')).toBe(true);
    expect(await page.getAttribute('#download-color', 'href')).toBeNull();
    expect(await page.getAttribute('#download-gray16', 'href')).toBeNull();
    const uploads = () => requests.filter((r) => r.url().includes('/api/photo')).length;
    const before = uploads();
    await page.click('button[data-colormap="viridis"]');
    await sleep(800);
    expect(uploads()).toBe(before);
    expect(await page.isHidden('#photo-result')).toBe(true);
  });

  it('stop stands apart, asks first, and afterwards every control shows it is off', async () => {
    const stop = page.locator('#stop');
    const style = await stop.evaluate((b) => { const s = getComputedStyle(b); return { bg: s.backgroundColor, opacity: Number(s.opacity) }; });
    const [r, g, b] = style.bg.match(/\d+/g)!.map(Number);
    expect(r).toBeGreaterThan(150); // a solid red, not a pale label
    expect(g! + b!).toBeLessThan(150);
    expect(style.opacity).toBe(1);
    // Far from record and from every other control.
    const centre = (b: { x: number; y: number; width: number; height: number }) => [b.x + b.width / 2, b.y + b.height / 2] as const;
    const [sx, sy] = centre((await stop.boundingBox())!);
    const [rx, ry] = centre((await page.locator('#record').boundingBox())!);
    expect(Math.hypot(sx - rx, sy - ry)).toBeGreaterThan(300);
    for (const c of await page.locator('#live-controls button:visible, #live-controls select:visible').all()) {
      const [cx, cy] = centre((await c.boundingBox())!);
      expect(Math.hypot(sx - cx, sy - cy)).toBeGreaterThan(150);
    }

    // One click only asks; the run goes on.
    await stop.click();
    expect(await page.isVisible('#stop-confirm')).toBe(true);
    const drawn = Number(await page.evaluate(() => document.body.dataset.framesDrawn));
    await sleep(1200);
    expect(Number(await page.evaluate(() => document.body.dataset.framesDrawn))).toBeGreaterThan(drawn);
    await page.click('#stop-no');
    expect(await page.isHidden('#stop-confirm')).toBe(true);
    expect(await page.textContent('#status')).toBe('live');

    await stop.click();
    await page.click('#stop-yes');
    const summary = await run.done;
    expect(summary.interrupted).toBe(true);
    await page.waitForFunction(() => /ended/.test(document.getElementById('status')!.textContent ?? ''));
    const off = await page.evaluate(() => {
      const controls = [...document.querySelectorAll('#live-controls button, #live-controls input, #live-controls select, #stop, #file')] as (HTMLButtonElement | HTMLInputElement)[];
      return {
        count: controls.length,
        enabled: controls.filter((c) => !c.matches(':disabled')).map((c) => c.id || c.textContent),
        opacity: Number(getComputedStyle(document.getElementById('live-controls')!).opacity),
      };
    });
    expect(off.count).toBeGreaterThan(8);
    expect(off.enabled).toEqual([]);
    expect(off.opacity).toBeLessThan(0.5);
  });
});
