import { describe, expect, it } from 'vitest';
import { startFrameWorkers } from '../../src/pipeline/frame-workers.js';
import type { PixelSettings, PixelTargets } from '../../src/render/frame-pixels.js';
import type { PreprocessSpec, RgbImage } from '../../src/types.js';

/**
 * A job that throws inside a frame worker (not a crash: the thread lives on)
 * fails with a message naming what was being done and for which frame, and
 * the worker takes the next job.
 */
const settings: PixelSettings = { colormap: 'turbo', invert: false, highContrast: false, layout: 'depth', interpolation: 'bilinear', alignCorners: false, evenOutput: true, depthKind: 'relative-inverse-depth' };
const spec: PreprocessSpec = {
  width: 8, height: 8, keepAspect: false, resizeMethod: 'minimal', multipleOf: 1, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5],
  channelOrder: 'RGB', inputInterpolation: 'bilinear', outputInterpolation: 'bilinear', outputAlignCorners: false,
} as PreprocessSpec;
const frame: RgbImage = { format: 'rgb24', width: 8, height: 8, data: new Uint8Array(new SharedArrayBuffer(8 * 8 * 3)).fill(128) } as RgbImage;
const none: PixelTargets = { unit: null, raw: null, depthRgb: null, rgb: null, yuv: null, flickerUnit: null, flickerRgb: null };

describe('a job that fails in a frame worker', () => {
  for (const count of [0, 1]) {
    it(`says which step and which frame (${count ? 'worker thread' : 'main thread'}); the next job still runs`, async () => {
      const w = startFrameWorkers(count);
      try {
        // An inferred frame without a unit target: renderPixels refuses it.
        const depth = { map: { width: 4, height: 4, data: new Float32Array(16) }, raw: new Float32Array(16), lo: 0, hi: 1 };
        const render = w.render({ settings, width: 8, height: 8, depth, frame: null, flickerStep: 0 }, none, 7);
        await expect(render).rejects.toThrow(count ? /^rendering frame 7 failed in a frame worker \(.*needs a unit target/ : /needs a unit target/);
        // A tensor too small for the network input.
        const prepare = w.prepare(frame, spec, { width: 8, height: 8 }, new Float32Array(10), 3);
        await expect(prepare).rejects.toThrow(count ? /^preparing the network input of frame 3 failed in a frame worker \(.*needs 192/ : /needs 192/);
        const ok = await w.prepare(frame, spec, { width: 8, height: 8 }, new Float32Array(192), 4);
        // 128/255 normalised by mean 0.5, std 0.5.
        expect(ok.tensor[0]).toBeCloseTo((128 / 255 - 0.5) / 0.5, 5);
      } finally {
        await w.close();
      }
    });
  }
});
