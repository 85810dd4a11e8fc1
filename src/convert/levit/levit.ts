import { weight, type Ctx } from '../../inference/generate/dpt/layers.js';
import { attentionBiasIndex } from './attention-bias.js';
import { blockOutput, type LevitBlock, type LevitConfig } from './config.js';

/** nn.BatchNorm1d/2d's default. */
const BN_EPS = 1e-5;

/**
 * Eval-mode BatchNorm as PyTorch applies it, y = x · α + β per channel with
 * α = weight / sqrt(running_var + eps) and β = bias − running_mean · α.
 * Both depend only on weights, so onnxruntime computes them once at load.
 */
function batchNormAffine(ctx: Ctx, name: string, channels: number): { alpha: string; beta: string } {
  const g = ctx.g;
  const take = (what: string, fill: number): string => weight(ctx, { name: `${name}.${what}`, dims: [channels], init: { fill } });
  const gamma = take('weight', 1);
  const bias = take('bias', 0);
  const mean = take('running_mean', 0);
  const variance = take('running_var', 1);
  const alpha = g.op('Mul', [gamma, g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [variance, g.constF([BN_EPS], [])])])])], undefined, `${name}.alpha`);
  const beta = g.op('Sub', [bias, g.op('Mul', [mean, alpha])], undefined, `${name}.beta`);
  return { alpha, beta };
}

/**
 * A bias-free layer followed by BatchNorm, with the norm folded into it: the
 * weight scaled by α along its output channels (`axis` of the weight as the
 * graph uses it) and β as the bias. ConvNorm.fuse() in timm does the same.
 */
function foldedWeight(ctx: Ctx, name: string, dims: readonly number[], axis: number, transposed: boolean): { w: string; b: string } {
  const g = ctx.g;
  const out = dims[axis];
  const w = weight(ctx, { name: `${name}.c.weight`, dims, init: { std: 0.02 }, transposed });
  const { alpha, beta } = batchNormAffine(ctx, `${name}.bn`, out);
  const shape = dims.map((d, i) => (i === axis ? out : 1));
  return { w: g.op('Mul', [w, g.op('Reshape', [alpha, g.constI64(shape)])], undefined, `${name}.folded`), b: beta };
}

/** timm's ConvNorm: Conv2d (no bias) + BatchNorm2d, k x k, padding k // 2. */
function convNorm(ctx: Ctx, x: string, name: string, inC: number, outC: number, k: number, stride: number): string {
  const { w, b } = foldedWeight(ctx, name, [outC, inC, k, k], 0, false);
  const pad = Math.floor(k / 2);
  return ctx.g.op('Conv', [x, w, b], { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad] }, name);
}

/** timm's LinearNorm: Linear (no bias) + BatchNorm1d over every token's channels. */
function linearNorm(ctx: Ctx, x: string, name: string, inF: number, outF: number): string {
  const { w, b } = foldedWeight(ctx, name, [inF, outF], 1, true);
  return ctx.g.op('Add', [ctx.g.op('MatMul', [x, w]), b], undefined, name);
}

/**
 * MiDaS's ConvTransposeNorm (backbones/levit.py) as stem_b4_transpose builds
 * it, ConvTranspose2d(in, out, 3, 2, 1, 1, 1, bias=False): its positional
 * arguments land on stride 2, padding 1 and output_padding 1 (the slot
 * named `dilation` in ConvTransposeNorm), so each one doubles the map
 * exactly: 28 -> 56 -> 112.
 */
function convTransposeNorm(ctx: Ctx, x: string, name: string, inC: number, outC: number): string {
  const { w, b } = foldedWeight(ctx, name, [inC, outC, 3, 3], 1, false);
  return ctx.g.op('ConvTranspose', [x, w, b], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }, name);
}

function hardswish(ctx: Ctx, x: string): string {
  return ctx.g.op('HardSwish', [x]);
}

/** The learned bias of each (query, key) pair: attention_biases [heads, res²] gathered by the derived index, [heads, queries, keys]. */
function attentionBias(ctx: Ctx, name: string, heads: number, res: number, stride: number): string {
  const g = ctx.g;
  const resOut = Math.ceil(res / stride);
  const table = weight(ctx, { name: `${name}.attention_biases`, dims: [heads, res * res], init: { fill: 0 } });
  const index = g.constI64([...attentionBiasIndex(res, stride)], `${name}.attention_bias_idxs`);
  return g.op('Gather', [table, g.op('Reshape', [index, g.constI64([resOut * resOut, res * res])])], { axis: 1 }, `${name}.bias`);
}

/** [1, N, heads · d] -> [1, heads, N, d] (or [1, heads, d, N] with `perm` [0, 2, 3, 1]). */
function splitHeads(ctx: Ctx, x: string, heads: number, perm = [0, 2, 1, 3]): string {
  return ctx.g.op('Transpose', [ctx.g.op('Reshape', [x, ctx.g.constI64([0, 0, heads, -1])])], { perm });
}

/** softmax(q·kᵀ · key_dim^-½ + bias) · v, heads merged back: [1, queries, heads · value_dim], then hardswish and the projection. */
function attend(ctx: Ctx, q: string, kT: string, v: string, bias: string, keyDim: number, heads: number, valueDim: number, outDim: number, name: string): string {
  const g = ctx.g;
  const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, kT]), g.constF([keyDim ** -0.5], [])]), bias], undefined, `${name}.scores`);
  const attn = g.op('Softmax', [scores], { axis: -1 }, `${name}.softmax`);
  const merged = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [attn, v])], { perm: [0, 2, 1, 3] }), g.constI64([0, 0, heads * valueDim])]);
  return linearNorm(ctx, hardswish(ctx, merged), `${name}.proj.1`, heads * valueDim, outDim);
}

