import type { DepthMap, Interpolation } from '../types.js';
import { wasmResizePlane } from './kernels.js';
import { normalizeDepth } from './normalize.js';

/**
 * Separable resampling shared by the prediction upsampler (PyTorch
 * `F.interpolate` semantics) and the input resizer (OpenCV `cv2.resize`
 * semantics). For bilinear and bicubic the two libraries agree once the source
 * coordinate is fixed, so one tap table serves both:
 *
 *  - align_corners=false (OpenCV always): src = (dst + 0.5) * in / out - 0.5.
 *    Bilinear clamps src below at 0 and the upper tap at in-1; bicubic does not
 *    clamp src, it clamps each of its four taps into [0, in-1] (replicate border).
 *  - align_corners=true: src = dst * (in - 1) / (out - 1), or 0 when out == 1.
 *  - Cubic kernel: Keys with a = -0.75 (PyTorch's and OpenCV's INTER_CUBIC).
 *
 * Taps are computed once per (in, out, method, alignCorners) and cached,
 * because at 1080p the per-pixel cost must be only the multiply-adds.
 */
export interface TapTable {
  /** Taps per output sample: 2 (bilinear) or 4 (bicubic). */
  readonly taps: 2 | 4;
  /** Source index of tap k of output i at [i * taps + k], already clamped. */
  readonly index: Int32Array;
  readonly weight: Float32Array;
}

const CUBIC_A = -0.75;

function cubicNear(t: number): number {
  return ((CUBIC_A + 2) * t - (CUBIC_A + 3)) * t * t + 1;
}

function cubicFar(t: number): number {
  return ((CUBIC_A * t - 5 * CUBIC_A) * t + 8 * CUBIC_A) * t - 4 * CUBIC_A;
}

function sourceCoord(dst: number, inSize: number, outSize: number, alignCorners: boolean): number {
  if (alignCorners) return outSize > 1 ? (dst * (inSize - 1)) / (outSize - 1) : 0;
  return ((dst + 0.5) * inSize) / outSize - 0.5;
}

function clampIndex(i: number, last: number): number {
  return i < 0 ? 0 : i > last ? last : i;
}

export function buildTaps(inSize: number, outSize: number, method: Interpolation, alignCorners: boolean): TapTable {
  const taps = method === 'bicubic' ? 4 : 2;
  const index = new Int32Array(outSize * taps);
  const weight = new Float32Array(outSize * taps);
  const last = inSize - 1;
  for (let i = 0; i < outSize; i++) {
    let src = sourceCoord(i, inSize, outSize, alignCorners);
    const o = i * taps;
    if (taps === 2) {
      if (src < 0) src = 0;
      const i0 = Math.min(Math.floor(src), last);
      const t = src - i0;
      index[o] = i0;
      index[o + 1] = Math.min(i0 + 1, last);
      weight[o] = 1 - t;
      weight[o + 1] = t;
    } else {
      const i0 = Math.floor(src);
      const t = src - i0;
      index[o] = clampIndex(i0 - 1, last);
      index[o + 1] = clampIndex(i0, last);
      index[o + 2] = clampIndex(i0 + 1, last);
      index[o + 3] = clampIndex(i0 + 2, last);
      weight[o] = cubicFar(t + 1);
      weight[o + 1] = cubicNear(t);
      weight[o + 2] = cubicNear(1 - t);
      weight[o + 3] = cubicFar(2 - t);
    }
  }
  return { taps, index, weight };
}

const tapCache = new Map<string, TapTable>();
const TAP_CACHE_LIMIT = 32;

/** buildTaps with a small cache: a video keeps asking for the same few sizes. */
export function cachedTaps(inSize: number, outSize: number, method: Interpolation, alignCorners: boolean): TapTable {
  const key = `${inSize}:${outSize}:${method}:${alignCorners ? 1 : 0}`;
  let t = tapCache.get(key);
  if (t === undefined) {
    t = buildTaps(inSize, outSize, method, alignCorners);
    if (tapCache.size >= TAP_CACHE_LIMIT) {
      const oldest = tapCache.keys().next().value;
      if (oldest !== undefined) tapCache.delete(oldest);
    }
    tapCache.set(key, t);
  }
  return t;
}

let scratch = new Float32Array(0);

/**
 * Module-level intermediate buffer. Safe because every caller is synchronous
 * and none holds on to it past its own return.
 */
export function scratchBuffer(length: number): Float32Array {
  if (scratch.length < length) scratch = new Float32Array(length);
  return scratch;
}

/**
 * Horizontal pass over `rows` rows of a planar float image: src is rows x inW
 * starting at srcOff, dst is rows x outW starting at dstOff.
 */
export function resampleRows(
  src: Float32Array,
  srcOff: number,
  inW: number,
  rows: number,
  dst: Float32Array,
  dstOff: number,
  outW: number,
  taps: TapTable,
): void {
  const idx = taps.index;
  const w = taps.weight;
  if (taps.taps === 2) {
    for (let y = 0; y < rows; y++) {
      const s = srcOff + y * inW;
      const d = dstOff + y * outW;
      for (let x = 0, k = 0; x < outW; x++, k += 2) {
        dst[d + x] = w[k] * src[s + idx[k]] + w[k + 1] * src[s + idx[k + 1]];
      }
    }
  } else {
    for (let y = 0; y < rows; y++) {
      const s = srcOff + y * inW;
      const d = dstOff + y * outW;
      for (let x = 0, k = 0; x < outW; x++, k += 4) {
        dst[d + x] =
          w[k] * src[s + idx[k]] +
          w[k + 1] * src[s + idx[k + 1]] +
          w[k + 2] * src[s + idx[k + 2]] +
          w[k + 3] * src[s + idx[k + 3]];
      }
    }
  }
}

