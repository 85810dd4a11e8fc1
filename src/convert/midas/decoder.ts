import { dptFusion } from '../../inference/generate/dpt/decoder.js';
import { depthHead } from '../../inference/generate/dpt/head.js';
import type { Ctx } from '../../inference/generate/dpt/layers.js';
import { reassemble } from '../../inference/generate/dpt/reassemble.js';
import type { MidasDecoderConfig } from './config.js';

/**
 * DPT.forward after the encoder: layerN_rn, the fusion chain (each block
 * resized to the next finer map, the finest x2) and DPTDepthModel's head
 * (3x3 conv, Interpolate x2 bilinear align_corners, 3x3 conv, ReLU, 1x1
 * conv, ReLU with non_negative=True), squeezed to [1, H, W]. `beforeHead`
 * works on the fused path first (LeViT's stem_transpose).
 */
export function midasDecoder(ctx: Ctx, d: MidasDecoderConfig, maps: readonly string[], image: string, beforeHead: (path: string) => string = (path) => path): string {
  const head = { features: d.headFeatures, hidden: d.headHidden, upsample: 'x2', output: { kind: 'relu' } } as const;
  return depthHead(ctx, head, beforeHead(dptFusion(ctx, d, maps)), image);
}

/**
 * MiDaS's act_postprocessN for ViT-like encoders (backbones/utils.py
 * make_backbone_default, forward_adapted_unflatten): ProjectReadout (the
 * class token concatenated to every patch token, Linear 2E -> E, GELU), the
 * tokens laid on the runtime grid, a 1x1 conv, then ConvTranspose x4 / x2,
 * nothing, or a 3x3 stride-2 conv by stage. `tokens[i]` feeds stage
 * `firstStage + i` (the hybrid ViT's first two maps come from its ResNet).
 */
export function vitReassembly(ctx: Ctx, embedDim: number, channels: readonly number[], tokens: readonly string[], grid: string, firstStage = 0): string[] {
  // DPT's default readout; every released v3.0/v3.1 ViT-like checkpoint uses it.
  const r = { embedDim, readout: 'project' as const, channels };
  return tokens.map((t, i) => reassemble(ctx, r, t, grid, firstStage + i));
}
