import { describe, expect, it } from 'vitest';
import {
  cameraModelProblem, depthFromInverse, fitInversePlane, focalLength, gridSize, sampleInverse, subtractInversePlane, unprojectGrid,
} from '../../src/render/unproject.js';

describe('depthFromInverse', () => {
  it('is 1 / (V (1/dMin - 1/dMax) + 1/dMax): V = 1 is dMin, V = 0 is dMax', () => {
    expect(depthFromInverse(1, 2, 50)).toBeCloseTo(2, 12);
    expect(depthFromInverse(0, 2, 50)).toBeCloseTo(50, 12);
    // 1 / (0.5 * 0.9 + 0.1) = 1 / 0.55
    expect(depthFromInverse(0.5, 1, 10)).toBeCloseTo(1 / 0.55, 12);
    // Inverse depth is what is linear in V, not depth.
    expect(1 / depthFromInverse(0.25, 1, 10)).toBeCloseTo(0.25 * 0.9 + 0.1, 12);
  });
});

describe('focalLength', () => {
  it('makes the picture width span the field of view', () => {
    expect(focalLength(640, 90)).toBeCloseTo(320, 9);
    const f = focalLength(1000, 60);
    expect(2 * Math.atan(500 / f) * 180 / Math.PI).toBeCloseTo(60, 9);
  });
});

describe('cameraModelProblem', () => {
  it('accepts a sane model and names what is wrong with others', () => {
    expect(cameraModelProblem({ dMin: 1, dMax: 10, fovDeg: 60 })).toBeNull();
    expect(cameraModelProblem({ dMin: 0, dMax: 10, fovDeg: 60 })).toMatch(/near/);
    expect(cameraModelProblem({ dMin: 5, dMax: 5, fovDeg: 60 })).toMatch(/far/);
    expect(cameraModelProblem({ dMin: 1, dMax: 10, fovDeg: 180 })).toMatch(/field of view/);
  });
});

describe('sampleInverse', () => {
  it('takes every step-th pixel of every step-th row and maps bytes to V', () => {
    const w = 5, h = 3;
    const bytes = Uint8Array.from({ length: w * h }, (_, i) => i * 10);
    const { cols, rows } = gridSize(w, h, 2);
    expect([cols, rows]).toEqual([3, 2]);
    const v = sampleInverse(bytes, w, h, 2, 1 / 255, 0, new Float32Array(cols * rows));
    expect(Array.from(v)).toEqual([0, 20, 40, 100, 120, 140].map((b) => Math.fround(b / 255)));
    // Far-is-bright bytes: V = 1 - b/255.
    const inv = sampleInverse(bytes, w, h, 2, -1 / 255, 1, new Float32Array(cols * rows));
    expect(inv[1]).toBeCloseTo(1 - 20 / 255, 6);
    expect(() => sampleInverse(bytes, w, h, 1, 1, 0, new Float32Array(3))).toThrow(RangeError);
  });
});

describe('unprojectGrid', () => {
  it('puts every pixel centre on its ray at the distance of the formula', () => {
    const w = 8, h = 4;
    const m = { dMin: 1, dMax: 10, fovDeg: 90 };
    const v = Float32Array.from({ length: w * h }, (_, i) => (i % 7) / 6);
    const p = unprojectGrid(v, w, h, w, h, 1, m, new Float32Array(w * h * 3));
    const f = focalLength(w, 90); // 4 px
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const k = y * w + x;
        const d = depthFromInverse(v[k]!, 1, 10);
        expect(p[k * 3 + 2]).toBeCloseTo(-d, 5);
        expect(p[k * 3]).toBeCloseTo(((x + 0.5 - w / 2) / f) * d, 5);
        expect(p[k * 3 + 1]).toBeCloseTo(((h / 2 - (y + 0.5)) / f) * d, 5);
      }
    }
  });

  it('a decimated grid samples pixel (gx step, gy step), and the outer rays span the FOV', () => {
    const w = 9, h = 5, step = 4;
    const { cols, rows } = gridSize(w, h, step);
    const v = new Float32Array(cols * rows).fill(0.5);
    const m = { dMin: 2, dMax: 8, fovDeg: 70 };
    const p = unprojectGrid(v, cols, rows, w, h, step, m, new Float32Array(cols * rows * 3));
    const d = depthFromInverse(0.5, 2, 8);
    const f = focalLength(w, 70);
    // Grid column 2 is pixel 8: its centre is 8.5, i.e. 4 px right of the centre (4.5).
    expect(p[(0 * cols + 2) * 3]).toBeCloseTo((4 / f) * d, 5);
    // The edges of the picture (not the pixel centres) subtend the FOV: half-width / f = tan(fov / 2).
    expect(Math.atan((w / 2) / f) * 2 * 180 / Math.PI).toBeCloseTo(70, 6);
  });
});

describe('plane of best fit', () => {
  const plane = (x: number, y: number) => 0.2 + 0.004 * x + 0.01 * y;

  it('recovers the dominant plane despite a box standing on it, and flattens it', () => {
    const cols = 120, rows = 80;
    const v = new Float32Array(cols * rows);
    for (let y = 0; y < rows; y++) for (let x = 0; x < cols; x++) {
      const box = x >= 30 && x < 70 && y >= 10 && y < 50; // 17% of the picture, well off the plane
      v[y * cols + x] = plane(x, y) + (box ? 0.3 : 0);
    }
    const p = fitInversePlane(v, cols, rows)!;
    expect(p.a).toBeCloseTo(0.004, 7);
    expect(p.b).toBeCloseTo(0.01, 7);
    expect(p.c).toBeCloseTo(0.2, 6);
    expect(p.inliers).toBeGreaterThan(0.7);
    expect(p.inliers).toBeLessThan(0.9);
    subtractInversePlane(v, cols, rows, p);
    // The floor becomes one level, the box one other level above it, and the range is 0..1.
    const floor = v[79 * cols + 119]!;
    const box = v[30 * cols + 50]!;
    expect(v[0]).toBeCloseTo(floor, 5);
    expect(v[60 * cols + 5]).toBeCloseTo(floor, 5);
    expect(floor).toBeCloseTo(0, 5);
    expect(box).toBeCloseTo(1, 5);
  });

  it('a least-squares fit would be pulled by the box (why the fit is robust)', () => {
    const cols = 60, rows = 40;
    const v = new Float32Array(cols * rows);
    for (let y = 0; y < rows; y++) for (let x = 0; x < cols; x++) v[y * cols + x] = plane(x, y) + (y < 12 ? 0.4 : 0);
    const robust = fitInversePlane(v, cols, rows)!;
    const plain = fitInversePlane(v, cols, rows, { tolerance: Infinity })!;
    expect(robust.b).toBeCloseTo(0.01, 6);
    expect(Math.abs(plain.b - 0.01)).toBeGreaterThan(0.005);
  });

  it('gives up on a grid too small to hold a plane', () => {
    expect(fitInversePlane(new Float32Array(3), 3, 1)).toBeNull();
  });
});
