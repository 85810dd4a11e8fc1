import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/inference/generate/random.js';
import { applyColormap, getColormap } from '../../src/render/colormap.js';
import { setWasmKernels } from '../../src/render/kernels.js';
import { padToEven } from '../../src/render/layout.js';
import { resizeAndNormalize } from '../../src/render/resize.js';
import { CHROMA_TAPS, colormapToYuv420p, renderYuv420p, rgbToYuv420p, yuv420pSize } from '../../src/render/yuv.js';
import type { RgbImage } from '../../src/types.js';
import { FFMPEG } from '../helpers/media.js';

afterEach(() => setWasmKernels(true));

/** ffmpeg's own conversion of the picture, as its encoders get it when fed rgb24 (the auto-inserted scaler). */
function ffmpegYuv(img: RgbImage): Buffer {
  const r = spawnSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${img.width}x${img.height}`, '-i', 'pipe:0',
    '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'], { input: Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return r.stdout;
}

/** Per plane: the largest difference and how many samples differ at all. */
function planeDiffs(a: Uint8Array, b: Uint8Array, w: number, h: number): Record<'y' | 'u' | 'v', { max: number; differ: number; n: number }> {
  expect(a.length).toBe(yuv420pSize(w, h));
  expect(b.length).toBe(a.length);
  const c = (w / 2) * (h / 2);
  const planes = { y: [0, w * h], u: [w * h, w * h + c], v: [w * h + c, w * h + 2 * c] } as const;
  const out = {} as Record<'y' | 'u' | 'v', { max: number; differ: number; n: number }>;
  for (const [k, [s, e]] of Object.entries(planes) as ['y' | 'u' | 'v', readonly [number, number]][]) {
    let max = 0;
    let differ = 0;
    for (let i = s; i < e; i++) {
      const d = Math.abs(a[i]! - b[i]!);
      max = Math.max(max, d);
      if (d) differ++;
    }
    out[k] = { max, differ, n: e - s };
  }
  return out;
}

function randomPicture(w: number, h: number, seed: number): RgbImage {
  const r = mulberry32(seed);
  return { width: w, height: h, data: new Uint8Array(w * h * 3).map(() => Math.floor(r() * 256)) };
}

/** A smooth depth-like field with a hard edge and a NaN, in 0..1 (and a little outside). */
function depthField(w: number, h: number): Float32Array {
  const u = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) u[y * w + x] = (Math.sin(x / 7) + Math.cos(y / 5)) / 4 + 0.5 + (x > w / 2 ? 0.2 : -0.05);
  u[5] = NaN;
  return u;
}

describe('yuv420p written by depth-video', () => {
  it('matches the BT.601 limited-range formulas on solid colours', () => {
    // Y = 16 + 219 (0.299 R + 0.587 G + 0.114 B) / 255; U, V = 128 + 224 / 255 (B - Y', R - Y') scaled; a solid
    // picture has no chroma filtering left to do.
    const cases: [number[], number[]][] = [
      [[0, 0, 0], [16, 128, 128]],
      [[255, 255, 255], [235, 128, 128]],
      [[255, 0, 0], [81, 90, 240]],
      [[0, 255, 0], [145, 54, 34]],
      [[0, 0, 255], [41, 240, 110]],
      [[128, 128, 128], [126, 128, 128]],
    ];
    for (const [rgb, [y, u, v]] of cases) {
      const img = { width: 4, height: 4, data: new Uint8Array(48).map((_, i) => rgb[i % 3]!) };
      for (const wasm of [true, false]) {
        setWasmKernels(wasm);
        const out = rgbToYuv420p(img);
        expect([out[0], out[16], out[20]], `${rgb} (kernels ${wasm})`).toEqual([y, u, v]);
        expect(out.subarray(0, 16).every((s) => s === y) && out.subarray(16, 20).every((s) => s === u) && out.subarray(20).every((s) => s === v)).toBe(true);
      }
    }
  });

  it('has swscale\'s vertical chroma filter: bicubic B=0 C=0.6 over 8 rows, Q12, summing to 4096', () => {
    expect(Array.from(CHROMA_TAPS)).toEqual([-58, -173, 493, 1786, 1786, 493, -173, -58]);
    expect(CHROMA_TAPS.reduce((a, b) => a + b, 0)).toBe(4096);
  });

  for (const [w, h, seed] of [[64, 48, 1], [318, 180, 2]] as const) {
    it(`is within one level of ffmpeg's own rgb24 -> yuv420p conversion (${w}x${h} noise, and a colour-mapped depth)`, () => {
      const pictures: [string, RgbImage][] = [
        ['noise', randomPicture(w, h, seed)],
        ['turbo depth', { width: w, height: h, data: applyColormap(depthField(w, h), getColormap('turbo')) }],
      ];
      for (const [name, img] of pictures) {
        const ref = ffmpegYuv(img);
        for (const wasm of [true, false]) {
          setWasmKernels(wasm);
          const d = planeDiffs(rgbToYuv420p(img), ref, w, h);
          for (const [plane, r] of Object.entries(d)) {
            expect(r.max, `${name} ${plane} (kernels ${wasm})`).toBeLessThanOrEqual(1);
            // No bias: luma is swscale's to the level; chroma differs by one in
            // about one sample in ten (ffmpeg's x86 filter truncates its products).
            expect(r.differ / r.n, `${name} ${plane}: ${r.differ} of ${r.n} differ`).toBeLessThan(plane === 'y' ? 0.001 : 0.2);
          }
        }
      }
    });
  }

  it('colours depth straight into yuv420p: the same bytes as colouring to RGB, padding and converting', () => {
    for (const [w, h] of [[40, 30], [41, 30], [40, 31], [37, 23], [2, 2], [3, 1]] as const) {
      const unit = depthField(w, h);
      for (const name of ['inferno', 'gray', 'spectral'] as const) {
        for (const invert of [false, true]) {
          const lut = getColormap(name);
          const W = w + (w % 2);
          const H = h + (h % 2);
          const ref = rgbToYuv420p(padToEven({ width: w, height: h, data: applyColormap(unit, lut, undefined, invert) }));
          for (const wasm of [true, false]) {
            setWasmKernels(wasm);
            const got = colormapToYuv420p(unit, w, h, lut, invert, W, H);
            expect(Buffer.compare(Buffer.from(got), Buffer.from(ref)), `${w}x${h} ${name} invert=${invert} kernels=${wasm}`).toBe(0);
          }
        }
      }
    }
  });

  it('kernels and TypeScript loops give the same bytes (RGB and colour-table paths)', () => {
    const img = randomPicture(70, 38, 3);
    const unit = depthField(70, 38);
    const lut = getColormap('magma');
    setWasmKernels(false);
    const ts = [rgbToYuv420p(img), colormapToYuv420p(unit, 70, 38, lut, true, 70, 38)];
    setWasmKernels(true);
    // Another picture of the size first, so that what it leaves in the kernels'
    // memory cannot pass for the last 70 x 38 % 16 = 4 pixels, which the
    // one-pass colouring leaves to the two-pass one.
    colormapToYuv420p(new Float32Array(70 * 38).fill(0.9), 70, 38, lut, false, 70, 38);
    const wasm = [rgbToYuv420p(img), colormapToYuv420p(unit, 70, 38, lut, true, 70, 38)];
    expect(Buffer.compare(Buffer.from(wasm[0]!), Buffer.from(ts[0]!))).toBe(0);
    expect(Buffer.compare(Buffer.from(wasm[1]!), Buffer.from(ts[1]!))).toBe(0);
  });

  it('renderYuv420p (upsample, normalise and colour in one visit to the kernels) equals the steps one by one', () => {
    const r = mulberry32(4);
    const depth = { width: 24, height: 14, data: new Float32Array(24 * 14).map(() => r() * 3 - 1) };
    for (const [W, H, interp] of [[96, 54, 'bicubic'], [95, 53, 'bilinear']] as const) {
      const unit = new Float32Array(W * H);
      const out = new Uint8Array(yuv420pSize(W + (W % 2), H + (H % 2)));
      renderYuv420p(depth, W, H, interp, false, -0.5, 1.5, unit, getColormap('viridis'), false, W + (W % 2), H + (H % 2), out);
      const refUnit = resizeAndNormalize(depth, W, H, interp, false, -0.5, 1.5);
      const ref = colormapToYuv420p(refUnit, W, H, getColormap('viridis'), false, W + (W % 2), H + (H % 2));
      expect(Buffer.compare(Buffer.from(unit.buffer), Buffer.from(refUnit.buffer)), `${W}x${H} unit`).toBe(0);
      expect(Buffer.compare(Buffer.from(out), Buffer.from(ref)), `${W}x${H} picture`).toBe(0);
      // Without a unit target (no sink reads it): the same picture, and the unit picture it returns is the same too.
      // (The TypeScript loops agree with the kernels to float32 precision, not bit for bit: each is held to its own steps.)
      for (const kernels of [true, false]) {
        setWasmKernels(kernels);
        const u1 = resizeAndNormalize(depth, W, H, interp, false, -0.5, 1.5);
        const p1 = colormapToYuv420p(u1, W, H, getColormap('viridis'), false, W + (W % 2), H + (H % 2));
        const out2 = new Uint8Array(out.length);
        const u2 = renderYuv420p(depth, W, H, interp, false, -0.5, 1.5, null, getColormap('viridis'), false, W + (W % 2), H + (H % 2), out2);
        expect(Buffer.compare(Buffer.from(out2), Buffer.from(p1)), `${W}x${H} picture, no unit target, kernels ${kernels}`).toBe(0);
        expect(u2.length).toBe(W * H);
        expect(Buffer.compare(Buffer.from(u2.buffer, u2.byteOffset, u2.byteLength), Buffer.from(u1.buffer)), `${W}x${H} returned unit, kernels ${kernels}`).toBe(0);
      }
      setWasmKernels(true);
    }
  });

  it('refuses odd sizes and short buffers with a RangeError', () => {
    expect(() => rgbToYuv420p(randomPicture(5, 4, 1))).toThrow(RangeError);
    expect(() => colormapToYuv420p(new Float32Array(16), 4, 4, getColormap('gray'), false, 4, 4, new Uint8Array(10))).toThrow(RangeError);
    expect(() => colormapToYuv420p(new Float32Array(16), 4, 4, getColormap('gray'), false, 6, 4)).toThrow(RangeError);
  });
});
