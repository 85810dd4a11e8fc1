/**
 * Temporal stabilisation of per-frame relative depth.
 *
 * Monocular models predict relative inverse depth that is only defined up to
 * an unknown scale and shift, and that unknown changes from frame to frame.
 * Normalising every frame by its own min/max therefore makes colours pump
 * even on a still shot. Three modes:
 *
 * - `off`: the frame's own min/max (the old behaviour).
 * - `normalize`: robust percentiles (lowPct/highPct) of the frame, measured
 *   on a subsampled grid and smoothed over time with an exponential moving
 *   average: `lo_t = lo_{t-1} + alpha * (p_t - lo_{t-1})` with
 *   `alpha = 1 - exp(-1 / window)`, so after `window` frames a step change
 *   has gone 1 - 1/e (63%) of the way. The first frame initialises it.
 * - `align`: each new prediction is first mapped onto the previous stabilised
 *   prediction (the reference) by a scale and shift fitted robustly on the
 *   grid (Theil-Sen start, iteratively reweighted least squares with Tukey
 *   biweights, final slope from the reduced major axis of the inliers so
 *   that noise on both sides does not shrink it; see `fitScaleShift`), then
 *   normalised as in `normalize`. A poor fit - robust residual above
 *   `cutThreshold` times the reference's percentile spread, fewer than half
 *   the samples within that distance, or a non-positive scale - is taken as
 *   a scene cut: the reference restarts from the new frame (mapped so its
 *   own percentile range is 0..1) and so does the average, so colours after
 *   a cut are not smeared. The caller calls `update` only for inferred
 *   frames, so in async scheduling the reference is the last inferred frame.
 *
 * All fits and percentiles use a grid of about 8k samples; the only
 * full-resolution work is one affine pass (align, skipped with
 * `materialize: false`) or one min/max pass (off). NaN/Inf in the input never
 * reach lo/hi/scale/shift; in `data` they are replaced by `lo` in off and align
 * mode, and in normalize mode (and unmaterialised align) whenever the grid
 * sees one (a full scan would cost as much as the whole update);
 * `normalizeClamped` maps any that slip through to 0.
 */
import { DepthVideoError } from '../errors.js';
import type { DepthMap } from '../types.js';

export type StabilizeMode = 'off' | 'normalize' | 'align';

export interface StabilizeOptions {
  mode: StabilizeMode;
  /** EMA time constant in frames (alpha = 1 - exp(-1/window)); 0 disables smoothing. */
  window: number;
  /** Low/high percentiles (0..100) that define the colour range. */
  lowPct: number;
  highPct: number;
  /** Subsampling step in pixels for fits and percentiles; default keeps ~8k samples. */
  gridStep?: number;
  /**
   * Poor-fit threshold, relative to the reference's percentile spread: a fit
   * whose robust residual exceeds it, or that explains fewer than half of the
   * samples to within it, resets the reference (scene cut). Default 0.12.
   */
  cutThreshold?: number;
  /**
   * align only: write the aligned frame (default true). With false, `data` is
   * the input itself and lo/hi are given in input units, which renders
   * identically and skips the one full-resolution pass.
   */
  materialize?: boolean;
}

export interface StabilizedDepth {
  /** Depth after alignment (the input array itself for off/normalize unless it had NaN/Inf). */
  data: Float32Array;
  /** Colour range to normalise `data` with; always finite with hi > lo. */
  lo: number;
  hi: number;
  /** data = scale * input + shift (1 and 0 for off/normalize). */
  scale: number;
  shift: number;
  /** The reference was reset (first frame, size change or scene cut). */
  reset: boolean;
  /** Robust fit residual relative to the reference spread (0 when no fit was made). */
  fitError: number;
}

export interface FitResult {
  scale: number;
  shift: number;
  /**
   * Robust residual scale (1.4826 * MAD) relative to the reference's 2..98
   * percentile spread; capped at 1e6, which also means "nothing to fit".
   */
  residual: number;
  /** Fraction of used samples whose residual is within the Tukey cut-off. */
  inlierFraction: number;
}

