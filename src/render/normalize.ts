/**
 * Bringing relative inverse depth into [0,1]. Model outputs have no fixed
 * scale, so every frame (or a smoothed range across frames) picks lo/hi.
 */

/** Smallest and largest finite value; {0, 0} when there is none. */
export function depthRange(data: Float32Array): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    // NaN fails both comparisons; the infinities are filtered explicitly.
    if (v < min && v !== -Infinity) min = v;
    if (v > max && v !== Infinity) max = v;
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

/** Samples above this count are thinned by the default stride of robustRange. */
export const ROBUST_RANGE_MAX_SAMPLES = 65536;

let sampleScratch = new Float32Array(0);

/**
 * Rearranges a[lo..hi] so a[k] holds the k-th smallest (Hoare-style
 * quickselect) and returns it. Shared by the percentile code here and the
 * stabiliser.
 */
export function selectKth(a: Float32Array, lo: number, hi: number, k: number): number {
  while (hi > lo) {
    // Median of three keeps sorted and constant inputs from going quadratic.
    const mid = (lo + hi) >>> 1;
    let x = a[lo];
    let y = a[mid];
    let z = a[hi];
    if (x > y) [x, y] = [y, x];
    if (y > z) [y, z] = [z, y];
    if (x > y) [x, y] = [y, x];
    const pivot = y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}

function minOf(a: Float32Array, lo: number, hi: number): number {
  let m = a[lo];
  for (let i = lo + 1; i <= hi; i++) if (a[i] < m) m = a[i];
  return m;
}

/**
 * Percentile range for contrast that ignores a few outlier pixels.
 *
 * Exactly numpy.percentile(sample, [lowPct, highPct]) with the default
 * 'linear' method, where sample = the finite values among data[0],
 * data[stride], data[2*stride], ... With sampleStride 1 that is the exact
 * percentile of all finite values; the default stride keeps the sample at most
 * ROBUST_RANGE_MAX_SAMPLES (a regular grid is plenty for a display range and
 * keeps this at well under a millisecond per 1080p frame).
 */
export function robustRange(
  data: Float32Array,
  lowPct: number,
  highPct: number,
  sampleStride?: number,
): { min: number; max: number } {
  if (!(lowPct >= 0 && lowPct <= 100 && highPct >= 0 && highPct <= 100)) {
    throw new RangeError(`robustRange: percentiles must be in [0, 100], got ${lowPct} and ${highPct}`);
  }
  const stride = sampleStride ?? Math.max(1, Math.ceil(data.length / ROBUST_RANGE_MAX_SAMPLES));
  if (!(stride >= 1) || !Number.isInteger(stride)) throw new RangeError(`robustRange: bad sampleStride ${sampleStride}`);
  const cap = Math.ceil(data.length / stride);
  if (sampleScratch.length < cap) sampleScratch = new Float32Array(cap);
  const s = sampleScratch;
  let n = 0;
  for (let i = 0; i < data.length; i += stride) {
    const v = data[i];
    if (Number.isFinite(v)) s[n++] = v;
  }
  if (n === 0) return { min: 0, max: 0 };
  const at = (pct: number): number => {
    const pos = (pct / 100) * (n - 1);
    const k = Math.floor(pos);
    const frac = pos - k;
    selectKth(s, 0, n - 1, k);
    const a = s[k];
    if (frac === 0 || k + 1 >= n) return a;
    // After selection everything right of k is >= a[k]; the next order statistic is their minimum.
    const b = minOf(s, k + 1, n - 1);
    return a + (b - a) * frac;
  };
  const min = at(lowPct);
  const max = at(highPct);
  return { min, max };
}
