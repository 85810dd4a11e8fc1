import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { makeClip, runCli, tempDir } from '../helpers/media.js';

interface Summary {
  frames: { written: number };
  peakRssMiB: number;
  workers: number;
}

/**
 * With frame workers, each frame alive holds shared output buffers (unit
 * depth, picture) besides its decoded pixels, and the input tensors travel
 * between threads. All of them are pooled and bounded by the frames alive,
 * so a long run must not need more memory than a short one. Peak RSS covers
 * every thread of the process (the workers' heaps and WebAssembly memories
 * included); a buffer kept per frame (8 MiB of unit depth at 1080p) would
 * add over a GiB here.
 */
describe('memory with frame workers', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
    makeClip(join(dir, 'short.mp4'), 'testsrc2=size=1920x1080:rate=25:duration=1.2');
    makeClip(join(dir, 'long.mp4'), 'testsrc2=size=1920x1080:rate=25:duration=6');
  }, 120_000);

  // The short run is long enough for every pool (frame slots, output buffers,
  // tensors) to reach its steady size, so the ratio measures growth with length.
  it('peak RSS of a 150-frame 1080p run with 3 workers stays within 1.2x of a 30-frame run (--sync)', async () => {
    const peak = async (name: string): Promise<Summary> => {
      const r = await runCli([join(dir, `${name}.mp4`), '--out', join(dir, `${name}-depth.mp4`), '--model', 'analytic', '--size', '384', '--sync', '--workers', '3', '--json', '-q'],
        { timeoutMs: 200_000 });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as Summary;
    };
    const short = await peak('short');
    const long = await peak('long');
    console.log(`peak RSS with 3 workers: 30 frames ${short.peakRssMiB.toFixed(0)} MiB, 150 frames ${long.peakRssMiB.toFixed(0)} MiB`);
    expect(long.workers).toBe(3);
    expect(short.frames.written).toBe(30);
    expect(long.frames.written).toBe(150);
    expect(long.peakRssMiB / short.peakRssMiB, `short ${short.peakRssMiB.toFixed(0)} MiB, long ${long.peakRssMiB.toFixed(0)} MiB`).toBeLessThanOrEqual(1.2);
  }, 420_000);
});
