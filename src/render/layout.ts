import type { LayoutName, RgbImage, Yuv420pImage } from '../types.js';
import { yuvPlanes } from './yuv-to-rgb.js';

export const LAYOUT_NAMES: readonly LayoutName[] = ['depth', 'side-by-side', 'stacked'];

export function isLayoutName(s: string): s is LayoutName {
  return (LAYOUT_NAMES as readonly string[]).includes(s);
}

/** Output size of a layout for frames of width x height (what the encoder must be told). */
export function layoutSize(layout: LayoutName, width: number, height: number): { width: number; height: number } {
  switch (layout) {
    case 'depth':
      return { width, height };
    case 'side-by-side':
      return { width: width * 2, height };
    case 'stacked':
      return { width, height: height * 2 };
  }
}

/**
 * Places the input frame beside (side-by-side: input left) or above
 * (stacked: input top) its colourised depth; both must be the same size.
 * `depth` without `out` returns depthRgb itself rather than copying it.
 */
export function composeLayout(layout: LayoutName, input: RgbImage, depthRgb: RgbImage, out?: Uint8Array): RgbImage {
  const { width: w, height: h } = depthRgb;
  if (layout !== 'depth' && (input.width !== w || input.height !== h)) {
    throw new RangeError(`composeLayout: input is ${input.width}x${input.height} but depth is ${w}x${h}`);
  }
  const size = layoutSize(layout, w, h);
  const bytes = size.width * size.height * 3;
  if (layout === 'depth' && out === undefined) return depthRgb;
  if (out !== undefined && out.length < bytes) throw new RangeError(`composeLayout: out holds ${out.length} bytes, needs ${bytes}`);
  const dst = out === undefined ? new Uint8Array(bytes) : out.length === bytes ? out : out.subarray(0, bytes);
  const frameBytes = w * h * 3;
  if (layout === 'depth') {
    dst.set(depthRgb.data.subarray(0, frameBytes));
  } else if (layout === 'stacked') {
    dst.set(input.data.subarray(0, frameBytes), 0);
    dst.set(depthRgb.data.subarray(0, frameBytes), frameBytes);
  } else {
    const row = w * 3;
    for (let y = 0; y < h; y++) {
      const s = y * row;
      const d = y * 2 * row;
      dst.set(input.data.subarray(s, s + row), d);
      dst.set(depthRgb.data.subarray(s, s + row), d + row);
    }
  }
  return { width: size.width, height: size.height, data: dst };
}

/**
 * Makes both sides even (H.264 yuv420p subsamples chroma 2x2) by repeating
 * the last column and/or row. Already even: returns `img` itself.
 */
export function padToEven(img: RgbImage, out?: Uint8Array): RgbImage {
  const { width: w, height: h } = img;
  if (w % 2 === 0 && h % 2 === 0) return img;
  const W = w + (w % 2);
  const H = h + (h % 2);
  const bytes = W * H * 3;
  if (out !== undefined && out.length < bytes) throw new RangeError(`padToEven: out holds ${out.length} bytes, needs ${bytes}`);
  const dst = out === undefined ? new Uint8Array(bytes) : out.length === bytes ? out : out.subarray(0, bytes);
  const src = img.data;
  const row = w * 3;
  const Row = W * 3;
  for (let y = 0; y < h; y++) {
    const s = y * row;
    const d = y * Row;
    dst.set(src.subarray(s, s + row), d);
    if (W !== w) {
      dst[d + row] = src[s + row - 3];
      dst[d + row + 1] = src[s + row - 2];
      dst[d + row + 2] = src[s + row - 1];
    }
  }
  if (H !== h) dst.copyWithin((H - 1) * Row, (h - 1) * Row, h * Row);
  return { width: W, height: H, data: dst };
}

/**
 * composeLayout for yuv420p pictures (even sizes): the planes of the input
 * and of the depth picture (w x h yuv420p) placed side by side or stacked,
 * plane by plane, into `out`. The input's samples are copied as decoded,
 * so it must already be in the output's colour (BT.601 limited range).
 */
export function composeLayoutYuv(layout: 'side-by-side' | 'stacked', input: Yuv420pImage, depth: Uint8Array, out: Uint8Array): void {
  const { width: w, height: h } = input;
  const p = yuvPlanes(w, h);
  const planes: [number, number, number][] = [[0, w, h], [p.u, p.cw, h >> 1], [p.v, p.cw, h >> 1]];
  // The output's planes: both pictures' planes of the same kind, one after the other.
  let at = 0;
  for (const [off, pw, ph] of planes) {
    const bytes = pw * ph;
    if (layout === 'stacked') {
      out.set(input.data.subarray(off, off + bytes), at);
      out.set(depth.subarray(off, off + bytes), at + bytes);
    } else {
      for (let y = 0; y < ph; y++) {
        const s = off + y * pw;
        out.set(input.data.subarray(s, s + pw), at + 2 * y * pw);
        out.set(depth.subarray(s, s + pw), at + 2 * y * pw + pw);
      }
    }
    at += 2 * bytes;
  }
}
