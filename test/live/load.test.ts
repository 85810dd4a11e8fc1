import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ensureGeneratedModel } from '../../src/inference/generate/index.js';
import { decodeFrameMessage } from '../../src/preview/protocol.js';
import { stalledClient, startLive, sleep } from './helpers.js';

describe('preview under load', () => {
  it('50 viewers keep getting frames next to one that never reads (its memory: stalled.test.ts)', async () => {
    await ensureGeneratedModel('analytic');
    const run = await startLive({ model: 'analytic', graph: 'testsrc2=size=640x360:rate=30' });
    const port = run.server.port;
    const stalled = await stalledClient(port);
    const counts = new Array<number>(50).fill(0);
    const clients = await Promise.all(counts.map((_, i) => new Promise<WebSocket>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      ws.on('message', (d, bin) => {
        if (!bin) return;
        const { header, payload } = decodeFrameMessage(d as Buffer);
        // Whole parts only: a JPEG input picture, or one depth byte per pixel.
        const whole = header.part === 'input' ? payload[0] === 0xff && payload[1] === 0xd8 : payload.length === 640 * 360;
        if (header.width === 640 && whole) counts[i]!++;
      });
      ws.once('open', () => resolve(ws));
    })));
    expect(run.server.clientCount).toBe(51);
    await sleep(3000);
    const before = [...counts];
    await sleep(5000);
    const gained = counts.map((c, i) => c - before[i]!);
    for (const ws of clients) ws.close();
    stalled.destroy();
    const s = await run.stop();
    expect(Math.min(...gained)).toBeGreaterThanOrEqual(5);
    expect(s.frames.read).toBeGreaterThan(100);
    await sleep(100);
    expect(run.server.clientCount).toBe(0);
  });
});
