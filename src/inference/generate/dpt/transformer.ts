import { gelu, layerNorm, linear, linearNoBias, weight, type Ctx } from './layers.js';
import type { VitConfig } from './vit.js';

/**
 * One ViT transformer block (paper Fig. 1, "Transformer"): pre-LayerNorm
 * multi-head self-attention and feed-forward network, each wrapped in a
 * residual connection, each optionally scaled per channel (LayerScale).
 * `attentionBias` [1, heads, T, T] is added to the scaled scores before the
 * softmax (BEiT's relative position bias).
 */
export function transformerBlock(ctx: Ctx, v: VitConfig, x: string, index: number, attentionBias?: string): string {
  const g = ctx.g;
  const name = `blocks.${index}`;
  const attn = layerScale(ctx, v, selfAttention(ctx, v, layerNorm(ctx, x, `${name}.norm1`, v.embedDim), `${name}.attn`, attentionBias), `${name}.ls1`);
  const afterAttn = g.op('Add', [x, attn], undefined, `${name}.res1`);
  const normed = layerNorm(ctx, afterAttn, `${name}.norm2`, v.embedDim);
  const ffnOut = layerScale(ctx, v, v.ffn === 'mlp' ? mlp(ctx, v, normed, `${name}.mlp`) : swiglu(ctx, v, normed, `${name}.mlp`), `${name}.ls2`);
  return g.op('Add', [afterAttn, ffnOut], undefined, `${name}.res2`);
}

function layerScale(ctx: Ctx, v: VitConfig, x: string, name: string): string {
  if (!v.layerScale) return x;
  const gamma = weight(ctx, { name: `${name}.gamma`, dims: [v.embedDim], init: { fill: 1 } });
  return ctx.g.op('Mul', [x, gamma], undefined, name);
}

function selfAttention(ctx: Ctx, v: VitConfig, x: string, name: string, attentionBias: string | undefined): string {
  const g = ctx.g;
  const E = v.embedDim;
  const headDim = E / v.heads;
  // One fused projection for q, k and v, split afterwards, as timm and DINOv2 store it.
  const qkv = v.qkvBias === 'qv' ? qvBiasedProjection(ctx, x, name, E) : linear(ctx, x, `${name}.qkv`, E, 3 * E);
  const [q, k, val] = g.node('Split', [qkv], { attrs: { axis: 2 }, count: 3, name: `${name}.qkv_split` });
  const headShape = g.constI64([0, -1, v.heads, headDim]);
  const split = (t: string, perm: number[]): string => g.op('Transpose', [g.op('Reshape', [t, headShape])], { perm });
  const qh = split(q, [0, 2, 1, 3]); // [1, heads, T, d]
  const kt = split(k, [0, 2, 3, 1]); // [1, heads, d, T]
  const vh = split(val, [0, 2, 1, 3]); // [1, heads, T, d]
  const scaled = g.op('Mul', [g.op('MatMul', [qh, kt]), g.constF([1 / Math.sqrt(headDim)], [])], undefined, `${name}.scores`);
  const scores = attentionBias === undefined ? scaled : g.op('Add', [scaled, attentionBias], undefined, `${name}.biased`);
  const weights = g.op('Softmax', [scores], { axis: -1 }, `${name}.softmax`);
  const heads = g.op('Transpose', [g.op('MatMul', [weights, vh])], { perm: [0, 2, 1, 3] });
  const merged = g.op('Reshape', [heads, g.constI64([0, -1, E])], undefined, `${name}.merge`);
  return linear(ctx, merged, `${name}.proj`, E, E);
}

/**
 * BEiT's and SwinV2's attention input: qkv has no bias of its own; the bias is
 * cat(q_bias, zeros, v_bias), keys being unbiased (a constant the runtime folds).
 */
export function qvBiasedProjection(ctx: Ctx, x: string, name: string, E: number): string {
  const g = ctx.g;
  const product = linearNoBias(ctx, x, `${name}.qkv`, E, 3 * E);
  const q = weight(ctx, { name: `${name}.q_bias`, dims: [E], init: { fill: 0 } });
  const v = weight(ctx, { name: `${name}.v_bias`, dims: [E], init: { fill: 0 } });
  const bias = g.op('Concat', [q, g.constF(new Array<number>(E).fill(0), [E], 'k_bias'), v], { axis: 0 }, `${name}.qkv_bias`);
  return g.op('Add', [product, bias], undefined, `${name}.qkv`);
}

function mlp(ctx: Ctx, v: VitConfig, x: string, name: string): string {
  const h = gelu(ctx, linear(ctx, x, `${name}.fc1`, v.embedDim, v.mlpHidden));
  return linear(ctx, h, `${name}.fc2`, v.mlpHidden, v.embedDim);
}

/** DINOv2's SwiGLUFFN (ViT-G): w12 gives [x1, x2]; SiLU(x1) * x2 goes through w3. */
function swiglu(ctx: Ctx, v: VitConfig, x: string, name: string): string {
  const g = ctx.g;
  const x12 = linear(ctx, x, `${name}.w12`, v.embedDim, 2 * v.mlpHidden);
  const [x1, x2] = g.node('Split', [x12], { attrs: { axis: -1 }, count: 2, name: `${name}.chunk` });
  const silu = g.op('Mul', [x1, g.op('Sigmoid', [x1])], undefined, `${name}.silu`);
  return linear(ctx, g.op('Mul', [silu, x2], undefined, `${name}.gate`), `${name}.w3`, v.mlpHidden, v.embedDim);
}
