import type { KeyMap, KeyRule, UnusedKey } from '../key-map.js';
import { midasKeyMap } from '../midas/index.js';

/**
 * MiDaS v3.0 DPT-Large / DPT-Hybrid encoder keys (a timm VisionTransformer as
 * `pretrained.model`, backbones/vit.py) for each DPT name the graph parts ask
 * for; the decoder's rules follow (src/convert/midas/key-map.ts). The
 * converted model's initializer is named after the checkpoint key; nn.Linear
 * weights are stored transposed ([in, out]).
 *
 * | DPT name (graph part)                                        | checkpoint key                            |
 * |--------------------------------------------------------------|-------------------------------------------|
 * | cls_token, pos_embed, patch_embed.proj.* (embed.ts)          | pretrained.model.<same>                   |
 * | blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}.* (transformer.ts) | pretrained.model.blocks.N.<same> |
 * | patch_embed.backbone.stem.{conv,norm}.* (hybrid.ts)          | pretrained.model.patch_embed.backbone.<same> |
 * | patch_embed.backbone.stages.S.blocks.B.{conv1..3,norm1..3,downsample.conv,downsample.norm}.* | pretrained.model.patch_embed.backbone.<same> |
 *
 * The hybrid's patch_embed.proj is its 1x1 conv from the ResNet's 1024
 * channels to the width, under the same key.
 */
const RULES: readonly KeyRule[] = [
  [/^(cls_token|pos_embed|patch_embed\.proj\.(weight|bias))$/, 'pretrained.model.$1'],
  [/^(blocks\.\d+\.(norm1|attn\.qkv|attn\.proj|norm2|mlp\.fc1|mlp\.fc2)\.(weight|bias))$/, 'pretrained.model.$1'],
  [/^(patch_embed\.backbone\.(stem|stages\.\d+\.blocks\.\d+(\.downsample)?)\.(conv\d?|norm\d?)\.(weight|bias))$/, 'pretrained.model.$1'],
];

const UNUSED: readonly UnusedKey[] = [
  { key: /^pretrained\.model\.norm\.(weight|bias)$/, why: "MiDaS reads the hooked blocks' raw outputs; forward_flex's final norm feeds nothing the depth uses" },
  { key: /^pretrained\.model\.head\.(weight|bias)$/, why: "the ImageNet classifier of timm's ViT, never called by DPT" },
];

export const MIDAS_VIT_KEYS: KeyMap = midasKeyMap(RULES, UNUSED, 4);
