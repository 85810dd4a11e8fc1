import { wasmRange } from './kernels.js';

/**
 * Bringing relative inverse depth into [0,1]. Model outputs have no fixed
 * scale, so every frame (or a smoothed range across frames) picks lo/hi.
 */

/** Smallest and largest finite value; {0, 0} when there is none. */
export function depthRange(data: Float32Array): { min: number; max: number } {
  // NaN fails every comparison. The infinities are rare, so the common pass
  // (in the kernels when they are built) does not test for them; only when
  // one turned up is there a second pass that skips them.
  const fast = wasmRange(data);
  let min = fast?.min ?? Infinity;
  let max = fast?.max ?? -Infinity;
  if (!fast) {
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (min === -Infinity || max === Infinity) {
    min = Infinity;
    max = -Infinity;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v < min && v !== -Infinity) min = v;
      if (v > max && v !== Infinity) max = v;
    }
  }
  if (min === Infinity || max === -Infinity) return { min: 0, max: 0 };
  return { min, max };
}

/**
 * out[i] = clamp((v - lo) / (hi - lo), 0, 1); NaN maps to 0, and hi == lo
 * gives all zeros (a flat prediction has no depth order to show).
 */
export function normalizeDepth(data: Float32Array, lo: number, hi: number, out?: Float32Array): Float32Array {
  const n = data.length;
  if (out !== undefined && out.length < n) throw new RangeError(`normalizeDepth: out holds ${out.length} floats, needs ${n}`);
  const dst = out === undefined ? new Float32Array(n) : out;
  const span = hi - lo;
  if (span === 0 || !Number.isFinite(span)) {
    dst.fill(0, 0, n);
    return dst;
  }
  const inv = 1 / span;
  for (let i = 0; i < n; i++) {
    const t = (data[i] - lo) * inv;
    // Written so NaN lands on 0: both comparisons are false for NaN.
    dst[i] = t > 0 ? (t < 1 ? t : 1) : 0;
  }
  return dst;
}
