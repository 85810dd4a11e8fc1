import { describe, expect, it } from 'vitest';
import { buildTaps, resizeDepth } from '../../src/render/resize.js';
import type { DepthMap } from '../../src/types.js';

function map(w: number, h: number, f: (x: number, y: number) => number): DepthMap {
  const data = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = f(x, y);
  return { width: w, height: h, data };
}

function rows(m: DepthMap): number[][] {
  const r: number[][] = [];
  for (let y = 0; y < m.height; y++) r.push(Array.from(m.data.subarray(y * m.width, (y + 1) * m.width)));
  return r;
}

function expectClose(got: number[][], want: number[][], digits: number): void {
  expect(got.length).toBe(want.length);
  got.forEach((row, y) => row.forEach((v, x) => expect(v, `at ${x},${y}`).toBeCloseTo(want[y][x], digits)));
}

const square = map(2, 2, (x, y) => 1 + x + 2 * y); // [[1,2],[3,4]]

describe('resizeDepth', () => {
  it('bilinear align_corners=false, 2x2 -> 4x4 matches PyTorch', () => {
    const out = resizeDepth(square, 4, 4, 'bilinear', false);
    expectClose(
      rows(out),
      [
        [1.0, 1.25, 1.75, 2.0],
        [1.5, 1.75, 2.25, 2.5],
        [2.5, 2.75, 3.25, 3.5],
        [3.0, 3.25, 3.75, 4.0],
      ],
      6,
    );
  });

  it('bilinear align_corners=true, 2x2 -> 3x3 puts the midpoint between the corners', () => {
    const out = resizeDepth(square, 3, 3, 'bilinear', true);
    expectClose(
      rows(out),
      [
        [1, 1.5, 2],
        [2, 2.5, 3],
        [3, 3.5, 4],
      ],
      6,
    );
  });

  it('bicubic align_corners=false, 2x2 -> 4x4 matches PyTorch (a = -0.75, clamped taps)', () => {
    const out = resizeDepth(square, 4, 4, 'bicubic', false);
    // torch.nn.functional.interpolate(t([[1,2],[3,4]]), size=4, mode='bicubic', align_corners=False)
    expectClose(
      rows(out),
      [
        [0.68359375, 1.015625, 1.5625, 1.89453125],
        [1.34765625, 1.6796875, 2.2265625, 2.55859375],
        [2.44140625, 2.7734375, 3.3203125, 3.65234375],
        [3.10546875, 3.4375, 3.984375, 4.31640625],
      ],
      5,
    );
  });

  it('bilinear align_corners=true keeps corners and keeps a linear ramp exactly linear', () => {
    const src = map(7, 5, (x, y) => 0.5 + 3 * x - 2 * y);
    const out = resizeDepth(src, 19, 13, 'bilinear', true);
    const at = (x: number, y: number): number => out.data[y * 19 + x];
    expect(at(0, 0)).toBeCloseTo(src.data[0], 5);
    expect(at(18, 0)).toBeCloseTo(src.data[6], 5);
    expect(at(0, 12)).toBeCloseTo(src.data[28], 5);
    expect(at(18, 12)).toBeCloseTo(src.data[34], 5);
    for (let y = 0; y < 13; y++) {
      for (let x = 0; x < 19; x++) {
        const sx = (x * 6) / 18;
        const sy = (y * 4) / 12;
        expect(at(x, y)).toBeCloseTo(0.5 + 3 * sx - 2 * sy, 4);
      }
    }
  });

  it('bicubic of a linear ramp is linear away from the border where the phase is 0 or 1/2', () => {
    // Keys' kernel with a = -0.75 (unlike a = -0.5) does not reproduce a ramp at
    // every phase t; by symmetry it does at t = 0 and t = 1/2. align_corners=true
    // 5 -> 9 gives src = d/2, and align_corners=false 12 -> 6 gives src = 2d + 0.5.
    const src = map(5, 5, (x, y) => 2 * x + 0.25 * y);
    const up = resizeDepth(src, 9, 9, 'bicubic', true);
    for (let y = 2; y <= 6; y++) for (let x = 2; x <= 6; x++) expect(up.data[y * 9 + x]).toBeCloseTo(x + 0.125 * y, 5);
    const big = map(12, 12, (x, y) => 3 * x - y);
    const down = resizeDepth(big, 6, 6, 'bicubic', false);
    for (let y = 1; y <= 4; y++) {
      for (let x = 1; x <= 4; x++) expect(down.data[y * 6 + x]).toBeCloseTo(3 * (2 * x + 0.5) - (2 * y + 0.5), 4);
    }
  });

  it('bicubic matches a direct (non-separable) evaluation of the PyTorch formula', () => {
    const src = map(6, 5, (x, y) => Math.sin(x * 1.7 + y * 0.3) + 0.1 * x * y);
    const W = 11;
    const H = 7;
    const A = -0.75;
    const k = (d: number): number => {
      const t = Math.abs(d);
      if (t <= 1) return ((A + 2) * t - (A + 3)) * t * t + 1;
      if (t < 2) return ((A * t - 5 * A) * t + 8 * A) * t - 4 * A;
      return 0;
    };
    const clamp = (i: number, n: number): number => Math.min(Math.max(i, 0), n - 1);
    for (const align of [false, true]) {
      const out = resizeDepth(src, W, H, 'bicubic', align);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const sx = align ? (x * 5) / (W - 1) : ((x + 0.5) * 6) / W - 0.5;
          const sy = align ? (y * 4) / (H - 1) : ((y + 0.5) * 5) / H - 0.5;
          const x0 = Math.floor(sx);
          const y0 = Math.floor(sy);
          let want = 0;
          for (let j = -1; j <= 2; j++) {
            for (let i = -1; i <= 2; i++) {
              want += k(sx - (x0 + i)) * k(sy - (y0 + j)) * src.data[clamp(y0 + j, 5) * 6 + clamp(x0 + i, 6)];
            }
          }
          expect(out.data[y * W + x], `at ${x},${y} align=${align}`).toBeCloseTo(want, 5);
        }
      }
    }
  });

  it('downscale by 2 bilinear (align_corners=false) averages neighbouring pairs', () => {
    const src = map(6, 2, (x, y) => x * x + 10 * y);
    const out = resizeDepth(src, 3, 1, 'bilinear', false);
    // src x = 2d + 0.5, src y = 0.5.
    expect(Array.from(out.data)).toEqual([0.5 + 5, (4 + 9) / 2 + 5, (16 + 25) / 2 + 5]);
  });

  it('same size is the identity; out is used when given', () => {
    const src = map(5, 4, (x, y) => Math.sin(x * 3 + y));
    expect(resizeDepth(src, 5, 4, 'bicubic', false)).toBe(src);
    const buf = new Float32Array(20);
    const r = resizeDepth(src, 5, 4, 'bilinear', true, buf);
    expect(r.data).toBe(buf);
    expect(Array.from(buf)).toEqual(Array.from(src.data));
    const up = new Float32Array(8 * 6);
    expect(resizeDepth(src, 8, 6, 'bilinear', false, up).data).toBe(up);
    expect(() => resizeDepth(src, 8, 6, 'bilinear', false, new Float32Array(10))).toThrow(RangeError);
  });

  it('bicubic weights of every output sum to 1', () => {
    const t = buildTaps(13, 29, 'bicubic', false);
    for (let i = 0; i < 29; i++) {
      const s = t.weight[i * 4] + t.weight[i * 4 + 1] + t.weight[i * 4 + 2] + t.weight[i * 4 + 3];
      expect(s).toBeCloseTo(1, 6);
      for (let k = 0; k < 4; k++) {
        expect(t.index[i * 4 + k]).toBeGreaterThanOrEqual(0);
        expect(t.index[i * 4 + k]).toBeLessThan(13);
      }
    }
  });
});
