import { describe, expect, it } from 'vitest';
import { fitScaleShift, flicker, percentilePair, stillMaskFromFrames } from '../../src/stabilize/stabilize.js';
import { rng } from './synth.js';

function field(n: number, rand: () => number): Float32Array {
  // Smooth-ish random depth: a random walk, so values are correlated like a real map.
  const d = new Float32Array(n);
  let v = 1;
  for (let i = 0; i < n; i++) {
    v += (rand() - 0.5) * 0.1;
    d[i] = v + rand() * 0.5;
  }
  return d;
}

function ols(x: Float32Array, y: Float32Array): { scale: number; shift: number } {
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let i = 0; i < x.length; i++) { sx += x[i]; sy += y[i]; sxx += x[i] * x[i]; sxy += x[i] * y[i]; }
  const n = x.length;
  const scale = (sxy / n - (sx / n) * (sy / n)) / (sxx / n - (sx / n) ** 2);
  return { scale, shift: sy / n - scale * (sx / n) };
}

const relErr = (got: number, want: number): number => Math.abs(got - want) / Math.max(1e-12, Math.abs(want));

describe('fitScaleShift', () => {
  it('recovers random scale and shift exactly-ish', () => {
    const rand = rng(11);
    for (let trial = 0; trial < 5; trial++) {
      const src = field(5000, rand);
      const a = 0.1 + 5 * rand();
      const b = 20 * rand() - 10;
      const ref = src.map((v) => a * v + b);
      const fit = fitScaleShift(src, ref);
      expect(relErr(fit.scale, a)).toBeLessThan(1e-3);
      expect(relErr(fit.shift, b)).toBeLessThan(1e-3);
      expect(fit.inlierFraction).toBeGreaterThan(0.99);
      expect(fit.residual).toBeLessThan(1e-3);
    }
  });

  it('ignores 10% gross outliers in either array', () => {
    const rand = rng(12);
    for (let trial = 0; trial < 6; trial++) {
      const src = field(5000, rand);
      const a = 0.1 + 5 * rand();
      const b = 20 * rand() - 10;
      const ref = src.map((v) => a * v + b);
      const corrupt = trial % 2 === 0 ? ref : src;
      const span = trial % 2 === 0 ? a * 4 : 4;
      for (let k = 0; k < 500; k++) {
        const i = Math.floor(rand() * corrupt.length);
        corrupt[i] += (rand() < 0.5 ? -1 : 1) * span * (1 + 4 * rand());
      }
      const plain = ols(src, ref);
      const fit = fitScaleShift(src, ref);
      // Ordinary least squares is visibly dragged; the robust fit is not.
      expect(relErr(plain.scale, a) + relErr(plain.shift, b)).toBeGreaterThan(1e-2);
      expect(relErr(fit.scale, a)).toBeLessThan(1e-3);
      expect(relErr(fit.shift, b)).toBeLessThan(1e-3);
      expect(fit.inlierFraction).toBeGreaterThan(0.85);
      expect(fit.inlierFraction).toBeLessThan(0.95);
    }
  });

  it('honours step and mask, and skips NaN', () => {
    const src = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const ref = src.map((v) => 2 * v + 1);
    ref[1] = 1000; // only reachable with step 1
    ref[4] = Number.NaN;
    const stepped = fitScaleShift(src, ref, { step: 2 });
    expect(stepped.scale).toBeCloseTo(2, 6);
    expect(stepped.shift).toBeCloseTo(1, 6);
    const mask = new Uint8Array([1, 0, 1, 1, 1, 1, 1, 1]);
    const masked = fitScaleShift(src, ref, { mask, iterations: 0 });
    expect(masked.scale).toBeCloseTo(2, 6);
  });

  it('returns finite numbers for degenerate input', () => {
    const constant = new Float32Array(100).fill(3);
    const ramp = Float32Array.from({ length: 100 }, (_, i) => i);
    for (const [src, ref] of [[constant, ramp], [ramp, constant], [constant, constant], [new Float32Array(100).fill(Number.NaN), ramp], [new Float32Array(0), new Float32Array(0)]]) {
      const fit = fitScaleShift(src, ref);
      expect(Number.isFinite(fit.scale)).toBe(true);
      expect(Number.isFinite(fit.shift)).toBe(true);
      expect(Number.isNaN(fit.residual)).toBe(false);
    }
    expect(fitScaleShift(constant, ramp).scale).toBe(0);
  });
});

describe('helpers', () => {
  it('percentilePair matches a sort', () => {
    const rand = rng(5);
    const v = Float32Array.from({ length: 1001 }, () => rand() * 100);
    const sorted = Float32Array.from(v).sort();
    const [lo, hi] = percentilePair(Float32Array.from(v), v.length, 2, 98);
    expect(lo).toBe(sorted[20]);
    expect(hi).toBe(sorted[980]);
  });

  it('flicker averages over still pixels only', () => {
    const prev = new Float32Array([0, 0, 0, 0]);
    const cur = new Float32Array([0.4, 0.2, 1, 1]);
    expect(flicker(prev, cur)).toBeCloseTo(0.65, 6);
    expect(flicker(prev, cur, new Uint8Array([1, 1, 0, 0]))).toBeCloseTo(0.3, 6);
    expect(flicker(prev, cur, new Uint8Array(4))).toBe(0);
  });

  it('stillMaskFromFrames marks unchanged pixels', () => {
    const a = new Uint8Array([10, 10, 10, 50, 50, 50, 0, 0, 0]);
    const b = new Uint8Array([12, 9, 10, 50, 90, 50, 0, 0, 7]);
    expect(Array.from(stillMaskFromFrames(a, b, 3, 1, 6))).toEqual([1, 0, 0]);
    expect(Array.from(stillMaskFromFrames(a, b, 3, 1, 8))).toEqual([1, 0, 1]);
    expect(() => stillMaskFromFrames(a, b, 4, 1)).toThrow(/smaller/);
  });
});
