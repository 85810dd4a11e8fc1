import { describe, expect, it } from 'vitest';
import { composeLayout, isLayoutName, layoutSize, padToEven } from '../../src/render/layout.js';
import type { RgbImage } from '../../src/types.js';

function image(w: number, h: number, seed: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed) % 251;
  return { width: w, height: h, data };
}

function px(img: RgbImage, x: number, y: number): number[] {
  const o = (y * img.width + x) * 3;
  return Array.from(img.data.subarray(o, o + 3));
}

describe('composeLayout', () => {
  const input = image(3, 2, 1);
  const depth = image(3, 2, 100);

  it('depth returns the depth picture', () => {
    expect(composeLayout('depth', input, depth)).toBe(depth);
    const out = new Uint8Array(18);
    const r = composeLayout('depth', input, depth, out);
    expect(r.data).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(depth.data));
  });

  it('side-by-side puts input left and depth right', () => {
    const r = composeLayout('side-by-side', input, depth);
    expect([r.width, r.height]).toEqual([6, 2]);
    for (let y = 0; y < 2; y++) {
      for (let x = 0; x < 3; x++) {
        expect(px(r, x, y)).toEqual(px(input, x, y));
        expect(px(r, x + 3, y)).toEqual(px(depth, x, y));
      }
    }
  });

  it('stacked puts input on top and depth below', () => {
    const out = new Uint8Array(36);
    const r = composeLayout('stacked', input, depth, out);
    expect(r.data).toBe(out);
    expect([r.width, r.height]).toEqual([3, 4]);
    for (let y = 0; y < 2; y++) {
      for (let x = 0; x < 3; x++) {
        expect(px(r, x, y)).toEqual(px(input, x, y));
        expect(px(r, x, y + 2)).toEqual(px(depth, x, y));
      }
    }
  });

  it('rejects mismatched sizes and short buffers', () => {
    expect(() => composeLayout('side-by-side', image(4, 2, 0), depth)).toThrow(RangeError);
    expect(() => composeLayout('stacked', input, depth, new Uint8Array(10))).toThrow(RangeError);
  });

  it('layoutSize and names', () => {
    expect(layoutSize('side-by-side', 640, 360)).toEqual({ width: 1280, height: 360 });
    expect(layoutSize('stacked', 640, 360)).toEqual({ width: 640, height: 720 });
    expect(layoutSize('depth', 640, 360)).toEqual({ width: 640, height: 360 });
    expect(isLayoutName('stacked')).toBe(true);
    expect(isLayoutName('grid')).toBe(false);
  });
});

describe('padToEven', () => {
  it('is the identity (same object) for even sizes', () => {
    const img = image(4, 2, 3);
    expect(padToEven(img)).toBe(img);
  });

  it('replicates the last column and the last row', () => {
    const img = image(3, 3, 7);
    const r = padToEven(img);
    expect([r.width, r.height]).toEqual([4, 4]);
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 4; x++) expect(px(r, x, y), `at ${x},${y}`).toEqual(px(img, Math.min(x, 2), Math.min(y, 2)));
    }
  });

  it('pads only the odd side, into out', () => {
    const img = image(5, 2, 9);
    const out = new Uint8Array(6 * 2 * 3);
    const r = padToEven(img, out);
    expect(r.data).toBe(out);
    expect([r.width, r.height]).toEqual([6, 2]);
    expect(px(r, 5, 0)).toEqual(px(img, 4, 0));
    expect(px(r, 5, 1)).toEqual(px(img, 4, 1));
    expect(px(r, 2, 1)).toEqual(px(img, 2, 1));
    const tall = padToEven(image(2, 3, 5));
    expect([tall.width, tall.height]).toEqual([2, 4]);
    expect(px(tall, 1, 3)).toEqual(px(tall, 1, 2));
  });
});
