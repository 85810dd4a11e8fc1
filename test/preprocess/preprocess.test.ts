import { describe, expect, it } from 'vitest';
import { computeInputSize, constrainToMultipleOf, imageToTensor, roundHalfEven } from '../../src/inference/preprocess.js';
import type { PreprocessSpec, RgbImage } from '../../src/types.js';

function spec(over: Partial<PreprocessSpec>): PreprocessSpec {
  return {
    width: 384,
    height: 384,
    keepAspect: true,
    resizeMethod: 'minimal',
    multipleOf: 32,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    channelOrder: 'RGB',
    inputInterpolation: 'bilinear',
    outputInterpolation: 'bicubic',
    outputAlignCorners: false,
    ...over,
  };
}

const depthAnything = spec({ width: 518, height: 518, resizeMethod: 'lower_bound', multipleOf: 14 });
const dpt = spec({ width: 384, height: 384, resizeMethod: 'minimal', multipleOf: 32 });
const midasSmall = spec({ width: 256, height: 256, resizeMethod: 'upper_bound', multipleOf: 32 });

function size(s: PreprocessSpec, w: number, h: number): [number, number] {
  const r = computeInputSize(s, w, h);
  return [r.width, r.height];
}

describe('roundHalfEven / constrainToMultipleOf', () => {
  it('rounds exact halves to the even neighbour like numpy', () => {
    expect([0.5, 1.5, 2.5, 3.5, 4.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 4, 4, 2, 3]);
  });

  it('follows round, then floor above maxVal, then ceil below minVal', () => {
    expect(constrainToMultipleOf(144, 32)).toBe(128); // 4.5 -> 4
    expect(constrainToMultipleOf(176, 32)).toBe(192); // 5.5 -> 6
    expect(constrainToMultipleOf(80, 32)).toBe(64); // 2.5 -> 2
    expect(constrainToMultipleOf(250, 32, 0, 240)).toBe(224); // round 8*32=256 > 240 -> floor 7*32
    expect(constrainToMultipleOf(520, 32, 530)).toBe(544); // round 16*32=512 < 530 -> ceil 17*32
    expect(constrainToMultipleOf(920.888, 14, 518)).toBe(924); // 65.78 -> 66
  });
});

describe('computeInputSize (MiDaS Resize.get_size)', () => {
  it('Depth-Anything: 518, lower_bound, x14', () => {
    // scale = max(518/1080, 518/1920) = 518/1080; width 1920*518/1080 = 920.89 -> 66*14 = 924.
    expect(size(depthAnything, 1920, 1080)).toEqual([924, 518]);
    expect(size(depthAnything, 640, 360)).toEqual([924, 518]);
    expect(size(depthAnything, 360, 640)).toEqual([518, 924]);
    expect(size(depthAnything, 518, 518)).toEqual([518, 518]);
    // 641*518/359 = 924.9 -> 66*14.
    expect(size(depthAnything, 641, 359)).toEqual([924, 518]);
    // 100x50: scale 518/50; width 1036 = 74*14 exactly.
    expect(size(depthAnything, 100, 50)).toEqual([1036, 518]);
  });

  it('DPT: 384, minimal, x32', () => {
    // |1 - 384/1920| = 0.8 is not < |1 - 384/1080| = 0.644, so the height scale wins: 682.67 -> 21*32.
    expect(size(dpt, 1920, 1080)).toEqual([672, 384]);
    expect(size(dpt, 640, 360)).toEqual([672, 384]);
    expect(size(dpt, 360, 640)).toEqual([384, 672]);
    expect(size(dpt, 518, 518)).toEqual([384, 384]);
    // Width scale 0.96 is closer to 1 than 0.192: height 0.96*2000 = 1920 = 60*32.
    expect(size(dpt, 400, 2000)).toEqual([384, 1920]);
    // 100x50: height scale 7.68 vs width 3.84 -> width is closer to 1: height 192.
    expect(size(dpt, 100, 50)).toEqual([384, 192]);
  });

  it('MiDaS small: 256, upper_bound, x32, with the banker-rounded half', () => {
    // scale = min(256/1920, 256/1080); height 1080*256/1920 = 144 = 4.5*32 -> round-half-even 4 -> 128.
    expect(size(midasSmall, 1920, 1080)).toEqual([256, 128]);
    expect(size(midasSmall, 640, 360)).toEqual([256, 128]);
    expect(size(midasSmall, 360, 640)).toEqual([128, 256]);
    expect(size(midasSmall, 518, 518)).toEqual([256, 256]);
    // 719*256/1279 = 143.9 -> 4.497 -> 4 -> 128.
    expect(size(midasSmall, 1279, 719)).toEqual([256, 128]);
  });

  it('without keepAspect squashes to the target, still a multiple', () => {
    const swin = spec({ keepAspect: false });
    expect(size(swin, 1920, 1080)).toEqual([384, 384]);
    expect(size(swin, 641, 359)).toEqual([384, 384]);
    const rect = spec({ width: 512, height: 384, keepAspect: false, resizeMethod: 'upper_bound' });
    expect(size(rect, 1920, 1080)).toEqual([512, 384]);
    const odd = spec({ width: 250, height: 100, keepAspect: false, resizeMethod: 'upper_bound' });
    // 250/32 = 7.8 -> 8*32 = 256 > 250 -> floor 7*32; 100/32 = 3.125 -> 96.
    expect(size(odd, 1920, 1080)).toEqual([224, 96]);
  });

  it('lower_bound keeps both sides at least the target', () => {
    const lb = spec({ resizeMethod: 'lower_bound' });
    expect(size(lb, 1920, 1080)).toEqual([672, 384]);
    expect(size(lb, 100, 50)).toEqual([768, 384]);
  });

  it('multipleOf 1 keeps the exact scaled size', () => {
    const fixed = spec({ width: 300, height: 200, keepAspect: false, multipleOf: 1 });
    expect(size(fixed, 1920, 1080)).toEqual([300, 200]);
  });
});

