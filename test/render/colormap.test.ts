import { describe, expect, it } from 'vitest';
import {
  applyColormap,
  colormapIndices,
  COLORMAP_NAMES,
  colormapUnit16,
  getColormap,
  getPublishedTable,
  isColormapName,
  toUint16,
} from '../../src/render/colormap.js';
import { decodeTable, PUBLISHED_TABLES_HEX } from '../../src/render/colormap-data.js';
import type { ColormapName } from '../../src/types.js';
import { colormapTables } from '../../src/preview/protocol.js';
import { previewDepth } from '../../src/preview/protocol.js';
import { mulberry32 } from '../../src/inference/generate/random.js';

function entry(lut: Uint8Array, i: number): number[] {
  return [lut[i * 3], lut[i * 3 + 1], lut[i * 3 + 2]];
}

/** round(f * 255) of a published float triple. */
const bytes = (rgb: number[]): number[] => rgb.map((v) => Math.floor(v * 255 + 0.5));

describe('colormap tables', () => {
  it('every table is 256 RGB entries', () => {
    for (const name of COLORMAP_NAMES) expect(getColormap(name).length).toBe(768);
    for (const hex of Object.values(PUBLISHED_TABLES_HEX)) expect(hex).toMatch(/^[0-9a-f]{1536}$/);
  });

  it('has the published endpoint and midpoint values', () => {
    expect(entry(getColormap('viridis'), 0)).toEqual([68, 1, 84]);
    expect(entry(getColormap('viridis'), 255)).toEqual([253, 231, 37]);
    // matplotlib _viridis_data[128] = [0.127568, 0.566949, 0.550556]
    expect(entry(getColormap('viridis'), 128)).toEqual(bytes([0.127568, 0.566949, 0.550556]));
    expect(entry(getColormap('inferno'), 0)).toEqual([0, 0, 4]);
    expect(entry(getColormap('inferno'), 255)).toEqual([252, 255, 164]);
    expect(entry(getColormap('inferno'), 128)).toEqual(bytes([0.735683, 0.215906, 0.330245]));
    expect(entry(getColormap('magma'), 0)).toEqual([0, 0, 4]);
    expect(entry(getColormap('magma'), 255)).toEqual(bytes([0.987053, 0.991438, 0.749504]));
    // Google's Turbo: first [0.18995, 0.07176, 0.23217] = (48,18,59), last [0.47960, 0.01583, 0.01055] = (122,4,3).
    expect(entry(getColormap('turbo'), 0)).toEqual([48, 18, 59]);
    expect(entry(getColormap('turbo'), 255)).toEqual([122, 4, 3]);
    expect(entry(getColormap('turbo'), 128)).toEqual(bytes([0.64362, 0.98999, 0.23356]));
    expect(entry(getColormap('gray'), 128)).toEqual([128, 128, 128]);
    expect(entry(getColormap('gray'), 0)).toEqual([0, 0, 0]);
    expect(entry(getColormap('gray'), 255)).toEqual([255, 255, 255]);
  });

  it('spectral is ColorBrewer Spectral-11 interpolated to 256, reversed so near (255) is red', () => {
    const pub = getPublishedTable('spectral');
    // ColorBrewer Spectral 11: first #9e0142, sixth (middle) #ffffbf, last #5e4fa2.
    expect(entry(pub, 0)).toEqual([0x9e, 0x01, 0x42]);
    expect(entry(pub, 255)).toEqual([0x5e, 0x4f, 0xa2]);
    // Class k sits at x = k/10; entry i at x = i/255. Entry 51 is x = 0.2 exactly: class 2, #f46d43.
    expect(entry(pub, 51)).toEqual([0xf4, 0x6d, 0x43]);
    // Entry 25 (x = 0.098) lies between class 0 (#9e0142) and class 1 (#d53e4f).
    const t = (25 / 255) * 10;
    const lerp = (a: number, b: number): number => Math.floor(((a + (b - a) * t) / 255) * 255 + 0.5);
    expect(entry(pub, 25)).toEqual([lerp(0x9e, 0xd5), lerp(0x01, 0x3e), lerp(0x42, 0x4f)]);
    const lut = getColormap('spectral');
    for (let i = 0; i < 256; i++) expect(entry(lut, i)).toEqual(entry(pub, 255 - i));
  });

  it('the bright/warm end is at 255 for every map the tool uses', () => {
    const luminance = (rgb: number[]): number => 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
    for (const name of ['inferno', 'magma', 'viridis', 'gray'] as ColormapName[]) {
      const lut = getColormap(name);
      expect(luminance(entry(lut, 255))).toBeGreaterThan(luminance(entry(lut, 0)));
    }
    for (const name of ['turbo', 'spectral'] as ColormapName[]) {
      const [r, , b] = entry(getColormap(name), 255);
      expect(r).toBeGreaterThan(b);
    }
  });

  it('getColormap decodes once and shares the LUT', () => {
    expect(getColormap('magma')).toBe(getColormap('magma'));
    expect(() => decodeTable('00')).toThrow(RangeError);
  });

  it('isColormapName', () => {
    expect(isColormapName('turbo')).toBe(true);
    expect(isColormapName('jet')).toBe(false);
    expect(COLORMAP_NAMES).toHaveLength(6);
  });
});

