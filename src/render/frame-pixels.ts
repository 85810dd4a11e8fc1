import type { ColormapName, DepthKind, DepthMap, FrameImage, Interpolation, LayoutName, RgbImage } from '../types.js';
import { applyColormap, getColormap } from './colormap.js';
import { equalizeHistogram } from './equalize.js';
import { sampleFlicker } from './flicker-meter.js';
import { composeLayout, composeLayoutYuv, layoutSize, padToEven } from './layout.js';
import { depthRange } from './normalize.js';
import { resizeAndNormalize, resizeDepth } from './resize.js';
import { colormapToYuv420p, OUTPUT_COLOUR, renderYuv420p, rgbToYuv420p, yuv420pSize } from './yuv.js';
import { frameAsRgb } from './yuv-to-rgb.js';

/**
 * The per-pixel half of rendering one frame, everything after the colour
 * range is known: upsample and normalise the prediction, equalise, colour,
 * compose the layout, pad, convert to yuv420p. It depends on nothing but
 * its arguments (the stabiliser, which needs the frames in order, has run
 * already), so frames can be rendered on any thread, several at once, into
 * buffers the caller owns (shared memory in the pipeline's workers).
 */
export interface PixelSettings {
  readonly colormap: ColormapName;
  readonly invert: boolean;
  readonly highContrast: boolean;
  readonly layout: LayoutName;
  readonly interpolation: Interpolation;
  readonly alignCorners: boolean;
  /** Pad the picture to even sides (4:2:0 encoders) by repeating the last column/row. */
  readonly evenOutput: boolean;
  /** Metric depth grows with distance: its colour range is applied the other way round, so near stays bright (unit 1 = near). */
  readonly depthKind: DepthKind;
}

export interface PixelJob {
  readonly settings: PixelSettings;
  /** Frame size. */
  readonly width: number;
  readonly height: number;
  /**
   * An inferred frame: the prediction as stabilised (`map`, normalised by
   * lo..hi) and as the model gave it (`raw`, for the raw recording and its
   * range). null for a frame that repeats the last depth, whose colours are
   * in `targets.depthRgb` already.
   */
  readonly depth: { readonly map: DepthMap; readonly raw: Float32Array; readonly lo: number; readonly hi: number } | null;
  /** The input picture (width x height, RGB or yuv420p): layouts other than depth and the flicker samples read it. */
  readonly frame: FrameImage | null;
  /** Grid step of the flicker samples (0: none). */
  readonly flickerStep: number;
}

/** Where the results go; null entries are not wanted. */
export interface PixelTargets {
  /** Normalised depth (0..1, as coloured), width x height. Required for an inferred frame unless the picture is the depth alone as yuv420p. */
  readonly unit: Float32Array | null;
  /** The raw prediction upsampled to width x height. */
  readonly raw: Float32Array | null;
  /** The depth's colours, width x height RGB: kept for the repeats of a layout that shows the input. */
  readonly depthRgb: Uint8Array | null;
  /** The output picture (layout, padded), RGB24. */
  readonly rgb: Uint8Array | null;
  /** The output picture as yuv420p (BT.601 limited, see yuv.ts). */
  readonly yuv: Uint8Array | null;
  readonly flickerUnit: Float32Array | null;
  readonly flickerRgb: Uint8Array | null;
}

/** Size of the output picture: the layout's, then padded to even when asked. */
export function pictureSize(layout: LayoutName, width: number, height: number, evenOutput: boolean): { width: number; height: number } {
  const s = layoutSize(layout, width, height);
  return evenOutput ? { width: s.width + (s.width % 2), height: s.height + (s.height % 2) } : s;
}

/**
 * Whether an inferred frame's picture is the depth alone as yuv420p, which
 * the kernels colour without the unit picture leaving them: renderPixels
 * then needs no unit target.
 */
export function depthAloneAsYuv(settings: Pick<PixelSettings, 'layout' | 'highContrast'>, yuv: boolean): boolean {
  return yuv && settings.layout === 'depth' && !settings.highContrast;
}

/**
 * Whether a layout that shows the input is composed in yuv420p: the input
 * frame is yuv420p in the output's own colour and only a yuv420p picture is
 * wanted. Its planes are then copied as decoded, never converted to RGB and
 * back; otherwise the input is composed as RGB.
 */
export function composesInYuv(frame: FrameImage | null, layout: LayoutName, wants: { readonly rgb: boolean; readonly yuv: boolean }): boolean {
  return layout !== 'depth' && wants.yuv && !wants.rgb && frame?.format === 'yuv420p'
    && frame.colour.matrix === OUTPUT_COLOUR.matrix && frame.colour.range === OUTPUT_COLOUR.range;
}

// Per-thread scratch for pictures nobody keeps: the output picture when only
// yuv420p is wanted, the depth colours when no target keeps them, a composed
// layout on its way to padding, the depth picture as yuv420p (the input as
// RGB has its own, inputRgb, in frameAsRgb's form).
const SCRATCH = { picture: 0, colours: 1, composed: 2, depthYuv: 3 } as const;
const scratchBuffers = [new Uint8Array(0), new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)];
function scratch(which: number, bytes: number): Uint8Array {
  if (scratchBuffers[which]!.length < bytes) scratchBuffers[which] = new Uint8Array(bytes);
  return scratchBuffers[which]!.subarray(0, bytes);
}
const inputRgb = { buffer: new Uint8Array(0) };

