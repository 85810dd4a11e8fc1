import type { FrameImage, PreprocessSpec, RgbImage, Yuv420pImage } from '../types.js';
import { wasmFrameToPlanes } from '../render/kernels.js';
import { yuvRowsToRgb } from '../render/yuv-to-rgb.js';
import { cachedTaps, resampleColumns, scratchBuffer, type TapTable } from '../render/resize.js';

/** numpy's np.round / Python 3's round: exact halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * MiDaS `Resize.constrain_to_multiple_of`: round to the nearest multiple
 * (halves to even), fall back to floor when that overshoots maxVal, and to
 * ceil when it undershoots minVal (the ceil check runs last, so it wins).
 */
export function constrainToMultipleOf(x: number, multipleOf: number, minVal = 0, maxVal?: number): number {
  const m = multipleOf;
  let y = roundHalfEven(x / m) * m;
  if (maxVal !== undefined && y > maxVal) y = Math.floor(x / m) * m;
  if (y < minVal) y = Math.ceil(x / m) * m;
  return y;
}

/**
 * MiDaS `Resize.get_size` for a frame: the net input size. One deliberate
 * difference: a side that would round to 0 (a frame smaller than half a
 * multiple) becomes one multiple, since the network cannot take a 0-size axis.
 */
export function computeInputSize(
  spec: PreprocessSpec,
  frameWidth: number,
  frameHeight: number,
): { width: number; height: number } {
  let scaleH = spec.height / frameHeight;
  let scaleW = spec.width / frameWidth;
  if (spec.keepAspect) {
    switch (spec.resizeMethod) {
      case 'lower_bound':
        if (scaleW > scaleH) scaleH = scaleW;
        else scaleW = scaleH;
        break;
      case 'upper_bound':
        if (scaleW < scaleH) scaleH = scaleW;
        else scaleW = scaleH;
        break;
      case 'minimal':
        if (Math.abs(1 - scaleW) < Math.abs(1 - scaleH)) scaleH = scaleW;
        else scaleW = scaleH;
        break;
    }
  }
  const m = Math.max(1, spec.multipleOf);
  let height: number;
  let width: number;
  // As in MiDaS, the bound comes from resizeMethod even when the aspect is not kept.
  if (spec.resizeMethod === 'lower_bound') {
    height = constrainToMultipleOf(scaleH * frameHeight, m, spec.height);
    width = constrainToMultipleOf(scaleW * frameWidth, m, spec.width);
  } else if (spec.resizeMethod === 'upper_bound') {
    height = constrainToMultipleOf(scaleH * frameHeight, m, 0, spec.height);
    width = constrainToMultipleOf(scaleW * frameWidth, m, 0, spec.width);
  } else {
    height = constrainToMultipleOf(scaleH * frameHeight, m);
    width = constrainToMultipleOf(scaleW * frameWidth, m);
  }
  return { width: Math.max(m, width), height: Math.max(m, height) };
}

/**
 * Horizontal pass straight from packed RGB24 bytes into three planes
 * (rows x outW each, plane stride rows*outW), still in 0..255 units.
 */
function resampleRgbRows(img: RgbImage, dst: Float32Array, outW: number, taps: TapTable, rowUsed: Uint8Array): void {
  const src = img.data;
  const inW = img.width;
  const rows = img.height;
  const plane = rows * outW;
  const idx = taps.index;
  const w = taps.weight;
  const n = taps.taps;
  for (let y = 0; y < rows; y++) {
    // Downscaling reads only the rows the vertical taps touch (about 2-4 per output row).
    if (rowUsed[y] === 0) continue;
    const s = y * inW * 3;
    const d = y * outW;
    if (n === 2) {
      for (let x = 0, k = 0; x < outW; x++, k += 2) {
        const a = s + idx[k] * 3;
        const b = s + idx[k + 1] * 3;
        const w0 = w[k];
        const w1 = w[k + 1];
        dst[d + x] = w0 * src[a] + w1 * src[b];
        dst[plane + d + x] = w0 * src[a + 1] + w1 * src[b + 1];
        dst[2 * plane + d + x] = w0 * src[a + 2] + w1 * src[b + 2];
      }
    } else {
      for (let x = 0, k = 0; x < outW; x++, k += 4) {
        const a = s + idx[k] * 3;
        const b = s + idx[k + 1] * 3;
        const c = s + idx[k + 2] * 3;
        const e = s + idx[k + 3] * 3;
        const w0 = w[k];
        const w1 = w[k + 1];
        const w2 = w[k + 2];
        const w3 = w[k + 3];
        dst[d + x] = w0 * src[a] + w1 * src[b] + w2 * src[c] + w3 * src[e];
        dst[plane + d + x] = w0 * src[a + 1] + w1 * src[b + 1] + w2 * src[c + 1] + w3 * src[e + 1];
        dst[2 * plane + d + x] = w0 * src[a + 2] + w1 * src[b + 2] + w2 * src[c + 2] + w3 * src[e + 2];
      }
    }
  }
}

