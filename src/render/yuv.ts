import type { Interpolation, RgbImage, YuvColour } from '../types.js';
import { wasmColormapToYuv420p, wasmRenderYuv420p, wasmRgbToYuv420p, type YuvKernelTables } from './kernels.js';
import { cachedTaps, resizeAndNormalize } from './resize.js';
import { yuv420pSize } from './yuv-to-rgb.js';

/**
 * Packed RGB -> planar yuv420p, BT.601 limited range, computed as ffmpeg's
 * swscale (C reference code) does it when an encoder that takes yuv420p is
 * fed RGB24 with its default `bicubic` flags, so that writing yuv420p
 * ourselves moves no sample by more than one level while ffmpeg no longer
 * converts:
 *
 *  - Luma per pixel: Y = 16 + 219/255 (0.299 R + 0.587 G + 0.114 B),
 *    coefficients in Q15, rounded to Q6 and then to an integer (the double
 *    rounding is swscale's; it decides values like 85.496 -> 86).
 *  - Chroma horizontally: the RGB of each pixel pair (2i, 2i+1) is summed
 *    before the matrix (swscale's "half" input readers), rounded to Q6.
 *  - Chroma vertically: swscale's bicubic (B = 0, C = 0.6) stretched for the
 *    2:1 reduction, centred between rows 2j and 2j+1: 8 taps at source
 *    distances 0.5, 1.5, 2.5, 3.5 on each side, replicated edge rows, weights
 *    in Q12 summing to 4096, rounded half up. (Measured on the bundled
 *    ffmpeg with one-row impulses: +98, +27, -9, -3 of a 224 step, as these
 *    weights give.)
 *
 * Luma comes out identical to the bundled ffmpeg's; about one chroma sample
 * in ten differs by one, because its x86 vertical filter truncates each
 * product (pmulhw) where the C code rounds the sum once.
 *
 * Everything is integer arithmetic, so the colour-map path (per-entry sums
 * from a table) and the RGB path give the same bytes for the same picture.
 * Streams written from these planes must be tagged BT.601 limited range
 * (`YUV420P_TAGS` in sinks/encoder.ts): players read untagged HD as BT.709.
 */

/** The colour of every yuv420p picture made here (and of the streams written from them). */
export const OUTPUT_COLOUR: YuvColour = { matrix: 'bt601', range: 'limited' };

const Q15 = 1 << 15;
const KR = 0.299;
const KB = 0.114;
const KG = 1 - KR - KB;
const Y_SCALE = 219 / 255;
const C_SCALE = 224 / 255;

const q15 = (v: number): number => Math.round(v * Q15);
const RY = q15(KR * Y_SCALE);
const GY = q15(KG * Y_SCALE);
const BY = q15(KB * Y_SCALE);
const RU = q15((-KR / (2 * (1 - KB))) * C_SCALE);
const GU = q15((-KG / (2 * (1 - KB))) * C_SCALE);
const BU = q15(0.5 * C_SCALE);
const RV = q15(0.5 * C_SCALE);
const GV = q15((-KG / (2 * (1 - KR))) * C_SCALE);
const BV = q15((-KB / (2 * (1 - KR))) * C_SCALE);

/** 16 in Q15 plus half a step of Q6 (luma is rounded to Q6 first). */
const Y_OFFSET = (16 << 15) + (1 << 8);
/** A pair sum is chroma * 2 in Q15 = Q16: add 128 and half a step of Q6, shift to Q6. */
const C_OFFSET = (128 << 16) + (1 << 9);
const C_SHIFT = 10;

/** swscale's bicubic kernel (Mitchell-Netravali family, B = 0, C = 0.6). */
function bicubic(x: number): number {
  const B = 0;
  const C = 0.6;
  const d = Math.abs(x);
  if (d < 1) return ((12 - 9 * B - 6 * C) * d ** 3 + (-18 + 12 * B + 6 * C) * d ** 2 + (6 - 2 * B)) / 6;
  if (d < 2) return ((-B - 6 * C) * d ** 3 + (6 * B + 30 * C) * d ** 2 + (-12 * B - 48 * C) * d + (8 * B + 24 * C)) / 6;
  return 0;
}