export interface FitOptions {
  /** Use every step-th element of the arrays. */
  step?: number;
  /** Maximum IRLS iterations after the initial least-squares fit (default 8). */
  iterations?: number;
  /** Nonzero = sample may be used. */
  mask?: Uint8Array;
  /**
   * Residual magnitude (in reference units) that counts as an inlier for
   * `inlierFraction`; default is the Tukey cut-off 4.685 sigma.
   */
  inlierTolerance?: number;
  /** Spread of the reference if the caller already knows it (saves a selection pass). */
  refSpread?: number;
  /**
   * Final slope from the reduced major axis of the robustly weighted samples
   * instead of least squares: use when src is as noisy as ref (the
   * stabiliser does), since least squares then shrinks the slope and the
   * shrinkage compounds frame after frame.
   */
  symmetric?: boolean;
}

const DEFAULT_CUT_THRESHOLD = 0.12;
const MIN_INLIER_FRACTION = 0.5;
const TARGET_SAMPLES = 8192;
const FIT_SAMPLES = 2048;
const THEIL_SEN_PAIRS = 512;
// Reported when nothing can be fitted (no usable samples, structureless reference).
const NO_FIT_RESIDUAL = 1e6;
const TUKEY_C = 4.685;
const MAD_TO_SIGMA = 1.4826;

// ---------------------------------------------------------------------------
// Small numeric helpers

function isFiniteNumber(v: number): boolean {
  // Inf - Inf and NaN - NaN are both NaN, so one comparison rejects all three.
  return v - v === 0;
}


