import type { FrameImage } from '../types.js';
import { wasmFlickerPair } from './kernels.js';
import { yuvCoefficients, yuvPixelToRgb } from './yuv-to-rgb.js';

/** Largest change of any channel (0..255) for which an input pixel counts as still (stillMaskFromFrames' threshold). */
const STILL = 6;

/** The sampling grid of a width x height frame: every `step`-th pixel of every `step`-th row. */
export function flickerGrid(width: number, height: number, step: number): { readonly gw: number; readonly gh: number } {
  return { gw: Math.ceil(width / step), gh: Math.ceil(height / step) };
}

/**
 * The flicker meter's samples of one frame: its input and normalised depth
 * at the grid points, into `outUnit` (gw * gh) and `outRgb` (gw * gh * 4:
 * R, G, B and a 0, so that the kernel compares four samples at once).
 * Pure, so it runs wherever the frame is rendered; FlickerMeter.addSamples
 * then takes the frames in order. A yuv420p input is sampled as the RGB
 * ffmpeg would have decoded (yuv-to-rgb.ts).
 */
export function sampleFlicker(input: FrameImage, unit: Float32Array, step: number, outUnit: Float32Array, outRgb: Uint8Array): void {
  const { width } = input;
  const { gw, gh } = flickerGrid(input.width, input.height, step);
  if (input.format === 'yuv420p') {
    const c = yuvCoefficients(input.colour);
    for (let gy = 0, k = 0; gy < gh; gy++) {
      for (let gx = 0; gx < gw; gx++, k++) {
        outUnit[k] = unit[gy * step * width + gx * step]!;
        yuvPixelToRgb(input, c, gx * step, gy * step, outRgb, 4 * k);
        outRgb[4 * k + 3] = 0;
      }
    }
    return;
  }
  const src = input.data;
  for (let gy = 0, k = 0; gy < gh; gy++) {
    const row = gy * step * width;
    for (let gx = 0; gx < gw; gx++, k++) {
      const p = row + gx * step;
      outUnit[k] = unit[p]!;
      outRgb[4 * k] = src[3 * p]!;
      outRgb[4 * k + 1] = src[3 * p + 1]!;
      outRgb[4 * k + 2] = src[3 * p + 2]!;
      outRgb[4 * k + 3] = 0;
    }
  }
}

/**
 * At most this many samples a frame: 1080p on the step-8 grid. Enough for a
 * mean to three digits; at 130,000 (step 4) the sampling alone cost 1 ms of
 * every 1080p frame, 0.26 ms at this size.
 */
const MAX_SAMPLES = 33_000;

/**
 * The run's flicker measure: the mean absolute change of the rendered,
 * normalised depth (0..1) between consecutive inferred frames, over pixels
 * whose input did not change (every channel within ±6 of 255). It is taken
 * on a grid of every `step`-th pixel in both directions (default 4: 1/16 of
 * the pixels; wider for frames above about 720x720, so that a 1080p or a 4K
 * frame gives about 32,000 samples). The frames' comparison runs in frame order on the main thread,
 * so its cost must not grow with the frame.
 */
export class FlickerMeter {
  private prevUnit = new Float32Array(0);
  private prevRgb = new Uint8Array(0);
  private curUnit = new Float32Array(0);
  private curRgb = new Uint8Array(0);
  private prevSize = '';
  private sum = 0;
  private pairs = 0;

  constructor(readonly step = 4) {}

  /** The grid step for frames of this size: `step`, or wider when that would exceed the sample budget. */
  stepFor(width: number, height: number): number {
    let step = this.step;
    while (Math.ceil(width / step) * Math.ceil(height / step) > MAX_SAMPLES) step++;
    return step;
  }

  /** Adds one inferred frame: its input and its normalised depth at frame size. */
  add(input: FrameImage, unit: Float32Array): void {
    const step = this.stepFor(input.width, input.height);
    const { gw, gh } = flickerGrid(input.width, input.height, step);
    const n = gw * gh;
    if (this.curUnit.length !== n) {
      this.curUnit = new Float32Array(n);
      this.curRgb = new Uint8Array(n * 4);
    }
    sampleFlicker(input, unit, step, this.curUnit, this.curRgb);
    this.addSamples(input.width, input.height, this.curUnit, this.curRgb);
  }

  /** Adds one inferred frame from its samples (sampleFlicker with stepFor(width, height)), in frame order. */
  addSamples(width: number, height: number, unit: Float32Array, rgb: Uint8Array): void {
    const { gw, gh } = flickerGrid(width, height, this.stepFor(width, height));
    const n = gw * gh;
    const size = `${width}x${height}`;
    // A new frame size: nothing earlier to compare with.
    if (size === this.prevSize) {
      const { still, sum, count } = flickerPair(this.prevUnit, this.prevRgb, unit, rgb, n);
      if (still > 0) {
        this.sum += count > 0 ? sum / count : 0;
        this.pairs++;
      }
    }
    if (this.prevUnit.length !== n) {
      this.prevUnit = new Float32Array(n);
      this.prevRgb = new Uint8Array(n * 4);
    }
    this.prevUnit.set(unit.subarray(0, n));
    this.prevRgb.set(rgb.subarray(0, n * 4));
    this.prevSize = size;
  }

  /** Mean over all frame pairs; null when no pair had still pixels. */
  get value(): number | null {
    return this.pairs > 0 ? this.sum / this.pairs : null;
  }
}

/**
 * flicker(prev, cur, stillMaskFromFrames(prev, cur)) of two frames' samples
 * in one pass, without the mask: the samples whose input stood still, and
 * the sum and count of their finite depth changes. The kernel when built
 * (four samples at a time), else this loop, its reference.
 */
export function flickerPair(prevUnit: Float32Array, prevRgb: Uint8Array, unit: Float32Array, rgb: Uint8Array, n: number): { still: number; sum: number; count: number } {
  const fast = wasmFlickerPair(prevUnit, prevRgb, unit, rgb, n);
  if (fast) return fast;
  let still = 0;
  let sum = 0;
  let count = 0;
  for (let k = 0, i = 0; k < n; k++, i += 4) {
    if (Math.abs(prevRgb[i]! - rgb[i]!) > STILL || Math.abs(prevRgb[i + 1]! - rgb[i + 1]!) > STILL || Math.abs(prevRgb[i + 2]! - rgb[i + 2]!) > STILL) continue;
    still++;
    const d = Math.abs(unit[k]! - prevUnit[k]!);
    if (d - d === 0) {
      sum += d;
      count++;
    }
  }
  return { still, sum, count };
}
