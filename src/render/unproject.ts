/**
 * Relative inverse depth to 3D points, for the page's 3D view and the PLY
 * writer alike. This module imports nothing: the preview server hands its
 * compiled form to the browser as it is (/lib/unproject.js), so the page and
 * the point clouds use one conversion.
 *
 * A model gives V, the normalised inverse depth (0 = far, 1 = near), known
 * only up to scale and shift; choosing the nearest and farthest distances
 * fixes both (muggled_dpt's 3D viewer):
 *   depth = 1 / (V · (1/dMin − 1/dMax) + 1/dMax)
 * so V = 1 is dMin and V = 0 is dMax. Points are unprojected through a
 * pinhole camera at the origin whose horizontal field of view spans the
 * picture's width, with square pixels and the principal point at the centre.
 * Axes are those of three.js and OpenGL: x right, y up, the camera looking
 * down −z (a point `depth` in front of it has z = −depth).
 */

/** Defaults of the 3D view and of `--depth-range` / `--fov`. */
export const DEFAULT_D_MIN = 1;
export const DEFAULT_D_MAX = 10;
export const DEFAULT_FOV_DEG = 60;

export interface CameraModel {
  /** Distance of V = 1 (nearest). */
  readonly dMin: number;
  /** Distance of V = 0 (farthest). */
  readonly dMax: number;
  /** Horizontal field of view across the picture's width, degrees. */
  readonly fovDeg: number;
}

export const DEFAULT_CAMERA: CameraModel = { dMin: DEFAULT_D_MIN, dMax: DEFAULT_D_MAX, fovDeg: DEFAULT_FOV_DEG };

/** The distance of a normalised inverse depth v (0..1). */
export function depthFromInverse(v: number, dMin: number, dMax: number): number {
  return 1 / (v * (1 / dMin - 1 / dMax) + 1 / dMax);
}

/** Focal length in pixels of a picture `width` pixels wide seen with a horizontal FOV of fovDeg. */
export function focalLength(width: number, fovDeg: number): number {
  return width / 2 / Math.tan((fovDeg * Math.PI) / 360);
}

/** Why a camera model is unusable, or null. */
export function cameraModelProblem(m: CameraModel): string | null {
  if (!(m.dMin > 0) || !Number.isFinite(m.dMin)) return `the near distance must be a positive number (got ${m.dMin})`;
  if (!(m.dMax > m.dMin) || !Number.isFinite(m.dMax)) return `the far distance must be larger than the near one (got ${m.dMin}:${m.dMax})`;
  if (!(m.fovDeg > 0 && m.fovDeg < 180)) return `the field of view must be between 0 and 180 degrees (got ${m.fovDeg})`;
  return null;
}

/** Columns and rows of the grid that takes every `step`-th pixel of every `step`-th row. */
export function gridSize(width: number, height: number, step: number): { cols: number; rows: number } {
  return { cols: Math.ceil(width / step), rows: Math.ceil(height / step) };
}

/**
 * V of every `step`-th pixel of every `step`-th row, as offset + scale · value
 * (bytes 0..255 take scale 1/255; far-is-bright bytes offset 1, scale −1/255).
 */
export function sampleInverse(
  values: ArrayLike<number>, width: number, height: number, step: number,
  scale: number, offset: number, out: Float32Array,
): Float32Array {
  const { cols, rows } = gridSize(width, height, step);
  if (out.length < cols * rows) throw new RangeError(`sampleInverse: out holds ${out.length} values, needs ${cols * rows}`);
  for (let y = 0, k = 0; y < rows; y++) {
    const row = y * step * width;
    for (let x = 0; x < cols; x++, k++) out[k] = offset + scale * values[row + x * step]!;
  }
  return out;
}

/**
 * Positions (x, y, z per point) of a grid of V values whose sample (gx, gy)
 * is the pixel (gx·step, gy·step) of a width x height picture; each point
 * passes through its pixel's centre.
 */