/** Rearranges a[lo..hi] so a[k] holds the k-th smallest (Hoare-style quickselect) and returns it. */
function selectKth(a: Float32Array, lo: number, hi: number, k: number): number {
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

/**
 * Two percentiles of the first n values of `scratch` (which is reordered).
 * Returns [NaN, NaN] when n is 0.
 */
export function percentilePair(scratch: Float32Array, n: number, lowPct: number, highPct: number): [number, number] {
  if (n <= 0) return [Number.NaN, Number.NaN];
  const kHi = Math.min(n - 1, Math.max(0, Math.round((highPct / 100) * (n - 1))));
  const kLo = Math.min(kHi, Math.max(0, Math.round((lowPct / 100) * (n - 1))));
  const hi = selectKth(scratch, 0, n - 1, kHi);
  // Everything left of kHi is now <= hi, so the low one only searches there.
  const lo = kLo === kHi ? hi : selectKth(scratch, 0, kHi - 1 < kLo ? kLo : kHi - 1, kLo);
  return [lo, hi];
}

/** Grid step that keeps about TARGET_SAMPLES samples. */
export function autoGridStep(width: number, height: number): number {
  return Math.max(1, Math.ceil(Math.sqrt((width * height) / TARGET_SAMPLES)));
}

/**
 * Samples `data` on a grid centred in its cells; non-finite values are left
 * out. Returns the number of samples written to `dst`.
 */
function sampleGrid(data: Float32Array, width: number, height: number, step: number, dst: Float32Array): number {
  let n = 0;
  const y0 = Math.min(height - 1, step >> 1);
  const x0 = Math.min(width - 1, step >> 1);
  for (let y = y0; y < height; y += step) {
    const row = y * width;
    for (let x = x0; x < width; x += step) {
      const v = data[row + x];
      if (v - v === 0) dst[n++] = v;
    }
  }
  return n;
}

function gridCount(width: number, height: number, step: number): number {
  const y0 = Math.min(height - 1, step >> 1);
  const x0 = Math.min(width - 1, step >> 1);
  return Math.max(0, Math.ceil((height - y0) / step)) * Math.max(0, Math.ceil((width - x0) / step));
}

/** Keeps a colour range usable by a renderer: finite, with hi > lo. */
function safeRange(lo: number, hi: number): [number, number] {
  const l = isFiniteNumber(lo) ? lo : 0;
  let h = isFiniteNumber(hi) ? hi : l + 1;
  // A constant frame has no range; any positive width renders it uniformly.
  if (!(h > l) || h - l <= 1e-12 * Math.max(1, Math.abs(l))) h = l + Math.max(1, Math.abs(l) * 1e-6);
  return [l, h];
}

// ---------------------------------------------------------------------------
// Robust scale/shift fit

function solveWeighted(sw: number, sx: number, sy: number, sxx: number, sxy: number): { scale: number; shift: number } | null {
  if (!(sw > 0)) return null;
  const mx = sx / sw;
  const my = sy / sw;
  const vxx = sxx / sw - mx * mx;
  const vxy = sxy / sw - mx * my;
  // Variance of a (near-)constant source cannot determine a scale.
  if (!(vxx > 1e-12 * Math.max(1e-30, mx * mx)) || !(vxx > 0)) return { scale: 0, shift: my };
  const scale = vxy / vxx;
  return { scale, shift: my - scale * mx };
}

/**
 * Robust least-squares fit of `ref ≈ scale * src + shift`.
 *
 * Starts from a Theil-Sen line (median of pairwise slopes), then
 * iteratively reweighted least squares with Tukey biweights (c = 4.685 sigma, sigma = 1.4826 * MAD of the
 * residuals): Tukey rather than Huber because it gives gross outliers exactly
 * zero weight, so a moving object or a blown-out region has no pull at all.
 * Non-finite samples on either side are ignored. Degenerate input (nothing
 * usable, constant source) returns scale 0 and a finite shift.
 */
export function fitScaleShift(src: Float32Array, ref: Float32Array, opts: FitOptions = {}): FitResult {
  const step = Math.max(1, Math.floor(opts.step ?? 1));
  const iterations = Math.max(0, Math.floor(opts.iterations ?? 8));
  const mask = opts.mask;
  const len = Math.min(src.length, ref.length);
  const cap = Math.ceil(len / step);
  const xs = new Float32Array(cap);
  const ys = new Float32Array(cap);
  let n = 0;
  for (let i = 0; i < len; i += step) {
    if (mask !== undefined && mask[i] === 0) continue;
    const x = src[i];
    const y = ref[i];
    if (x - x === 0 && y - y === 0) {
      xs[n] = x;
      ys[n] = y;
      n++;
    }
  }
  return fitSamples(xs, ys, n, iterations, opts.inlierTolerance, opts.refSpread, opts.symmetric === true);
}

/** Scratch-buffer version used by the stabiliser; xs/ys hold n finite samples. */
function fitSamples(
  xs: Float32Array,
  ys: Float32Array,
  n: number,
  iterations: number,
  inlierTolerance: number | undefined,
  refSpreadIn: number | undefined,
  symmetric: boolean,
  scratch: Float32Array = new Float32Array(n),
): FitResult {
  if (n === 0) return { scale: 0, shift: 0, residual: NO_FIT_RESIDUAL, inlierFraction: 0 };

  let refSpread = refSpreadIn;
  if (refSpread === undefined || !isFiniteNumber(refSpread)) {
    scratch.set(ys.subarray(0, n));
    const [lo, hi] = percentilePair(scratch, n, 2, 98);
    refSpread = hi - lo;
  }
  let meanAbsRef = 0;
  for (let i = 0; i < n; i++) meanAbsRef += Math.abs(ys[i]);
  meanAbsRef /= n;
  // Float32 rounding of the reference sets a floor on meaningful residuals;
  // without it a perfect fit would drive sigma, and so every weight, to zero.
  const sigmaFloor = Math.max(1e-6 * refSpread, 1e-6 * meanAbsRef, 1e-30);

  let fit = theilSenStart(xs, ys, n, scratch);
  // Plain locals, not an object, keep the sums in registers in the hot loops.
  let sx = 0, sy = 0, sxx = 0, sxy = 0, sw = 0;
  let sigma = robustSigma(xs, ys, n, fit.scale, fit.shift, scratch, sigmaFloor);
  let sigmaStale = false;

  for (let it = 0; it < iterations; it++) {
    const cut = TUKEY_C * sigma;
    const inv = 1 / (cut * cut);
    sw = 0; sx = 0; sy = 0; sxx = 0; sxy = 0;
    const a = fit.scale, b = fit.shift;
    for (let i = 0; i < n; i++) {
      const x = xs[i], y = ys[i];
      const r = y - a * x - b;
      const u = r * r * inv;
      if (u >= 1) continue;
      const w = (1 - u) * (1 - u);
      const wx = w * x;
      sw += w; sx += wx; sy += w * y; sxx += wx * x; sxy += wx * y;
    }
    const next = solveWeighted(sw, sx, sy, sxx, sxy);
    if (next === null) break;
    const settled = Math.abs(next.scale - fit.scale) <= 1e-7 * Math.abs(next.scale)
      && Math.abs(next.shift - fit.shift) <= 1e-7 * (Math.abs(refSpread) + meanAbsRef);
    fit = next;
    // Re-estimating sigma costs a selection pass; after two rounds the gross
    // outliers are out and the scale is stable, so later rounds reuse it.
    sigmaStale = true;
    if (it < 2) {
      sigma = robustSigma(xs, ys, n, fit.scale, fit.shift, scratch, sigmaFloor);
      sigmaStale = false;
    }
    if (settled) break;
  }
  if (symmetric) {
    const sym = symmetricSlope(xs, ys, n, fit.scale, fit.shift, TUKEY_C * sigma);
    if (sym !== null) {
      fit = sym;
      sigmaStale = true;
    }
  }
  if (sigmaStale) sigma = robustSigma(xs, ys, n, fit.scale, fit.shift, scratch, sigmaFloor);

  const tol = inlierTolerance ?? TUKEY_C * sigma;
  let inliers = 0;
  for (let i = 0; i < n; i++) {
    if (Math.abs(ys[i] - fit.scale * xs[i] - fit.shift) <= tol) inliers++;
  }
  const rawSigma = Math.max(0, sigma === sigmaFloor ? 0 : sigma);
  const residual = Math.min(NO_FIT_RESIDUAL, refSpread > 0 ? rawSigma / refSpread : rawSigma > 0 ? NO_FIT_RESIDUAL : 0);
  return {
    scale: isFiniteNumber(fit.scale) ? fit.scale : 0,
    shift: isFiniteNumber(fit.shift) ? fit.shift : 0,
    residual,
    inlierFraction: inliers / n,
  };
}

/**
 * Reduced-major-axis line through the inliers of the given fit (residual
 * within the Tukey cut-off): slope sqrt(var_y / var_x), for a positive
 * covariance. Unlike the least-squares slope, which shrinks by
 * var(signal) / (var(signal) + var(noise in x)), it is unbiased when both
 * sides are equally noisy - two consecutive predictions. Inliers get equal
 * weight: smooth Tukey weights favour samples whose noise happens to agree
 * with the line and measurably bias the ratio (about 1% per frame on a
 * noisy still shot).
 */
function symmetricSlope(
  xs: Float32Array, ys: Float32Array, n: number, scale: number, shift: number, cut: number,
): { scale: number; shift: number } | null {
  const inv = 1 / (cut * cut);
  let sw = 0, sx = 0, sy = 0;
  for (let i = 0; i < n; i++) {
    const r = ys[i] - scale * xs[i] - shift;
    if (r * r * inv >= 1) continue;
    sw++; sx += xs[i]; sy += ys[i];
  }
  if (!(sw > 0)) return null;
  const mx = sx / sw, my = sy / sw;
  // Second pass around the means: the one-pass formula loses digits when
  // depth values sit far from zero.
  let vxx = 0, vyy = 0, vxy = 0;
  for (let i = 0; i < n; i++) {
    const r = ys[i] - scale * xs[i] - shift;
    if (r * r * inv >= 1) continue;
    const dx = xs[i] - mx, dy = ys[i] - my;
    vxx += dx * dx; vyy += dy * dy; vxy += dx * dy;
  }
  if (!(vxx > 0) || !(vxy > 0)) return null;
  const slope = Math.sqrt(vyy / vxx);
  return { scale: slope, shift: my - slope * mx };
}

/**
 * Starting line for IRLS: median slope over pairs of samples half the array
 * apart (Theil-Sen on a fixed subset), then median intercept. Least squares
 * would be a poor start: a few extreme source values (leverage points) can
 * drag it so far that the residual scale swallows the outliers.
 */
function theilSenStart(xs: Float32Array, ys: Float32Array, n: number, scratch: Float32Array): { scale: number; shift: number } {
  const half = n >> 1;
  const pairs = Math.min(half, THEIL_SEN_PAIRS);
  let k = 0;
  for (let p = 0; p < pairs; p++) {
    const i = Math.floor((p * half) / pairs);
    const j = i + half;
    const dx = xs[j] - xs[i];
    if (dx !== 0) {
      const slope = (ys[j] - ys[i]) / dx;
      if (slope - slope === 0) scratch[k++] = slope;
    }
  }
  const scale = k > 0 ? selectKth(scratch, 0, k - 1, k >> 1) : 0;
  for (let i = 0; i < n; i++) scratch[i] = ys[i] - scale * xs[i];
  const shift = selectKth(scratch, 0, n - 1, (n - 1) >> 1);
  return { scale, shift };
}

function robustSigma(
  xs: Float32Array, ys: Float32Array, n: number, scale: number, shift: number, scratch: Float32Array, floor: number,
): number {
  for (let i = 0; i < n; i++) scratch[i] = Math.abs(ys[i] - scale * xs[i] - shift);
  const k = (n - 1) >>> 1;
  const mad = selectKth(scratch, 0, n - 1, k);
  const s = MAD_TO_SIGMA * mad;
  return s > floor ? s : floor;
}

// ---------------------------------------------------------------------------
// Full-resolution passes

/**
 * out[i] = scale * src[i] + shift; non-finite results become `fill`.
 * Returns how many values were replaced.
 */
export function affineInto(src: Float32Array, out: Float32Array, scale: number, shift: number, fill: number): number {
  const n = src.length;
  // A branch-free loop with a running sum is about twice as fast as testing
  // every value; the sum turns NaN/Inf if any value is, and only then do we
  // pay for a second, checking pass.
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const v = scale * src[i] + shift;
    out[i] = v;
    acc += v;
  }
  if (acc - acc === 0) return 0;
  let replaced = 0;
  for (let i = 0; i < n; i++) {
    const v = out[i];
    if (!(v - v === 0)) {
      out[i] = fill;
      replaced++;
    }
  }
  return replaced;
}