/**
 * Vertical chroma taps for source rows 2j-3 .. 2j+4 of output row j, Q12.
 * Halving stretches the kernel by 2 and halves its weights; the four
 * distances on one side sum to exactly half, so the rounded Q12 values
 * (1786, 493, -173, -58) still sum to 4096.
 */
export const CHROMA_TAPS: Int32Array = (() => {
  const side = [3.5, 2.5, 1.5, 0.5].map((d) => Math.round((bicubic(d / 2) / 2) * 4096));
  return Int32Array.from([...side, ...side.reverse()]);
})();

const KERNEL_TABLES: YuvKernelTables = { taps: CHROMA_TAPS, coef: Int32Array.from([RY, GY, BY, RU, GU, BU, RV, GV, BV]) };

export { yuv420pSize };

function checkEven(fn: string, width: number, height: number, out: Uint8Array | undefined): Uint8Array {
  if (width % 2 || height % 2 || width < 2 || height < 2) throw new RangeError(`${fn}: yuv420p needs an even size, got ${width}x${height}`);
  const n = yuv420pSize(width, height);
  if (out !== undefined && out.length < n) throw new RangeError(`${fn}: out holds ${out.length} bytes, needs ${n}`);
  return out ?? new Uint8Array(n);
}

/** Q6 chroma of every source row, half width; grown on demand, one set per thread. */
let chromaU = new Uint16Array(0);
let chromaV = new Uint16Array(0);
function chromaScratch(n: number): void {
  if (chromaU.length < n) {
    chromaU = new Uint16Array(n);
    chromaV = new Uint16Array(n);
  }
}

const tapRows = new Int32Array(8);

