import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ensureGeneratedModel } from '../../src/inference/generate/index.js';
import { MAX_CLIENT_QUEUE } from '../../src/preview/server.js';
import { liveBytes, MB } from '../helpers/memory.js';
import { stalledClient, startLive, sleep } from './helpers.js';

const W = 640;
const H = 360;
/** The largest message: one depth byte per pixel and its JSON header. */
const DEPTH_MESSAGE = W * H + 1024;
/** What one stalled viewer may have queued in this process: its frames in flight and a few control messages. */
const PER_STALLED = (MAX_CLIENT_QUEUE + 2) * DEPTH_MESSAGE;
/**
 * What else may come and go in this process between two samples: buffers in
 * flight and lazily compiled code (6 MB), and the camera's frame pool, which
 * grows to the most frames ever alive at once (32 async slots + 2 spare,
 * 691 KB each at 640x360).
 */
const SLACK = 6 * MB + 34 * W * H * 3;
/**
 * Bytes the viewer that reads gets during a window. Without the backlog
 * check every stalled viewer queues all of them, less what its socket's
 * kernel buffers absorb (at most about 4 MiB here: tcp_wmem's maximum on the
 * sending side, a 128 KiB window on the side that never reads).
 */
const WINDOW_BYTES = 32 * MB;
/** A newly stalled viewer's kernel buffers fill before its window starts. */
const FILL_MS = 1500;

describe('stalled viewers', () => {
  it('each one has at most a few frames queued, whatever the schedule and however many there are', async () => {
    await ensureGeneratedModel('analytic');
    // The heartbeat drops a client that does not answer pings within 15-30 s;
    // here the stalled viewers must stay for their whole window.
    const run = await startLive({ model: 'analytic', graph: `testsrc2=size=${W}x${H}:rate=30`, heartbeatMs: 600_000 });
    let received = 0;
    const reader = new WebSocket(`ws://127.0.0.1:${run.server.port}/ws`);
    reader.on('message', (d) => { received += (d as Buffer).length; });
    await new Promise((r) => reader.once('open', r));
    let stalled: Socket[] = [];
    try {
      // Async first, after a warm-up, so the frame pool has grown to its working size.
      await sleep(3000);
      for (const [mode, count] of [['async', 1], ['async', 10], ['sync', 1], ['sync', 10]] as const) {
        run.control.schedule.next(mode);
        for (const s of stalled) s.destroy();
        stalled = await Promise.all(Array.from({ length: count }, () => stalledClient(run.server.port)));
        await sleep(FILL_MS);
        const before = liveBytes();
        const from = received;
        const t0 = performance.now();
        let worstBacklog = 0;
        // Long enough that an unbounded queue cannot hide in the kernel's buffers.
        while (received - from < WINDOW_BYTES && performance.now() - t0 < 60_000) {
          await sleep(100);
          worstBacklog = Math.max(worstBacklog, ...run.server.clientBacklogs());
        }
        const grown = liveBytes() - before;
        const bound = count * PER_STALLED + SLACK;
        console.log(`${mode}, ${count} stalled: ${((received - from) / MB).toFixed(0)} MB to the viewer that reads in ${((performance.now() - t0) / 1000).toFixed(1)} s; `
          + `largest backlog ${(worstBacklog / MB).toFixed(2)} MB (bound ${(PER_STALLED / MB).toFixed(2)}); this process grew ${(grown / MB).toFixed(1)} MB (bound ${(bound / MB).toFixed(1)})`);
        expect(received - from, 'the window is too short to tell a bounded queue from an unbounded one').toBeGreaterThanOrEqual(WINDOW_BYTES);
        expect(run.server.clientCount).toBe(count + 1);
        expect(worstBacklog, `${mode}, ${count} stalled viewer(s): bytes queued for one client`).toBeLessThanOrEqual(PER_STALLED);
        expect(grown, `${mode}, ${count} stalled viewer(s): growth of this process`).toBeLessThanOrEqual(bound);
      }
    } finally {
      reader.close();
      for (const s of stalled) s.destroy();
      await run.stop();
    }
  }, 300_000);
});
