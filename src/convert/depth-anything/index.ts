import { FAMILY_SPECS } from '../../inference/families.js';
import { vitEncoder } from '../../inference/generate/dpt/build.js';
import { dptDecoder } from '../../inference/generate/dpt/decoder.js';
import type { Ctx } from '../../inference/generate/dpt/layers.js';
import { reassemble } from '../../inference/generate/dpt/reassemble.js';
import type { PreprocessSpec } from '../../types.js';
import type { ConverterFamily, FamilyPlan, PlanOptions } from '../family.js';
import type { StateDict } from '../weights.js';
import { chooseVariant, describeConfig, inferConfig, type DepthAnythingConfig } from './config.js';
import { DEPTH_ANYTHING_KEYS } from './key-map.js';
import { FAMILY_CATALOGUE } from '../catalogue.js';

export { chooseVariant, inferConfig, type DepthAnythingConfig, type DepthAnythingVariant } from './config.js';
export { DEPTH_ANYTHING_KEYS } from './key-map.js';

/**
 * DPT on a DINOv2 encoder (see WALKTHROUGH.md): the hooked blocks' tokens,
 * after DINOv2's final norm, are reassembled into four maps and go through
 * the shared DPT decoder; the head brings the map to the input size.
 */
export function buildDepthAnything(ctx: Ctx, c: DepthAnythingConfig, image: string): string {
  const { hooked, grid } = vitEncoder(ctx, c.vit, c.hooks, image);
  const reassembly = { embedDim: c.vit.embedDim, readout: c.useClsToken ? ('project' as const) : ('ignore' as const), channels: c.outChannels };
  const maps = hooked.map((tokens, stage) => reassemble(ctx, reassembly, tokens, grid, stage));
  const output = c.maxDepth !== null ? { kind: 'sigmoid' as const, maxDepth: c.maxDepth } : { kind: 'relu' as const };
  return dptDecoder(ctx, { mapChannels: c.outChannels, features: c.features, head: { features: c.features, hidden: 32, upsample: 'input', output } }, maps, image);
}

/**
 * V1 and V2 prepare frames alike (image2tensor: 518 lower bound, multiple of
 * 14, cubic, ImageNet); V1's run.py brings the depth back with
 * align_corners=False, V2's infer_image with align_corners=True.
 */
function specFor(c: DepthAnythingConfig): PreprocessSpec {
  const base = FAMILY_SPECS['depth-anything'];
  return c.variant === 'v1' ? { ...base, outputAlignCorners: false } : base;
}

const REQUIRED = ['pretrained.cls_token', 'pretrained.pos_embed', 'pretrained.patch_embed.proj.weight', 'pretrained.blocks.0.attn.qkv.weight', 'depth_head.scratch.output_conv1.weight'];

export const depthAnything: ConverterFamily = {
  ...FAMILY_CATALOGUE.depthAnything,
  detect: (keys) => REQUIRED.every((k) => keys.has(k)),
  knows: (key) => /^(pretrained|depth_head)\./.test(key),
  plan(dict: StateDict, opts: PlanOptions): FamilyPlan {
    const choice = chooseVariant(opts.file, opts.variant, opts.maxDepth);
    const config = inferConfig(dict, opts.file, choice);
    const metric = config.maxDepth !== null;
    return {
      variant: `depth-anything-${config.variant}`,
      chosenBy: choice.chosenBy,
      summary: describeConfig(config),
      config,
      keyMap: DEPTH_ANYTHING_KEYS,
      runtimeFamily: 'depth-anything',
      spec: specFor(config),
      output: metric ? 'metric-depth' : 'relative-inverse-depth',
      notes: metric ? [`the output is metric depth in metres (larger = farther, up to ${config.maxDepth} m); pictures show near as bright, as for relative depth (--invert: far bright)`] : [],
      build: (ctx, image) => buildDepthAnything(ctx, config, image),
    };
  },
};
