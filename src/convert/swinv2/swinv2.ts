import { conv, gelu, layerNorm, linear, linearNoBias, weight, type Ctx } from '../../inference/generate/dpt/layers.js';
import { qvBiasedProjection } from '../../inference/generate/dpt/transformer.js';
import type { SwinV2Config } from './config.js';
import { effectiveWindow, inversePermutation, relativeCoordsTable, relativePositionIndex, shiftedWindowRegions, windowOrder } from './windows.js';

/** nn.LayerNorm's default: timm's SwinV2 builds every norm with it. */
const LN_EPS = 1e-5;
/** WindowAttention clamps the learned logit scale at log(1 / 0.01). */
const MAX_LOGIT_SCALE = Math.log(100);

/** One stage's fixed geometry: tokens per side, channels, heads, its window and the pretraining window. */
interface Stage {
  readonly index: number;
  readonly res: number;
  readonly dim: number;
  readonly heads: number;
  readonly window: number;
  readonly pretrainedWindow: number;
}

/**
 * The window bookkeeping a stage's blocks share, made once per stage: the
 * coordinate table and position bias index, and for the plain and the
 * shifted blocks the token order in and out of the windows and the mask.
 */
interface StageConstants {
  readonly coords: string;
  readonly index: string;
  readonly layouts: Map<number, { order: string | null; back: string | null; mask: string | null }>;
}

function stageConstants(ctx: Ctx, s: Stage): StageConstants {
  const g = ctx.g;
  const side = 2 * s.window - 1;
  return {
    coords: g.constF([...relativeCoordsTable(s.window, s.pretrainedWindow)], [side * side, 2], `layers.${s.index}.relative_coords_table`),
    index: g.constI64([...relativePositionIndex(s.window)], `layers.${s.index}.relative_position_index`),
    layouts: new Map(),
  };
}

/** Token order into and out of the windows for one shift (null when it is the identity), and its mask. */
function layout(ctx: Ctx, s: Stage, k: StageConstants, shift: number): { order: string | null; back: string | null; mask: string | null } {
  const known = k.layouts.get(shift);
  if (known) return known;
  const g = ctx.g;
  const order = windowOrder(s.res, s.window, shift);
  const identity = order.every((v, i) => v === i);
  let mask: string | null = null;
  if (shift > 0) {
    // attn_mask = -100 where two tokens of a window come from different regions of the rolled map, else 0.
    const n = s.window * s.window;
    const windows = (s.res * s.res) / n;
    const regions = g.constF([...shiftedWindowRegions(s.res, s.window, shift)], [windows, n], `layers.${s.index}.regions`);
    const same = g.op('Equal', [g.op('Unsqueeze', [regions, g.constI64([2])]), g.op('Unsqueeze', [regions, g.constI64([1])])]);
    const m = g.op('Where', [same, g.constF([0], []), g.constF([-100], [])]);
    mask = g.op('Unsqueeze', [m, g.constI64([1])], undefined, `layers.${s.index}.attn_mask`);
  }
  const made = {
    order: identity ? null : g.constI64([...order], `layers.${s.index}.window_order`),
    back: identity ? null : g.constI64([...inversePermutation(order)], `layers.${s.index}.window_reverse`),
    mask,
  };
  k.layouts.set(shift, made);
  return made;
}

/**
 * 16 · sigmoid(cpb_mlp(relative_coords_table)) gathered by
 * relative_position_index: [heads, w², w²]. It depends only on weights and
 * constants, so onnxruntime computes it once when the model loads.
 */
function positionBias(ctx: Ctx, s: Stage, k: StageConstants, name: string): string {
  const g = ctx.g;
  const n = s.window * s.window;
  const hidden = g.op('Relu', [linear(ctx, k.coords, `${name}.cpb_mlp.0`, 2, 512)]);
  const table = linearNoBias(ctx, hidden, `${name}.cpb_mlp.2`, 512, s.heads);
  const gathered = g.op('Gather', [table, k.index], { axis: 0 }, `${name}.bias_gather`);
  const perHead = g.op('Transpose', [g.op('Reshape', [gathered, g.constI64([n, n, s.heads])])], { perm: [2, 0, 1] });
  return g.op('Mul', [g.op('Sigmoid', [perHead]), g.constF([16], [])], undefined, `${name}.position_bias`);
}

/** F.normalize(x, dim=-1): x / max(‖x‖₂, 1e-12). */
function l2Normalize(ctx: Ctx, x: string): string {
  const g = ctx.g;
  const norm = g.op('ReduceL2', [x], { axes: [-1], keepdims: 1 });
  return g.op('Div', [x, g.op('Max', [norm, g.constF([1e-12], [])])], undefined, 'normalize');
}

/**
 * WindowAttention on [windows, w², C]: scaled cosine attention (the logit
 * scale clamped at log 100, then exp), plus the continuous position bias,
 * plus the shifted block's mask.
 */
function windowAttention(ctx: Ctx, s: Stage, k: StageConstants, x: string, mask: string | null, name: string): string {
  const g = ctx.g;
  const C = s.dim;
  const d = C / s.heads;
  const qkv = qvBiasedProjection(ctx, x, name, C);
  const [q, kk, v] = g.node('Split', [qkv], { attrs: { axis: 2 }, count: 3, name: `${name}.qkv_split` });
  const headShape = g.constI64([0, 0, s.heads, d]);
  const heads = (t: string): string => g.op('Transpose', [g.op('Reshape', [t, headShape])], { perm: [0, 2, 1, 3] });
  const cosine = g.op('MatMul', [l2Normalize(ctx, heads(q)), g.op('Transpose', [l2Normalize(ctx, heads(kk))], { perm: [0, 1, 3, 2] })]);
  const logitScale = weight(ctx, { name: `${name}.logit_scale`, dims: [s.heads, 1, 1], init: { fill: Math.log(10) } });
  const scale = g.op('Exp', [g.op('Min', [logitScale, g.constF([MAX_LOGIT_SCALE], [])])]);
  let scores = g.op('Add', [g.op('Mul', [cosine, scale]), positionBias(ctx, s, k, name)], undefined, `${name}.scores`);
  if (mask) scores = g.op('Add', [scores, mask], undefined, `${name}.masked`);
  const attn = g.op('Softmax', [scores], { axis: -1 }, `${name}.softmax`);
  const merged = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [attn, heads(v)])], { perm: [0, 2, 1, 3] }), g.constI64([0, 0, C])]);
  return linear(ctx, merged, `${name}.proj`, C, C);
}