/** timm's Attention (use_conv=False): qkv per head is [q | k | v]. */
function attention(ctx: Ctx, b: Extract<LevitBlock, { kind: 'attention' }>, x: string, name: string): string {
  const g = ctx.g;
  const per = 2 * b.keyDim + b.valueDim;
  const qkv = g.op('Reshape', [linearNorm(ctx, x, `${name}.qkv`, b.dim, b.heads * per), g.constI64([0, 0, b.heads, per])]);
  const [q, k, v] = g.node('Split', [qkv, g.constI64([b.keyDim, b.keyDim, b.valueDim])], { attrs: { axis: 3 }, count: 3, name: `${name}.qkv_split` });
  const bias = attentionBias(ctx, name, b.heads, b.res, 1);
  const t = (y: string, perm: number[]): string => g.op('Transpose', [y], { perm });
  return attend(ctx, t(q, [0, 2, 1, 3]), t(k, [0, 2, 3, 1]), t(v, [0, 2, 1, 3]), bias, b.keyDim, b.heads, b.valueDim, b.dim, name);
}

/**
 * timm's AttentionSubsample: keys and values from every token, queries from
 * every `stride`-th row and column (Subsample), no residual; the map shrinks
 * to ceil(res / stride) and the width changes.
 */
function attentionSubsample(ctx: Ctx, b: Extract<LevitBlock, { kind: 'subsample' }>, x: string, name: string): string {
  const g = ctx.g;
  const kvPer = b.keyDim + b.valueDim;
  const kv = g.op('Reshape', [linearNorm(ctx, x, `${name}.kv`, b.inDim, b.heads * kvPer), g.constI64([0, 0, b.heads, kvPer])]);
  const [k, v] = g.node('Split', [kv, g.constI64([b.keyDim, b.valueDim])], { attrs: { axis: 3 }, count: 2, name: `${name}.kv_split` });
  const grid = g.op('Reshape', [x, g.constI64([1, b.res, b.res, b.inDim])]);
  const every = g.op('Slice', [grid, g.constI64([0, 0]), g.constI64([b.res, b.res]), g.constI64([1, 2]), g.constI64([b.stride, b.stride])], undefined, `${name}.subsample`);
  const q = linearNorm(ctx, g.op('Reshape', [every, g.constI64([1, -1, b.inDim])]), `${name}.q.1`, b.inDim, b.heads * b.keyDim);
  const bias = attentionBias(ctx, name, b.heads, b.res, b.stride);
  const t = (y: string, perm: number[]): string => g.op('Transpose', [y], { perm });
  return attend(ctx, splitHeads(ctx, q, b.heads), t(k, [0, 2, 3, 1]), t(v, [0, 2, 1, 3]), bias, b.keyDim, b.heads, b.valueDim, b.outDim, name);
}

/** Residual(LinearNorm, hardswish, LinearNorm). */
function mlp(ctx: Ctx, b: Extract<LevitBlock, { kind: 'mlp' }>, x: string, name: string): string {
  const h = hardswish(ctx, linearNorm(ctx, x, `${name}.0`, b.dim, b.hidden));
  return linearNorm(ctx, h, `${name}.2`, b.hidden, b.dim);
}

function block(ctx: Ctx, b: LevitBlock, x: string, i: number): string {
  const name = `blocks.${i}`;
  if (b.kind === 'subsample') return attentionSubsample(ctx, b, x, name);
  const inner = b.kind === 'attention' ? attention(ctx, b, x, `${name}.m`) : mlp(ctx, b, x, `${name}.m`);
  return ctx.g.op('Add', [x, inner], undefined, `${name}.residual`);
}

/**
 * timm's Levit.forward_features for a fixed input (use_conv=False): stem_b16
 * (four 3x3 stride-2 ConvNorms with hardswish between), tokens, then the
 * blocks up to the last hooked one. Returns the hooked blocks' outputs as
 * NCHW maps, finest first (MiDaS act_postprocessN: Transpose, Unflatten).
 */
export function levitEncoder(ctx: Ctx, c: LevitConfig, image: string): string[] {
  const g = ctx.g;
  let x = image;
  let inC = 3;
  c.stem.forEach((outC, s) => {
    if (s > 0) x = hardswish(ctx, x);
    x = convNorm(ctx, x, `patch_embed.${2 * s}`, inC, outC, 3, 2);
    inC = outC;
  });
  const side = c.inputSize / 2 ** c.stem.length;
  x = g.op('Transpose', [g.op('Reshape', [x, g.constI64([1, inC, side * side])])], { perm: [0, 2, 1] }, 'tokens');
  const maps: string[] = [];
  // forward_features runs every block, but nothing after the last hooked one reaches the depth.
  const last = Math.max(...c.hooks);
  c.blocks.slice(0, last + 1).forEach((b, i) => {
    x = block(ctx, b, x, i);
    if (c.hooks.includes(i)) {
      const { dim, res } = blockOutput(b);
      maps.push(g.op('Reshape', [g.op('Transpose', [x], { perm: [0, 2, 1] }), g.constI64([1, dim, res, res])], undefined, 'stage_map'));
    }
  });
  return maps;
}

/** MiDaS's stem_b4_transpose: two ConvTransposeNorms with hardswish after each, x4 in all. */
export function stemTranspose(ctx: Ctx, c: LevitConfig, path: string): string {
  const [mid, out] = c.stemTranspose;
  const a = hardswish(ctx, convTransposeNorm(ctx, path, 'scratch.stem_transpose.0', c.decoder.features, mid));
  return hardswish(ctx, convTransposeNorm(ctx, a, 'scratch.stem_transpose.2', mid, out));
}