describe('applyColormap', () => {
  const lut = getColormap('viridis');
  it('index = round(clamp(v) * 255), NaN -> 0', () => {
    const unit = Float32Array.from([0, 1, 0.5, 0.499 / 255 + 100 / 255, 100.5 / 255, -3, 7, NaN]);
    const rgb = applyColormap(unit, lut);
    const idx = [0, 255, 128, 100, 101, 0, 255, 0];
    expect(rgb.length).toBe(unit.length * 3);
    idx.forEach((k, i) => expect(Array.from(rgb.subarray(i * 3, i * 3 + 3)), `value ${i}`).toEqual(entry(lut, k)));
  });
  it('invert uses 1 - v and writes into out', () => {
    const out = new Uint8Array(6);
    const rgb = applyColormap(Float32Array.from([0, 0.2]), lut, out, true);
    expect(rgb).toBe(out);
    expect(Array.from(out.subarray(0, 3))).toEqual(entry(lut, 255));
    expect(Array.from(out.subarray(3, 6))).toEqual(entry(lut, 204));
  });
  it('gray reproduces the index', () => {
    const unit = Float32Array.from({ length: 256 }, (_, i) => i / 255);
    const rgb = applyColormap(unit, getColormap('gray'));
    for (let i = 0; i < 256; i++) expect(rgb[i * 3 + 1]).toBe(i);
  });
});

describe('toUint16', () => {
  it('is round(clamp(v) * 65535)', () => {
    const out = toUint16(Float32Array.from([0, 1, 0.5, 2, -1, NaN, 1 / 65535]));
    expect(Array.from(out)).toEqual([0, 65535, 32768, 65535, 0, 0, 1]);
    expect(colormapUnit16).toBe(toUint16);
  });
});

describe('applyColormap fast and slow paths agree', () => {
  it('odd lengths, unaligned out, and invert give the per-pixel formula', () => {
    const lut = getColormap('turbo');
    const unit = Float32Array.from({ length: 23 }, (_, i) => ((i * 37) % 41) / 40 - 0.05);
    for (const invert of [false, true]) {
      const backing = new Uint8Array(23 * 3 + 1);
      for (const out of [new Uint8Array(23 * 3), backing.subarray(1)]) {
        applyColormap(unit, lut, out, invert);
        for (let i = 0; i < 23; i++) {
          const v = invert ? 1 - unit[i] : unit[i];
          const k = Math.floor(Math.min(Math.max(v, 0), 1) * 255 + 0.5);
          expect(Array.from(out.subarray(i * 3, i * 3 + 3)), `pixel ${i} invert=${invert}`).toEqual(entry(lut, k));
        }
      }
    }
  });
});