function image(w: number, h: number, f: (x: number, y: number, c: number) => number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = f(x, y, c);
  return { width: w, height: h, data };
}

describe('imageToTensor', () => {
  const img = image(5, 3, (x, y, c) => (x * 37 + y * 71 + c * 101) % 256);

  it('identity size is exactly (v/255 - mean)/std, planar CHW in RGB order', () => {
    const s = spec({});
    const t = imageToTensor(img, s, { width: 5, height: 3 });
    expect(t.length).toBe(45);
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < 15; i++) {
        const v = img.data[i * 3 + c];
        expect(t[c * 15 + i]).toBe(Math.fround((v / 255 - s.mean[c]) / s.std[c]));
      }
    }
  });

  it('BGR swaps the first and last planes', () => {
    const rgb = imageToTensor(img, spec({}), { width: 5, height: 3 });
    const bgr = imageToTensor(img, spec({ channelOrder: 'BGR' }), { width: 5, height: 3 });
    // mean/std still belong to the source channel: plane 0 of BGR is blue normalised with blue's stats.
    expect(Array.from(bgr.subarray(0, 15))).toEqual(Array.from(rgb.subarray(30, 45)));
    expect(Array.from(bgr.subarray(15, 30))).toEqual(Array.from(rgb.subarray(15, 30)));
    expect(Array.from(bgr.subarray(30, 45))).toEqual(Array.from(rgb.subarray(0, 15)));
  });

  it('bilinear downscale by 2 averages each 2x2 block', () => {
    const src = image(4, 4, (x, y, c) => (x * 10 + y * 50 + c * 3 + ((x * y) % 3) * 7) % 256);
    const s = spec({ mean: [0, 0, 0], std: [1, 1, 1], inputInterpolation: 'bilinear' });
    const out = new Float32Array(12);
    const t = imageToTensor(src, s, { width: 2, height: 2 }, out);
    expect(t).toBe(out);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 2; y++) {
        for (let x = 0; x < 2; x++) {
          let sum = 0;
          for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) sum += src.data[((2 * y + dy) * 4 + 2 * x + dx) * 3 + c];
          expect(t[c * 4 + y * 2 + x]).toBeCloseTo(sum / 4 / 255, 6);
        }
      }
    }
  });

  it('bicubic of a constant image is that constant, normalised', () => {
    const s = spec({ inputInterpolation: 'bicubic' });
    const flat = image(7, 5, (_x, _y, c) => [200, 100, 30][c]);
    for (const [w, h] of [
      [3, 2],
      [16, 11],
    ]) {
      const t = imageToTensor(flat, s, { width: w, height: h });
      for (let c = 0; c < 3; c++) {
        const want = ([200, 100, 30][c] / 255 - s.mean[c]) / s.std[c];
        for (let i = 0; i < w * h; i++) expect(t[c * w * h + i]).toBeCloseTo(want, 5);
      }
    }
  });

  it('bicubic upscale of a horizontal ramp matches the a=-0.75 kernel by hand', () => {
    // 1 row of 2 px (0 and 255) to 4 px: src x = (d+0.5)/2 - 0.5 = -0.25, 0.25, 0.75, 1.25.
    // For d=0 (t=0.75, taps clamped to 0,0,0,1) the weight on pixel 1 is far(1.25) = -0.10546875.
    const ramp = image(2, 1, (x) => x * 255);
    const s = spec({ mean: [0, 0, 0], std: [1, 1, 1], inputInterpolation: 'bicubic' });
    const t = imageToTensor(ramp, s, { width: 4, height: 1 });
    expect(t[0]).toBeCloseTo(-0.10546875, 6);
    expect(t[1]).toBeCloseTo(0.2265625, 6);
    expect(t[2]).toBeCloseTo(0.7734375, 6);
    expect(t[3]).toBeCloseTo(1.10546875, 6);
  });

  it('bicubic and bilinear resizes match a direct evaluation of the cv2.resize formula per channel', () => {
    const src = image(13, 11, (x, y, c) => (x * x * 5 + y * 23 + c * 60 + ((x * y) % 7) * 9) % 256);
    const A = -0.75;
    const cubic = (d: number): number => {
      const t = Math.abs(d);
      if (t <= 1) return ((A + 2) * t - (A + 3)) * t * t + 1;
      if (t < 2) return ((A * t - 5 * A) * t + 8 * A) * t - 4 * A;
      return 0;
    };
    const clamp = (i: number, n: number): number => Math.min(Math.max(i, 0), n - 1);
    const s = spec({ mean: [0.1, 0.2, 0.3], std: [0.5, 0.25, 2], channelOrder: 'BGR', inputInterpolation: 'bicubic' });
    for (const [W, H] of [
      [5, 3],
      [20, 17],
    ]) {
      const t = imageToTensor(src, s, { width: W, height: H });
      const lin = imageToTensor(src, { ...s, inputInterpolation: 'bilinear' }, { width: W, height: H });
      for (let c = 0; c < 3; c++) {
        const plane = (2 - c) * W * H; // BGR
        for (let y = 0; y < H; y++) {
          for (let x = 0; x < W; x++) {
            const sx = ((x + 0.5) * 13) / W - 0.5;
            const sy = ((y + 0.5) * 11) / H - 0.5;
            const x0 = Math.floor(sx);
            const y0 = Math.floor(sy);
            let v = 0;
            for (let j = -1; j <= 2; j++) {
              for (let i = -1; i <= 2; i++) {
                v += cubic(sx - (x0 + i)) * cubic(sy - (y0 + j)) * src.data[(clamp(y0 + j, 11) * 13 + clamp(x0 + i, 13)) * 3 + c];
              }
            }
            expect(t[plane + y * W + x], `cubic ${W}x${H} c${c} ${x},${y}`).toBeCloseTo((v / 255 - s.mean[c]) / s.std[c], 4);
            // Bilinear: src clamped at 0 and at the last pixel, OpenCV INTER_LINEAR style.
            const bx = Math.max(sx, 0);
            const by = Math.max(sy, 0);
            const bx0 = Math.min(Math.floor(bx), 12);
            const by0 = Math.min(Math.floor(by), 10);
            const fx = bx - bx0;
            const fy = by - by0;
            const p = (xx: number, yy: number): number => src.data[(clamp(yy, 11) * 13 + clamp(xx, 13)) * 3 + c];
            const b =
              (1 - fy) * ((1 - fx) * p(bx0, by0) + fx * p(bx0 + 1, by0)) + fy * ((1 - fx) * p(bx0, by0 + 1) + fx * p(bx0 + 1, by0 + 1));
            expect(lin[plane + y * W + x], `linear ${W}x${H} c${c} ${x},${y}`).toBeCloseTo((b / 255 - s.mean[c]) / s.std[c], 4);
          }
        }
      }
    }
  });
});