/** Renders one frame into `t`; returns the raw prediction's range (0, 0 for a repeat). */
export function renderPixels(job: PixelJob, t: PixelTargets): { rawMin: number; rawMax: number } {
  const s = job.settings;
  const { width: w, height: h } = job;
  const out = pictureSize(s.layout, w, h, s.evenOutput);
  const lut = getColormap(s.colormap);
  const yuvInput = composesInYuv(job.frame, s.layout, { rgb: t.rgb !== null, yuv: t.yuv !== null });
  let range = { min: 0, max: 0 };
  let yuvDone = false;
  let colours = t.depthRgb;

  if (job.depth) {
    const d = job.depth;
    range = depthRange(d.raw);
    const [lo, hi] = s.depthKind === 'metric-depth' ? [d.hi, d.lo] : [d.lo, d.hi];
    if (t.raw) resizeDepth({ width: d.map.width, height: d.map.height, data: d.raw }, w, h, s.interpolation, s.alignCorners, t.raw);
    let unit: Float32Array;
    if (t.yuv && depthAloneAsYuv(s, true)) {
      // The common video case: no RGB picture at all. Without a unit target
      // the unit picture is read where the kernels made it, until their next call.
      unit = renderYuv420p(d.map, w, h, s.interpolation, s.alignCorners, lo, hi, t.unit, lut, s.invert, out.width, out.height, t.yuv);
      yuvDone = true;
    } else {
      if (!t.unit) throw new RangeError('renderPixels: an inferred frame needs a unit target unless it is the depth alone as yuv420p');
      unit = t.unit;
      resizeAndNormalize(d.map, w, h, s.interpolation, s.alignCorners, lo, hi, unit);
      if (s.highContrast) equalizeHistogram(unit, 1024, unit);
    }
    if (job.frame && job.flickerStep > 0 && t.flickerUnit && t.flickerRgb) {
      sampleFlicker(job.frame, unit, job.flickerStep, t.flickerUnit, t.flickerRgb);
    }
    const rgbNeeded = t.depthRgb !== null || t.rgb !== null || (t.yuv !== null && !yuvDone && s.layout !== 'depth' && !yuvInput);
    if (t.yuv && !yuvDone && s.layout === 'depth') {
      colormapToYuv420p(unit, w, h, lut, s.invert, out.width, out.height, t.yuv);
      yuvDone = true;
    }
    if (rgbNeeded) {
      // The depth picture goes straight into the output picture when that is all it is.
      const direct = s.layout === 'depth' && t.rgb !== null && out.width === w && out.height === h && !t.depthRgb;
      colours = direct ? t.rgb : (t.depthRgb ?? scratch(SCRATCH.colours, w * h * 3));
      applyColormap(unit, lut, colours!, s.invert);
      if (direct) return { rawMin: range.min, rawMax: range.max };
    }
  }
  if (!t.rgb && (!t.yuv || yuvDone)) return { rawMin: range.min, rawMax: range.max };
  if (yuvInput && job.frame?.format === 'yuv420p' && (s.layout === 'side-by-side' || s.layout === 'stacked')) {
    // Input and depth meet as yuv420p: the depth is coloured straight into its planes.
    if (!t.unit) throw new RangeError('renderPixels: a yuv420p layout needs the depth (unit) of its frame');
    const depthYuv = colormapToYuv420p(t.unit, w, h, lut, s.invert, w, h, scratch(SCRATCH.depthYuv, yuv420pSize(w, h)));
    composeLayoutYuv(s.layout, job.frame, depthYuv, t.yuv!);
    return { rawMin: range.min, rawMax: range.max };
  }
  if (!colours) {
    // A repeat whose depth was rendered without colours (the layout changed since): colour its unit picture.
    if (!t.unit) throw new RangeError('renderPixels: a repeated frame needs the depth (unit or colours) of the frame it repeats');
    colours = applyColormap(t.unit, lut, scratch(SCRATCH.colours, w * h * 3), s.invert);
  }

  // Compose (layout) and pad, into the RGB target or scratch when only yuv420p is wanted.
  const depthImg: RgbImage = { width: w, height: h, data: colours };
  const input: RgbImage | null = s.layout === 'depth' || !job.frame ? null : frameAsRgb(job.frame, inputRgb);
  const composedSize = layoutSize(s.layout, w, h);
  const padded = out.width !== composedSize.width || out.height !== composedSize.height;
  const picture = t.rgb ?? scratch(SCRATCH.picture, out.width * out.height * 3);
  let img: RgbImage;
  if (input) {
    const composed = composeLayout(s.layout, input, depthImg, padded ? scratch(SCRATCH.composed, composedSize.width * composedSize.height * 3) : picture);
    img = padded ? padToEven(composed, picture) : composed;
  } else {
    img = padded ? padToEven(depthImg, picture) : composeLayout('depth', depthImg, depthImg, picture);
  }
  if (t.yuv && !yuvDone) rgbToYuv420p(img, t.yuv);
  return { rawMin: range.min, rawMax: range.max };
}
