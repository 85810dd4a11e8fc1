import { resizeTo, weight, type Ctx } from '../../inference/generate/dpt/layers.js';

/**
 * timm's gen_relative_position_index (beit.py) for an h x w patch window,
 * in C order over [h·w + 1, h·w + 1]: token i = (yi, xi) attends to token j
 * through table row (yi − yj + h − 1)·(2w − 1) + (xi − xj + w − 1); the class
 * token's row, column and corner take the last three rows of the table
 * (cls→token: R − 3, token→cls: R − 2, cls→cls: R − 1, R = (2h−1)(2w−1) + 3).
 */
export function relativePositionIndex(h: number, w: number): Int32Array {
  const n = h * w;
  const side = n + 1;
  const rows = (2 * h - 1) * (2 * w - 1) + 3;
  const out = new Int32Array(side * side);
  for (let j = 1; j < side; j++) out[j] = rows - 3;
  for (let i = 1; i < side; i++) {
    out[i * side] = rows - 2;
    const [yi, xi] = [Math.floor((i - 1) / w), (i - 1) % w];
    for (let j = 1; j < side; j++) {
      const [yj, xj] = [Math.floor((j - 1) / w), (j - 1) % w];
      out[i * side + j] = (yi - yj + h - 1) * (2 * w - 1) + (xi - xj + w - 1);
    }
  }
  out[0] = rows - 1;
  return out;
}

/**
 * The same index for the input's own grid (int64 [h, w], known at run time),
 * built in the graph once and shared by every block: int64 [h·w + 1, h·w + 1].
 */
export function relativePositionIndexOf(ctx: Ctx, grid: string): string {
  const g = ctx.g;
  const i64 = (v: number): string => g.constI64([v]);
  const scalar = (x: string): string => g.op('Squeeze', [x, i64(0)]);
  const [h, w] = g.node('Split', [grid], { attrs: { axis: 0 }, count: 2, name: 'rel_pos.hw' });
  const along = (size: string, axis: number): string => {
    const coords = g.op('Range', [scalar(i64(0)), scalar(size), scalar(i64(1))]);
    // Each token's coordinate on this axis, row-major over the grid: [h·w].
    return g.op('Reshape', [g.op('Expand', [g.op('Unsqueeze', [coords, i64(1 - axis)]), grid]), i64(-1)]);
  };
  const diff = (c: string, size: string): string =>
    g.op('Add', [g.op('Sub', [g.op('Unsqueeze', [c, i64(1)]), g.op('Unsqueeze', [c, i64(0)])]), g.op('Sub', [size, i64(1)])]);
  const twoWm1 = g.op('Sub', [g.op('Mul', [w, i64(2)]), i64(1)]);
  const twoHm1 = g.op('Sub', [g.op('Mul', [h, i64(2)]), i64(1)]);
  const patches = g.op('Add', [g.op('Mul', [diff(along(h, 0), h), twoWm1]), diff(along(w, 1), w)], undefined, 'rel_pos.patches');
  const rows = g.op('Add', [g.op('Mul', [twoHm1, twoWm1]), i64(3)]);
  const n = g.op('Mul', [h, w]);
  const clsRow = g.op('Concat', [g.op('Sub', [rows, i64(1)]), g.op('Expand', [g.op('Sub', [rows, i64(3)]), n])], { axis: 0 });
  const clsColumn = g.op('Expand', [g.op('Sub', [rows, i64(2)]), g.op('Concat', [n, i64(1)], { axis: 0 })]);
  const below = g.op('Concat', [clsColumn, patches], { axis: 1 });
  return g.op('Concat', [g.op('Unsqueeze', [clsRow, i64(0)]), below], { axis: 0 }, 'rel_pos.index');
}

/**
 * One block's relative position bias, as MiDaS's _get_rel_pos_bias makes it
 * (backbones/beit.py) for any input size: the table's first (2G−1)² rows,
 * laid out as a (2G−1) x (2G−1) map per head, are resized bilinearly
 * (align_corners=False) to (2h−1) x (2w−1) for the input's h x w grid; the
 * three class-token rows are kept; `index` picks each token pair's entry.
 * For the training grid the resize is the identity. Returns [heads, T, T],
 * T = h·w + 1, to add to the scores.
 */
export function relativePositionBias(ctx: Ctx, name: string, window: number, heads: number, grid: string, index: string): string {
  const g = ctx.g;
  const side = 2 * window - 1;
  const rows = side * side + 3;
  const table = weight(ctx, { name: `${name}.relative_position_bias_table`, dims: [rows, heads], init: { std: 0.02 } });
  const axis0 = g.constI64([0]);
  const sub = g.op('Slice', [table, axis0, g.constI64([side * side]), axis0]);
  const cls = g.op('Slice', [table, g.constI64([side * side]), g.constI64([rows]), axis0]);
  const map = g.op('Transpose', [g.op('Reshape', [sub, g.constI64([1, side, side, heads])])], { perm: [0, 3, 1, 2] }, `${name}.rel_pos_map`);
  const newSide = g.op('Sub', [g.op('Mul', [grid, g.constI64([2])]), g.constI64([1])]);
  const resized = resizeTo(ctx, map, heads, newSide, 'bilinear');
  // [heads, rows'] with heads leading, so Gather along the rows yields [heads, T, T] with no big transpose.
  const perHead = g.op('Concat', [g.op('Reshape', [resized, g.constI64([heads, -1])]), g.op('Transpose', [cls], { perm: [1, 0] })], { axis: 1 });
  return g.op('Gather', [perHead, index], { axis: 1 }, `${name}.rel_pos_bias`);
}
