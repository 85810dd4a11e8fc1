import { filled } from '../random.js';
import type { DptConfig } from './config.js';
import { conv, relu, resizeTo, spatialShape, type Ctx } from './layers.js';

/**
 * Monocular depth head (paper section 3, "Monocular depth estimation"):
 * 3x3 conv to features/2, upsample to the input size (x2 from the finest
 * fusion output for patch 16), 3x3 conv to 32, ReLU, 1x1 conv to 1, ReLU.
 *
 * A trained head learns where to put its output so the final ReLU keeps
 * most pixels; random weights do not, so before that ReLU the map is
 * normalised over the image and shifted by a learned-style affine
 * (scale 1, shift 2.5). The result is positive almost everywhere and still
 * follows the image. Returns [1, H, W].
 */
export function depthHead(ctx: Ctx, c: DptConfig, path: string, image: string): string {
  const g = ctx.g;
  const half = c.features / 2;
  const a = conv(ctx, path, 'head.0', c.features, half, 3, { pad: 1 });
  const up = resizeTo(ctx, a, half, spatialShape(ctx, image), 'bilinear-align');
  const b = relu(ctx, conv(ctx, up, 'head.2', half, 32, 3, { pad: 1 }));
  const d = conv(ctx, b, 'head.4', 32, 1, 1);
  const normalised = g.op('MeanVarianceNormalization', [d], { axes: [0, 2, 3] }, 'head.normalise');
  const scale = g.param('head.affine.scale', [1], filled(1, 1));
  const shift = g.param('head.affine.shift', [1], filled(1, 2.5));
  const shifted = g.op('Add', [g.op('Mul', [normalised, scale]), shift], undefined, 'head.affine');
  const positive = relu(ctx, shifted);
  return g.op('Squeeze', [positive, g.constI64([1])], undefined, 'depth_map');
}
