import { describe, expect, it } from 'vitest';
import { equalizeHistogram } from '../../src/render/equalize.js';
import { depthRange, normalizeDepth } from '../../src/render/normalize.js';

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