let rgbRows = new Uint8Array(0);

/**
 * A yuv420p frame as the RGB frame ffmpeg would have decoded, in a buffer
 * of this thread: only the rows marked in `rowUsed` (all when null).
 */
function asRgbRows(img: Yuv420pImage, rowUsed: Uint8Array | null): RgbImage {
  const bytes = img.width * img.height * 3;
  if (rgbRows.length < bytes) rgbRows = new Uint8Array(bytes);
  const out = rgbRows.subarray(0, bytes);
  if (!rowUsed) yuvRowsToRgb(img, 0, img.height, out);
  else {
    // One call per run of used rows, not per row.
    for (let y = 0; y < img.height;) {
      if (!rowUsed[y]) { y++; continue; }
      const start = y;
      while (y < img.height && rowUsed[y]) y++;
      yuvRowsToRgb(img, start, y, out);
    }
  }
  return { width: img.width, height: img.height, data: out };
}

/**
 * The network input for one frame, as MiDaS' transforms build it: pixels to
 * [0,1], cv2.resize to `size` (spec.inputInterpolation; no clamping, so bicubic
 * may overshoot [0,1] exactly as it does on float images in OpenCV), then
 * (v - mean) / std, laid out planar CHW in spec.channelOrder.
 *
 * Resizing is linear, so it runs on 0..255 values and the 1/255 is folded
 * into the final scale; the identity size skips resampling altogether. The
 * WebAssembly kernels do the resampling when they are built; the loops here
 * are the reference they are tested against. A yuv420p frame gives the same
 * tensor as the RGB frame ffmpeg would have decoded from it: its rows are
 * converted (yuv-to-rgb.ts) as they are read.
 */
export function imageToTensor(
  img: FrameImage,
  spec: PreprocessSpec,
  size: { width: number; height: number },
  out?: Float32Array,
): Float32Array {
  const { width: W, height: H } = size;
  if (!(W >= 1 && H >= 1) || !Number.isInteger(W) || !Number.isInteger(H)) {
    throw new RangeError(`imageToTensor: bad target size ${W}x${H}`);
  }
  const plane = W * H;
  const n = 3 * plane;
  if (out !== undefined && out.length < n) throw new RangeError(`imageToTensor: out holds ${out.length} floats, needs ${n}`);
  // A longer `out` (a pooled buffer) is fine; the tensor is its first n floats.
  const dst = out === undefined ? new Float32Array(n) : out.length === n ? out : out.subarray(0, n);
  // Destination plane of each RGB source channel.
  const bgr = spec.channelOrder === 'BGR';
  const planeOf = [bgr ? 2 : 0, 1, bgr ? 0 : 2];

  if (W === img.width && H === img.height) {
    const src = img.format === 'yuv420p' ? asRgbRows(img, null).data : img.data;
    for (let c = 0; c < 3; c++) {
      const mean = spec.mean[c];
      const std = spec.std[c];
      const o = planeOf[c] * plane;
      for (let i = 0, j = c; i < plane; i++, j += 3) dst[o + i] = (src[j] / 255 - mean) / std;
    }
    return dst;
  }

  const tx = cachedTaps(img.width, W, spec.inputInterpolation, false);
  const ty = cachedTaps(img.height, H, spec.inputInterpolation, false);
  const rowUsed = new Uint8Array(img.height);
  for (let k = 0; k < ty.index.length; k++) rowUsed[ty.index[k]] = 1;
  const scale = [0, 1, 2].map((c) => 1 / (255 * spec.std[c]));
  const offset = [0, 1, 2].map((c) => -spec.mean[c] / spec.std[c]);
  if (wasmFrameToPlanes(img, W, H, tx, ty, rowUsed, scale, offset, planeOf, dst)) return dst;
  const tmpPlane = img.height * W;
  const tmp = scratchBuffer(3 * tmpPlane);
  resampleRgbRows(img.format === 'yuv420p' ? asRgbRows(img, rowUsed) : img, tmp, W, tx, rowUsed);
  for (let c = 0; c < 3; c++) resampleColumns(tmp, c * tmpPlane, W, H, dst, planeOf[c] * plane, ty, scale[c], offset[c]);
  return dst;
}
