import type { DptConfig } from './config.js';
import { gelu, layerNorm, linear, type Ctx } from './layers.js';

/**
 * One ViT transformer block (paper Fig. 1, "Transformer"): pre-LayerNorm
 * multi-head self-attention and MLP, each wrapped in a residual connection.
 */
export function transformerBlock(ctx: Ctx, c: DptConfig, x: string, index: number): string {
  const g = ctx.g;
  const name = `blocks.${index}`;
  const attn = selfAttention(ctx, c, layerNorm(ctx, x, `${name}.norm1`, c.embedDim), `${name}.attn`);
  const afterAttn = g.op('Add', [x, attn], undefined, `${name}.res1`);
  const mlpOut = mlp(ctx, c, layerNorm(ctx, afterAttn, `${name}.norm2`, c.embedDim), `${name}.mlp`);
  return g.op('Add', [afterAttn, mlpOut], undefined, `${name}.res2`);
}

function selfAttention(ctx: Ctx, c: DptConfig, x: string, name: string): string {
  const g = ctx.g;
  const E = c.embedDim;
  const headDim = E / c.heads;
  // One fused projection for q, k and v, split afterwards, as timm stores it.
  const qkv = linear(ctx, x, `${name}.qkv`, E, 3 * E);
  const [q, k, v] = g.node('Split', [qkv], { attrs: { axis: 2 }, count: 3, name: `${name}.qkv_split` });
  const headShape = g.constI64([0, -1, c.heads, headDim]);
  const split = (t: string, perm: number[]): string => g.op('Transpose', [g.op('Reshape', [t, headShape])], { perm });
  const qh = split(q, [0, 2, 1, 3]); // [1, heads, T, d]
  const kt = split(k, [0, 2, 3, 1]); // [1, heads, d, T]
  const vh = split(v, [0, 2, 1, 3]); // [1, heads, T, d]
  const scores = g.op('Mul', [g.op('MatMul', [qh, kt]), g.constF([1 / Math.sqrt(headDim)], [])], undefined, `${name}.scores`);
  const weights = g.op('Softmax', [scores], { axis: -1 }, `${name}.softmax`);
  const heads = g.op('Transpose', [g.op('MatMul', [weights, vh])], { perm: [0, 2, 1, 3] });
  const merged = g.op('Reshape', [heads, g.constI64([0, -1, E])], undefined, `${name}.merge`);
  return linear(ctx, merged, `${name}.proj`, E, E);
}

function mlp(ctx: Ctx, c: DptConfig, x: string, name: string): string {
  const hidden = c.embedDim * c.mlpRatio;
  const h = gelu(ctx, linear(ctx, x, `${name}.fc1`, c.embedDim, hidden));
  return linear(ctx, h, `${name}.fc2`, hidden, c.embedDim);
}
