import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ensureGeneratedModel } from '../../src/inference/generate/index.js';
import { decodeFrameMessage } from '../../src/preview/protocol.js';
import { stalledClient, startLive, sleep } from './helpers.js';

/**
 * Waits for a condition in steps of 50 ms. The deadline only ends a test
 * that will never get there: under load everything is slower, so what is
 * asserted is counted in frames, never in seconds.
 */
async function until(done: () => boolean, deadlineMs: number): Promise<void> {
  const t0 = performance.now();
  while (!done() && performance.now() - t0 < deadlineMs) await sleep(50);
}

/** Viewers that read, frames each must get, and camera frames the run must read, once the stalled viewer is backed up. */
const VIEWERS = 50;
const GAINED = 5;
const READ = 100;

describe('preview under load', () => {
  it('50 viewers keep getting frames next to one that never reads (its memory: stalled.test.ts)', async () => {
    await ensureGeneratedModel('analytic');
    // The heartbeat would drop the stalled viewer after 15-30 s; on a busy machine the window can last longer.
    const run = await startLive({ model: 'analytic', graph: 'testsrc2=size=640x360:rate=30', heartbeatMs: 600_000 });
    const port = run.server.port;
    const stalled = await stalledClient(port);
    const counts = new Array<number>(VIEWERS).fill(0);
    // Frames the pipeline had read when the newest message left (every frame message carries the run's stats).
    let framesRead = 0;
    const clients = await Promise.all(counts.map((_, i) => new Promise<WebSocket>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      ws.on('message', (d, bin) => {
        if (!bin) return;
        const { header, payload } = decodeFrameMessage(d as Buffer);
        framesRead = Math.max(framesRead, header.stats.framesRead);
        // Whole parts only: a JPEG input picture, or one depth byte per pixel.
        const whole = header.part === 'input' ? payload[0] === 0xff && payload[1] === 0xd8 : payload.length === 640 * 360;
        if (header.width === 640 && whole) counts[i]!++;
      });
      ws.once('open', () => resolve(ws));
    })));
    expect(run.server.clientCount).toBe(VIEWERS + 1);
    // The stalled viewer holds nothing up until its kernel buffers are full and
    // frames queue for it in this process; the window starts then.
    await until(() => Math.max(...run.server.clientBacklogs()) > 0, 120_000);
    expect(Math.max(...run.server.clientBacklogs()), 'the stalled viewer never backed up').toBeGreaterThan(0);
    const before = [...counts];
    const readBefore = framesRead;
    const gained = () => counts.map((c, i) => c - before[i]!);
    const t0 = performance.now();
    await until(() => Math.min(...gained()) >= GAINED && framesRead - readBefore >= READ, 240_000);
    console.log(`window: ${((performance.now() - t0) / 1000).toFixed(1)} s; camera frames read in it: ${framesRead - readBefore}; frame parts each viewer got: ${Math.min(...gained())} to ${Math.max(...gained())}`);
    // Still there, still not reading: the window was spent next to it.
    expect(run.server.clientCount).toBe(VIEWERS + 1);
    const got = gained();
    const read = framesRead - readBefore;
    for (const ws of clients) ws.close();
    stalled.destroy();
    const s = await run.stop();
    expect(Math.min(...got), `frames each viewer got while the camera was read ${read} more times`).toBeGreaterThanOrEqual(GAINED);
    expect(read, 'camera frames read while a viewer was stalled').toBeGreaterThanOrEqual(READ);
    expect(s.frames.read).toBeGreaterThanOrEqual(readBefore + READ);
    await sleep(100);
    expect(run.server.clientCount).toBe(0);
  }, 420_000);
});
