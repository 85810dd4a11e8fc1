import { float, GraphBuilder, type Attrs } from '../graph.js';
import type { WeightRequest, WeightSource } from './weights.js';

/** Builder plus the source every layer takes its learned tensors from. */
export interface Ctx {
  readonly g: GraphBuilder;
  readonly weights: WeightSource;
}

/** A learned tensor by its DPT name (see weights.ts). */
export function weight(ctx: Ctx, request: WeightRequest): string {
  return ctx.weights.take(ctx.g, request);
}

const ZERO = { fill: 0 } as const;
const ONE = { fill: 1 } as const;

/** Linear layer on [..., inF] tokens: MatMul with a [inF, outF] weight, plus bias. */
export function linear(ctx: Ctx, x: string, name: string, inF: number, outF: number, std = 0.02): string {
  // The weight is taken first: generated models draw their values in this order.
  const product = linearNoBias(ctx, x, name, inF, outF, std);
  const b = weight(ctx, { name: `${name}.bias`, dims: [outF], init: ZERO });
  return ctx.g.op('Add', [product, b], undefined, name);
}

/** nn.Linear(bias=False): MatMul with a [inF, outF] weight. */
export function linearNoBias(ctx: Ctx, x: string, name: string, inF: number, outF: number, std = 0.02): string {
  const w = weight(ctx, { name: `${name}.weight`, dims: [inF, outF], init: { std }, transposed: true });
  return ctx.g.op('MatMul', [x, w], undefined, name);
}

export interface NormParams {
  readonly name: string;
  readonly scale: string;
  readonly bias: string;
}

export function layerNormParams(ctx: Ctx, name: string, dim: number): NormParams {
  return {
    name,
    scale: weight(ctx, { name: `${name}.weight`, dims: [dim], init: ONE }),
    bias: weight(ctx, { name: `${name}.bias`, dims: [dim], init: ZERO }),
  };
}

/** `eps`: 1e-6 as timm's ViTs and DINOv2 set it; plain nn.LayerNorm (Swin) has 1e-5. */
export function applyLayerNorm(ctx: Ctx, x: string, p: NormParams, eps = 1e-6): string {
  return ctx.g.op('LayerNormalization', [x, p.scale, p.bias], { axis: -1, epsilon: float(eps) }, p.name);
}

export function layerNorm(ctx: Ctx, x: string, name: string, dim: number, eps = 1e-6): string {
  return applyLayerNorm(ctx, x, layerNormParams(ctx, name, dim), eps);
}

/**
 * (x - mean) / sqrt(variance + eps) over `axes`, the variance biased (as
 * batch, group and weight standardisation compute it), in ops every
 * execution provider has; `name` names the division.
 */
export function standardize(ctx: Ctx, x: string, axes: readonly number[], eps: number, name?: string): string {
  const g = ctx.g;
  const over = { axes: [...axes], keepdims: 1 };
  const centred = g.op('Sub', [x, g.op('ReduceMean', [x], over)]);
  const variance = g.op('ReduceMean', [g.op('Mul', [centred, centred])], over);
  return g.op('Div', [centred, g.op('Sqrt', [g.op('Add', [variance, g.constF([eps], [])])])], undefined, name);
}

/** Exact (erf) GELU, as ViT uses; opset 17 has no Gelu op, onnxruntime fuses this pattern. */
export function gelu(ctx: Ctx, x: string): string {
  const g = ctx.g;
  const erf = g.op('Erf', [g.op('Div', [x, g.constF([Math.SQRT2], [])])]);
  const half = g.op('Mul', [x, g.constF([0.5], [])]);
  return g.op('Mul', [half, g.op('Add', [erf, g.constF([1], [])])], undefined, 'gelu');
}

export interface ConvOpts {
  readonly stride?: number;
  readonly pad?: number;
  readonly bias?: boolean;
  /** Weight std; default He (sqrt(2 / fan_in)) so ReLU stacks keep their scale. */
  readonly std?: number;
}

export function conv(ctx: Ctx, x: string, name: string, inC: number, outC: number, k: number, o: ConvOpts = {}): string {
  const std = o.std ?? Math.sqrt(2 / (inC * k * k));
  const w = weight(ctx, { name: `${name}.weight`, dims: [outC, inC, k, k], init: { std } });
  const inputs = [x, w];
  if (o.bias ?? true) inputs.push(weight(ctx, { name: `${name}.bias`, dims: [outC], init: ZERO }));
  const pad = o.pad ?? 0;
  return ctx.g.op('Conv', inputs, { kernel_shape: [k, k], strides: [o.stride ?? 1, o.stride ?? 1], pads: [pad, pad, pad, pad] }, name);
}

/** Transposed conv with kernel = stride, i.e. each input pixel paints a k x k block. */
export function convTranspose(ctx: Ctx, x: string, name: string, inC: number, outC: number, k: number): string {
  const w = weight(ctx, { name: `${name}.weight`, dims: [inC, outC, k, k], init: { std: Math.sqrt(2 / inC) } });
  const b = weight(ctx, { name: `${name}.bias`, dims: [outC], init: ZERO });
  return ctx.g.op('ConvTranspose', [x, w, b], { kernel_shape: [k, k], strides: [k, k] }, name);
}

export function relu(ctx: Ctx, x: string): string {
  return ctx.g.op('Relu', [x]);
}

/** [h, w] of an NCHW tensor as int64, read at run time. */
export function spatialShape(ctx: Ctx, x: string): string {
  return ctx.g.op('Shape', [x], { start: 2, end: 4 }, 'hw');
}

/** Resize an NCHW map to `hw` (an int64 [h, w] from spatialShape), keeping `channels`. */
export function resizeTo(ctx: Ctx, x: string, channels: number, hw: string, mode: ResizeMode): string {
  const g = ctx.g;
  const sizes = g.op('Concat', [g.constI64([1, channels]), hw], { axis: 0 }, 'sizes');
  return g.op('Resize', [x, '', '', sizes], RESIZE_ATTRS[mode], 'resize');
}

/** F.interpolate modes: `bilinear-align` align_corners=True, `bilinear` and `bicubic` align_corners=False. */
export type ResizeMode = 'bilinear-align' | 'bilinear' | 'bicubic';

const RESIZE_ATTRS: Readonly<Record<ResizeMode, Attrs>> = {
  'bilinear-align': { mode: 'linear', coordinate_transformation_mode: 'align_corners' },
  // Half-pixel centres, as PyTorch's bilinear without align_corners (MiDaS _resize_pos_embed, BEiT's bias table).
  bilinear: { mode: 'linear', coordinate_transformation_mode: 'half_pixel' },
  // PyTorch's bicubic (a = -0.75, half-pixel centres), as DINOv2's interpolate_pos_encoding uses.
  bicubic: { mode: 'cubic', coordinate_transformation_mode: 'half_pixel', cubic_coeff_a: float(-0.75) },
};

/** Resize an NCHW map by an integer factor (bilinear, align_corners like DPT's Interpolate). */
export function upsample(ctx: Ctx, x: string, factor: number): string {
  const scales = ctx.g.constF([1, 1, factor, factor], [4], 'scales');
  return ctx.g.op('Resize', [x, '', scales], { mode: 'linear', coordinate_transformation_mode: 'align_corners' }, 'upsample');
}
