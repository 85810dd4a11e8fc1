import type { RgbImage } from '../types.js';
import { flicker, stillMaskFromFrames } from './stabilize.js';

/**
 * The run's flicker measure: the mean absolute change of the rendered,
 * normalised depth (0..1) between consecutive inferred frames, over pixels
 * whose input did not change (every channel within ±6 of 255). It is taken
 * on a grid of every `step`-th pixel in both directions (default 4: 1/16 of
 * the pixels), which keeps it well under a millisecond at 1080p; over a run
 * that is thousands of samples per frame, plenty for a mean.
 */
export class FlickerMeter {
  // Two sample sets, swapped each frame: the previous one is compared, then reused.
  private prevUnit = new Float32Array(0);
  private prevRgb = new Uint8Array(0);
  private curUnit = new Float32Array(0);
  private curRgb = new Uint8Array(0);
  private havePrev = false;
  private sum = 0;
  private pairs = 0;

  constructor(private readonly step = 4) {}

  /** Adds one inferred frame: its input and its normalised depth at frame size. */
  add(input: RgbImage, unit: Float32Array): void {
    const { width, height } = input;
    const s = this.step;
    const gw = Math.ceil(width / s);
    const gh = Math.ceil(height / s);
    const n = gw * gh;
    if (this.curUnit.length !== n) {
      // A new frame size: nothing earlier to compare with.
      this.curUnit = new Float32Array(n);
      this.curRgb = new Uint8Array(n * 3);
      this.havePrev = false;
    }
    const u = this.curUnit;
    const rgb = this.curRgb;
    for (let gy = 0, k = 0; gy < gh; gy++) {
      const row = gy * s * width;
      for (let gx = 0; gx < gw; gx++, k++) {
        const p = row + gx * s;
        u[k] = unit[p]!;
        rgb[3 * k] = input.data[3 * p]!;
        rgb[3 * k + 1] = input.data[3 * p + 1]!;
        rgb[3 * k + 2] = input.data[3 * p + 2]!;
      }
    }
    if (this.havePrev) {
      const mask = stillMaskFromFrames(this.prevRgb, rgb, gw, gh);
      let still = 0;
      for (const m of mask) still += m;
      if (still > 0) {
        this.sum += flicker(this.prevUnit, u, mask);
        this.pairs++;
      }
    }
    [this.prevUnit, this.curUnit] = [u, this.prevUnit.length === n ? this.prevUnit : new Float32Array(n)];
    [this.prevRgb, this.curRgb] = [rgb, this.prevRgb.length === n * 3 ? this.prevRgb : new Uint8Array(n * 3)];
    this.havePrev = true;
  }

  /** Mean over all frame pairs; null when no pair had still pixels. */
  get value(): number | null {
    return this.pairs > 0 ? this.sum / this.pairs : null;
  }
}
