/**
 * Finer depth for the 3D views. The page colours depth from 8-bit colour-table
 * indices, but a mesh displaced by 256 levels shows them as terraces. A viewer
 * with a 3D view open also gets, for each pixel the mesh reads (every
 * `step`-th pixel of every `step`-th row, meshStep), the fraction of a level
 * that rounding dropped: the mesh sees about 17 bits, the indices (and so the
 * colours) stay exactly those every viewer gets, and the extra bytes are a
 * ninth of the indices' at the preview's 960 pixels.
 *
 * For w = clamp(invert ? 1 - v : v, 0, 1) (NaN -> 0, as the index rule),
 * index = floor(255 w + 0.5) and fraction = floor((255 w + 0.5 - index) * 256),
 * so 255 w lies within 1/512 of index - 0.5 + (fraction + 0.5) / 256.
 *
 * Imports nothing: the server hands this file to the page as it is compiled.
 */

/** Widest mesh of the 3D views: a 640-pixel depth gives a 320x180 grid (115k triangles), light enough for software GL. */
export const MESH_MAX_COLS = 320;

/** The mesh's step for a depth `width` pixels wide: it reads pixel (x * step, y * step). */
export function meshStep(width: number): number {
  return Math.max(1, Math.ceil(width / MESH_MAX_COLS));
}

/** The fractions of the indices at the mesh's pixels, row by row, into `out` (ceil(width / step) x ceil(height / step)). */
export function depthFractions(
  values: ArrayLike<number>, indices: ArrayLike<number>, width: number, height: number, step: number, invert: boolean, out: Uint8Array,
): Uint8Array {
  const cols = Math.ceil(width / step);
  const rows = Math.ceil(height / step);
  for (let gy = 0, k = 0; gy < rows; gy++) {
    for (let gx = 0; gx < cols; gx++, k++) {
      const p = gy * step * width + gx * step;
      let w = values[p]!;
      if (invert) w = 1 - w;
      w = w > 0 ? (w < 1 ? w : 1) : 0;
      const f = Math.floor((w * 255 + 0.5 - indices[p]!) * 256);
      out[k] = f < 0 ? 0 : f > 255 ? 255 : f;
    }
  }
  return out;
}

/**
 * Index and fraction as one value in index units (-0.5 .. 255.5), what the
 * 3D views displace by, written at the mesh's pixels only: those are all
 * the views read (sampleInverse with the same step), and the other entries
 * of `out` are left as they are rather than copied every frame.
 */
export function fineIndexValues(
  indices: ArrayLike<number>, fractions: ArrayLike<number>, width: number, height: number, step: number, out: Float32Array,
): Float32Array {
  const cols = Math.ceil(width / step);
  const rows = Math.ceil(height / step);
  for (let gy = 0, k = 0; gy < rows; gy++) {
    for (let gx = 0; gx < cols; gx++, k++) {
      const p = gy * step * width + gx * step;
      out[p] = indices[p]! - 0.5 + (fractions[k]! + 0.5) / 256;
    }
  }
  return out;
}
