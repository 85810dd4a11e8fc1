import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { makeClip, runCli, tempDir } from '../helpers/media.js';

interface Summary {
  frames: { written: number };
  peakRssMiB: number;
}

/**
 * Memory must not grow with video length: the decoder is paused while frames
 * are in flight, buffers are pooled, and nothing is kept per frame. A leak of
 * even one 1080p frame (6 MiB) per frame would show as +800 MiB here.
 */
describe('memory', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
    makeClip(join(dir, 'short.mp4'), 'testsrc2=size=1920x1080:rate=25:duration=0.6');
    makeClip(join(dir, 'long.mp4'), 'testsrc2=size=1920x1080:rate=25:duration=6');
  }, 120_000);

  it('peak RSS of a 150-frame 1080p run stays within 1.2x of a 15-frame run (--sync)', async () => {
    const peak = async (name: string): Promise<Summary> => {
      const r = await runCli([join(dir, `${name}.mp4`), '--out', join(dir, `${name}-depth.mp4`), '--model', 'analytic', '--sync', '--json', '-q'], { timeoutMs: 170_000 });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as Summary;
    };
    const short = await peak('short');
    const long = await peak('long');
    console.log(`peak RSS: 15 frames ${short.peakRssMiB.toFixed(0)} MiB, 150 frames ${long.peakRssMiB.toFixed(0)} MiB`);
    expect(short.frames.written).toBe(15);
    expect(long.frames.written).toBe(150);
    expect(long.peakRssMiB / short.peakRssMiB, `short ${short.peakRssMiB.toFixed(0)} MiB, long ${long.peakRssMiB.toFixed(0)} MiB`).toBeLessThanOrEqual(1.2);
  }, 180_000);
});