/** Min and max of the finite values; `bad` tells whether any value was NaN/Inf. */
function minMax(src: Float32Array): { min: number; max: number; bad: boolean } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let acc = 0;
  for (let i = 0, n = src.length; i < n; i++) {
    const v = src[i];
    // NaN fails both comparisons, so it never becomes min or max.
    min = v < min ? v : min;
    max = v > max ? v : max;
    acc += v;
  }
  const bad = !(acc - acc === 0);
  if (bad && (min === Number.NEGATIVE_INFINITY || max === Number.POSITIVE_INFINITY)) {
    // Infinities won the comparisons above; redo without them (rare path).
    min = Number.POSITIVE_INFINITY;
    max = Number.NEGATIVE_INFINITY;
    for (let i = 0, n = src.length; i < n; i++) {
      const v = src[i];
      if (v - v === 0) {
        min = v < min ? v : min;
        max = v > max ? v : max;
      }
    }
  }
  return { min, max, bad };
}

/** Normalises `data` to 0..1 with the given range, clamped; NaN becomes 0. */
export function normalizeClamped(data: Float32Array, lo: number, hi: number, out: Float32Array = new Float32Array(data.length)): Float32Array {
  const inv = hi > lo ? 1 / (hi - lo) : 0;
  for (let i = 0, n = data.length; i < n; i++) {
    const v = (data[i] - lo) * inv;
    out[i] = v > 0 ? (v < 1 ? v : 1) : 0;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Flicker measurement

/**
 * Mean |cur - prev| of two rendered (0..1) frames over the pixels marked in
 * `stillMask` (all pixels without a mask). Returns 0 when no pixel counts.
 */
export function flicker(prev: Float32Array, cur: Float32Array, stillMask?: Uint8Array): number {
  const n = Math.min(prev.length, cur.length);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (stillMask !== undefined && stillMask[i] === 0) continue;
    const d = Math.abs(cur[i] - prev[i]);
    if (d - d === 0) {
      sum += d;
      count++;
    }
  }
  return count > 0 ? sum / count : 0;
}

/**
 * 1 where no RGB channel changed by more than `threshold` (0..255) between
 * the two frames, else 0. One byte per pixel.
 */
export function stillMaskFromFrames(prevRgb: Uint8Array, curRgb: Uint8Array, width: number, height: number, threshold = 6): Uint8Array {
  const n = width * height;
  if (prevRgb.length < n * 3 || curRgb.length < n * 3) {
    throw new DepthVideoError('USAGE', `stillMaskFromFrames: frames are smaller than ${width}x${height} RGB; pass matching frame sizes.`);
  }
  const mask = new Uint8Array(n);
  for (let p = 0, i = 0; p < n; p++, i += 3) {
    const dr = Math.abs(prevRgb[i] - curRgb[i]);
    const dg = Math.abs(prevRgb[i + 1] - curRgb[i + 1]);
    const db = Math.abs(prevRgb[i + 2] - curRgb[i + 2]);
    mask[p] = dr <= threshold && dg <= threshold && db <= threshold ? 1 : 0;
  }
  return mask;
}

// ---------------------------------------------------------------------------
// The stabiliser

function validateOptions(opts: StabilizeOptions): StabilizeOptions {
  const bad = (what: string): never => {
    throw new DepthVideoError('USAGE', `Invalid stabilisation option: ${what}.`);
  };
  if (opts.mode !== 'off' && opts.mode !== 'normalize' && opts.mode !== 'align') bad(`mode "${String(opts.mode)}" (use off, normalize or align)`);
  if (!(opts.window >= 0) || !Number.isFinite(opts.window)) bad(`window ${opts.window} (use a frame count >= 0)`);
  if (!(opts.lowPct >= 0 && opts.highPct <= 100 && opts.lowPct < opts.highPct)) bad(`percentiles ${opts.lowPct}/${opts.highPct} (need 0 <= low < high <= 100)`);
  if (opts.gridStep !== undefined && !(opts.gridStep >= 1 && Number.isFinite(opts.gridStep))) bad(`gridStep ${opts.gridStep} (use an integer >= 1)`);
  if (opts.cutThreshold !== undefined && !(opts.cutThreshold > 0)) bad(`cutThreshold ${opts.cutThreshold} (use a number > 0)`);
  return Object.freeze({ ...opts });
}

/**
 * Online depth stabiliser. Call `update` once per inferred frame, in order;
 * it works on any size (stabilising at inference resolution before upsampling
 * is cheaper and equivalent, since upsampling commutes with an affine map).
 */
export class DepthStabilizer {
  readonly options: StabilizeOptions;
  private readonly alpha: number;
  private readonly cutThreshold: number;

  private emaLo = Number.NaN;
  private emaHi = Number.NaN;
  // Reference: the previous stabilised frame, kept only at the grid samples.
  private refGrid: Float32Array = new Float32Array(0);
  private refValid: Uint8Array = new Uint8Array(0);
  private refSpread = 0;
  private refWidth = 0;
  private refHeight = 0;
  private refStep = 0;
  private hasRef = false;

  // Scratch buffers reused across frames.
  private curGrid: Float32Array = new Float32Array(0);
  private xs: Float32Array = new Float32Array(0);
  private ys: Float32Array = new Float32Array(0);
  private scratch: Float32Array = new Float32Array(0);

  constructor(opts: StabilizeOptions) {
    this.options = validateOptions(opts);
    this.alpha = opts.window > 0 ? 1 - Math.exp(-1 / opts.window) : 1;
    this.cutThreshold = opts.cutThreshold ?? DEFAULT_CUT_THRESHOLD;
  }

  reset(): void {
    this.emaLo = Number.NaN;
    this.emaHi = Number.NaN;
    this.hasRef = false;
    this.refWidth = 0;
    this.refHeight = 0;
  }

  /**
   * Stabilises one prediction. `out` receives the aligned data (align mode,
   * or a sanitised copy when the input holds NaN/Inf); it may be
   * `depth.data` itself. Without `out` a fresh array is allocated when one
   * is needed, so results never alias internal state.
   */
  update(depth: DepthMap, out?: Float32Array): StabilizedDepth {
    const { width, height, data } = depth;
    if (data.length < width * height) {
      throw new DepthVideoError('PIPELINE_CONFIG', `Depth map holds ${data.length} values but claims ${width}x${height}; the inference stage produced a bad buffer.`);
    }
    if (out !== undefined && out.length < data.length) {
      throw new DepthVideoError('PIPELINE_CONFIG', `Stabiliser output buffer holds ${out.length} values, needs ${data.length}.`);
    }
    switch (this.options.mode) {
      case 'off': return this.updateOff(data, out);
      case 'normalize': return this.updateNormalize(depth, out);
      case 'align': return this.updateAlign(depth, out);
    }
  }

  private ensureScratch(n: number): void {
    if (this.curGrid.length < n) {
      this.curGrid = new Float32Array(n);
      this.xs = new Float32Array(n);
      this.ys = new Float32Array(n);
      this.scratch = new Float32Array(n);
    }
  }

  private stepFor(width: number, height: number): number {
    return Math.max(1, Math.floor(this.options.gridStep ?? autoGridStep(width, height)));
  }

  private updateOff(data: Float32Array, out: Float32Array | undefined): StabilizedDepth {
    const { min, max, bad } = minMax(data);
    const [lo, hi] = safeRange(min, max);
    let result = data;
    if (bad) {
      result = out ?? new Float32Array(data.length);
      affineInto(data, result, 1, 0, lo);
    }
    return { data: result, lo, hi, scale: 1, shift: 0, reset: false, fitError: 0 };
  }

  private emaStep(pLo: number, pHi: number, restart: boolean): [number, number] {
    if (restart || !isFiniteNumber(this.emaLo) || !isFiniteNumber(this.emaHi)) {
      this.emaLo = pLo;
      this.emaHi = pHi;
    } else {
      this.emaLo += this.alpha * (pLo - this.emaLo);
      this.emaHi += this.alpha * (pHi - this.emaHi);
    }
    return safeRange(this.emaLo, this.emaHi);
  }

  private updateNormalize(depth: DepthMap, out: Float32Array | undefined): StabilizedDepth {
    const { width, height, data } = depth;
    const step = this.stepFor(width, height);
    this.ensureScratch(gridCount(width, height, step));
    const n = sampleGrid(data, width, height, step, this.scratch);
    let result = data;
    let pLo: number, pHi: number;
    if (n > 0) {
      [pLo, pHi] = percentilePair(this.scratch, n, this.options.lowPct, this.options.highPct);
    } else {
      pLo = isFiniteNumber(this.emaLo) ? this.emaLo : 0;
      pHi = isFiniteNumber(this.emaHi) ? this.emaHi : 1;
    }
    const restart = !isFiniteNumber(this.emaLo) || this.refWidth !== width || this.refHeight !== height;
    this.refWidth = width;
    this.refHeight = height;
    const [lo, hi] = this.emaStep(pLo, pHi, restart);
    // A full scan for NaN would cost as much as the whole update, so only a
    // frame whose grid already showed NaN/Inf gets a sanitised copy.
    if (n < gridCount(width, height, step)) {
      result = out ?? new Float32Array(data.length);
      affineInto(data, result, 1, 0, lo);
    }
    return { data: result, lo, hi, scale: 1, shift: 0, reset: restart, fitError: 0 };
  }

  private updateAlign(depth: DepthMap, out: Float32Array | undefined): StabilizedDepth {
    const { width, height, data } = depth;
    const step = this.stepFor(width, height);
    const cells = gridCount(width, height, step);
    this.ensureScratch(cells);

    // Sample every grid cell (NaN kept) so samples line up with the reference.
    const cur = this.curGrid;
    {
      let k = 0;
      const y0 = Math.min(height - 1, step >> 1);
      const x0 = Math.min(width - 1, step >> 1);
      for (let y = y0; y < height; y += step) {
        const row = y * width;
        for (let x = x0; x < width; x += step) cur[k++] = data[row + x];
      }
    }

    const sameGeometry = this.hasRef && this.refWidth === width && this.refHeight === height && this.refStep === step;
    let scale = 1;
    let shift = 0;
    let fitError = 0;
    let reset = !sameGeometry;

    if (sameGeometry) {
      let n = 0;
      const xs = this.xs, ys = this.ys, ref = this.refGrid, valid = this.refValid;
      // Two parameters need far fewer samples than percentiles do.
      const fitStride = Math.max(1, Math.ceil(cells / FIT_SAMPLES));
      for (let i = 0; i < cells; i += fitStride) {
        const x = cur[i];
        if (valid[i] !== 0 && x - x === 0) {
          xs[n] = x;
          ys[n] = ref[i];
          n++;
        }
      }
      const spread = this.refSpread;
      const fit = fitSamples(xs, ys, n, 8, this.cutThreshold * spread, spread, true, this.scratch);
      fitError = fit.residual;
      const poor = !(fit.scale > 0) || !(fit.residual <= this.cutThreshold) || fit.inlierFraction < MIN_INLIER_FRACTION;
      if (poor) reset = true;
      else {
        scale = fit.scale;
        shift = fit.shift;
      }
    }

    if (reset) {
      // Start a fresh stabilised space in which the frame's own percentile
      // range maps to 0..1; that keeps values O(1) whatever the model emits.
      const n = sampleGrid(data, width, height, step, this.scratch);
      const [pLo, pHi] = n > 0 ? percentilePair(this.scratch, n, this.options.lowPct, this.options.highPct) : [0, 1];
      const spread = pHi - pLo;
      if (spread > 1e-12 * Math.max(1, Math.abs(pLo)) && isFiniteNumber(spread)) {
        scale = 1 / spread;
        shift = -pLo * scale;
      } else {
        scale = 1;
        shift = isFiniteNumber(pLo) ? -pLo : 0;
      }
    }

    // Aligned grid -> this frame's percentiles -> EMA.
    const ref = this.refGrid.length >= cells ? this.refGrid : (this.refGrid = new Float32Array(cells));
    const valid = this.refValid.length >= cells ? this.refValid : (this.refValid = new Uint8Array(cells));
    const sc = this.scratch;
    let n = 0;
    for (let i = 0; i < cells; i++) {
      const v = scale * cur[i] + shift;
      if (v - v === 0) {
        ref[i] = v;
        valid[i] = 1;
        sc[n++] = v;
      } else {
        ref[i] = 0;
        valid[i] = 0;
      }
    }
    const [pLo, pHi] = n > 0 ? percentilePair(sc, n, this.options.lowPct, this.options.highPct) : [0, 1];
    let [lo, hi] = this.emaStep(pLo, pHi, reset);

    // Chained fits random-walk (and any residual slope bias compounds), so
    // over a long shot the stabilised space can drift towards float32
    // trouble; when the smoothed range has left 0..1 far behind, re-express
    // the whole state in a fresh 0..1 space. Rendering is unchanged because
    // data, lo and hi move by the same affine map.
    const width01 = hi - lo;
    let a = 1;
    if (!reset && (width01 < 0.25 || width01 > 4 || Math.abs(lo) > 4)) {
      a = 1 / width01;
      const c = -lo * a;
      scale *= a;
      shift = shift * a + c;
      for (let i = 0; i < cells; i++) ref[i] = ref[i] * a + c;
      this.emaLo = this.emaLo * a + c;
      this.emaHi = this.emaHi * a + c;
      [lo, hi] = safeRange(this.emaLo, this.emaHi);
    }

    this.refSpread = Math.max(0, (pHi - pLo) * a);
    this.refWidth = width;
    this.refHeight = height;
    this.refStep = step;
    this.hasRef = true;

    if (this.options.materialize === false) {
      // scale > 0 on every path, so the range keeps its orientation.
      const [rawLo, rawHi] = safeRange((lo - shift) / scale, (hi - shift) / scale);
      let result = data;
      if (n < cells) {
        result = out ?? new Float32Array(data.length);
        affineInto(data, result, 1, 0, rawLo);
      }
      return { data: result, lo: rawLo, hi: rawHi, scale, shift, reset, fitError };
    }
    const result = out ?? new Float32Array(data.length);
    affineInto(data, result, scale, shift, lo);
    return { data: result, lo, hi, scale, shift, reset, fitError };
  }
}
