import type { FrameImage, RgbImage, Yuv420pImage, YuvColour } from '../types.js';

/**
 * Decoded yuv420p frames to RGB, computed exactly as the bundled ffmpeg
 * converts them when asked for rgb24 (swscale's unscaled yuv2rgb path, the
 * one it takes for even-sized yuv420p), so that a frame kept in yuv420p
 * becomes, wherever RGB is needed, the same bytes the decoder used to send:
 *
 *  - chroma is not interpolated: pixel (x, y) takes U and V at (x/2, y/2);
 *  - 16-bit fixed point as in swscale's x86 code: samples are scaled by 8,
 *    offset, and multiplied by Q13 coefficients keeping the high 16 bits of
 *    the product (floor); R = Y' + V'vr, G = Y' + U'ug + V'vg, B = Y' + U'ub,
 *    each clamped to 0..255;
 *  - the coefficients are swscale's: for limited range, Y' = (Y - 16) 255/219
 *    and chroma tables for the matrix (ff_yuv2rgb_coeffs: BT.601 for
 *    bt470bg, smpte170m and untagged streams, as ffmpeg uses; BT.709 when
 *    tagged so), scaled by 224/255 for full range.
 *
 * Checked bit for bit against the bundled ffmpeg's rgb24 output for BT.601
 * and BT.709 limited and BT.601 full range (test/render/yuv-to-rgb.test.ts).
 */

/** The coefficients of ff_yuv2rgb_coeffs (crv, cbu, cgu, cgv in 1/65536, for limited-range chroma). */
const MATRIX: Record<YuvColour['matrix'], readonly [number, number, number, number]> = {
  bt601: [104597, 132201, 25675, 53279],
  bt709: [117489, 138438, 13975, 34925],
};

/** swscale's roundToInt16 of a Q16 value times 2^13: the Q13 coefficient of the 16-bit code. */
const q13 = (v: number): number => Math.floor((v * 8192 + 0x8000) / 65536);

/** The fixed-point coefficients: Y' = mulhi(8Y - yOffset, y); R = Y' + mulhi(8V - 1024, vr); … */
export interface YuvCoefficients {
  readonly y: number;
  readonly yOffset: number;
  readonly vr: number;
  readonly ub: number;
  readonly ug: number;
  readonly vg: number;
}

// Per matrix and range: looked up per frame (and per row by preprocess), so without building a key.
const cache: Record<YuvColour['matrix'], Partial<Record<YuvColour['range'], YuvCoefficients>>> = { bt601: {}, bt709: {} };

export function yuvCoefficients(colour: YuvColour): YuvCoefficients {
  const byRange = cache[colour.matrix];
  let c = byRange[colour.range];
  if (!c) {
    let [crv, cbu, cgu, cgv] = MATRIX[colour.matrix];
    cgu = -cgu;
    cgv = -cgv;
    let cy = 1 << 16;
    let oy = 0;
    if (colour.range === 'limited') {
      cy = Math.floor((cy * 255) / 219);
      oy = 16 << 16;
    } else {
      // (C integer division truncates toward zero: cgu and cgv are negative.)
      [crv, cbu, cgu, cgv] = [crv, cbu, cgu, cgv].map((v) => Math.trunc((v * 224) / 255)) as [number, number, number, number];
    }
    c = { y: q13(cy), yOffset: Math.floor((oy * 8 + 0x8000) / 65536), vr: q13(crv), ub: q13(cbu), ug: q13(cgu), vg: q13(cgv) };
    byRange[colour.range] = c;
  }
  return c;
}

/** The high 16 bits of a 16 x 16-bit product (x86 pmulhw). */
const mulhi = (a: number, b: number): number => (a * b) >> 16;
const clamp255 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

/** Plane offsets of a yuv420p picture: U after Y, V after U. */
export function yuvPlanes(width: number, height: number): { readonly u: number; readonly v: number; readonly cw: number } {
  const cw = width >> 1;
  const u = width * height;
  return { u, v: u + cw * (height >> 1), cw };
}

