import type { KeyMap, KeyRule, UnusedKey } from '../key-map.js';
import { midasKeyMap } from '../midas/index.js';

/**
 * MiDaS v3.1 LeViT-224 keys (timm's levit_384 as `pretrained.model`,
 * backbones/levit.py, and MiDaS's stem_transpose in `scratch`): the graph
 * parts (levit.ts) ask for timm's own names, and each is the checkpoint key
 * without the `pretrained.model.` prefix. The decoder's rules follow
 * (src/convert/midas/key-map.ts). nn.Linear weights are stored transposed
 * ([in, out]); every BatchNorm is folded into the layer before it inside
 * the graph, from its four tensors.
 *
 * | DPT name (levit.ts)                                         | checkpoint key           |
 * |-------------------------------------------------------------|--------------------------|
 * | patch_embed.{0,2,4,6}.c.weight, .bn.{weight,bias,running_mean,running_var} (ConvNorm) | pretrained.model.<same> |
 * | blocks.N.m.attention_biases, blocks.N.m.{qkv,proj.1}.{c,bn}.* (Attention)            | pretrained.model.<same> |
 * | blocks.N.m.{0,2}.{c,bn}.* (MLP: LinearNorm, hardswish, LinearNorm)                  | pretrained.model.<same> |
 * | blocks.N.attention_biases, blocks.N.{kv,q.1,proj.1}.{c,bn}.* (AttentionSubsample)     | pretrained.model.<same> |
 * | scratch.stem_transpose.{0,2}.{c,bn}.* (ConvTransposeNorm)                          | scratch.stem_transpose.<same> |
 *
 * The three maps feed scratch.layerN_rn directly: MiDaS's act_postprocessN
 * for LeViT is Transpose + Unflatten, with no weights.
 */
const NORMED = String.raw`(c\.weight|bn\.(weight|bias|running_mean|running_var))`;
const RULES: readonly KeyRule[] = [
  [new RegExp(String.raw`^(patch_embed\.[0246]\.${NORMED})$`), 'pretrained.model.$1'],
  [new RegExp(String.raw`^(blocks\.\d+\.m\.(attention_biases|(qkv|proj\.1|0|2)\.${NORMED}))$`), 'pretrained.model.$1'],
  [new RegExp(String.raw`^(blocks\.\d+\.(attention_biases|(kv|q\.1|proj\.1)\.${NORMED}))$`), 'pretrained.model.$1'],
  [new RegExp(String.raw`^(scratch\.stem_transpose\.[02]\.${NORMED})$`), '$1'],
];

const UNUSED: readonly UnusedKey[] = [
  { key: /^pretrained\.model\.(head|head_dist)\.(bn|l)\./, why: "the ImageNet classifier and distillation heads of timm's LeViT, never called by DPT" },
  {
    key: /^pretrained\.model\.blocks\.(2[2-9]|[3-9]\d|\d{3,})\./,
    why: "blocks after the last hooked one (21): timm's forward_features runs them, but their output reaches only the classifier",
  },
  { key: /\.attention_bias_idxs$/, why: 'derived from the map size by the converter (levit/attention-bias.ts), and checked against this copy' },
  { key: /\.bn\.num_batches_tracked$/, why: "BatchNorm's training counter; eval mode never reads it" },
];

export const LEVIT_KEYS: KeyMap = midasKeyMap(RULES, UNUSED, 3);
