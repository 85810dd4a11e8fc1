import { describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../../src/inference/generate/index.js';
import { startLive, sleep } from './helpers.js';

describe('live async schedule', () => {
  it('with a slow model and a 30 fps camera, at most one frame waits and drops = read - inferred', async () => {
    await ensureGeneratedModel('analytic-slow');
    const run = await startLive({ model: 'analytic-slow' });
    await sleep(4000);
    const s = await run.stop();
    expect(s.interrupted).toBe(true);
    expect(s.frames.read).toBeGreaterThan(30);
    expect(s.frames.inferred).toBeGreaterThan(1);
    // The slow model cannot keep up with 30 fps, so frames must have been dropped…
    expect(s.frames.dropped).toBeGreaterThan(0);
    // …and never queued: latest wins.
    expect(s.maxWaiting).toBeLessThanOrEqual(1);
    expect(s.frames.dropped).toBe(s.frames.read - s.frames.inferred);
    expect(s.frames.written).toBe(s.frames.read);
  });
});
