import { float } from '../graph.js';
import { conv, resizeTo, spatialShape, weight, type Ctx } from './layers.js';
import type { VitConfig } from './vit.js';

export interface Embedded {
  /** [1, 1 + h*w, E]: class token followed by the patch tokens, position embeddings added. */
  readonly tokens: string;
  /** int64 [h, w]: the patch grid of this input, known only at run time. */
  readonly grid: string;
}

/**
 * Patch embedding, class token and position embeddings (paper Fig. 1, left:
 * "Embed"). The learned position embeddings, stored as PyTorch stores them
 * ([1, 1 + G*G, E], class token first), cover the training grid G x G; they
 * are resized to whatever grid the input has, so any H, W that are multiples
 * of the patch size work.
 *
 * `patches`: the patch map [1, E, h, w] when the encoder makes it another way
 * than one conv over the image (the hybrid ViT's ResNet stem, hybrid.ts).
 */
export function embed(ctx: Ctx, v: VitConfig, image: string, patches?: string): Embedded {
  const g = ctx.g;
  const E = v.embedDim;
  const p = v.patchSize;
  const G = v.posGrid;

  // Kernel = stride = p: one linear projection per non-overlapping patch.
  const map = patches ?? conv(ctx, image, 'patch_embed.proj', 3, E, p, { stride: p, std: Math.sqrt(1 / (3 * p * p)) });
  const grid = spatialShape(ctx, map);
  const patchTokens = toTokens(ctx, map);

  const clsToken = weight(ctx, { name: 'cls_token', dims: [1, 1, E], init: { std: 0.02 } });
  const tokens = g.op('Concat', [clsToken, patchTokens], { axis: 1 }, 'tokens');
  if (v.posEmbedResize === 'none') return { tokens, grid };

  const pos = weight(ctx, { name: 'pos_embed', dims: [1, 1 + G * G, E], init: { std: 0.02 } });
  const axis1 = g.constI64([1]);
  const clsPos = g.op('Slice', [pos, g.constI64([0]), g.constI64([1]), axis1], undefined, 'pos_embed.cls');
  const gridTokens = g.op('Slice', [pos, g.constI64([1]), g.constI64([1 + G * G]), axis1], undefined, 'pos_embed.grid');
  // As an NCHW map, so Resize can interpolate it over the grid directly.
  const gridPos = g.op('Transpose', [g.op('Reshape', [gridTokens, g.constI64([1, G, G, E])])], { perm: [0, 3, 1, 2] }, 'pos_embed.map');
  const resized = v.posEmbedResize === 'dinov2' ? dinov2Resize(ctx, v, gridPos, grid, image) : resizeTo(ctx, gridPos, E, grid, v.posEmbedResize);
  const posHere = g.op('Concat', [clsPos, toTokens(ctx, resized)], { axis: 1 }, 'pos_embed');
  return { tokens: g.op('Add', [tokens, posHere], undefined, 'embedded'), grid };
}

/**
 * DINOv2's interpolate_pos_encoding: F.interpolate(scale_factor=((h + 0.1) / G,
 * (w + 0.1) / G), mode='bicubic', antialias=False). The scale factor, not the
 * output size, sets the sampling positions, so this is not a resize to h x w
 * (even at h = G the positions shift by a fraction of a patch). A square
 * image with the training grid returns the embeddings untouched, done here
 * with a scale of exactly 1. (onnxruntime also copies when a Resize keeps
 * every size, but the ONNX operator does not promise that.)
 */
function dinov2Resize(ctx: Ctx, v: VitConfig, map: string, grid: string, image: string): string {
  const g = ctx.g;
  const G = v.posGrid;
  const gridF = g.op('Cast', [grid], { to: 1 /* FLOAT */ });
  const scaled = g.op('Div', [g.op('Add', [gridF, g.constF([0.1], [])]), g.constF([G], [])], undefined, 'pos_scale');
  const pixels = g.op('Shape', [image], { start: 2, end: 4 }, 'image_hw');
  const [ph, pw] = g.node('Split', [pixels], { attrs: { axis: 0 }, count: 2, name: 'image_hw' });
  const square = g.op('Equal', [ph, pw]);
  const trainingGrid = g.op('Equal', [g.op('ReduceProd', [grid], { keepdims: 1 }), g.constI64([G * G])]);
  const untouched = g.op('And', [square, trainingGrid], undefined, 'pos_untouched');
  const hw = g.op('Where', [untouched, g.constF([1, 1]), scaled]);
  const scales = g.op('Concat', [g.constF([1, 1]), hw], { axis: 0 }, 'scales');
  return g.op('Resize', [map, '', scales], { mode: 'cubic', coordinate_transformation_mode: 'half_pixel', cubic_coeff_a: float(-0.75) }, 'pos_resize');
}

/** [1, E, h, w] map -> [1, h*w, E] tokens (row-major over the grid). */
export function toTokens(ctx: Ctx, map: string): string {
  const flat = ctx.g.op('Reshape', [map, ctx.g.constI64([0, 0, -1])]);
  return ctx.g.op('Transpose', [flat], { perm: [0, 2, 1] }, 'to_tokens');
}
