import { FAMILY_SPECS } from '../../inference/families.js';
import type { Ctx } from '../../inference/generate/dpt/layers.js';
import type { ConverterFamily, FamilyPlan, PlanOptions } from '../family.js';
import { chosenByShapes, isMidasKey, MIDAS_DECODER_KEYS, midasDecoder } from '../midas/index.js';
import type { StateDict } from '../weights.js';
import { describeLevitConfig, inferLevitConfig, type LevitConfig } from './config.js';
import { LEVIT_KEYS } from './key-map.js';
import { levitEncoder, stemTranspose } from './levit.js';
import { FAMILY_CATALOGUE } from '../catalogue.js';

export { inferLevitConfig, type LevitBlock, type LevitConfig } from './config.js';
export { LEVIT_KEYS } from './key-map.js';

/**
 * MiDaS v3.1 DPT on LeViT (see WALKTHROUGH.md): three hooked blocks as maps
 * into the MiDaS decoder, whose fused path goes through stem_transpose
 * (x4) before the 64/8-channel head.
 */
export function buildLevit(ctx: Ctx, c: LevitConfig, image: string): string {
  return midasDecoder(ctx, c.decoder, levitEncoder(ctx, c, image), image, (path) => stemTranspose(ctx, c, path));
}

const REQUIRED = ['pretrained.model.patch_embed.0.c.weight', 'pretrained.model.blocks.0.m.attention_biases', 'scratch.stem_transpose.0.c.weight', ...MIDAS_DECODER_KEYS];

export const levit: ConverterFamily = {
  ...FAMILY_CATALOGUE.levit,
  detect: (keys) => REQUIRED.every((k) => keys.has(k)),
  knows: isMidasKey,
  plan(dict: StateDict, opts: PlanOptions): FamilyPlan {
    const config = inferLevitConfig(dict, opts.file);
    return {
      variant: `midas-v31-levit-${config.inputSize}`,
      chosenBy: chosenByShapes(opts),
      summary: describeLevitConfig(config),
      config,
      keyMap: LEVIT_KEYS,
      // model_loader.py dpt_levit_224: keep_aspect_ratio = False, so every frame is squashed to 224x224.
      runtimeFamily: 'levit-224',
      spec: FAMILY_SPECS['levit-224'],
      inputSize: { width: config.inputSize, height: config.inputSize },
      output: 'relative-inverse-depth',
      notes: [],
      build: (ctx, image) => buildLevit(ctx, config, image),
    };
  },
};
