import type { DptConfig } from './config.js';
import { conv, convTranspose, gelu, linear, type Ctx } from './layers.js';

/** Input strides of the four reassembled maps: 1/4, 1/8, 1/16, 1/32 for patch 16. */
/**
 * Reassemble (paper Fig. 1, middle): Read -> Concatenate -> Resample.
 * Turns the tokens of one hooked block into an image-like feature map at
 * the stage's scale, then the 3x3 "layer_rn" conv brings it to `features`
 * channels for the fusion path.
 */
export function reassemble(ctx: Ctx, c: DptConfig, tokens: string, grid: string, stage: number): string {
  const name = `reassemble.${stage}`;
  const patchTokens = read(ctx, c, tokens, `${name}.read`);
  const map = concatenate(ctx, c, patchTokens, grid);
  const resampled = resample(ctx, c, map, stage, `${name}.resample`);
  const channels = c.reassembleChannels[stage];
  // DPT's scratch.layerN_rn convs have no bias.
  return conv(ctx, resampled, `scratch.layer${stage + 1}_rn`, channels, c.features, 3, { pad: 1, bias: false });
}

/** Read: drop, add or project the class token into the N patch tokens. */
function read(ctx: Ctx, c: DptConfig, tokens: string, name: string): string {
  const g = ctx.g;
  const axes = g.constI64([1]);
  const patches = g.op('Slice', [tokens, g.constI64([1]), g.constI64([1_000_000_000]), axes], undefined, `${name}.patches`);
  if (c.readout === 'ignore') return patches;
  const cls = g.op('Slice', [tokens, g.constI64([0]), g.constI64([1]), axes], undefined, `${name}.cls`);
  if (c.readout === 'add') return g.op('Add', [patches, cls], undefined, name);
  const clsEach = g.op('Expand', [cls, g.op('Shape', [patches])], undefined, `${name}.cls_each`);
  const both = g.op('Concat', [patches, clsEach], { axis: 2 }, `${name}.concat`);
  return gelu(ctx, linear(ctx, both, `${name}.project`, 2 * c.embedDim, c.embedDim));
}

/** Concatenate: lay the N = h*w tokens out on their grid, [1, E, h, w]. */
function concatenate(ctx: Ctx, c: DptConfig, tokens: string, grid: string): string {
  const g = ctx.g;
  const channelsFirst = g.op('Transpose', [tokens], { perm: [0, 2, 1] });
  const shape = g.op('Concat', [g.constI64([1, c.embedDim]), grid], { axis: 0 }, 'grid_shape');
  return g.op('Reshape', [channelsFirst, shape], undefined, 'grid_map');
}

/** Resample: 1x1 projection to the stage's channels, then to 1/4, 1/8, 1/16 or 1/32 (for patch 16). */
function resample(ctx: Ctx, c: DptConfig, map: string, stage: number, name: string): string {
  const ch = c.reassembleChannels[stage];
  const projected = conv(ctx, map, `${name}.project`, c.embedDim, ch, 1);
  switch (stage) {
    case 0:
      return convTranspose(ctx, projected, `${name}.up4`, ch, ch, 4);
    case 1:
      return convTranspose(ctx, projected, `${name}.up2`, ch, ch, 2);
    case 2:
      return projected;
    default:
      return conv(ctx, projected, `${name}.down2`, ch, ch, 3, { stride: 2, pad: 1 });
  }
}