/**
 * Vertical pass of one plane: src is inH rows of `width` floats at srcOff,
 * dst gets outH rows at dstOff, each value mapped through v * scale + offset
 * (lets the input resizer fold in its normalisation without another pass).
 */
export function resampleColumns(
  src: Float32Array,
  srcOff: number,
  width: number,
  outH: number,
  dst: Float32Array,
  dstOff: number,
  taps: TapTable,
  scale = 1,
  offset = 0,
): void {
  const idx = taps.index;
  const w = taps.weight;
  if (taps.taps === 2) {
    for (let y = 0, k = 0; y < outH; y++, k += 2) {
      const r0 = srcOff + idx[k] * width;
      const r1 = srcOff + idx[k + 1] * width;
      const w0 = w[k] * scale;
      const w1 = w[k + 1] * scale;
      const d = dstOff + y * width;
      for (let x = 0; x < width; x++) dst[d + x] = w0 * src[r0 + x] + w1 * src[r1 + x] + offset;
    }
  } else {
    for (let y = 0, k = 0; y < outH; y++, k += 4) {
      const r0 = srcOff + idx[k] * width;
      const r1 = srcOff + idx[k + 1] * width;
      const r2 = srcOff + idx[k + 2] * width;
      const r3 = srcOff + idx[k + 3] * width;
      const w0 = w[k] * scale;
      const w1 = w[k + 1] * scale;
      const w2 = w[k + 2] * scale;
      const w3 = w[k + 3] * scale;
      const d = dstOff + y * width;
      for (let x = 0; x < width; x++) {
        dst[d + x] = w0 * src[r0 + x] + w1 * src[r1 + x] + w2 * src[r2 + x] + w3 * src[r3 + x] + offset;
      }
    }
  }
}

function checkSize(fn: string, width: number, height: number): void {
  if (!(width >= 1 && height >= 1) || !Number.isInteger(width) || !Number.isInteger(height)) {
    throw new RangeError(`${fn}: bad target size ${width}x${height}`);
  }
}

/**
 * Resizes a depth map with PyTorch `F.interpolate(mode, align_corners)`
 * semantics (see the header). Same size returns a copy (or `src` itself when
 * no `out` is given, since callers treat maps as read-only).
 */
export function resizeDepth(
  src: DepthMap,
  width: number,
  height: number,
  method: Interpolation,
  alignCorners: boolean,
  out?: Float32Array,
): DepthMap {
  checkSize('resizeDepth', width, height);
  const n = width * height;
  if (out !== undefined && out.length < n) throw new RangeError(`resizeDepth: out holds ${out.length} floats, needs ${n}`);
  if (width === src.width && height === src.height) {
    if (out === undefined) return src;
    out.set(src.data.subarray(0, n));
    return { width, height, data: out.length === n ? out : out.subarray(0, n) };
  }
  const dst = out === undefined ? new Float32Array(n) : out.length === n ? out : out.subarray(0, n);
  const tx = cachedTaps(src.width, width, method, alignCorners);
  const ty = cachedTaps(src.height, height, method, alignCorners);
  if (wasmResizePlane(src.data, src.width, src.height, width, height, tx, ty, dst)) return { width, height, data: dst };
  const tmp = scratchBuffer(src.height * width);
  resampleRows(src.data, 0, src.width, src.height, tmp, 0, width, tx);
  resampleColumns(tmp, 0, width, height, dst, 0, ty);
  return { width, height, data: dst };
}

/**
 * resizeDepth then normalizeDepth(lo, hi): the renderer's upsample-and-
 * normalise, in one pass over the output when the kernels are built (the
 * vertical pass's scale and offset do the normalising).
 */
export function resizeAndNormalize(
  src: DepthMap,
  width: number,
  height: number,
  method: Interpolation,
  alignCorners: boolean,
  lo: number,
  hi: number,
  out?: Float32Array,
): Float32Array {
  checkSize('resizeAndNormalize', width, height);
  const n = width * height;
  if (out !== undefined && out.length < n) throw new RangeError(`resizeAndNormalize: out holds ${out.length} floats, needs ${n}`);
  const dst = out === undefined ? new Float32Array(n) : out.length === n ? out : out.subarray(0, n);
  const span = hi - lo;
  const resampled = width !== src.width || height !== src.height;
  if (resampled && span !== 0 && Number.isFinite(span)) {
    const tx = cachedTaps(src.width, width, method, alignCorners);
    const ty = cachedTaps(src.height, height, method, alignCorners);
    if (wasmResizePlane(src.data, src.width, src.height, width, height, tx, ty, dst, { lo, hi })) return dst;
  }
  const full = resizeDepth(src, width, height, method, alignCorners, resampled ? dst : undefined);
  return normalizeDepth(full.data, lo, hi, dst);
}
