import type { KeyMap, KeyRule, UnusedKey } from '../key-map.js';
import { midasKeyMap } from '../midas/index.js';

/**
 * MiDaS v3.1 SwinV2 encoder keys (timm's SwinTransformerV2 as
 * `pretrained.model`, backbones/swin_common.py): the graph parts
 * (swinv2.ts) ask for timm's own names, and each is the checkpoint key
 * without the `pretrained.model.` prefix. The decoder's rules follow
 * (src/convert/midas/key-map.ts). nn.Linear weights are stored transposed
 * ([in, out]).
 *
 * | DPT name (swinv2.ts)                                       | checkpoint key                  |
 * |------------------------------------------------------------|---------------------------------|
 * | patch_embed.proj.*, patch_embed.norm.*                     | pretrained.model.<same>         |
 * | layers.S.blocks.B.attn.{qkv.weight, q_bias, v_bias, logit_scale, proj.*} | pretrained.model.<same> |
 * | layers.S.blocks.B.attn.cpb_mlp.{0.weight, 0.bias, 2.weight} | pretrained.model.<same>        |
 * | layers.S.blocks.B.{norm1, mlp.fc1, mlp.fc2, norm2}.*        | pretrained.model.<same>         |
 * | layers.S.downsample.{reduction.weight, norm.*}              | pretrained.model.<same>         |
 *
 * Stage outputs feed scratch.layerN_rn directly: MiDaS's act_postprocessN
 * for Swin is Transpose + Unflatten, with no weights.
 */
const RULES: readonly KeyRule[] = [
  [/^(patch_embed\.(proj|norm)\.(weight|bias))$/, 'pretrained.model.$1'],
  [/^(layers\.\d+\.blocks\.\d+\.attn\.(qkv\.weight|q_bias|v_bias|logit_scale|proj\.(weight|bias)|cpb_mlp\.0\.(weight|bias)|cpb_mlp\.2\.weight))$/, 'pretrained.model.$1'],
  [/^(layers\.\d+\.blocks\.\d+\.(norm1|mlp\.fc1|mlp\.fc2|norm2)\.(weight|bias))$/, 'pretrained.model.$1'],
  [/^(layers\.\d+\.downsample\.(reduction\.weight|norm\.(weight|bias)))$/, 'pretrained.model.$1'],
];

const UNUSED: readonly UnusedKey[] = [
  { key: /^pretrained\.model\.norm\.(weight|bias)$/, why: "forward_features' final norm feeds only the classifier; MiDaS reads the stages' last blocks" },
  { key: /^pretrained\.model\.head\.(weight|bias)$/, why: "the ImageNet classifier of timm's SwinV2, never called by DPT" },
  {
    key: /^pretrained\.model\.layers\.\d+\.blocks\.\d+\.(attn_mask|attn\.relative_position_index|attn\.relative_coords_table)$/,
    why: 'derived from the window and shift by the converter (swinv2/windows.ts), and checked against this copy',
  },
];

export const SWINV2_KEYS: KeyMap = midasKeyMap(RULES, UNUSED, 4);