/** One pixel from its luma and chroma samples into out[d..d+2]; the one conversion both entry points share. */
function pixelToRgb(c: YuvCoefficients, luma: number, cb: number, cr: number, out: Uint8Array, d: number): void {
  const yy = mulhi(8 * luma - c.yOffset, c.y);
  const u = 8 * cb - 1024;
  const v = 8 * cr - 1024;
  out[d] = clamp255(yy + mulhi(v, c.vr));
  out[d + 1] = clamp255(yy + mulhi(u, c.ug) + mulhi(v, c.vg));
  out[d + 2] = clamp255(yy + mulhi(u, c.ub));
}

/** RGB of pixel (x, y) of a yuv420p picture into out[o..o+2]. */
export function yuvPixelToRgb(img: Yuv420pImage, c: YuvCoefficients, x: number, y: number, out: Uint8Array, o: number): void {
  // Plane offsets inline (not yuvPlanes): the flicker meter calls this for every sample of a frame.
  const { width, height, data } = img;
  const cw = width >> 1;
  const u = width * height;
  const ci = (y >> 1) * cw + (x >> 1);
  pixelToRgb(c, data[y * width + x]!, data[u + ci]!, data[u + cw * (height >> 1) + ci]!, out, o);
}

/** Rows y0 .. y1-1 of a yuv420p picture as packed RGB24, written at their own place in `out` (width x height x 3). */
export function yuvRowsToRgb(img: Yuv420pImage, y0: number, y1: number, out: Uint8Array): void {
  const { width: w, height: h, data } = img;
  const c = yuvCoefficients(img.colour);
  const p = yuvPlanes(w, h);
  for (let y = y0; y < y1; y++) {
    const cr = (y >> 1) * p.cw;
    for (let x = 0, s = y * w, d = y * w * 3; x < w; x++, s++, d += 3) {
      pixelToRgb(c, data[s]!, data[p.u + cr + (x >> 1)]!, data[p.v + cr + (x >> 1)]!, out, d);
    }
  }
}

/** A yuv420p picture as RGB24 (into `out` when given). */
export function yuv420pToRgb(img: Yuv420pImage, out?: Uint8Array): RgbImage {
  const bytes = img.width * img.height * 3;
  if (out !== undefined && out.length < bytes) throw new RangeError(`yuv420pToRgb: out holds ${out.length} bytes, needs ${bytes}`);
  const dst = out === undefined ? new Uint8Array(bytes) : out.subarray(0, bytes);
  yuvRowsToRgb(img, 0, img.height, dst);
  return { width: img.width, height: img.height, data: dst };
}

/** Bytes of a yuv420p picture (width and height even). */
export function yuv420pSize(width: number, height: number): number {
  return width * height + 2 * (width >> 1) * (height >> 1);
}

/** Bytes of a frame's pixels in its format. */
export function frameBytes(format: FrameImage['format'], width: number, height: number): number {
  return format === 'yuv420p' ? yuv420pSize(width, height) : width * height * 3;
}

/**
 * The frame's pixels as RGB: itself when it is RGB, else converted into
 * `scratch` (grown as needed and returned in `.buffer` for the next call,
 * so a sink that does this per frame allocates once).
 */
export function frameAsRgb(img: FrameImage, scratch: { buffer: Uint8Array }): RgbImage {
  if (img.format !== 'yuv420p') return img;
  const bytes = img.width * img.height * 3;
  if (scratch.buffer.length < bytes) scratch.buffer = new Uint8Array(bytes);
  return yuv420pToRgb(img, scratch.buffer);
}

/** Only the picture of a frame (format, colour, size, pixels): what can be posted to a thread. */
export function pictureOf(img: FrameImage): FrameImage {
  return img.format === 'yuv420p'
    ? { format: 'yuv420p', colour: img.colour, width: img.width, height: img.height, data: img.data }
    : { format: 'rgb24', width: img.width, height: img.height, data: img.data };
}
