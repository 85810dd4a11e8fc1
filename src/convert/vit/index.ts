import { FAMILY_SPECS } from '../../inference/families.js';
import { vitEncoder } from '../../inference/generate/dpt/build.js';
import { conv, type Ctx } from '../../inference/generate/dpt/layers.js';
import type { ConverterFamily, FamilyPlan, PlanOptions } from '../family.js';
import { chosenByShapes, isMidasKey, MIDAS_DECODER_KEYS, midasDecoder, vitReassembly } from '../midas/index.js';
import type { StateDict } from '../weights.js';
import { describeVitConfig, inferVitConfig, type MidasVitConfig } from './config.js';
import { resnetStages } from './hybrid.js';
import { MIDAS_VIT_KEYS } from './key-map.js';
import { FAMILY_CATALOGUE } from '../catalogue.js';

export { inferVitConfig, type MidasVitConfig, type MidasVitModel, type ResNetConfig } from './config.js';
export { MIDAS_VIT_KEYS } from './key-map.js';

/**
 * MiDaS v3.0 DPT on a timm ViT (see WALKTHROUGH.md): the hooked blocks' raw
 * tokens are reassembled into maps and go through the MiDaS decoder. The
 * hybrid's first two maps are its ResNet stages 0 and 1; stage 2, through a
 * 1x1 conv, is the ViT's patch embedding.
 */
export function buildMidasVit(ctx: Ctx, c: MidasVitConfig, image: string): string {
  const E = c.vit.embedDim;
  let cnnMaps: string[] = [];
  let patches: string | undefined;
  if (c.resnet) {
    const stages = resnetStages(ctx, c.resnet, image);
    cnnMaps = stages.slice(0, 2);
    patches = conv(ctx, stages[2], 'patch_embed.proj', c.resnet.widths[2], E, 1);
  }
  const { hooked, grid } = vitEncoder(ctx, c.vit, c.hooks, image, { finalNorm: false, patches });
  const vitMaps = vitReassembly(ctx, E, c.decoder.mapChannels, hooked, grid, cnnMaps.length);
  return midasDecoder(ctx, c.decoder, [...cnnMaps, ...vitMaps], image);
}

const REQUIRED = ['pretrained.model.cls_token', 'pretrained.model.pos_embed', 'pretrained.model.blocks.0.attn.qkv.bias', ...MIDAS_DECODER_KEYS];

export const midasVit: ConverterFamily = {
  ...FAMILY_CATALOGUE.midasVit,
  detect: (keys) => REQUIRED.every((k) => keys.has(k)),
  knows: isMidasKey,
  plan(dict: StateDict, opts: PlanOptions): FamilyPlan {
    const config = inferVitConfig(dict, opts.file);
    return {
      variant: `midas-${config.model}-${config.vit.posGrid * 16}`,
      chosenBy: chosenByShapes(opts),
      summary: describeVitConfig(config),
      config,
      keyMap: MIDAS_VIT_KEYS,
      // model_loader.py dpt_large_384 / dpt_hybrid_384: 384, "minimal", keep aspect, multiple of 32, mean = std = 0.5.
      runtimeFamily: 'dpt',
      spec: FAMILY_SPECS.dpt,
      output: 'relative-inverse-depth',
      notes: [],
      build: (ctx, image) => buildMidasVit(ctx, config, image),
    };
  },
};