export function unprojectGrid(
  v: ArrayLike<number>, cols: number, rows: number, width: number, height: number, step: number,
  m: CameraModel, out: Float32Array,
): Float32Array {
  const a = 1 / m.dMin - 1 / m.dMax;
  const b = 1 / m.dMax;
  return unprojectDistances(cols, rows, width, height, step, m.fovDeg, out, (k) => 1 / (v[k]! * a + b));
}

/**
 * Positions of every pixel of a metric depth map (metres, larger = farther,
 * as Depth-Anything V2 metric gives it): the distances are the model's own,
 * no d_min/d_max conversion.
 */
export function unprojectMetres(metres: ArrayLike<number>, width: number, height: number, fovDeg: number, out: Float32Array): Float32Array {
  return unprojectDistances(width, height, width, height, 1, fovDeg, out, (k) => metres[k]!);
}

/** Each grid sample's ray through its pixel's centre, scaled to `distance(k)` along the view axis. */
function unprojectDistances(
  cols: number, rows: number, width: number, height: number, step: number, fovDeg: number, out: Float32Array,
  distance: (k: number) => number,
): Float32Array {
  if (out.length < cols * rows * 3) throw new RangeError(`unproject: out holds ${out.length} values, needs ${cols * rows * 3}`);
  const invF = 1 / focalLength(width, fovDeg);
  const cx = width / 2;
  const cy = height / 2;
  for (let gy = 0, k = 0; gy < rows; gy++) {
    const ry = (cy - (gy * step + 0.5)) * invF;
    for (let gx = 0; gx < cols; gx++, k++) {
      const d = distance(k);
      out[k * 3] = (gx * step + 0.5 - cx) * invF * d;
      out[k * 3 + 1] = ry * d;
      out[k * 3 + 2] = -d;
    }
  }
  return out;
}

/** V ≈ a·gx + b·gy + c over grid coordinates. */
export interface InversePlane {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  /** Share of the sampled points within the tolerance of the plane. */
  readonly inliers: number;
}

export interface PlaneFitOptions {
  /** Points sampled across and down the grid. */
  readonly samplesX?: number;
  readonly samplesY?: number;
  /** RANSAC hypotheses (three points each). */
  readonly tries?: number;
  /** Inlier distance, in V units. */
  readonly tolerance?: number;
}

/** Least squares plane through the points whose residual is within tol (tol = Infinity: all). */
function leastSquaresPlane(xs: Float64Array, ys: Float64Array, vs: Float64Array, n: number, p: { a: number; b: number; c: number }, tol: number): { a: number; b: number; c: number; count: number } | null {
  let sxx = 0, sxy = 0, sx = 0, syy = 0, sy = 0, s1 = 0, sxv = 0, syv = 0, sv = 0;
  for (let i = 0; i < n; i++) {
    const x = xs[i]!, y = ys[i]!, v = vs[i]!;
    if (!(Math.abs(v - (p.a * x + p.b * y + p.c)) <= tol)) continue;
    sxx += x * x; sxy += x * y; sx += x; syy += y * y; sy += y; s1 += 1;
    sxv += x * v; syv += y * v; sv += v;
  }
  // Cramer's rule on the 3x3 normal equations.
  const det = sxx * (syy * s1 - sy * sy) - sxy * (sxy * s1 - sy * sx) + sx * (sxy * sy - syy * sx);
  if (s1 < 3 || Math.abs(det) < 1e-12) return null;
  const a = (sxv * (syy * s1 - sy * sy) - sxy * (syv * s1 - sy * sv) + sx * (syv * sy - syy * sv)) / det;
  const b = (sxx * (syv * s1 - sv * sy) - sxv * (sxy * s1 - sy * sx) + sx * (sxy * sv - syv * sx)) / det;
  const c = (sxx * (syy * sv - sy * syv) - sxy * (sxy * sv - sy * sxv) + sx * (sxy * syv - syy * sxv)) / det;
  return { a, b, c, count: s1 };
}

