import type { KeyRule, UnusedKey } from '../key-map.js';

/**
 * The MiDaS v3 DPT decoder (midas/dpt_depth.py, midas/blocks.py,
 * midas/backbones/utils.py), shared by every v3.0/v3.1 family: checkpoint
 * keys for the DPT names the shared graph parts ask for. A family's key map
 * is its encoder's rules followed by these (see midasKeyMap in index.ts).
 *
 * | DPT name (graph part)                         | MiDaS checkpoint key                         |
 * |-----------------------------------------------|----------------------------------------------|
 * | reassemble.N.read.project.* (reassemble.ts)   | pretrained.act_postprocess{N+1}.0.project.0.* (ProjectReadout: Linear, GELU) |
 * | reassemble.N.resample.project.* (1x1 conv)    | pretrained.act_postprocess{N+1}.3.*          |
 * | reassemble.0.resample.up4.* (ConvTranspose 4) | pretrained.act_postprocess1.4.*              |
 * | reassemble.1.resample.up2.* (ConvTranspose 2) | pretrained.act_postprocess2.4.*              |
 * | reassemble.3.resample.down2.* (3x3, stride 2) | pretrained.act_postprocess4.4.*              |
 * | scratch.layerN_rn.weight (decoder.ts)         | scratch.layerN_rn.weight                     |
 * | scratch.refinenetN.* (fusion.ts)              | scratch.refinenetN.*                         |
 * | head.0.* (3x3 conv to head_features_1 / 2)    | scratch.output_conv.0.*                      |
 * | head.2.* (3x3 conv to head_features_2)        | scratch.output_conv.2.*                      |
 * | head.4.* (1x1 conv to 1)                      | scratch.output_conv.4.*                      |
 *
 * act_postprocessN.1 and .2 (Transpose, Unflatten) and output_conv.1, .3, .5
 * (Interpolate, ReLU, ReLU) hold no weights. Encoders whose maps need no
 * reassembly weights (Swin, LeViT) simply never ask for reassemble.* names.
 */
export const MIDAS_DECODER_RULES: readonly KeyRule[] = [
  ...[0, 1, 2, 3].flatMap((n): KeyRule[] => [
    [new RegExp(`^reassemble\\.${n}\\.read\\.project\\.(weight|bias)$`), `pretrained.act_postprocess${n + 1}.0.project.0.$1`],
    [new RegExp(`^reassemble\\.${n}\\.resample\\.project\\.(weight|bias)$`), `pretrained.act_postprocess${n + 1}.3.$1`],
  ]),
  [/^reassemble\.0\.resample\.up4\.(weight|bias)$/, 'pretrained.act_postprocess1.4.$1'],
  [/^reassemble\.1\.resample\.up2\.(weight|bias)$/, 'pretrained.act_postprocess2.4.$1'],
  [/^reassemble\.3\.resample\.down2\.(weight|bias)$/, 'pretrained.act_postprocess4.4.$1'],
  [/^(scratch\.layer\d_rn\.weight|scratch\.refinenet\d\.(resConfUnit[12]\.conv[12]|out_conv)\.(weight|bias))$/, '$1'],
  [/^head\.([024])\.(weight|bias)$/, 'scratch.output_conv.$1.$2'],
];

/**
 * Decoder keys the forward pass never reads. DPT.forward calls the coarsest
 * fusion block (refinenet4, or refinenet3 with LeViT's three maps) with one
 * input, so its skip unit is built but never run.
 */
export function midasDecoderUnused(maps: 3 | 4): UnusedKey[] {
  return [
    {
      key: new RegExp(`^scratch\\.refinenet${maps}\\.resConfUnit1\\.`),
      why: `refinenet${maps} is called with one input (the coarsest map), so its skip unit is built but never run`,
    },
  ];
}
