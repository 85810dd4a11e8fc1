import type { ShapeReader } from '../shape-reader.js';

/** The MiDaS v3 decoder's sizes, read off `scratch.*` (midas/blocks.py _make_scratch, dpt_depth.py DPTDepthModel). */
export interface MidasDecoderConfig {
  /** Channels of each encoder map, finest first (layerN_rn inputs): 3 maps for LeViT, 4 otherwise. */
  readonly mapChannels: readonly number[];
  /** `features`: channels of the fusion path (layerN_rn outputs). */
  readonly features: number;
  /** `head_features_1`: channels into the head (features, or LeViT's 64 after stem_transpose). */
  readonly headFeatures: number;
  /** `head_features_2`: channels of the head's last hidden conv (32; LeViT 8). */
  readonly headHidden: number;
}

export function readMidasDecoder(r: ShapeReader): MidasDecoderConfig {
  // layerN_rn counts from 1.
  const maps = r.count(/^scratch\.layer(\d)_rn\.weight$/) - 1;
  if (maps !== 3 && maps !== 4) throw r.mismatch(`${maps} scratch.layerN_rn convs, MiDaS has 3 or 4`);
  const rn = [1, 2, 3, 4].slice(0, maps).map((i) => r.shape(`scratch.layer${i}_rn.weight`, 4));
  const features = rn[0][0];
  if (rn.some((s) => s[0] !== features)) throw r.mismatch(`scratch.layerN_rn give ${rn.map((s) => s[0]).join('/')} channels, MiDaS gives every map the same features`);
  const head0 = r.shape('scratch.output_conv.0.weight', 4);
  return { mapChannels: rn.map((s) => s[1]), features, headFeatures: head0[1], headHidden: r.shape('scratch.output_conv.2.weight', 4)[0] };
}
