import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FAMILY_SPECS } from '../../src/inference/families.js';
import { imageToTensor } from '../../src/inference/preprocess.js';
import { KERNELS_PATH, setWasmKernels, upsampleGroups, wasmKernels, yuvTapGroups } from '../../src/render/kernels.js';
import { cachedTaps, resizeAndNormalize, resizeDepth } from '../../src/render/resize.js';
import { depthRange } from '../../src/render/normalize.js';
import { flickerPair } from '../../src/render/flicker-meter.js';
import { colormapIndices } from '../../src/render/colormap.js';
import type { Interpolation, PreprocessSpec, Yuv420pImage, YuvColour } from '../../src/types.js';
import { yuv420pToRgb } from '../../src/render/yuv-to-rgb.js';
import { mulberry32 } from '../../src/inference/generate/random.js';

// The WebAssembly kernels against the TypeScript loops they replace (which
// resize.test.ts and preprocess.test.ts hold to the PyTorch/OpenCV formulas).
// Same taps, same order of additions; the kernels round to float32 after
// every operation where the loops round once per sum, so they agree to
// float32 precision, not bit for bit.

afterEach(() => setWasmKernels(true));

function both<T>(f: () => T): { wasm: T; ts: T } {
  setWasmKernels(true);
  const wasm = f();
  setWasmKernels(false);
  const ts = f();
  setWasmKernels(true);
  return { wasm, ts };
}

/** Largest difference, as a fraction of the largest magnitude in `b` (float32 rounding scales with it). */
function maxRelDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return m / scale;
}

// MiDaS v2.1's mean/std (not the identity, so the scale/offset path is exercised); sizes come per call.
const spec = (interp: Interpolation, order: 'RGB' | 'BGR'): PreprocessSpec => ({
  ...FAMILY_SPECS['midas-v21'], channelOrder: order, inputInterpolation: interp, outputInterpolation: interp,
});