/**
 * The dominant plane of the scene. For a pinhole camera the inverse depth of
 * any plane not through the camera is linear in pixel coordinates, and V is
 * affine in inverse depth, so fitting V = a·x + b·y + c over the picture is
 * fitting a plane to the 3D points (whatever dMin, dMax and the FOV). The fit
 * is robust: RANSAC on a samplesX x samplesY lattice of the grid (three-point
 * hypotheses from a fixed-seed generator, so a still scene gives the same
 * plane every frame; the plane with most points within `tolerance` wins),
 * then a least-squares refit on that plane's inliers. null when the grid is
 * too small or degenerate.
 */
export function fitInversePlane(v: ArrayLike<number>, cols: number, rows: number, opts: PlaneFitOptions = {}): InversePlane | null {
  const nx = Math.min(cols, opts.samplesX ?? 48);
  const ny = Math.min(rows, opts.samplesY ?? 27);
  const tries = opts.tries ?? 64;
  const tol = opts.tolerance ?? 0.02;
  const n = nx * ny;
  if (nx < 2 || ny < 2) return null;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  const vs = new Float64Array(n);
  for (let j = 0, k = 0; j < ny; j++) {
    const gy = Math.round((j * (rows - 1)) / (ny - 1));
    for (let i = 0; i < nx; i++, k++) {
      const gx = Math.round((i * (cols - 1)) / (nx - 1));
      xs[k] = gx; ys[k] = gy; vs[k] = v[gy * cols + gx]!;
    }
  }
  let seed = 0x9e3779b9;
  const rand = (): number => {
    // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let best: { a: number; b: number; c: number } | null = null;
  let bestCount = 0;
  for (let t = 0; t < tries; t++) {
    const i = (rand() * n) | 0, j = (rand() * n) | 0, k = (rand() * n) | 0;
    const x1 = xs[j]! - xs[i]!, y1 = ys[j]! - ys[i]!, v1 = vs[j]! - vs[i]!;
    const x2 = xs[k]! - xs[i]!, y2 = ys[k]! - ys[i]!, v2 = vs[k]! - vs[i]!;
    const det = x1 * y2 - x2 * y1;
    if (Math.abs(det) < 1e-9) continue; // collinear in the picture
    const a = (v1 * y2 - v2 * y1) / det;
    const b = (x1 * v2 - x2 * v1) / det;
    const c = vs[i]! - a * xs[i]! - b * ys[i]!;
    let count = 0;
    for (let q = 0; q < n; q++) if (Math.abs(vs[q]! - (a * xs[q]! + b * ys[q]! + c)) <= tol) count++;
    if (count > bestCount) { bestCount = count; best = { a, b, c }; }
  }
  if (!best) return null;
  const refit = leastSquaresPlane(xs, ys, vs, n, best, tol) ?? { ...best, count: bestCount };
  return { a: refit.a, b: refit.b, c: refit.c, inliers: refit.count / n };
}

/**
 * Subtracts the plane from V in place, keeping the plane's mean level, then
 * stretches the result back to 0..1: the plane (usually the floor or a wall)
 * becomes a backdrop at one distance and what stands on it stands out.
 */
export function subtractInversePlane(v: Float32Array, cols: number, rows: number, p: InversePlane): Float32Array {
  const level = p.a * (cols - 1) / 2 + p.b * (rows - 1) / 2 + p.c;
  let lo = Infinity;
  let hi = -Infinity;
  for (let gy = 0, k = 0; gy < rows; gy++) {
    for (let gx = 0; gx < cols; gx++, k++) {
      const r = v[k]! - (p.a * gx + p.b * gy + p.c) + level;
      v[k] = r;
      if (r < lo) lo = r;
      if (r > hi) hi = r;
    }
  }
  const span = hi - lo;
  const n = cols * rows;
  if (!(span > 0)) { v.fill(0, 0, n); return v; }
  for (let k = 0; k < n; k++) v[k] = (v[k]! - lo) / span;
  return v;
}
