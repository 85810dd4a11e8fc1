import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ensureGeneratedModel } from '../../src/inference/generate/index.js';
import { encodePngRgb8 } from '../../src/preview/photo.js';
import { decodeFrameMessage, type FrameHeader } from '../../src/preview/protocol.js';
import { startLive, sleep, type LiveRun } from './helpers.js';

interface Seen { readonly t: number; readonly header: FrameHeader; readonly bytes: number }

function listen(run: LiveRun): { seen: Seen[]; ws: WebSocket; open: Promise<unknown> } {
  const seen: Seen[] = [];
  const ws = new WebSocket(`ws://127.0.0.1:${run.server.port}/ws`);
  ws.on('message', (d, bin) => {
    if (!bin) return;
    const buf = d as Buffer;
    seen.push({ t: performance.now(), header: decodeFrameMessage(buf).header, bytes: buf.length });
  });
  return { seen, ws, open: new Promise((r) => ws.once('open', r)) };
}

describe('live stats and the input picture', () => {
  it('the capture rate stays the camera\'s own through a sync->async switch and a photo', async () => {
    await ensureGeneratedModel('analytic-slow');
    const run = await startLive({ model: 'analytic-slow', photoModel: 'analytic-slow' });
    const { seen, ws, open } = listen(run);
    try {
      await open;
      await sleep(1500);
      const from = performance.now();
      // Sync holds frames back behind the slow model; going back to async
      // releases them at once (they used to read as 400-1000 fps).
      run.control.schedule.next('sync');
      await sleep(2500);
      run.control.schedule.next('async');
      await sleep(2500);
      const w = 1600;
      const h = 1200;
      const data = new Uint8Array(w * h * 3);
      for (let i = 0; i < w * h; i++) data.fill((i * 7) % 251, i * 3, i * 3 + 3);
      const res = await fetch(`${run.server.url}api/photo`, { method: 'POST', body: await encodePngRgb8({ width: w, height: h, data }), headers: { 'content-type': 'application/octet-stream' } });
      expect(res.status).toBe(200);
      await sleep(1000);
      const rates = seen.filter((s) => s.t >= from).map((s) => s.header.stats.captureFps);
      expect(rates.length).toBeGreaterThan(8);
      // testsrc2 at rate=30: its timestamps are exactly 1/30 s apart.
      expect(Math.min(...rates)).toBeGreaterThan(25);
      expect(Math.max(...rates)).toBeLessThan(35);
    } finally {
      ws.close();
      await run.stop();
    }
  });

  it('input pictures keep coming at the capture rate while a depth is being inferred', async () => {
    await ensureGeneratedModel('analytic');
    let hold: Promise<void> | null = null;
    const run = await startLive({
      model: 'analytic',
      // The 20th inferred frame (after the warm-up) is held for 1.5 s: no depth can arrive meanwhile.
      wrapInfer: (infer) => {
        let n = 0;
        return async (f) => {
          if (++n === 20) { hold = sleep(1500); await hold; }
          return infer(f);
        };
      },
    });
    const { seen, ws, open } = listen(run);
    try {
      await open;
      await new Promise<void>((resolve) => { const t = setInterval(() => { if (hold) { clearInterval(t); resolve(); } }, 5); });
      const from = performance.now();
      await hold;
      const to = performance.now() - 50;
      const during = seen.filter((s) => s.t > from + 100 && s.t < to);
      const inputs = during.filter((s) => s.header.part === 'input');
      expect(during.filter((s) => s.header.part === 'depth')).toHaveLength(0);
      // 30 fps for ~1.3 s; the encoder and a busy machine may skip some.
      expect(inputs.length).toBeGreaterThanOrEqual(15);
      const idx = inputs.map((s) => s.header.index);
      expect(idx).toEqual([...idx].sort((a, b) => a - b));
      expect(new Set(idx).size).toBe(idx.length);
      expect(inputs.every((s) => s.header.width === 320 && s.header.height === 180)).toBe(true);
    } finally {
      ws.close();
      await run.stop();
    }
  });
});
