import type { KeyMap, KeyRule, UnusedKey } from '../key-map.js';
import { midasKeyMap } from '../midas/index.js';

/**
 * MiDaS v3.1 BEiT encoder keys (timm v0.6.12 beit.py Beit as
 * `pretrained.model`, patched by MiDaS backbones/beit.py) for each DPT name
 * the graph parts ask for; the decoder's rules follow
 * (src/convert/midas/key-map.ts). Initializers are named after the
 * checkpoint keys; nn.Linear weights are stored transposed ([in, out]).
 *
 * | DPT name (graph part)                                   | checkpoint key                                   |
 * |---------------------------------------------------------|--------------------------------------------------|
 * | cls_token, patch_embed.proj.* (embed.ts)                | pretrained.model.<same>                          |
 * | blocks.N.{norm1,attn.proj,norm2,mlp.fc1,mlp.fc2}.* (transformer.ts) | pretrained.model.blocks.N.<same>     |
 * | blocks.N.attn.qkv.weight, .q_bias, .v_bias (transformer.ts, k has no bias) | pretrained.model.blocks.N.attn.<same> |
 * | blocks.N.ls1.gamma, blocks.N.ls2.gamma (LayerScale)     | pretrained.model.blocks.N.gamma_1, .gamma_2      |
 * | blocks.N.attn.relative_position_bias_table (relative-position.ts) | pretrained.model.blocks.N.attn.<same>  |
 *
 * BEiT has no absolute position embeddings (use_abs_pos_emb=False).
 */
const RULES: readonly KeyRule[] = [
  [/^(cls_token|patch_embed\.proj\.(weight|bias))$/, 'pretrained.model.$1'],
  [/^(blocks\.\d+\.(norm1|attn\.proj|norm2|mlp\.fc1|mlp\.fc2)\.(weight|bias))$/, 'pretrained.model.$1'],
  [/^(blocks\.\d+\.attn\.(qkv\.weight|q_bias|v_bias|relative_position_bias_table))$/, 'pretrained.model.$1'],
  [/^blocks\.(\d+)\.ls([12])\.gamma$/, 'pretrained.model.blocks.$1.gamma_$2'],
];

const UNUSED: readonly UnusedKey[] = [
  {
    key: /^pretrained\.model\.blocks\.\d+\.attn\.relative_position_index$/,
    why: "a buffer the architecture derives: the graph computes the index for each input's grid (a stored one is checked against the training window's)",
  },
  { key: /^pretrained\.model\.fc_norm\.(weight|bias)$/, why: "the classifier's pooled-token norm (global_pool='avg'), never called by DPT" },
  { key: /^pretrained\.model\.head\.(weight|bias)$/, why: 'the ImageNet classifier of timm\'s BEiT, never called by DPT' },
];

export const MIDAS_BEIT_KEYS: KeyMap = midasKeyMap(RULES, UNUSED, 4);
