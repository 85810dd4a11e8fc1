import { normalArray } from '../random.js';
import type { DptConfig } from './config.js';
import { conv, resizeTo, spatialShape, type Ctx } from './layers.js';

export interface Embedded {
  /** [1, 1 + h*w, E]: class token followed by the patch tokens, position embeddings added. */
  readonly tokens: string;
  /** int64 [h, w]: the patch grid of this input, known only at run time. */
  readonly grid: string;
}

/**
 * Patch embedding, class token and position embeddings (paper Fig. 1, left:
 * "Embed"). The learned position embeddings cover the training grid
 * (inputSize / patchSize per side); like DINOv2's interpolate_pos_encoding,
 * they are resized bicubically to whatever grid the input has, so any
 * H, W that are multiples of the patch size work.
 */
export function embed(ctx: Ctx, c: DptConfig, image: string): Embedded {
  const g = ctx.g;
  const E = c.embedDim;
  const p = c.patchSize;
  const G = c.inputSize / p;

  // Kernel = stride = p: one linear projection per non-overlapping patch.
  const patches = conv(ctx, image, 'patch_embed.proj', 3, E, p, { stride: p, std: Math.sqrt(1 / (3 * p * p)) });
  const grid = spatialShape(ctx, patches);
  const patchTokens = toTokens(ctx, patches);

  const clsToken = g.param('cls_token', [1, 1, E], normalArray(ctx.rng, E, 0.02));
  const tokens = g.op('Concat', [clsToken, patchTokens], { axis: 1 }, 'tokens');

  const clsPos = g.param('pos_embed.cls', [1, 1, E], normalArray(ctx.rng, E, 0.02));
  // Stored as an NCHW map so Resize can interpolate it over the grid directly.
  const gridPos = g.param('pos_embed.grid', [1, E, G, G], normalArray(ctx.rng, E * G * G, 0.02));
  const gridPosHere = toTokens(ctx, resizeTo(ctx, gridPos, E, grid, 'bicubic'));
  const pos = g.op('Concat', [clsPos, gridPosHere], { axis: 1 }, 'pos_embed');
  return { tokens: g.op('Add', [tokens, pos], undefined, 'embedded'), grid };
}

/** [1, E, h, w] map -> [1, h*w, E] tokens (row-major over the grid). */
export function toTokens(ctx: Ctx, map: string): string {
  const flat = ctx.g.op('Reshape', [map, ctx.g.constI64([0, 0, -1])]);
  return ctx.g.op('Transpose', [flat], { perm: [0, 2, 1] }, 'to_tokens');
}
