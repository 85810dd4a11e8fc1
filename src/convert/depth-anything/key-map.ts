import { KeyMap } from '../key-map.js';

/**
 * Depth-Anything V1/V2 checkpoint keys (`depth_anything(_v2)/dpt.py`: a DINOv2
 * ViT as `pretrained`, the DPT decoder as `depth_head`) for each DPT name the
 * graph parts ask for. The converted model's initializer is named after the
 * checkpoint key; nn.Linear weights are stored transposed ([in, out]).
 *
 * | DPT name (graph part)                   | checkpoint key                                |
 * |-----------------------------------------|-----------------------------------------------|
 * | cls_token, pos_embed, patch_embed.proj.*, norm.* (embed.ts, build.ts) | pretrained.<same>  |
 * | blocks.N.{norm1,attn.qkv,attn.proj,ls1,norm2,mlp.fc1,mlp.fc2,mlp.w12,mlp.w3,ls2}.* (transformer.ts) | pretrained.blocks.N.<same> |
 * | reassemble.N.read.project.*   (Read, use_clstoken only)  | depth_head.readout_projects.N.0.*  |
 * | reassemble.N.resample.project.* (1x1 conv)               | depth_head.projects.N.*            |
 * | reassemble.0.resample.up4.* (ConvTranspose x4)           | depth_head.resize_layers.0.*       |
 * | reassemble.1.resample.up2.* (ConvTranspose x2)           | depth_head.resize_layers.1.*       |
 * | (stage 2 keeps its size: resize_layers.2 is nn.Identity, no weights)  |                       |
 * | reassemble.3.resample.down2.* (3x3 conv, stride 2)       | depth_head.resize_layers.3.*       |
 * | scratch.layerN_rn.weight, scratch.refinenetN.* (decoder.ts, fusion.ts) | depth_head.scratch.<same> |
 * | head.0.* (3x3 conv to features/2)                        | depth_head.scratch.output_conv1.*  |
 * | head.2.* (3x3 conv to 32)                                | depth_head.scratch.output_conv2.0.* |
 * | head.4.* (1x1 conv to 1)                                 | depth_head.scratch.output_conv2.2.* |
 */
export const DEPTH_ANYTHING_KEYS = new KeyMap(
  [
    [/^(cls_token|pos_embed|patch_embed\.proj\.(weight|bias)|norm\.(weight|bias))$/, 'pretrained.$1'],
    [/^blocks\.(\d+)\.((norm1|attn\.qkv|attn\.proj|norm2|mlp\.fc1|mlp\.fc2|mlp\.w12|mlp\.w3)\.(weight|bias)|ls1\.gamma|ls2\.gamma)$/, 'pretrained.blocks.$1.$2'],
    [/^reassemble\.(\d)\.read\.project\.(weight|bias)$/, 'depth_head.readout_projects.$1.0.$2'],
    [/^reassemble\.(\d)\.resample\.project\.(weight|bias)$/, 'depth_head.projects.$1.$2'],
    [/^reassemble\.0\.resample\.up4\.(weight|bias)$/, 'depth_head.resize_layers.0.$1'],
    [/^reassemble\.1\.resample\.up2\.(weight|bias)$/, 'depth_head.resize_layers.1.$1'],
    [/^reassemble\.3\.resample\.down2\.(weight|bias)$/, 'depth_head.resize_layers.3.$1'],
    [/^(scratch\.layer\d_rn\.weight|scratch\.refinenet\d\.(resConfUnit[12]\.conv[12]|out_conv)\.(weight|bias))$/, 'depth_head.$1'],
    [/^head\.0\.(weight|bias)$/, 'depth_head.scratch.output_conv1.$1'],
    [/^head\.2\.(weight|bias)$/, 'depth_head.scratch.output_conv2.0.$1'],
    [/^head\.4\.(weight|bias)$/, 'depth_head.scratch.output_conv2.2.$1'],
  ],
  [
    { key: /^pretrained\.mask_token$/, why: 'DINOv2 replaces masked patches with it in training only' },
    {
      key: /^depth_head\.scratch\.refinenet4\.resConfUnit1\./,
      why: 'refinenet4 is called with one input (the coarsest map), so its skip unit is built but never run',
    },
  ],
);
