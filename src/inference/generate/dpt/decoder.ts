import { conv, type Ctx } from './layers.js';
import { fusionBlock } from './fusion.js';
import { depthHead, type HeadConfig } from './head.js';

/**
 * The DPT decoder every family shares: `scratch.layerN_rn`, the chain of
 * fusion blocks and the depth head. An encoder hands it its feature maps
 * finest first (reassembled ViT tokens, or the stages of a hierarchical
 * backbone); which checkpoint key feeds each tensor is the family's key map.
 */
export interface DecoderConfig {
  /** Channels of each incoming map, finest first (3 or 4 maps). */
  readonly mapChannels: readonly number[];
  /** Channels of the fusion path. */
  readonly features: number;
  readonly head: HeadConfig;
}

/** maps: NCHW feature maps, finest first. Returns depth [1, H, W]. */
export function dptDecoder(ctx: Ctx, d: DecoderConfig, maps: readonly string[], image: string): string {
  return depthHead(ctx, d.head, dptFusion(ctx, d, maps), image);
}

/**
 * layerN_rn and the fusion chain: the path the head reads, [1, features,
 * 2h, 2w] for a finest map of h x w (LeViT upsamples it further first).
 */
export function dptFusion(ctx: Ctx, d: Pick<DecoderConfig, 'mapChannels' | 'features'>, maps: readonly string[]): string {
  if (maps.length !== d.mapChannels.length) throw new Error(`DPT decoder: ${maps.length} maps for ${d.mapChannels.length} channel counts`);
  // DPT's scratch.layerN_rn convs have no bias.
  const rn = maps.map((m, i) => conv(ctx, m, `scratch.layer${i + 1}_rn`, d.mapChannels[i], d.features, 3, { pad: 1, bias: false }));
  // Fusion runs coarsest to finest; the coarsest block has no skip input.
  const n = rn.length;
  let path = rn[n - 1];
  for (let i = n - 1; i >= 0; i--) path = fusionBlock(ctx, d.features, path, i === n - 1 ? undefined : rn[i], i > 0 ? rn[i - 1] : undefined, i + 1);
  return path;
}
