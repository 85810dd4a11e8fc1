import { conv, relu, resizeTo, spatialShape, standardize, upsample, weight, type Ctx } from './layers.js';

export interface HeadConfig {
  /** Channels coming in from the finest fusion block (MiDaS's head_features_1). */
  readonly features: number;
  /** Channels of the last hidden conv (head_features_2: 32; LeViT 8). */
  readonly hidden: number;
  /**
   * `input`: to the input's H x W (Depth-Anything: patch_h * 14 x patch_w * 14);
   * `x2`: twice the finest map (MiDaS v3's Interpolate(scale_factor=2)).
   */
  readonly upsample: 'input' | 'x2';
  /**
   * `relu`: the trained models' non-negative output. `sigmoid`: metric
   * Depth-Anything V2, sigmoid times `maxDepth` metres. `calibrated`: the
   * generated models (see depthHead).
   */
  readonly output: { readonly kind: 'relu' } | { readonly kind: 'sigmoid'; readonly maxDepth: number } | { readonly kind: 'calibrated' };
}

/** Keeps a flat map (variance 0) finite, and is far below any variance that is not. */
const NORMALISE_EPS = 1e-9;

/**
 * Monocular depth head (paper section 3, "Monocular depth estimation"):
 * 3x3 conv to features/2, upsample, 3x3 conv to `hidden`, ReLU, 1x1 conv
 * to 1, then the output activation. Returns [1, H, W].
 *
 * `calibrated`: a trained head learns where to put its output so the final
 * ReLU keeps most pixels; random weights do not, so before that ReLU the
 * map is normalised over the image and shifted by a learned-style affine
 * (scale 1, shift 2.5). The result is positive almost everywhere and still
 * follows the image.
 */
export function depthHead(ctx: Ctx, h: HeadConfig, path: string, image: string): string {
  const g = ctx.g;
  const half = h.features / 2;
  const a = conv(ctx, path, 'head.0', h.features, half, 3, { pad: 1 });
  const up = h.upsample === 'x2' ? upsample(ctx, a, 2) : resizeTo(ctx, a, half, spatialShape(ctx, image), 'bilinear-align');
  const b = relu(ctx, conv(ctx, up, 'head.2', half, h.hidden, 3, { pad: 1 }));
  const d = conv(ctx, b, 'head.4', h.hidden, 1, 1);
  let out: string;
  if (h.output.kind === 'relu') out = relu(ctx, d);
  else if (h.output.kind === 'sigmoid') out = g.op('Mul', [g.op('Sigmoid', [d]), g.constF([h.output.maxDepth], [])], undefined, 'head.metres');
  else {
    // Not ONNX's MeanVarianceNormalization: the WebGPU provider has no
    // kernel for it, and onnxruntime would run it on the CPU, copying the
    // map off the GPU and back every frame.
    const normalised = standardize(ctx, d, [0, 2, 3], NORMALISE_EPS, 'head.normalise');
    const scale = weight(ctx, { name: 'head.affine.scale', dims: [1], init: { fill: 1 } });
    const shift = weight(ctx, { name: 'head.affine.shift', dims: [1], init: { fill: 2.5 } });
    out = relu(ctx, g.op('Add', [g.op('Mul', [normalised, scale]), shift], undefined, 'head.affine'));
  }
  return g.op('Squeeze', [out, g.constI64([1])], undefined, 'depth_map');
}
