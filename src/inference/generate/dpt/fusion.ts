import { conv, relu, resizeTo, spatialShape, upsample, type Ctx } from './layers.js';

/**
 * Residual convolutional unit: ReLU, 3x3 conv, ReLU, 3x3 conv, plus the input.
 */
function residualConvUnit(ctx: Ctx, features: number, x: string, name: string): string {
  const f = features;
  const a = conv(ctx, relu(ctx, x), `${name}.conv1`, f, f, 3, { pad: 1 });
  // Half-scale second conv so stacked units do not double the activations each time.
  const b = conv(ctx, relu(ctx, a), `${name}.conv2`, f, f, 3, { pad: 1, std: Math.sqrt(0.5 / (f * 9)) });
  return ctx.g.op('Add', [b, x], undefined, name);
}

/**
 * Fusion block (paper Fig. 1, right): add the reassembled map of this stage
 * (through a residual conv unit) to the coarser path, refine with a second
 * unit, upsample and mix with a 1x1 conv.
 *
 * `next` is the next finer map: the path is resized to its exact size, which
 * is x2 for patch 16 but not for grids of odd size (e.g. 37 -> 74 -> 148 vs
 * 19 at 1/32 for a 518 input with patch 14). Depth-Anything and MiDaS v3
 * both pass `size=layer_(n-1)_rn.shape[2:]`. The finest block has no `next`
 * and upsamples by exactly 2 (bilinear, align_corners as both do).
 */
export function fusionBlock(ctx: Ctx, features: number, path: string, skip: string | undefined, next: string | undefined, index: number): string {
  const name = `scratch.refinenet${index}`;
  let out = path;
  if (skip !== undefined) out = ctx.g.op('Add', [out, residualConvUnit(ctx, features, skip, `${name}.resConfUnit1`)], undefined, `${name}.skip`);
  out = residualConvUnit(ctx, features, out, `${name}.resConfUnit2`);
  out = next === undefined ? upsample(ctx, out, 2) : resizeTo(ctx, out, features, spatialShape(ctx, next), 'bilinear-align');
  return conv(ctx, out, `${name}.out_conv`, features, features, 1);
}
