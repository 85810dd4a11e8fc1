import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runPipeline, type RunSummary } from '../../src/pipeline/run.js';
import type { OutputFrame } from '../../src/pipeline/types.js';
import { flickeringModel } from '../../src/bench/flicker-scenario.js';
import type { StabilizeMode } from '../../src/stabilize/stabilize.js';
import { ffmpeg, makeClip, tempDir } from '../helpers/media.js';

async function run(input: string, mode: StabilizeMode, opts: { wrap?: boolean; onFrame?: (o: OutputFrame) => void } = {}): Promise<RunSummary> {
  return runPipeline({
    input: { kind: 'file', path: input },
    output: null,
    model: 'analytic',
    sync: true,
    render: { colormap: 'gray', invert: false, highContrast: false, layout: 'depth', stabilize: mode, stabilizeWindow: 10 },
    allowDownload: false,
    wrapInfer: opts.wrap === false ? undefined : flickeringModel(7),
    hooks: { onFrame: opts.onFrame },
  });
}

describe('temporal stabilisation in the pipeline', () => {
  let dir: string;
  let still: string;
  let moving: string;
  let cut: string;
  beforeAll(() => {
    dir = tempDir();
    const lossless = ['-c:v', 'ffv1', '-pix_fmt', 'bgr0'];
    still = makeClip(join(dir, 'still.mkv'), "nullsrc=s=96x64:r=15:d=4,geq=r='X*2':g='Y*3':b='128+60*sin(X/9)'", { codec: lossless });
    // A bright square sliding right over a still background.
    moving = makeClip(join(dir, 'moving.mkv'), "nullsrc=s=96x64:r=15:d=2,geq=r='if(between(X,4+N*2,16+N*2)*between(Y,26,38),255,Y*2)':g='if(between(X,4+N*2,16+N*2)*between(Y,26,38),255,Y*2)':b='if(between(X,4+N*2,16+N*2)*between(Y,26,38),255,Y*2)'", { codec: lossless });
    const a = join(dir, 'a.mkv');
    const b = join(dir, 'b.mkv');
    makeClip(a, "nullsrc=s=96x64:r=15:d=1,geq=r='X*2':g='X*2':b='X*2'", { codec: lossless });
    makeClip(b, "nullsrc=s=96x64:r=15:d=1,geq=r='255-Y*3':g='128':b='40'", { codec: lossless });
    cut = join(dir, 'cut.mkv');
    ffmpeg(['-i', a, '-i', b, '-filter_complex', '[0:v][1:v]concat=n=2:v=1', ...lossless, cut]);
  }, 60_000);

  it('on a still scene, align flickers at most 1/3 as much as off, normalize at most 2/3', async () => {
    const off = await run(still, 'off');
    const normalize = await run(still, 'normalize');
    const align = await run(still, 'align');
    console.log(`flicker: off ${off.flicker?.toFixed(4)}, normalize ${normalize.flicker?.toFixed(4)}, align ${align.flicker?.toFixed(4)}`);
    expect(off.frames.inferred).toBe(60);
    expect(off.flicker!).toBeGreaterThan(0.01);
    expect(align.flicker!).toBeLessThanOrEqual(off.flicker! / 3);
    expect(normalize.flicker!).toBeLessThanOrEqual((off.flicker! * 2) / 3);
  });

  it('the stabilised output still follows a real change: the moving square moves in the depth', async () => {
    const centroids: number[] = [];
    await run(moving, 'align', {
      onFrame: (o) => {
        const { width, height } = o.frame;
        let sx = 0;
        let n = 0;
        for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if (o.depth.unit[y * width + x]! > 0.9) { sx += x; n++; }
        centroids.push(n ? sx / n : NaN);
      },
    });
    expect(centroids.length).toBe(30);
    // The square's centre moves 2 px a frame; the brightest depth follows it.
    for (let i = 0; i < centroids.length; i += 5) expect(Math.abs(centroids[i]! - (10 + 2 * i))).toBeLessThanOrEqual(2);
  });

  it('a hard cut resets the reference within 2 frames, with no smeared colours after it', async () => {
    const resets: number[] = [];
    const units: Float32Array[] = [];
    await run(cut, 'align', {
      wrap: false,
      onFrame: (o) => {
        if (o.depth.reset) resets.push(o.frame.index);
        units.push(Float32Array.from(o.depth.unit));
      },
    });
    expect(units.length).toBe(30);
    expect(resets[0]).toBe(0);
    const afterCut = resets.filter((i) => i >= 15);
    expect(afterCut.length).toBeGreaterThan(0);
    expect(afterCut[0]! - 15).toBeLessThanOrEqual(2);
    // Two frames after the cut the picture is the new scene's own normalisation (min..max -> 0..1, 2..98 % here).
    const u = units[17]!;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of u) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    expect(lo).toBeLessThan(0.05);
    expect(hi).toBeGreaterThan(0.95);
  });
});
