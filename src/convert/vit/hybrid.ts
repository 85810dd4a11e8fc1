import { float } from '../../inference/generate/graph.js';
import { standardize, weight, type Ctx } from '../../inference/generate/dpt/layers.js';
import type { ResNetConfig } from './config.js';

/**
 * The hybrid ViT's CNN (timm v0.6.12 resnetv2.py ResNetV2 with preact=False,
 * stem_type 'same', as vision_transformer_hybrid.py _resnetv2 builds it):
 * every conv is a StdConv2dSame (weights standardised per output channel,
 * TensorFlow "SAME" padding), every norm a GroupNorm of 32 groups.
 * Returns each stage's output [1, C, H/4 · 2^-s, …], finest first.
 */
export function resnetStages(ctx: Ctx, c: ResNetConfig, image: string): string[] {
  const B = 'patch_embed.backbone';
  let x = stdConvSame(ctx, image, `${B}.stem.conv`, 3, c.stemWidth, 7, 2);
  x = groupNorm(ctx, x, `${B}.stem.norm`, c.stemWidth, true);
  // MaxPool2dSame: -inf padding, which ONNX's SAME_UPPER max pooling also ignores.
  x = ctx.g.op('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' }, `${B}.stem.pool`);
  const stages: string[] = [];
  let inC = c.stemWidth;
  for (let s = 0; s < c.depths.length; s++) {
    for (let b = 0; b < c.depths[s]; b++) {
      const stride = b === 0 && s > 0 ? 2 : 1;
      x = bottleneck(ctx, x, `${B}.stages.${s}.blocks.${b}`, inC, c.mids[s], c.widths[s], stride, b === 0);
      inC = c.widths[s];
    }
    stages.push(x);
  }
  return stages;
}

/**
 * resnetv2.py Bottleneck (non-pre-activation, "V1.5": the stride on the 3x3
 * conv): conv1 1x1, norm1+ReLU, conv2 3x3, norm2+ReLU, conv3 1x1, norm3, plus
 * the shortcut (DownsampleConv: 1x1 conv and norm, no ReLU, on each stage's
 * first block), then ReLU.
 */
function bottleneck(ctx: Ctx, x: string, name: string, inC: number, mid: number, outC: number, stride: number, downsample: boolean): string {
  const shortcut = downsample ? groupNorm(ctx, stdConvSame(ctx, x, `${name}.downsample.conv`, inC, outC, 1, stride), `${name}.downsample.norm`, outC, false) : x;
  let y = groupNorm(ctx, stdConvSame(ctx, x, `${name}.conv1`, inC, mid, 1, 1), `${name}.norm1`, mid, true);
  y = groupNorm(ctx, stdConvSame(ctx, y, `${name}.conv2`, mid, mid, 3, stride), `${name}.norm2`, mid, true);
  y = groupNorm(ctx, stdConvSame(ctx, y, `${name}.conv3`, mid, outC, 1, 1), `${name}.norm3`, outC, false);
  return ctx.g.op('Relu', [ctx.g.op('Add', [y, shortcut], undefined, name)]);
}

/** eps of the hybrid's StdConv2dSame (vision_transformer_hybrid.py: partial(StdConv2dSame, eps=1e-8)). */
const STD_CONV_EPS = 1e-8;

/**
 * StdConv2dSame: the weight standardised per output channel, (w − mean) /
 * sqrt(var + eps) with the biased variance over in·k·k (F.batch_norm in
 * training mode), done in the graph so the initializer stays the checkpoint
 * tensor (onnxruntime folds it once at load); TensorFlow SAME padding
 * (the extra row/column at the end) is ONNX's SAME_UPPER. No bias.
 */
function stdConvSame(ctx: Ctx, x: string, name: string, inC: number, outC: number, k: number, stride: number): string {
  const g = ctx.g;
  const w = weight(ctx, { name: `${name}.weight`, dims: [outC, inC, k, k], init: { std: Math.sqrt(2 / (inC * k * k)) } });
  const standardised = standardize(ctx, w, [1, 2, 3], STD_CONV_EPS, `${name}.std`);
  return g.op('Conv', [x, standardised], { kernel_shape: [k, k], strides: [stride, stride], auto_pad: 'SAME_UPPER' }, name);
}

const GROUPS = 32;
const GROUP_NORM_EPS = 1e-5;

/**
 * GroupNormAct (timm layers/norm_act.py): F.group_norm over 32 groups, eps
 * 1e-5, per-channel affine, then ReLU unless it ends a residual branch.
 * Opset 17 has no GroupNormalization, so the groups are normalised as the
 * channels of an InstanceNormalization over [1, 32, C/32·H·W].
 */
function groupNorm(ctx: Ctx, x: string, name: string, channels: number, act: boolean): string {
  const g = ctx.g;
  const grouped = g.op('Reshape', [x, g.constI64([0, GROUPS, -1])], undefined, `${name}.groups`);
  const ones = g.constF(new Array<number>(GROUPS).fill(1), [GROUPS]);
  const zeros = g.constF(new Array<number>(GROUPS).fill(0), [GROUPS]);
  const normed = g.op('InstanceNormalization', [grouped, ones, zeros], { epsilon: float(GROUP_NORM_EPS) }, name);
  const back = g.op('Reshape', [normed, g.op('Shape', [x])]);
  const perChannel = g.constI64([channels, 1, 1]);
  const scale = g.op('Reshape', [weight(ctx, { name: `${name}.weight`, dims: [channels], init: { fill: 1 } }), perChannel]);
  const shift = g.op('Reshape', [weight(ctx, { name: `${name}.bias`, dims: [channels], init: { fill: 0 } }), perChannel]);
  const y = g.op('Add', [g.op('Mul', [back, scale]), shift], undefined, `${name}.affine`);
  return act ? g.op('Relu', [y]) : y;
}
