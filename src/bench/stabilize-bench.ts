/**
 * Micro-benchmark of DepthStabilizer.update: milliseconds per call, for each
 * mode at 1920x1080 and 640x360, on a synthetic scene whose scale and shift
 * change every frame (so `align` really fits). The project benchmark calls
 * this; keys look like `align@1920x1080` (`align-lazy` = materialize: false).
 * `bare-affine-loop@...` times a plain full-frame affine loop, the floor for
 * any mode that touches every pixel, to put the others in proportion.
 */
import { performance } from 'node:perf_hooks';
import { DepthStabilizer, type StabilizeMode } from '../stabilize/stabilize.js';

const SIZES: ReadonlyArray<readonly [number, number]> = [[1920, 1080], [640, 360]];
// `align-lazy` is align with materialize: false (no full-resolution pass).
const VARIANTS: ReadonlyArray<{ key: string; mode: StabilizeMode; materialize: boolean }> = [
  { key: 'off', mode: 'off', materialize: true },
  { key: 'normalize', mode: 'normalize', materialize: true },
  { key: 'align', mode: 'align', materialize: true },
  { key: 'align-lazy', mode: 'align', materialize: false },
];

function syntheticFrames(width: number, height: number, count: number): Float32Array[] {
  const base = new Float32Array(width * height);
  const cx = width * 0.4, cy = height * 0.5, r2 = (height * 0.2) ** 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const disc = (x - cx) ** 2 + (y - cy) ** 2 <= r2 ? 1 : 0;
      // A little deterministic texture so selections do not see ties.
      base[y * width + x] = 0.2 + 0.8 * (x / width) + disc + 0.01 * Math.sin(x * 0.37 + y * 0.91);
    }
  }
  const frames: Float32Array[] = [];
  for (let k = 0; k < count; k++) {
    const gain = 0.6 + 0.3 * k;
    const offset = 0.1 * k - 0.2;
    const f = new Float32Array(base.length);
    for (let i = 0; i < base.length; i++) f[i] = gain * base[i] + offset;
    frames.push(f);
  }
  return frames;
}

/** A bare `out = a * x + b` loop: the floor for any full-resolution pass on this machine. */
function bareAffine(src: Float32Array, out: Float32Array, a: number, b: number): void {
  for (let i = 0, n = src.length; i < n; i++) out[i] = a * src[i] + b;
}

export interface StabilizerBenchOptions {
  /** Timed updates per mode and size (default 40 at 1080p, 4x that at 360p). */
  iterations?: number;
}

export async function stabilizerMicrobench(opts: StabilizerBenchOptions = {}): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const [width, height] of SIZES) {
    const frames = syntheticFrames(width, height, 4);
    const out = new Float32Array(width * height);
    const iterations = opts.iterations ?? (width * height > 1e6 ? 40 : 160);
    for (const { key, mode, materialize } of VARIANTS) {
      const s = new DepthStabilizer({ mode, window: 15, lowPct: 2, highPct: 98, materialize });
      // Warm-up lets the JIT settle before timing.
      for (let k = 0; k < 10; k++) s.update({ width, height, data: frames[k % frames.length] }, out);
      const t0 = performance.now();
      for (let k = 0; k < iterations; k++) s.update({ width, height, data: frames[k % frames.length] }, out);
      result[`${key}@${width}x${height}`] = (performance.now() - t0) / iterations;
      // Yield between runs so a caller's event loop (progress output) keeps moving.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // Reference point so numbers from a busy machine can still be compared.
    for (let k = 0; k < 10; k++) bareAffine(frames[k % frames.length], out, 1.5, 0.25);
    const t0 = performance.now();
    for (let k = 0; k < iterations; k++) bareAffine(frames[k % frames.length], out, 1.5, 0.25);
    result[`bare-affine-loop@${width}x${height}`] = (performance.now() - t0) / iterations;
  }
  return result;
}