describe('colormapIndices (what the live preview sends; the page colours them)', () => {
  it('looking the indices up in the hello\'s tables gives applyColormap\'s colours, plain and inverted', () => {
    const rand = mulberry32(3);
    // Values across and beyond [0,1], exact ends, a NaN: the clamping and rounding cases.
    const unit = Float32Array.from({ length: 4000 }, () => rand() * 1.2 - 0.1);
    unit.set([0, 1, 0.5, 127.5 / 255, NaN], 0);
    const tables = colormapTables();
    for (const name of COLORMAP_NAMES) {
      const lut = new Uint8Array(Buffer.from(tables[name]!, 'base64'));
      expect(lut).toEqual(getColormap(name));
      for (const invert of [false, true]) {
        const idx = colormapIndices(unit, invert);
        const want = applyColormap(unit, lut, undefined, invert);
        const got = new Uint8Array(unit.length * 3);
        for (let i = 0; i < idx.length; i++) got.set(lut.subarray(idx[i]! * 3, idx[i]! * 3 + 3), i * 3);
        expect(got, `${name} invert=${invert}`).toEqual(want);
      }
    }
  });

  it('index = floor(clamp(v) * 255 + 0.5)', () => {
    expect(Array.from(colormapIndices(Float32Array.from([0, 1, 0.5, -3, 7, NaN, 1 / 255])))).toEqual([0, 255, 128, 0, 255, 0, 1]);
    expect(Array.from(colormapIndices(Float32Array.from([0, 1, 0.25]), true))).toEqual([255, 0, 191]);
  });
});

describe('previewDepth (what a depth message carries)', () => {
  it('sends every pixel up to the width limit, and every k-th pixel and row beyond it', () => {
    const w = 7;
    const h = 5;
    const unit = Float32Array.from({ length: w * h }, (_, i) => i / (w * h - 1));
    const full = previewDepth(unit, w, h, false, 7);
    expect([full.width, full.height]).toEqual([7, 5]);
    expect(full.indices).toEqual(colormapIndices(unit));
    const half = previewDepth(unit, w, h, false, 4);
    expect([half.width, half.height]).toEqual([4, 3]);
    const all = colormapIndices(unit);
    // Pixels (0,0) (2,0) (4,0) (6,0) / (0,2) ... / (0,4) ...
    expect(Array.from(half.indices)).toEqual([0, 2, 4, 6, 14, 16, 18, 20, 28, 30, 32, 34].map((i) => all[i]));
    expect(Array.from(previewDepth(unit, w, h, true, 4).indices)).toEqual(Array.from(half.indices).map((v) => 255 - v));
  });

  it('with buffers to reuse, a live run\'s frames give the same indices without new buffers', () => {
    const reuse = { kept: new Float32Array(0), indices: new Uint8Array(0) };
    const big = Float32Array.from({ length: 8 * 8 }, (_, i) => (i % 13) / 12);
    const first = previewDepth(big, 8, 8, false, 4, reuse);
    expect(Array.from(first.indices)).toEqual(Array.from(previewDepth(big, 8, 8, false, 4).indices));
    const { kept, indices } = reuse;
    expect([kept.length, indices.length]).toEqual([4 * 4, 4 * 4]);
    // A smaller frame, inverted, then one within the width limit: same buffers, right values and lengths.
    const small = Float32Array.from({ length: 7 * 5 }, (_, i) => i / 34);
    const second = previewDepth(small, 7, 5, true, 4, reuse);
    expect(Array.from(second.indices)).toEqual(Array.from(previewDepth(small, 7, 5, true, 4).indices));
    const third = previewDepth(Float32Array.from([0, 0.5, 1]), 3, 1, false, 4, reuse);
    expect(Array.from(third.indices)).toEqual([0, 128, 255]);
    expect(reuse.kept).toBe(kept);
    expect(reuse.indices).toBe(indices);
    expect(third.indices.buffer).toBe(indices.buffer);
  });

  it('a 1080p frame goes out at 960x540', () => {
    const d = previewDepth(new Float32Array(1920 * 1080), 1920, 1080, false);
    expect([d.width, d.height, d.indices.length]).toEqual([960, 540, 960 * 540]);
  });
});