/** The 8-tap vertical pass: chroma rows of `cw` Q6 samples (h rows) into the U and V planes. */
function verticalChroma(cw: number, h: number, dst: Uint8Array, uOff: number, vOff: number): void {
  const t = CHROMA_TAPS;
  const last = h - 1;
  const rows = tapRows;
  for (let j = 0, ch = h >> 1; j < ch; j++) {
    for (let k = 0; k < 8; k++) {
      const y = 2 * j - 3 + k;
      rows[k] = (y < 0 ? 0 : y > last ? last : y) * cw;
    }
    const r0 = rows[0], r1 = rows[1], r2 = rows[2], r3 = rows[3], r4 = rows[4], r5 = rows[5], r6 = rows[6], r7 = rows[7];
    const t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3], t4 = t[4], t5 = t[5], t6 = t[6], t7 = t[7];
    const du = uOff + j * cw;
    const dv = vOff + j * cw;
    for (let x = 0; x < cw; x++) {
      const u = (t0 * chromaU[r0 + x] + t1 * chromaU[r1 + x] + t2 * chromaU[r2 + x] + t3 * chromaU[r3 + x]
        + t4 * chromaU[r4 + x] + t5 * chromaU[r5 + x] + t6 * chromaU[r6 + x] + t7 * chromaU[r7 + x] + (1 << 17)) >> 18;
      const v = (t0 * chromaV[r0 + x] + t1 * chromaV[r1 + x] + t2 * chromaV[r2 + x] + t3 * chromaV[r3 + x]
        + t4 * chromaV[r4 + x] + t5 * chromaV[r5 + x] + t6 * chromaV[r6 + x] + t7 * chromaV[r7 + x] + (1 << 17)) >> 18;
      dst[du + x] = u < 0 ? 0 : u > 255 ? 255 : u;
      dst[dv + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
}

/** Packed RGB24 (even size) -> yuv420p as described in the header: the reference path. */
export function rgbToYuv420p(img: RgbImage, out?: Uint8Array): Uint8Array {
  const { width: w, height: h, data: src } = img;
  const dst = checkEven('rgbToYuv420p', w, h, out);
  if (wasmRgbToYuv420p(img, KERNEL_TABLES, dst)) return dst;
  const cw = w >> 1;
  chromaScratch(cw * h);
  for (let y = 0; y < h; y++) {
    const s = y * w * 3;
    const d = y * w;
    for (let x = 0; x < w; x++) {
      const p = s + 3 * x;
      dst[d + x] = (((RY * src[p] + GY * src[p + 1] + BY * src[p + 2] + Y_OFFSET) >> 9) + 32) >> 6;
    }
    const c = y * cw;
    for (let i = 0, p = s; i < cw; i++, p += 6) {
      const r = src[p] + src[p + 3];
      const g = src[p + 1] + src[p + 4];
      const b = src[p + 2] + src[p + 5];
      chromaU[c + i] = (RU * r + GU * g + BU * b + C_OFFSET) >> C_SHIFT;
      chromaV[c + i] = (RV * r + GV * g + BV * b + C_OFFSET) >> C_SHIFT;
    }
  }
  verticalChroma(cw, h, dst, w * h, w * h + cw * (h >> 1));
  return dst;
}

/** A colour table's entries in the converter's terms: Y per entry, and the Q15 matrix rows for U and V. */
export interface YuvTable {
  readonly y: Uint8Array;
  readonly u: Int32Array;
  readonly v: Int32Array;
  /**
   * The same per pixel pair (a, b), at a | b << 8, for the kernels: both Y
   * bytes (y[a] | y[b] << 8), and both Q6 chroma values of the pair as
   * colormapToYuv420p rounds them (U | V << 16; a colour's chroma is within
   * 16..240, so each fits in 16 bits). 384 KB, built once per table.
   */
  readonly pairY: Uint16Array;
  readonly pairUV: Int32Array;
}

const yuvTables = new WeakMap<Uint8Array, YuvTable>();

/** The 256-entry RGB table (768 bytes) as a YuvTable; cached per table. */
function yuvTable(lut: Uint8Array): YuvTable {
  let t = yuvTables.get(lut);
  if (!t) {
    const y = new Uint8Array(256);
    const u = new Int32Array(256);
    const v = new Int32Array(256);
    for (let i = 0; i < 256; i++) {
      const r = lut[3 * i], g = lut[3 * i + 1], b = lut[3 * i + 2];
      y[i] = (((RY * r + GY * g + BY * b + Y_OFFSET) >> 9) + 32) >> 6;
      u[i] = RU * r + GU * g + BU * b;
      v[i] = RV * r + GV * g + BV * b;
    }
    const pairY = new Uint16Array(65536);
    const pairUV = new Int32Array(65536);
    for (let b = 0; b < 256; b++) {
      for (let a = 0; a < 256; a++) {
        const ab = a | (b << 8);
        pairY[ab] = y[a]! | (y[b]! << 8);
        pairUV[ab] = ((u[a]! + u[b]! + C_OFFSET) >> C_SHIFT) | (((v[a]! + v[b]! + C_OFFSET) >> C_SHIFT) << 16);
      }
    }
    t = { y, u, v, pairY, pairUV };
    yuvTables.set(lut, t);
  }
  return t;
}

let indexRow = new Uint8Array(0);

/**
 * Normalised depth (width x height, values 0..1) coloured through `lut` and
 * written straight as yuv420p of size outWidth x outHeight, without an RGB
 * picture in between. The output may be one column and/or row larger (the
 * even size 4:2:0 needs): the last column and row repeat, as padToEven does.
 * Gives the same bytes as rgbToYuv420p(padToEven(applyColormap(unit))).
 */
export function colormapToYuv420p(
  unit: Float32Array,
  width: number,
  height: number,
  lut: Uint8Array,
  invert: boolean,
  outWidth: number,
  outHeight: number,
  out?: Uint8Array,
): Uint8Array {
  if (outWidth < width || outHeight < height || outWidth > width + 1 || outHeight > height + 1) {
    throw new RangeError(`colormapToYuv420p: ${outWidth}x${outHeight} is not ${width}x${height} padded to even`);
  }
  const dst = checkEven('colormapToYuv420p', outWidth, outHeight, out);
  const t = yuvTable(lut);
  if (wasmColormapToYuv420p(unit, width, height, t, KERNEL_TABLES, invert, outWidth, outHeight, dst)) return dst;
  const ty = t.y, tu = t.u, tv = t.v;
  const cw = outWidth >> 1;
  chromaScratch(cw * outHeight);
  if (indexRow.length < outWidth) indexRow = new Uint8Array(outWidth);
  const idx = indexRow;
  for (let y = 0; y < outHeight; y++) {
    const s = Math.min(y, height - 1) * width;
    // The index rule of applyColormap: floor(clamp(v, 0, 1) * 255 + 0.5), NaN -> 0.
    for (let x = 0; x < width; x++) {
      let v = unit[s + x];
      if (invert) v = 1 - v;
      idx[x] = ((v > 0 ? (v < 1 ? v : 1) : 0) * 255 + 0.5) | 0;
    }
    if (outWidth > width) idx[width] = idx[width - 1];
    const d = y * outWidth;
    for (let x = 0; x < outWidth; x++) dst[d + x] = ty[idx[x]];
    const c = y * cw;
    for (let i = 0; i < cw; i++) {
      const a = idx[2 * i], b = idx[2 * i + 1];
      chromaU[c + i] = (tu[a] + tu[b] + C_OFFSET) >> C_SHIFT;
      chromaV[c + i] = (tv[a] + tv[b] + C_OFFSET) >> C_SHIFT;
    }
  }
  verticalChroma(cw, outHeight, dst, outWidth * outHeight, outWidth * outHeight + cw * (outHeight >> 1));
  return dst;
}

/** The unit picture of renderYuv420p's TypeScript path when the caller keeps none; one per thread. */
let unitScratch = new Float32Array(0);

/**
 * resizeAndNormalize into `unit` (width x height), then colormapToYuv420p
 * of it into `out`: the depth-only picture of a yuv420p output. Returns the
 * unit picture. With the kernels it is one visit to their memory; with
 * `unit` null it is not copied out of it at all (8 MB a 1080p frame), and
 * the array returned is the kernels' own, valid until their next call. The
 * result is the same either way.
 */
export function renderYuv420p(
  depth: { readonly width: number; readonly height: number; readonly data: Float32Array },
  width: number,
  height: number,
  method: Interpolation,
  alignCorners: boolean,
  lo: number,
  hi: number,
  unit: Float32Array | null,
  lut: Uint8Array,
  invert: boolean,
  outWidth: number,
  outHeight: number,
  out: Uint8Array,
): Float32Array {
  checkEven('renderYuv420p', outWidth, outHeight, out);
  const n = width * height;
  const span = hi - lo;
  if ((width !== depth.width || height !== depth.height) && span !== 0 && Number.isFinite(span) && (unit === null || unit.length >= n)) {
    const tx = cachedTaps(depth.width, width, method, alignCorners);
    const ty = cachedTaps(depth.height, height, method, alignCorners);
    const made = wasmRenderYuv420p(depth.data, depth.width, depth.height, width, height, tx, ty, lo, hi, unit, yuvTable(lut), KERNEL_TABLES, invert, outWidth, outHeight, out);
    if (made) return made;
  }
  if (!unit && unitScratch.length < n) unitScratch = new Float32Array(n);
  const u = resizeAndNormalize(depth, width, height, method, alignCorners, lo, hi, unit ?? unitScratch.subarray(0, n));
  colormapToYuv420p(u, width, height, lut, invert, outWidth, outHeight, out);
  return u;
}
