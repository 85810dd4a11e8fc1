import { conv, convTranspose, gelu, linear, type Ctx } from './layers.js';

/** What Reassemble needs to know about the encoder and the stage channels. */
export interface ReassembleConfig {
  readonly embedDim: number;
  /** What to do with the class token (paper section 3, "Read"). */
  readonly readout: 'ignore' | 'add' | 'project';
  /** Channels of the four reassembled maps (the paper's D-hat per stage). */
  readonly channels: readonly number[];
}

/**
 * Reassemble (paper Fig. 1, middle): Read -> Concatenate -> Resample.
 * Turns the tokens of one hooked block into an image-like feature map at
 * the stage's scale (1/4, 1/8, 1/16, 1/32 of the input for patch 16).
 */
export function reassemble(ctx: Ctx, r: ReassembleConfig, tokens: string, grid: string, stage: number): string {
  const name = `reassemble.${stage}`;
  const patchTokens = read(ctx, r, tokens, `${name}.read`);
  const map = concatenate(ctx, r, patchTokens, grid);
  return resample(ctx, r, map, stage, `${name}.resample`);
}

/** Read: drop, add or project the class token into the N patch tokens. */
function read(ctx: Ctx, r: ReassembleConfig, tokens: string, name: string): string {
  const g = ctx.g;
  const axes = g.constI64([1]);
  const patches = g.op('Slice', [tokens, g.constI64([1]), g.constI64([1_000_000_000]), axes], undefined, `${name}.patches`);
  if (r.readout === 'ignore') return patches;
  const cls = g.op('Slice', [tokens, g.constI64([0]), g.constI64([1]), axes], undefined, `${name}.cls`);
  if (r.readout === 'add') return g.op('Add', [patches, cls], undefined, name);
  const clsEach = g.op('Expand', [cls, g.op('Shape', [patches])], undefined, `${name}.cls_each`);
  const both = g.op('Concat', [patches, clsEach], { axis: 2 }, `${name}.concat`);
  return gelu(ctx, linear(ctx, both, `${name}.project`, 2 * r.embedDim, r.embedDim));
}

/** Concatenate: lay the N = h*w tokens out on their grid, [1, E, h, w]. */
function concatenate(ctx: Ctx, r: ReassembleConfig, tokens: string, grid: string): string {
  const g = ctx.g;
  const channelsFirst = g.op('Transpose', [tokens], { perm: [0, 2, 1] });
  const shape = g.op('Concat', [g.constI64([1, r.embedDim]), grid], { axis: 0 }, 'grid_shape');
  return g.op('Reshape', [channelsFirst, shape], undefined, 'grid_map');
}

/** Resample: 1x1 projection to the stage's channels, then x4, x2, x1 or x1/2. */
function resample(ctx: Ctx, r: ReassembleConfig, map: string, stage: number, name: string): string {
  const ch = r.channels[stage];
  const projected = conv(ctx, map, `${name}.project`, r.embedDim, ch, 1);
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
