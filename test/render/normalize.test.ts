import { describe, expect, it } from 'vitest';
import { equalizeHistogram } from '../../src/render/equalize.js';
import { depthRange, normalizeDepth, robustRange } from '../../src/render/normalize.js';

const f32 = (a: number[]): Float32Array => Float32Array.from(a);

describe('depthRange', () => {
  it('ignores NaN and the infinities', () => {
    expect(depthRange(f32([NaN, 3, -Infinity, -2, 7.5, Infinity, NaN]))).toEqual({ min: -2, max: 7.5 });
  });
  it('is {0,0} with no finite value', () => {
    expect(depthRange(f32([NaN, Infinity]))).toEqual({ min: 0, max: 0 });
    expect(depthRange(new Float32Array(0))).toEqual({ min: 0, max: 0 });
  });
});

describe('normalizeDepth', () => {
  it('is (v - lo) / (hi - lo) clamped to [0,1], NaN -> 0', () => {
    const data = f32([2, 3, 4.5, 6, 10, -1, NaN]);
    const out = normalizeDepth(data, 2, 6);
    const want = [0, 0.25, 0.625, 1, 1, 0, 0];
    want.forEach((w, i) => expect(out[i]).toBeCloseTo(w, 7));
  });
  it('writes into out and gives zeros when hi == lo', () => {
    const out = new Float32Array(3).fill(9);
    expect(normalizeDepth(f32([1, 2, 3]), 5, 5, out)).toBe(out);
    expect(Array.from(out)).toEqual([0, 0, 0]);
  });
  it('a reversed range flips the order', () => {
    const out = normalizeDepth(f32([0, 1, 2, 3, 4]), 4, 0);
    expect(Array.from(out)).toEqual([1, 0.75, 0.5, 0.25, 0]);
  });
});

describe('robustRange', () => {
  it('matches numpy.percentile (linear) with stride 1', () => {
    // np.percentile([0..100], [2, 98]) = [2, 98]; of [1..10]: 5th -> 1 + 0.05*9 = 1.45, 95th -> 9.55.
    const hundred = Float32Array.from({ length: 101 }, (_, i) => 100 - i);
    const r = robustRange(hundred, 2, 98, 1);
    expect(r.min).toBeCloseTo(2, 6);
    expect(r.max).toBeCloseTo(98, 6);
    const ten = f32([7, 3, 10, 1, 9, 2, 8, 5, 4, 6, NaN, Infinity]);
    const t = robustRange(ten, 5, 95, 1);
    expect(t.min).toBeCloseTo(1.45, 5);
    expect(t.max).toBeCloseTo(9.55, 5);
    expect(robustRange(ten, 0, 100, 1)).toEqual({ min: 1, max: 10 });
  });
  it('clips outliers that would dominate the plain range', () => {
    const data = new Float32Array(1000).map((_, i) => (i * 7919) % 1000 / 1000);
    data[17] = 1e6;
    data[400] = -1e6;
    const r = robustRange(data, 1, 99, 1);
    expect(r.min).toBeGreaterThan(0);
    expect(r.max).toBeLessThan(1);
  });
  it('with a stride uses exactly every stride-th sample', () => {
    const data = Float32Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? i : 1000));
    // Samples 0, 4, ..., 36: median (50th) = 18.
    expect(robustRange(data, 50, 50, 4)).toEqual({ min: 18, max: 18 });
  });
  it('handles constant and sorted inputs without trouble', () => {
    const flat = new Float32Array(5000).fill(0.3);
    const r = robustRange(flat, 1, 99);
    expect(r.min).toBeCloseTo(0.3, 6);
    expect(r.max).toBeCloseTo(0.3, 6);
    const sorted = Float32Array.from({ length: 200001 }, (_, i) => i);
    const s = robustRange(sorted, 10, 90, 1);
    expect(s).toEqual({ min: 20000, max: 180000 });
  });
  it('rejects percentiles outside [0,100]', () => {
    expect(() => robustRange(f32([1]), -1, 50)).toThrow(RangeError);
  });
});

describe('equalizeHistogram', () => {
  it('implements (cdf(bin) - cdfMin) / (N - cdfMin) on the documented bins', () => {
    // 4 bins: bin(v) = min(3, floor(v*4)).
    const data = f32([0.1, 0.1, 0.3, 0.6, 0.6, 0.6, 0.99, 1.0]);
    // hist = [2, 1, 3, 2]; cdf = [2, 3, 6, 8]; cdfMin = 2, N = 8.
    const out = equalizeHistogram(data, 4);
    const want = [0, 0, 1 / 6, 4 / 6, 4 / 6, 4 / 6, 1, 1];
    want.forEach((w, i) => expect(out[i]).toBeCloseTo(w, 6));
  });
  it('treats NaN/inf as absent (output 0) and clamps out-of-range values', () => {
    const data = f32([NaN, -0.5, 0.5, 2, Infinity]);
    // bins of finite values: -0.5 -> 0, 0.5 -> 2, 2 -> 3 (4 bins); N = 3, cdfMin = 1.
    const out = equalizeHistogram(data, 4, new Float32Array(5));
    expect(Array.from(out)).toEqual([0, 0, 0.5, 1, 0]);
  });
  it('all values in one bin give zeros', () => {
    expect(Array.from(equalizeHistogram(f32([0.5, 0.5, 0.5])))).toEqual([0, 0, 0]);
  });
  it('spreads a crowded distribution over [0,1] monotonically with the default 1024 bins', () => {
    const data = Float32Array.from({ length: 1000 }, (_, i) => 0.4 + (i / 1000) * 0.01 + (i % 3 === 0 ? 0.5 : 0));
    const out = equalizeHistogram(data);
    const order = Array.from(data.keys()).sort((a, b) => data[a] - data[b]);
    for (let i = 1; i < order.length; i++) expect(out[order[i]]).toBeGreaterThanOrEqual(out[order[i - 1]]);
    expect(out[order[0]]).toBe(0);
    expect(out[order[order.length - 1]]).toBe(1);
    // The dense lower cluster (2/3 of the pixels) now spans about 2/3 of the range.
    expect(out[order[665]]).toBeGreaterThan(0.6);
  });
});

describe('equalizeHistogram limits', () => {
  it('rejects bin counts outside 1..65535', () => {
    expect(() => equalizeHistogram(new Float32Array(1), 0)).toThrow(RangeError);
    expect(() => equalizeHistogram(new Float32Array(1), 65536)).toThrow(RangeError);
    expect(Array.from(equalizeHistogram(Float32Array.from([0, 1]), 65535))).toEqual([0, 1]);
  });
});