describe('WebAssembly resampling kernels', () => {
  it('are built and used (a missing kernels.wasm would silently cost 3-4x in preprocessing)', () => {
    expect(existsSync(KERNELS_PATH), KERNELS_PATH).toBe(true);
    expect(wasmKernels()).not.toBeNull();
  });

  const frames: [number, number, number, number][] = [
    [37, 23, 50, 31], // up, odd widths (vector tail)
    [101, 67, 40, 30], // down: only the rows the taps touch are read
    [64, 48, 64, 32], // one axis kept
    [5, 3, 16, 16],
  ];
  for (const interp of ['bicubic', 'bilinear'] as const) {
    for (const order of ['RGB', 'BGR'] as const) {
      it(`imageToTensor ${interp} ${order}: same tensor as the TypeScript loops`, () => {
        const rand = mulberry32(7);
        for (const [w, h, W, H] of frames) {
          const data = new Uint8Array(w * h * 3).map(() => Math.floor(rand() * 256));
          const { wasm, ts } = both(() => imageToTensor({ width: w, height: h, data }, spec(interp, order), { width: W, height: H }));
          expect(maxRelDiff(wasm, ts), `${w}x${h} -> ${W}x${H}`).toBeLessThan(2e-6);
        }
      });
    }
    it(`imageToTensor ${interp} of a yuv420p frame: exactly the tensor of the RGB frame ffmpeg would have sent, both paths`, () => {
      const rand = mulberry32(5);
      const colours: YuvColour[] = [{ matrix: 'bt601', range: 'limited' }, { matrix: 'bt709', range: 'limited' }, { matrix: 'bt601', range: 'full' }];
      // Even sizes only (yuv420p as decoded); widths of 4k + 2 leave half a vector of pixels.
      // 41 and 51 wide: a last group of one and of three outputs in rowsYuvTaps; 200 -> 30 and 31: groups of two outputs
      // (four reach too far), the second with a last group of one; 400 -> 20: even two reach too far, the two-step path.
      for (const [w, h, W, H] of [[38, 24, 50, 32], [102, 68, 40, 30], [64, 48, 64, 32], [6, 4, 16, 16], [22, 14, 22, 14], [102, 68, 41, 30], [38, 24, 51, 33], [200, 40, 30, 20], [200, 40, 31, 20], [400, 40, 20, 20]] as const) {
        for (const colour of colours) {
          const yuv: Yuv420pImage = { format: 'yuv420p', colour, width: w, height: h, data: new Uint8Array(w * h * 1.5).map(() => Math.floor(rand() * 256)) };
          const rgb = yuv420pToRgb(yuv);
          const s = spec(interp, 'RGB');
          const { wasm, ts } = both(() => imageToTensor(yuv, s, { width: W, height: H }));
          const fromRgb = both(() => imageToTensor(rgb, s, { width: W, height: H }));
          expect(wasm, `${w}x${h} -> ${W}x${H} ${colour.matrix} ${colour.range}`).toEqual(fromRgb.wasm);
          expect(ts, `${w}x${h} -> ${W}x${H} ${colour.matrix} ${colour.range}`).toEqual(fromRgb.ts);
        }
      }
    });
    for (const align of [false, true]) {
      it(`resizeDepth ${interp} align_corners=${align}: same map as the TypeScript loops`, () => {
        const rand = mulberry32(11);
        for (const [w, h, W, H] of frames) {
          const data = new Float32Array(w * h).map(() => rand() * 100 - 20);
          const { wasm, ts } = both(() => resizeDepth({ width: w, height: h, data }, W, H, interp, align).data);
          expect(maxRelDiff(wasm, ts), `${w}x${h} -> ${W}x${H}`).toBeLessThan(2e-6);
        }
      });
    }
  }

  it('the pipeline\'s sizes take the one-pass yuv420p preprocessing (4K in groups of two outputs) and the vector upsampling; the cases that cannot, fall back', () => {
    for (const interp of ['bicubic', 'bilinear'] as const) {
      // 1080p and 720p to a DPT-sized input (672 wide; Depth Anything's 924), and a 640x360 camera up to it.
      for (const [from, to] of [[1920, 672], [1280, 672], [640, 672], [1920, 924]] as const) {
        expect(yuvTapGroups(cachedTaps(from, to, interp, false))?.pairs, `${interp} ${from} -> ${to}`).toBe(false);
      }
      // 4K to 672: four outputs span more than 16 pixels, two do not. (To 924, bilinear four still fit.)
      expect(yuvTapGroups(cachedTaps(3840, 672, interp, false))?.pairs).toBe(true);
      expect(yuvTapGroups(cachedTaps(3840, 924, interp, false))?.pairs).toBe(interp === 'bicubic');
      // 8K to 384: not even two.
      expect(yuvTapGroups(cachedTaps(7680, 384, interp, false))).toBeNull();
    }
    for (const align of [false, true]) {
      for (const interp of ['bilinear', 'bicubic'] as const) {
        expect(upsampleGroups(cachedTaps(672, 1920, interp, align)), `${interp} 672 -> 1920`).not.toBeNull();
        expect(upsampleGroups(cachedTaps(384, 1080, interp, align)), `${interp} 384 -> 1080`).not.toBeNull();
        // Downscaling has no window of four (eight) samples.
        expect(upsampleGroups(cachedTaps(1920, 672, interp, align))).toBeNull();
      }
    }
  });

  it('resizeDepth at the pipeline\'s size (672x384 -> 1920x1080 and 1922x1082, both interpolations and alignments): the vector upsampling equals the TypeScript loops', () => {
    const rand = mulberry32(17);
    const data = new Float32Array(672 * 384).map(() => rand() * 10 - 3);
    // 1922 wide: a last group of two outputs goes through the scalar tail.
    for (const [W, H] of [[1920, 1080], [1922, 1082]] as const) {
      for (const interp of ['bilinear', 'bicubic'] as const) {
        for (const align of [false, true]) {
          const { wasm, ts } = both(() => resizeDepth({ width: 672, height: 384, data }, W, H, interp, align).data);
          expect(maxRelDiff(wasm, ts), `${interp} ${W}x${H} align ${align}`).toBeLessThan(2e-6);
        }
      }
    }
  });

  it('tables kept in the kernels\' memory between calls stay intact: calls of other sizes in between change no result', () => {
    const rand = mulberry32(23);
    const data = new Float32Array(67 * 38).map(() => rand() * 4);
    const first = resizeDepth({ width: 67, height: 38, data }, 190, 107, 'bicubic', false).data;
    const yuv: Yuv420pImage = { format: 'yuv420p', colour: { matrix: 'bt709', range: 'limited' }, width: 96, height: 54, data: new Uint8Array(96 * 54 * 1.5).map(() => Math.floor(rand() * 256)) };
    const s = spec('bilinear', 'RGB');
    const tensor = imageToTensor(yuv, s, { width: 40, height: 22 });
    // Other sizes and tables, whose own regions lie above the kept tables.
    for (const [W, H] of [[400, 300], [33, 17], [1000, 20]] as const) {
      resizeDepth({ width: 67, height: 38, data }, W, H, 'bilinear', true);
      imageToTensor(yuv, spec('bicubic', 'BGR'), { width: W, height: H });
    }
    expect(resizeDepth({ width: 67, height: 38, data }, 190, 107, 'bicubic', false).data).toEqual(first);
    expect(imageToTensor(yuv, s, { width: 40, height: 22 })).toEqual(tensor);
  });

  it('resizeAndNormalize: one pass equals resizeDepth then normalizeDepth; a NaN zeroes exactly its footprint; lo is subtracted first', () => {
    const rand = mulberry32(5);
    const lo = 0.5;
    const hi = 6;
    const zeros = (a: Float32Array) => Array.from(a).flatMap((v, i) => (v === 0 ? [i] : []));
    for (const [w, h, W, H] of frames) {
      // Values well inside (lo, hi), even after the cubic's overshoot, so the
      // only zeros the output may hold are the NaN's footprint.
      const data = new Float32Array(w * h).map(() => 2 + rand() * 2);
      const clean = data.slice();
      data[3] = NaN;
      for (const interp of ['bicubic', 'bilinear'] as const) {
        const { wasm, ts } = both(() => resizeAndNormalize({ width: w, height: h, data }, W, H, interp, false, lo, hi));
        let worst = 0;
        for (let i = 0; i < ts.length; i++) {
          expect(wasm[i], `${w}x${h} -> ${W}x${H} at ${i}`).toBeGreaterThanOrEqual(0);
          expect(wasm[i]).toBeLessThanOrEqual(1);
          worst = Math.max(worst, Math.abs(wasm[i]! - ts[i]!));
        }
        expect(worst, `${w}x${h} -> ${W}x${H} ${interp}`).toBeLessThan(1e-5);
        // The NaN spreads to its neighbours through the taps and lands on 0 in
        // both, at the same pixels; without it nothing is 0.
        const withoutNan = both(() => resizeAndNormalize({ width: w, height: h, data: clean }, W, H, interp, false, lo, hi));
        expect(zeros(withoutNan.wasm)).toEqual([]);
        expect(zeros(withoutNan.ts)).toEqual([]);
        expect(zeros(ts).length, `${w}x${h} -> ${W}x${H} ${interp}`).toBeGreaterThan(0);
        expect(zeros(wasm)).toEqual(zeros(ts));
      }
    }
    // A flat map resamples to itself, so the value is the formula's (v - lo) / (hi - lo).
    const flat = { width: 7, height: 5, data: new Float32Array(35).fill(3.25) };
    for (const interp of ['bicubic', 'bilinear'] as const) {
      const { wasm, ts } = both(() => resizeAndNormalize(flat, 19, 11, interp, false, lo, hi));
      for (const v of [...wasm, ...ts]) expect(v).toBeCloseTo((3.25 - lo) / (hi - lo), 5);
    }
    // Out of range: both clamp the same pixels to 0 and 1.
    const wide = new Float32Array(37 * 23).map(() => rand() * 10 - 2);
    const { wasm: cw, ts: ct } = both(() => resizeAndNormalize({ width: 37, height: 23, data: wide }, 50, 31, 'bicubic', false, lo, hi));
    expect(zeros(cw)).toEqual(zeros(ct));
    expect(Array.from(cw).filter((v) => v === 1).length).toBe(Array.from(ct).filter((v) => v === 1).length);
    expect(zeros(ct).length).toBeGreaterThan(0);
    // A flat range has no order to show: all zeros, kernels or not.
    expect(Array.from(resizeAndNormalize({ width: 2, height: 2, data: Float32Array.of(1, 2, 3, 4) }, 5, 5, 'bicubic', false, 3, 3))).toEqual(new Array(25).fill(0));
  });

  it('flickerPair: the same still and finite counts and the same sum as the TypeScript loop', () => {
    const rand = mulberry32(13);
    for (const n of [1, 7, 4096, 130_001]) {
      const prevUnit = new Float32Array(n).map(() => rand());
      const unit = prevUnit.map((v) => (rand() < 0.5 ? v : v + (rand() - 0.5) * 0.2));
      // Channels that move by 0..10: about half the samples stand still; some move by exactly 6 or 7.
      const prevRgb = new Uint8Array(4 * n).map((_, i) => (i % 4 === 3 ? 0 : Math.floor(rand() * 256)));
      const rgb = prevRgb.map((v, i) => (i % 4 === 3 ? 0 : Math.max(0, Math.min(255, v + (rand() < 0.7 ? 0 : Math.floor(rand() * 21) - 10)))));
      for (const k of [0, 3, n - 1]) { unit[k] = NaN; prevUnit[Math.min(n - 1, k + 1)] = Infinity; }
      const { wasm, ts } = both(() => flickerPair(prevUnit, prevRgb, unit, rgb, n));
      expect(wasm.still, `n ${n}`).toBe(ts.still);
      expect(wasm.count, `n ${n}`).toBe(ts.count);
      expect(wasm.sum).toBeCloseTo(ts.sum, 9);
      if (n > 1000) expect(ts.still).toBeGreaterThan(n / 4);
    }
  });

  it('colormapIndices: the f32 kernel picks the f64 rule\'s index at every rounding boundary, both ways', () => {
    // Around each boundary (k + 1/2) / 255 and its mirror 1 - (k + 1/2) / 255,
    // the 48 floats either side: where an f32 product can land on k + 1/2.
    const vals: number[] = [NaN, Infinity, -Infinity, 0, -0, 1, -1e-30, 1 + 1e-7, 2, -2, 1e-45, 0.5];
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    for (let k = 0; k < 256; k++) {
      for (const b of [(k + 0.5) / 255, 1 - (k + 0.5) / 255]) {
        f[0] = b;
        const at = u[0]!;
        for (let d = -48; d <= 48; d++) {
          u[0] = at + d;
          vals.push(f[0]!);
        }
      }
    }
    const rand = mulberry32(7);
    for (let i = 0; i < 10_001; i++) vals.push(rand() * 1.2 - 0.1); // odd length: the kernel's scalar tail runs too
    const unit = Float32Array.from(vals);
    for (const invert of [false, true]) {
      const { wasm, ts } = both(() => colormapIndices(unit, invert));
      let differ = 0;
      for (let i = 0; i < unit.length; i++) if (wasm[i] !== ts[i]) differ++;
      expect(differ, `invert ${invert}`).toBe(0);
      // The rule itself, on values whose f32 product rounds onto k + 1/2 (found by the exhaustive check).
      const probe = both(() => colormapIndices(Float32Array.of(0.0019607841968536377, 0.24901962280273438, 0.5), invert)).wasm;
      expect([...probe]).toEqual(invert ? [255, 191, 128] : [0, 64, 128]);
    }
  });

  it('depthRange: same extremes, NaN and infinities skipped, any length', () => {
    const rand = mulberry32(9);
    const cases: Float32Array[] = [new Float32Array(0), Float32Array.of(NaN, NaN), Float32Array.of(-Infinity, 5, Infinity, -2, NaN, 3, 4)];
    for (const n of [1, 3, 4, 7, 1001]) cases.push(new Float32Array(n).map(() => rand() * 200 - 100));
    for (const data of cases) {
      const { wasm, ts } = both(() => depthRange(data));
      expect(wasm, `length ${data.length}`).toEqual(ts);
    }
    expect(depthRange(Float32Array.of(-Infinity, 5, Infinity, -2, NaN, 3, 4))).toEqual({ min: -2, max: 5 });
  });

  it('reads the caller\'s out buffer region only (pooled tensors longer than needed)', () => {
    const data = new Uint8Array(9 * 7 * 3).fill(200);
    const out = new Float32Array(3 * 12 * 10 + 5).fill(-99);
    imageToTensor({ width: 9, height: 7, data }, spec('bicubic', 'RGB'), { width: 12, height: 10 }, out);
    expect(out[3 * 12 * 10 - 1]).toBeCloseTo((200 / 255 - 0.406) / 0.225, 5);
    expect(Array.from(out.subarray(3 * 12 * 10))).toEqual([-99, -99, -99, -99, -99]);
  });
});
