/**
 * Histogram equalisation of values in [0,1], for depth maps whose values crowd
 * into a narrow band (e.g. a far background) and leave the colormap unused.
 *
 * Exact formula (OpenCV's equalizeHist, on `bins` bins instead of 256):
 *   bin(v)  = min(bins - 1, floor(clamp(v, 0, 1) * bins))
 *   cdf(b)  = number of finite values whose bin is <= b
 *   cdfMin  = cdf of the lowest occupied bin
 *   N       = number of finite values
 *   out(v)  = (cdf(bin(v)) - cdfMin) / (N - cdfMin)
 * When N == cdfMin (everything in one bin) every output is 0. NaN and the
 * infinities are left out of N and map to 0.
 */
let histScratch = new Uint32Array(0);
let binScratch = new Uint16Array(0);

export function equalizeHistogram(unit: Float32Array, bins = 1024, out?: Float32Array): Float32Array {
  // At most 65535 bins so a pixel's bin (plus the non-finite slot) fits the 16-bit scratch.
  if (!(bins >= 1 && bins <= 65535) || !Number.isInteger(bins)) throw new RangeError(`equalizeHistogram: bad bin count ${bins}`);
  const n = unit.length;
  if (out !== undefined && out.length < n) throw new RangeError(`equalizeHistogram: out holds ${out.length} floats, needs ${n}`);
  const dst = out === undefined ? new Float32Array(n) : out;
  // Slot `bins` collects the non-finite values, so neither pass needs a second branch.
  if (histScratch.length < bins + 1) histScratch = new Uint32Array(bins + 1);
  // Remembering each pixel's bin makes the second pass a plain lookup.
  if (binScratch.length < n) binScratch = new Uint16Array(n);
  const hist = histScratch;
  const binOf = binScratch;
  hist.fill(0, 0, bins + 1);
  const last = bins - 1;
  const skip = bins;
  for (let i = 0; i < n; i++) {
    const v = unit[i];
    let b: number;
    if (v > 0) {
      if (v < 1) {
        b = (v * bins) | 0;
        if (b > last) b = last;
      } else b = v === Infinity ? skip : last;
    } else b = v > -Infinity ? 0 : skip; // false for NaN and -Infinity
    binOf[i] = b;
    hist[b]++;
  }
  const finite = n - hist[skip];
  let cdfMin = 0;
  for (let b = 0; b < bins; b++) {
    if (hist[b] !== 0) {
      cdfMin = hist[b];
      break;
    }
  }
  const denom = finite - cdfMin;
  // Output per bin; the non-finite slot and the one-bin case stay 0.
  const lut = new Float32Array(bins + 1);
  if (denom > 0) {
    let cdf = 0;
    for (let b = 0; b < bins; b++) {
      cdf += hist[b];
      lut[b] = (cdf - cdfMin) / denom;
    }
  }
  for (let i = 0; i < n; i++) dst[i] = lut[binOf[i]];
  return dst;
}
