/** Seeded synthetic depth sequences for the stabiliser tests. */
import { DepthStabilizer, flicker, normalizeClamped, type StabilizeMode } from '../../src/stabilize/stabilize.js';
import type { DepthMap } from '../../src/types.js';

export { mulberry32 as rng } from '../../src/inference/generate/random.js';

export function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** Horizontal gradient plus a near disc centred at (cx, cy). */
export function sceneA(w: number, h: number, cx = 0.35 * w, cy = 0.5 * h, r = 0.2 * h): Float32Array {
  const d = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const inDisc = (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
      d[y * w + x] = 0.2 + 0.8 * (x / (w - 1)) + (inDisc ? 1 : 0);
    }
  }
  return d;
}

/** A different layout: vertical ramp plus two soft blobs. */
export function sceneB(w: number, h: number): Float32Array {
  const d = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const b1 = Math.exp(-(((x - 0.75 * w) ** 2 + (y - 0.3 * h) ** 2) / (2 * (0.12 * w) ** 2)));
      const b2 = Math.exp(-(((x - 0.2 * w) ** 2 + (y - 0.8 * h) ** 2) / (2 * (0.08 * w) ** 2)));
      d[y * w + x] = 3 - 2 * (y / (h - 1)) + 4 * b1 + 2.5 * b2;
    }
  }
  return d;
}

export function affineNoisy(d: Float32Array, gain: number, offset: number, noise: number, randn: () => number): Float32Array {
  const o = new Float32Array(d.length);
  for (let i = 0; i < d.length; i++) o[i] = gain * d[i] + offset + noise * randn();
  return o;
}

/** Runs a stabiliser over frames and returns the rendered (0..1, clamped) sequence. */
export function render(mode: StabilizeMode, frames: Float32Array[], w: number, h: number, window = 15): Float32Array[] {
  const s = new DepthStabilizer({ mode, window, lowPct: 2, highPct: 98 });
  return frames.map((data) => {
    const depth: DepthMap = { width: w, height: h, data };
    const r = s.update(depth);
    return normalizeClamped(r.data, r.lo, r.hi);
  });
}

export function meanFlicker(seq: Float32Array[]): number {
  let sum = 0;
  for (let t = 1; t < seq.length; t++) sum += flicker(seq[t - 1], seq[t]);
  return sum / (seq.length - 1);
}