/**
 * SwinTransformerBlock (res-post-norm): x + norm1(attn(x)), then
 * x + norm2(mlp(x)). The attention runs on windows of the map rolled by
 * -shift; rolling and partitioning is one permutation of the tokens, so it
 * is one Gather in and one Gather back.
 */
function swinBlock(ctx: Ctx, s: Stage, k: StageConstants, x: string, block: number, shift: number, mlpHidden: number): string {
  const g = ctx.g;
  const name = `layers.${s.index}.blocks.${block}`;
  const n = s.window * s.window;
  const L = s.res * s.res;
  const { order, back, mask } = layout(ctx, s, k, shift);
  const inWindows = order ? g.op('Gather', [x, order], { axis: 1 }, `${name}.partition`) : x;
  const windows = g.op('Reshape', [inWindows, g.constI64([L / n, n, s.dim])]);
  const attended = g.op('Reshape', [windowAttention(ctx, s, k, windows, mask, `${name}.attn`), g.constI64([1, L, s.dim])]);
  const restored = back ? g.op('Gather', [attended, back], { axis: 1 }, `${name}.reverse`) : attended;
  const afterAttn = g.op('Add', [x, layerNorm(ctx, restored, `${name}.norm1`, s.dim, LN_EPS)], undefined, `${name}.res1`);
  const hidden = gelu(ctx, linear(ctx, afterAttn, `${name}.mlp.fc1`, s.dim, mlpHidden));
  const mlp = linear(ctx, hidden, `${name}.mlp.fc2`, mlpHidden, s.dim);
  return g.op('Add', [afterAttn, layerNorm(ctx, mlp, `${name}.norm2`, s.dim, LN_EPS)], undefined, `${name}.res2`);
}

/**
 * PatchMerging: the 2x2 neighbours x0 (even row, even column), x1 (odd
 * row), x2 (odd column), x3 (both odd) concatenated, Linear 4C -> 2C without
 * bias, LayerNorm.
 */
function patchMerging(ctx: Ctx, s: Stage, x: string): string {
  const g = ctx.g;
  const h = s.res / 2;
  const split = g.op('Reshape', [x, g.constI64([1, h, 2, h, 2, s.dim])]);
  // [1, h, row parity, w, column parity, C] -> [1, h, w, column parity, row parity, C]: x0, x1, x2, x3 in order.
  const grouped = g.op('Reshape', [g.op('Transpose', [split], { perm: [0, 1, 3, 4, 2, 5] }), g.constI64([1, h * h, 4 * s.dim])]);
  const name = `layers.${s.index}.downsample`;
  return layerNorm(ctx, linearNoBias(ctx, grouped, `${name}.reduction`, 4 * s.dim, 2 * s.dim), `${name}.norm`, 2 * s.dim, LN_EPS);
}

/** Tokens [1, res², C] as the map [1, C, res, res] (MiDaS act_postprocessN: Transpose, Unflatten). */
function toMap(ctx: Ctx, x: string, res: number, dim: number): string {
  const g = ctx.g;
  return g.op('Reshape', [g.op('Transpose', [x], { perm: [0, 2, 1] }), g.constI64([1, dim, res, res])], undefined, 'stage_map');
}

/**
 * timm's SwinTransformerV2.forward_features up to the last stage, for a
 * fixed input: patch embedding (4x4 conv, LayerNorm), four stages of blocks
 * alternating plain and shifted windows, patch merging after all but the
 * last. Returns the outputs of the hooked blocks as NCHW maps, finest first.
 */
export function swinV2Encoder(ctx: Ctx, c: SwinV2Config, image: string): string[] {
  const g = ctx.g;
  const patches = conv(ctx, image, 'patch_embed.proj', 3, c.embedDim, c.patchSize, { stride: c.patchSize });
  let res = c.inputSize / c.patchSize;
  const flat = g.op('Transpose', [g.op('Reshape', [patches, g.constI64([1, c.embedDim, res * res])])], { perm: [0, 2, 1] });
  let x = layerNorm(ctx, flat, 'patch_embed.norm', c.embedDim, LN_EPS);
  const maps: string[] = [];
  for (let i = 0; i < c.depths.length; i++) {
    const dim = c.embedDim * 2 ** i;
    const { window, shift } = effectiveWindow(res, c.window, Math.floor(c.window / 2));
    const stage: Stage = { index: i, res, dim, heads: c.heads[i], window, pretrainedWindow: c.pretrainedWindows[i] };
    const constants = stageConstants(ctx, stage);
    for (let b = 0; b < c.depths[i]; b++) {
      x = swinBlock(ctx, stage, constants, x, b, b % 2 === 1 ? shift : 0, dim * c.mlpRatio);
      if (b === c.hooks[i]) maps.push(toMap(ctx, x, res, dim));
    }
    if (i < c.depths.length - 1) {
      x = patchMerging(ctx, stage, x);
      res /= 2;
    }
  }
  return maps;
}
