import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/pipeline/run.js';
import type { FrameSink, OutputFrame } from '../../src/pipeline/types.js';
import { makeClip, tempDir } from '../helpers/media.js';

/**
 * The normalised depth at frame size (depth.unit) is made only when someone
 * reads it: with the encoder alone the depth-only yuv420p picture comes
 * straight out of the kernels. The pictures and the flicker measure must
 * not change with it.
 */
async function run(clip: string, workers: number, wantsDepthUnit: boolean, layout: 'depth' | 'side-by-side' = 'depth') {
  const pictures: Buffer[] = [];
  const units: (Float32Array | null)[] = [];
  const sink: FrameSink = {
    name: 'yuv', picture: 'yuv420p', wantsDepthUnit, finish() {},
    write(out: OutputFrame) {
      pictures.push(Buffer.from(out.yuv!.data));
      units.push(out.depth.unit ? Float32Array.from(out.depth.unit) : null);
    },
  };
  const summary = await runPipeline({
    input: { kind: 'file', path: clip }, output: null, model: 'analytic', sync: true, workers, allowDownload: false, sinks: [sink],
    spec: { native: false, width: 64, height: 48, keepAspect: false },
    render: { colormap: 'turbo', invert: false, highContrast: false, layout, stabilize: 'align', stabilizeWindow: 5 },
  });
  return { pictures, units, flicker: summary.flicker, written: summary.frames.written };
}

describe('depth.unit only when read', () => {
  let clip: string;
  beforeAll(() => {
    clip = makeClip(join(tempDir('dv-unit-'), 'clip.mp4'), 'testsrc2=size=160x90:rate=10:duration=1.5');
  });

  for (const workers of [0, 2]) {
    it(`${workers} frame workers: no sink reads it, none is made, and the pictures and the flicker are the same`, async () => {
      const without = await run(clip, workers, false);
      const withUnit = await run(clip, workers, true);
      expect(without.written).toBe(15);
      expect(without.units.every((u) => u === null)).toBe(true);
      expect(withUnit.units.every((u) => u !== null && u.length === 160 * 90)).toBe(true);
      expect(without.pictures.length).toBe(withUnit.pictures.length);
      without.pictures.forEach((p, i) => expect(p.equals(withUnit.pictures[i]!), `frame ${i}`).toBe(true));
      expect(without.flicker).not.toBeNull();
      expect(without.flicker).toBe(withUnit.flicker);
    });
  }

  it('a layout that shows the input makes it anyway (it is composed from it)', async () => {
    const r = await run(clip, 1, false, 'side-by-side');
    expect(r.units.every((u) => u !== null)).toBe(true);
  });
});
